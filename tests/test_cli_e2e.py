"""End to end with the real `pulumi` CLI against the sandbox: up, no-op up, changed utterances, refresh,
destroy. Skipped, with the reason, where `pulumi` is not on PATH (it cannot be installed on our CI
machines); every other layer is covered without it by the plugin-protocol and mocks tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CREDENTIALS_CONFIG, SECRET
from kore_resources.sandbox import DEMO_BOTS, Sandbox

ROOT = Path(__file__).resolve().parent.parent
PULUMI = shutil.which("pulumi")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        PULUMI is None, reason="the pulumi CLI is not on PATH (install: https://get.pulumi.com)"
    ),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project with its own utterances, so the test can edit them; the venv is shared."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "requirements.txt"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(
        ROOT / "kore_resources", project / "kore_resources", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "utterances", project / "utterances")
    (project / "venv").symlink_to(ROOT / "venv")
    return project


@pytest.fixture
def cli(project: Path, tmp_path: Path) -> Iterator[object]:
    state = tmp_path / "state"
    state.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORE_", "PULUMI_"))}
    env.update(
        {
            "PULUMI_BACKEND_URL": f"file://{state}",
            "PULUMI_CONFIG_PASSPHRASE": "e2e-test",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
        }
    )

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [PULUMI, *args, "--non-interactive"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(f"pulumi {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    yield run


def test_up_noop_change_refresh_destroy(project: Path, cli) -> None:
    with Sandbox(training_seconds=1.5, queue_seconds=0.3) as sandbox:
        bot = DEMO_BOTS[0].bot_id
        cli("stack", "init", "e2e")
        cli("config", "set", "kore:host", sandbox.url)
        cli("config", "set", "kore:clientId", CREDENTIALS_CONFIG["kore:clientId"])
        cli("config", "set", "--secret", "kore:clientSecret", SECRET)
        cli("config", "set", "--path", "kore-bots:bots[0].name", "travel")
        cli("config", "set", "--path", "kore-bots:bots[0].botId", bot)
        cli("config", "set", "--path", "kore-bots:bots[0].languages[0]", "en")
        cli("config", "set", "--path", "kore-bots:bots[0].languages[1]", "de")
        cli("config", "set", "--path", "kore-bots:bots[0].utterances", "utterances/travel")

        # up: both languages trained, ids exported
        cli("up", "--yes", "--skip-preview")
        outputs = json.loads(cli("stack", "output", "--json").stdout)
        trained = {t.training_id for t in sandbox.trainings}
        assert set(outputs["trainingIds"]["travel"].values()) == trained and len(trained) == 2

        # no-op: nothing planned, nothing called
        sandbox.clear_calls()
        cli("preview", "--expect-no-changes")
        cli("up", "--yes", "--expect-no-changes")
        assert sandbox.calls == []

        # change one English utterance: only en retrains
        en_folder = project / "utterances" / "travel" / "en"
        export = next(p for p in sorted(en_folder.iterdir()) if p.suffix in (".json", ".csv"))
        text = export.read_text(encoding="utf-8")
        export.write_text(text.replace("flight", "plane", 1), encoding="utf-8")
        preview = cli("preview", "--diff")
        assert "travel-en" in preview.stdout and "travel-de" not in preview.stdout.split("Resources:")[0]
        cli("up", "--yes")
        assert [(c.bot_id, c.language) for c in sandbox.calls if c.method == "POST"] == [(bot, "en")]
        after = json.loads(cli("stack", "output", "--json").stdout)
        assert after["trainingIds"]["travel"]["de"] == outputs["trainingIds"]["travel"]["de"]
        assert after["trainingIds"]["travel"]["en"] != outputs["trainingIds"]["travel"]["en"]

        # refresh keeps the recorded outputs; the state never holds the secret in plain text
        cli("refresh", "--yes")
        assert json.loads(cli("stack", "output", "--json").stdout) == after
        exported = cli("stack", "export").stdout
        assert SECRET not in exported

        # destroy calls nothing: a training cannot be undone
        sandbox.clear_calls()
        cli("destroy", "--yes")
        assert sandbox.calls == []
