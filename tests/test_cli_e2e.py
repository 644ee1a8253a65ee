"""End to end with the real `pulumi` CLI against the sandbox: up, no-op up, changed utterances, refresh,
destroy. Skipped, with the reason, where `pulumi` is not on PATH (it cannot be installed on our CI
machines); every other layer is covered without it by the plugin-protocol and mocks tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_harness import REQUIRES_PULUMI, Run, copy_project, pulumi_runner
from conftest import CREDENTIALS_CONFIG, SECRET
from kore_resources import hash_utterances
from kore_resources.sandbox import DEMO_BOTS, Sandbox

pytestmark = REQUIRES_PULUMI


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


@pytest.fixture
def cli(project: Path, tmp_path: Path) -> Run:
    return pulumi_runner(project, tmp_path)


def test_up_noop_change_refresh_destroy(project: Path, cli: Run) -> None:
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
        export = project / "utterances" / "travel" / "en" / "ml-utterances.json"
        records = json.loads(export.read_text(encoding="utf-8"))
        records.append({**records[-1], "sentence": "Fly me to Porto", "entities": []})
        before_hash = hash_utterances(export)
        export.write_text(json.dumps(records, indent=2), encoding="utf-8")
        assert hash_utterances(export) != before_hash  # a real change, and still a valid export
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
