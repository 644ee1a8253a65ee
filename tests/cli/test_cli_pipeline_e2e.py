"""The promotion pipeline end to end with the real `pulumi` CLI against the sandbox: dev imports, trains and
publishes; staging (kore:promoteFrom dev) deploys the same utterances; after an utterance changes in git,
staging's preview is refused until dev has trained it. The whole bot likewise: its definition (refused on
staging until dev imported it) and its variables (each stack its own values, a secret one included).
Skipped, with the reason, where `pulumi` is not on PATH; without it the same behaviour is covered by
tests/program/test_program.py (the guard, under mocks), tests/plugin/test_plugin_pipeline.py and
tests/plugin/test_plugin_bot_config.py (the providers, through the plugin process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cli_harness import REQUIRES_PULUMI, Run, copy_project, pulumi_runner
from demo_values import CREDENTIALS_CONFIG
from kore_resources import hash_definition, hash_utterances
from kore_sandbox import DEMO_BOTS, Sandbox

pytestmark = [pytest.mark.cli, *REQUIRES_PULUMI]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


@pytest.fixture
def cli(project: Path, tmp_path: Path) -> Run:
    # credentials from the environment: the stack files below hold no secret
    return pulumi_runner(
        project,
        tmp_path,
        {
            "KORE_CLIENT_ID": CREDENTIALS_CONFIG["kore:clientId"],
            "KORE_CLIENT_SECRET": CREDENTIALS_CONFIG["kore:clientSecret"],
        },
    )


def stack_config(
    project: Path,
    stack: str,
    host: str,
    bot_id: str,
    promote_from: str | None = None,
    **bot: object,
) -> None:
    config: dict[str, object] = {
        "kore:host": host,
        "kore-bots:bots": [
            {
                "name": "travel",
                "botId": bot_id,
                "languages": ["en", "de"],
                "utterances": "utterances/travel",
                "timeoutSeconds": 120,
                "importUtterances": True,
                "publish": {"versionComment": f"travel on {stack}"},
                **bot,
            }
        ],
    }
    if promote_from is not None:
        config["kore:promoteFrom"] = promote_from
    (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}), encoding="utf-8")


def test_staging_deploys_only_what_dev_trained(project: Path, cli: Run) -> None:
    dev_bot, staging_bot = DEMO_BOTS[1].bot_id, DEMO_BOTS[2].bot_id
    with Sandbox(training_seconds=1.0, queue_seconds=0.2, import_seconds=0.3, publish_seconds=0.5) as sandbox:
        stack_config(project, "dev", sandbox.url, dev_bot)
        stack_config(project, "staging", sandbox.url, staging_bot, promote_from="organization/kore-bots/dev")
        cli("stack", "init", "dev")
        cli("stack", "init", "staging")

        # dev: import, train, publish
        cli("up", "--yes", "--skip-preview", "--stack", "dev")
        assert {i.bot_id for i in sandbox.pipeline.imports} == {dev_bot}
        assert [p.bot_id for p in sandbox.pipeline.publishes] == [dev_bot]
        dev_outputs = json.loads(cli("stack", "output", "--json", "--stack", "dev").stdout)
        en_hash = hash_utterances(project / "utterances/travel/en")
        assert dev_outputs["utterancesHashes"]["travel"]["en"] == en_hash

        # staging promotes the same utterances: allowed
        cli("preview", "--stack", "staging")
        cli("up", "--yes", "--stack", "staging")
        assert [p.bot_id for p in sandbox.pipeline.publishes] == [dev_bot, staging_bot]

        # an utterance changes in git: staging refuses at preview, before any call to its bot
        export = project / "utterances/travel/en/ml-utterances.json"
        records = json.loads(export.read_text(encoding="utf-8"))
        export.write_text(
            json.dumps([*records, {**records[-1], "sentence": "Fly me to Porto", "entities": []}])
        )
        new_hash = hash_utterances(project / "utterances/travel/en")
        sandbox.clear_calls()
        refused = cli("preview", "--stack", "staging", check=False)
        assert refused.returncode != 0
        output = refused.stdout + refused.stderr
        assert "bot travel (en)" in output and new_hash in output and en_hash in output
        assert "organization/kore-bots/dev" in output
        assert not [c for c in sandbox.calls if c.bot_id == staging_bot]

        # once dev has trained it, staging may deploy it
        cli("up", "--yes", "--stack", "dev")
        cli("up", "--yes", "--stack", "staging")
        staging_outputs = json.loads(cli("stack", "output", "--json", "--stack", "staging").stdout)
        assert staging_outputs["utterancesHashes"]["travel"]["en"] == new_hash


def definition_hash(project: Path) -> str:
    folder = project / "definitions/travel"
    return hash_definition(folder / "botDefinition.json", folder / "config.json", sorted(folder.glob("*.js")))


def test_the_whole_bot_is_promoted_its_definition_only_once_dev_imported_it(project: Path, cli: Run) -> None:
    dev_bot, staging_bot = DEMO_BOTS[1].bot_id, DEMO_BOTS[2].bot_id
    with Sandbox(training_seconds=1.0, queue_seconds=0.2, import_seconds=0.3, publish_seconds=0.5) as sandbox:
        for stack, bot_id, upstream in (
            ("dev", dev_bot, None),
            ("staging", staging_bot, "organization/kore-bots/dev"),
        ):
            variables = {"flightApi": f"https://{stack}.flights.example.com"}
            stack_config(
                project,
                stack,
                sandbox.url,
                bot_id,
                upstream,
                definition={"folder": "definitions/travel", "fullImport": True},
                variables=variables,
            )
            cli("stack", "init", stack)
            # each stack's own secret, set the way the README says
            cli(
                "config",
                "set",
                "--secret",
                "--path",
                "kore-bots:bots[0].variables.flightApiKey.value",
                f"{stack}-key-0123456789",
                "--stack",
                stack,
            )
            cli(
                "config",
                "set",
                "--path",
                "kore-bots:bots[0].variables.flightApiKey.secured",
                "true",
                "--stack",
                stack,
            )

        cli("up", "--yes", "--stack", "dev")
        cli("up", "--yes", "--stack", "staging")
        imported = [d.bot_id for d in sandbox.definitions.imports]
        assert imported == [dev_bot, staging_bot]
        for stack, bot_id in (("dev", dev_bot), ("staging", staging_bot)):
            values = {v["key"]: v["value"] for v in sandbox.variables(bot_id)}
            assert values == {
                "flightApi": f"https://{stack}.flights.example.com",
                "flightApiKey": f"{stack}-key-0123456789",
            }
        staging_state = cli("stack", "export", "--stack", "staging").stdout
        assert "staging-key-0123456789" not in staging_state

        # the definition changes in git: staging refuses it at preview, before any call to its bot
        old_hash = definition_hash(project)
        config_json = project / "definitions/travel/config.json"
        config = json.loads(config_json.read_text(encoding="utf-8"))
        config["description"] = "travel bot, now with flight status"
        config_json.write_text(json.dumps(config, indent=2), encoding="utf-8")
        new_hash = definition_hash(project)
        assert new_hash != old_hash
        sandbox.clear_calls()
        refused = cli("preview", "--stack", "staging", check=False)
        assert refused.returncode != 0
        output = refused.stdout + refused.stderr
        assert (
            f"bot travel (definition): this stack would deploy {new_hash}, but organization/kore-bots/dev "
            f"last imported {old_hash} successfully"
        ) in output
        assert not [c for c in sandbox.calls if c.bot_id == staging_bot]

        # once dev has imported it, staging deploys it (and only the definition changes there)
        cli("up", "--yes", "--stack", "dev")
        cli("up", "--yes", "--stack", "staging")
        assert [d.bot_id for d in sandbox.definitions.imports][-2:] == [dev_bot, staging_bot]
        staging_outputs = json.loads(cli("stack", "output", "--json", "--stack", "staging").stdout)
        assert staging_outputs["definitionHashes"]["travel"] == new_hash
