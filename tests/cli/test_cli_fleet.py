"""A fleet trains at once: the README's program (README, "A fleet of bots": one `kore_resources.Provider`
per bot) through the real CLI against the sandbox. More bots than the dynamic-provider plugin serves calls
at once (four) have their trainings queued together, which one plugin for all of them could not do; the
credentials given to the providers are nowhere in the state in plain text."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_harness import REQUIRES_PULUMI, ROOT, Cli
from demo_values import SECRET
from kore_sandbox import DEMO_APP, Sandbox, SandboxBot
from kore_sandbox.testing import wait_until

pytestmark = [pytest.mark.cli, *REQUIRES_PULUMI]

#: More bots than the plugin's four workers: on one plugin, the fifth training could not be queued until
#: one of the first four ended.
BOTS = [
    SandboxBot(
        name=f"fleet-{n}",
        bot_id=f"st-00000000-0000-4000-8000-00000000000{n}",
        linked_apps=(DEMO_APP.client_id,),
    )
    for n in range(1, 7)
]


def readme_fleet_program() -> str:
    """The program README's "A fleet of bots" shows, exactly as it stands there."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A fleet of bots", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(training_seconds=0.5, queue_seconds=0.1) as sb:
        for bot in BOTS:
            sb.add_bot(bot)
        yield sb


def fleet_project(tmp_path: Path) -> Path:
    project = tmp_path / "fleet"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: fleet\nruntime: python\n", encoding="utf-8")
    (project / "__main__.py").write_text(readme_fleet_program(), encoding="utf-8")
    shutil.copytree(
        ROOT / "kore_resources", project / "kore_resources", ignore=shutil.ignore_patterns("__pycache__")
    )
    (project / "venv").symlink_to(ROOT / "venv")
    sample = ROOT / "utterances" / "travel" / "en" / "ml-utterances.json"
    for bot in BOTS:
        (project / "utterances" / bot.name / "en").mkdir(parents=True)
        shutil.copy(sample, project / "utterances" / bot.name / "en" / "ml-utterances.json")
    return project


def test_the_readmes_fleet_program_trains_every_bot_at_once_and_keeps_credentials_secret(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    project = fleet_project(tmp_path)
    bots = [{"name": bot.name, "botId": bot.bot_id, "languages": ["en"]} for bot in BOTS]
    config = {"kore:host": sandbox.url, "fleet:bots": bots}
    (project / "Pulumi.fleet.yaml").write_text(json.dumps({"config": config}), encoding="utf-8")
    cli = Cli(project, tmp_path)
    cli("stack", "init", "fleet")
    cli("config", "set", "kore:clientId", DEMO_APP.client_id, "--stack", "fleet")
    cli("config", "set", "--secret", "kore:clientSecret", SECRET, "--stack", "fleet")

    # Trainings stay queued until every bot's is: they can only all be queued at once if each bot's
    # plugin serves its own call (events, not timing: the test waits for the sandbox to see them all).
    sandbox.hold_queue()
    up = cli.start("up", "--yes", "--skip-preview", "--parallel", "32", "--stack", "fleet")
    wait_until(lambda: len(sandbox.trainings) == len(BOTS), f"{len(BOTS)} trainings queued at once")
    assert len({t.bot_id for t in sandbox.trainings}) == len(BOTS)
    sandbox.hold_queue(False)
    assert up.finish() == 0, up.output
    assert [t.phase for t in sandbox.trainings] == ["Finished"] * len(BOTS)

    state = json.loads(cli("stack", "export", "--stack", "fleet").stdout)["deployment"]["resources"]
    providers = {r["urn"]: r for r in state if r["type"] == "pulumi:providers:pulumi-python"}
    assert len(providers) == len(BOTS)
    trainings = [r for r in state if r["type"].endswith(":BotTraining")]
    assert len({r["provider"].rsplit("::", 1)[0] for r in trainings}) == len(BOTS)  # one plugin per bot
    for provider in providers.values():
        assert provider["inputs"]["kore:host"] == sandbox.url
        for key in ("kore:clientId", "kore:clientSecret"):
            assert provider["inputs"][key].get("4dabf18193072939515e22adb298388d") is not None, key  # secret
    # Nowhere in the backend, history and backups included, is the secret in plain text; the client id is
    # in plain text only where the stack config itself holds it (the update history records the config).
    assert SECRET not in cli.state_files()
    checkpoint = cli("stack", "export", "--stack", "fleet").stdout
    assert DEMO_APP.client_id not in checkpoint

    # Nothing changed: nothing to do, nothing called.
    sandbox.clear_calls()
    cli("up", "--yes", "--expect-no-changes", "--stack", "fleet")
    assert sandbox.calls == []
