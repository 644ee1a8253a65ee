"""End to end with the real `pulumi` CLI against the sandbox (file backend, passphrase secrets): secrets,
progress lines, a failed training, missing and plain-text credentials, Ctrl-C once and twice, and a stack
recorded by the previous release. The README's demo has its own test (test_cli_demo_e2e.py), and the
promotion pipeline too (test_cli_pipeline_e2e.py)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli_harness import REQUIRES_PULUMI, Cli, copy_project
from demo_values import BOT, CREDENTIALS_CONFIG, SECRET
from kore_sandbox import Sandbox
from kore_sandbox.testing import wait_until
from plugin_harness import Plugin, deploy_as_recorded, with_plain_secrets
from state_fixtures import DEMO_PASSPHRASE, FIXTURES, PLAIN_SECRETS, RECORDED_HOST

pytestmark = [pytest.mark.cli, *REQUIRES_PULUMI]

CLIENT_ID = CREDENTIALS_CONFIG["kore:clientId"]
ENV_CREDENTIALS = {"KORE_CLIENT_ID": CLIENT_ID, "KORE_CLIENT_SECRET": SECRET}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(training_seconds=1.0, queue_seconds=0.2, import_seconds=0.2, publish_seconds=0.3) as sb:
        yield sb


def write_stack(project: Path, stack: str, config: dict[str, Any]) -> None:
    (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}), encoding="utf-8")


def bots_config(languages: list[str], **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": "travel",
            "botId": BOT,
            "languages": languages,
            "utterances": "utterances/travel",
            "timeoutSeconds": 120,
            **extra,
        }
    ]


def outputs(cli: Cli, stack: str) -> dict[str, Any]:
    return json.loads(cli("stack", "output", "--json", "--stack", stack).stdout)


def resources(cli: Cli, stack: str) -> dict[str, dict[str, Any]]:
    deployment = json.loads(cli("stack", "export", "--stack", stack).stdout)["deployment"]
    return {r["urn"].rsplit("::", 1)[1]: r for r in deployment.get("resources", [])}


def pending_operations(cli: Cli, stack: str) -> list[dict[str, Any]]:
    deployment = json.loads(cli("stack", "export", "--stack", stack).stdout)["deployment"]
    return deployment.get("pending_operations") or []


def change_an_english_utterance(project: Path) -> None:
    export = project / "utterances" / "travel" / "en" / "ml-utterances.json"
    records = json.loads(export.read_text(encoding="utf-8"))
    records[0] = {**records[0], "sentence": records[0]["sentence"] + " today"}
    export.write_text(json.dumps(records, indent=2), encoding="utf-8")


# -- secrets, progress, failure ------------------------------------------------------------------------------


@pytest.mark.parametrize("credentials", ["secret stack config", "environment"])
def test_the_client_secret_reaches_the_provider_and_never_the_state_or_the_output(
    project: Path, tmp_path: Path, sandbox: Sandbox, credentials: str
) -> None:
    cli = Cli(project, tmp_path, ENV_CREDENTIALS if credentials == "environment" else None)
    write_stack(project, "e2e", {"kore:host": sandbox.url, "kore-bots:bots": bots_config(["en", "de"])})
    cli("stack", "init", "e2e")
    if credentials == "secret stack config":
        cli("config", "set", "kore:clientId", CLIENT_ID, "--stack", "e2e")
        cli("config", "set", "--secret", "kore:clientSecret", SECRET, "--stack", "e2e")
        assert SECRET not in (project / "Pulumi.e2e.yaml").read_text(encoding="utf-8")

    up = cli("up", "--yes", "--stack", "e2e")
    trained = {t.training_id for t in sandbox.trainings}
    assert set(outputs(cli, "e2e")["trainingIds"]["travel"].values()) == trained and len(trained) == 2

    # The provider's progress reaches the user: queued, in progress with the time waited, finished.
    for language in ("en", "de"):
        training = rf"kore: bot {BOT} \({language}\): training \w+"
        assert re.search(rf"{training} queued", up.stdout)
        assert re.search(rf"{training} in progress, \d+s elapsed", up.stdout)
        assert re.search(rf"{training} finished after \d+s", up.stdout)

    # A failing training: the documented message, nothing recorded, the next up converges.
    before = resources(cli, "e2e")["travel-en"]["outputs"]
    sandbox.fail_next_training(bot_id=BOT, language="en")
    change_an_english_utterance(project)
    failed = cli("up", "--yes", "--stack", "e2e", check=False)
    assert failed.returncode != 0
    [failing] = [t for t in sandbox.trainings if t.phase == "Failed"]
    assert f"bot {BOT} (en): Kore.ai reports training {failing.training_id} as Failed" in failed.stdout
    assert "Nothing was recorded, so the next `pulumi up` trains again" in failed.stdout
    assert resources(cli, "e2e")["travel-en"]["outputs"] == before
    cli("up", "--yes", "--stack", "e2e")
    converged = resources(cli, "e2e")["travel-en"]["outputs"]
    assert converged["training_id"] == sandbox.trainings[-1].training_id != failing.training_id
    cli("preview", "--expect-no-changes", "--stack", "e2e")

    cli("refresh", "--yes", "--stack", "e2e")
    cli("destroy", "--yes", "--stack", "e2e")
    # Nowhere: not in the state files (with their history and backups), the export, or anything printed.
    assert SECRET not in cli.state_files()
    assert SECRET not in cli("stack", "export", "--stack", "e2e").stdout
    assert not [printed for printed in cli.printed if SECRET in printed]


def test_a_client_secret_set_without_secret_is_refused_at_preview(
    project: Path, tmp_path: Path, sandbox: Sandbox
) -> None:
    cli = Cli(project, tmp_path)
    write_stack(project, "e2e", {"kore:host": sandbox.url, "kore-bots:bots": bots_config(["en"])})
    cli("stack", "init", "e2e")
    cli("config", "set", "kore:clientId", CLIENT_ID, "--stack", "e2e")
    cli("config", "set", "--plaintext", "kore:clientSecret", SECRET, "--stack", "e2e")
    refused = cli("preview", "--stack", "e2e", check=False)
    assert refused.returncode != 0
    assert "pulumi config set --secret kore:clientSecret" in refused.stdout + refused.stderr
    assert SECRET not in refused.stdout + refused.stderr
    up = cli("up", "--yes", "--stack", "e2e", check=False)
    assert up.returncode != 0 and sandbox.calls == []
    assert SECRET not in cli.state_files()  # nothing recorded, the provider's config included


def test_missing_credentials_fail_naming_the_config_key_and_the_environment_variable(
    project: Path, tmp_path: Path, sandbox: Sandbox
) -> None:
    cli = Cli(project, tmp_path)
    write_stack(project, "e2e", {"kore:host": sandbox.url, "kore-bots:bots": bots_config(["en"])})
    cli("stack", "init", "e2e")
    cli("preview", "--stack", "e2e")  # a preview needs no credentials: it calls nothing
    up = cli("up", "--yes", "--stack", "e2e", check=False)
    assert up.returncode != 0
    for name in ("kore:clientId", "KORE_CLIENT_ID", "kore:clientSecret", "KORE_CLIENT_SECRET"):
        assert name in up.stdout
    assert sandbox.calls == []
    assert "travel-en" not in resources(cli, "e2e")


def test_after_fixing_a_wrong_secret_refresh_says_to_run_the_program(
    project: Path, tmp_path: Path, sandbox: Sandbox
) -> None:
    """The engine configures `pulumi refresh` from the provider config the last `up` recorded, not from the
    stack config as it is now: after fixing a wrong secret, refresh still answers 401 until the program
    runs. The message says so, and `refresh --run-program` is the way out."""
    cli = Cli(project, tmp_path)
    write_stack(project, "e2e", {"kore:host": sandbox.url, "kore-bots:bots": bots_config(["en"])})
    cli("stack", "init", "e2e")
    cli("config", "set", "kore:clientId", CLIENT_ID, "--stack", "e2e")
    cli("config", "set", "--secret", "kore:clientSecret", SECRET, "--stack", "e2e")
    cli("up", "--yes", "--stack", "e2e")
    cli("config", "set", "--secret", "kore:clientSecret", "not-the-secret", "--stack", "e2e")
    change_an_english_utterance(project)
    wrong = cli("up", "--yes", "--stack", "e2e", check=False)
    assert wrong.returncode != 0 and "kore:clientSecret" in wrong.stdout
    assert len(sandbox.trainings) == 1

    cli("config", "set", "--secret", "kore:clientSecret", SECRET, "--stack", "e2e")
    stale = cli("refresh", "--yes", "--stack", "e2e", check=False)
    if stale.returncode == 0:
        pytest.fail("refresh used the fixed secret: the engine no longer records provider config?")
    assert "HTTP 401" in stale.stdout
    assert "run `pulumi refresh --run-program`, or `pulumi up` first" in stale.stdout
    # The SDK prints a traceback of its own frames; none from inside kore_resources (short_errors).
    assert (
        "kore_resources/api" not in stale.stdout
        and "kore_resources/resources/bot_training" not in stale.stdout
    )
    cli("refresh", "--yes", "--run-program", "--stack", "e2e")
    cli("refresh", "--yes", "--stack", "e2e")  # that refresh recorded the fixed secret: a plain one works
    assert "not-the-secret" not in cli.state_files() and SECRET not in cli.state_files()


# -- Ctrl-C ------------------------------------------------------------------------------------------------


def interruptible_stack(project: Path, tmp_path: Path, sandbox: Sandbox) -> Cli:
    cli = Cli(project, tmp_path, ENV_CREDENTIALS)
    publish = {"publish": {"versionComment": "after Ctrl-C"}}
    write_stack(project, "e2e", {"kore:host": sandbox.url, "kore-bots:bots": bots_config(["en"], **publish)})
    cli("stack", "init", "e2e")
    return cli


def test_one_ctrl_c_lets_the_training_finish_and_records_it(
    project: Path, tmp_path: Path, sandbox: Sandbox
) -> None:
    cli = interruptible_stack(project, tmp_path, sandbox)
    sandbox.hang_trainings()  # the training runs until the test releases it
    up = cli.start("up", "--yes", "--skip-preview", "--stack", "e2e")
    wait_until(lambda: [t.phase for t in sandbox.trainings] == ["Inprogress"], "the training to run")
    up.interrupt()
    wait_until(lambda: "received; cancelling" in up.output, "the CLI to acknowledge Ctrl-C")
    sandbox.hang_trainings(False)
    assert up.finish() != 0
    assert "update canceled" in up.output

    # The engine waited for the training and recorded it; it started nothing after (the publish).
    recorded = resources(cli, "e2e")
    assert recorded["travel-en"]["outputs"]["training_id"] == sandbox.trainings[0].training_id
    assert "travel-publish" not in recorded and pending_operations(cli, "e2e") == []
    sandbox.clear_calls()
    cli("up", "--yes", "--stack", "e2e")
    assert [c.path.rsplit("/", 1)[1] for c in sandbox.calls if c.method == "POST"] == ["publish"]
    assert len(sandbox.trainings) == 1  # converged without training again
    cli("preview", "--expect-no-changes", "--stack", "e2e")


def test_two_ctrl_c_leave_a_pending_create_that_the_next_up_and_refresh_resolve(
    project: Path, tmp_path: Path, sandbox: Sandbox
) -> None:
    cli = interruptible_stack(project, tmp_path, sandbox)
    sandbox.hang_trainings()
    up = cli.start("up", "--yes", "--skip-preview", "--stack", "e2e")
    wait_until(lambda: [t.phase for t in sandbox.trainings] == ["Inprogress"], "the training to run")
    up.interrupt()
    wait_until(lambda: "received; cancelling" in up.output, "the CLI to acknowledge Ctrl-C")
    up.interrupt()  # the second one terminates: the plugin is killed mid-wait
    assert up.finish() != 0

    # Nothing half-recorded: no training outputs, and the interrupted create is listed as pending.
    assert "travel-en" not in resources(cli, "e2e")
    assert [op["type"] for op in pending_operations(cli, "e2e")] == ["creating"]

    # The next up warns, waits for the interrupted training to end, then trains and records its own.
    again = cli.start("up", "--yes", "--stack", "e2e")
    wait_until(lambda: "pending operations from previous deployment" in again.output, "the warning")
    wait_until(lambda: "started earlier" in again.output, "the wait for the interrupted training")
    assert len(sandbox.trainings) == 1  # it does not queue while the interrupted training runs
    sandbox.hang_trainings(False)
    assert again.finish() == 0, again.output
    interrupted, ours = sandbox.trainings
    assert interrupted.phase == "Finished" and ours.queued_behind is None
    assert resources(cli, "e2e")["travel-en"]["outputs"]["training_id"] == ours.training_id

    # `pulumi refresh --clear-pending-creates` (README) drops the stale pending operation.
    cli("refresh", "--yes", "--clear-pending-creates", "--stack", "e2e")
    assert pending_operations(cli, "e2e") == []
    cli("preview", "--expect-no-changes", "--stack", "e2e")


# -- upgrades ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("release", ["v0.1.0", "v0.2.0"])
def test_a_stack_recorded_by_an_earlier_release_keeps_working_without_retraining(
    tmp_path: Path, sandbox: Sandbox, release: str
) -> None:
    """`fixtures/state/<release>/deployment.json` is `pulumi stack export` of the demo's local stack, as that
    release recorded it (scripts/record-state-fixture.sh; its pickled providers name that release's module
    paths), with the stack config and the files it was made from. Imported into a fresh backend, the
    current code must see no change and call nothing, refresh it (no drift: the sandbox's bot is first put
    where that release's `up` left it), and destroy it."""
    fixture = FIXTURES / release
    project = copy_project(tmp_path)
    for folder in ("utterances", "definitions"):
        shutil.rmtree(project / folder, ignore_errors=True)
        if (fixture / folder).is_dir():
            shutil.copytree(fixture / folder, project / folder)
    deployment = (fixture / "deployment.json").read_text(encoding="utf-8").replace(RECORDED_HOST, sandbox.url)
    (tmp_path / "deployment.json").write_text(deployment, encoding="utf-8")
    # That release's stack config, secrets and encryption salt included, pointed at this sandbox. Only
    # `kore:host` moves: a value recorded encrypted (0.2's variables) cannot be rewritten in the state.
    config = (fixture / "Pulumi.local.yaml").read_text(encoding="utf-8")
    config = config.replace(f"kore:host: {RECORDED_HOST}", f"kore:host: {sandbox.url}")
    # The upgrade step CHANGELOG lists for 0.3: a definition says it is a full import.
    config = config.replace(
        "definition: definitions/travel ", "definition: {folder: definitions/travel, fullImport: true} "
    )
    (project / "Pulumi.local.yaml").write_text(config, encoding="utf-8")

    plugin = Plugin(config=CREDENTIALS_CONFIG, cwd=project)
    try:
        recorded = json.loads(deployment)["deployment"]["resources"]
        plain = PLAIN_SECRETS[release]
        deploy_as_recorded(plugin, [with_plain_secrets(r, plain) for r in recorded if "dynamic" in r["type"]])
    finally:
        plugin.close()
    sandbox.clear_calls()

    # The demo's passphrase: the recorded secrets and the stack config's are encrypted under it.
    cli = Cli(project, tmp_path, {**ENV_CREDENTIALS, "PULUMI_CONFIG_PASSPHRASE": DEMO_PASSPHRASE})
    cli("stack", "init", "local")
    cli("stack", "import", "--file", str(tmp_path / "deployment.json"), "--stack", "local")
    # Since 0.3 each bot has a Provider of its own: the first `up` creates it, and moves the bot's
    # resources onto it with no replace, no update and no call.
    preview = json.loads(cli("preview", "--json", "--stack", "local").stdout)
    planned = {
        step["urn"].rsplit("::", 2)[1]: step["op"] for step in preview["steps"] if step["op"] != "same"
    }
    assert planned == {"pulumi:providers:pulumi-python": "create"}, planned
    cli("up", "--yes", "--stack", "local")
    assert sandbox.calls == []  # nothing retrained, re-imported or re-published
    cli("preview", "--expect-no-changes", "--stack", "local")

    cli("refresh", "--yes", "--stack", "local")  # Read, with the providers pickled by that release
    cli("preview", "--expect-no-changes", "--stack", "local")
    sandbox.clear_calls()
    cli("destroy", "--yes", "--stack", "local")  # Delete, likewise
    assert sandbox.calls == []


def test_a_stack_config_mistake_is_one_clean_error_line(
    project: Path, tmp_path: Path, sandbox: Sandbox
) -> None:
    cli = Cli(project, tmp_path, ENV_CREDENTIALS)
    config = {
        "kore:host": sandbox.url,
        "kore:promoteForm": "organization/kore-bots/dev",  # the typo that used to switch the guard off
        "kore-bots:bots": bots_config(["en"]),
    }
    write_stack(project, "e2e", config)
    cli("stack", "init", "e2e")
    refused = cli("preview", "--stack", "e2e", check=False)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert "error: Unknown stack config key kore:promoteForm: this program reads only" in output
    assert "Traceback" not in output and "unhandled exception" not in output
    assert sandbox.calls == []


# -- drift ---------------------------------------------------------------------------------------------------


def previewed(cli: Cli, stack: str) -> tuple[dict[str, str], str]:
    """(resource name -> step, for every kore resource that is not `same`) and every diagnostic message
    of a `pulumi preview --json`: exactly what the preview would change, and what it says about it."""
    preview = json.loads(cli("preview", "--json", "--stack", stack).stdout)
    steps = {
        step["urn"].rsplit("::", 1)[1]: step["op"]
        for step in preview.get("steps", [])
        if ":dynamic/kore:" in step["urn"] and step["op"] != "same"
    }
    messages = "\n".join(d.get("message", "") for d in preview.get("diagnostics", []))
    return steps, messages


def test_drift_behind_the_stacks_back_is_refreshed_previewed_and_put_back(
    project: Path, tmp_path: Path, sandbox: Sandbox
) -> None:
    """The bot is changed in the "builder" (the sandbox's drift knobs); `pulumi refresh` records it, the
    preview shows exactly that change and says why, `up` puts git's version back, the next refresh is
    clean. Likewise a training that fails after the stack recorded it."""
    cli = Cli(project, tmp_path, ENV_CREDENTIALS)
    api_url = "https://flights.example.com/v1"
    bot = bots_config(["en", "de"], importUtterances=True, variables={"flightApi": api_url})
    write_stack(project, "e2e", {"kore:host": sandbox.url, "kore-bots:bots": bot})
    cli("stack", "init", "e2e")
    cli("up", "--yes", "--stack", "e2e")
    cli("refresh", "--yes", "--stack", "e2e")
    cli("preview", "--expect-no-changes", "--stack", "e2e")  # a healthy stack refreshes to no diff

    # In the builder: an English utterance edited, a variable changed.
    first = json.loads((project / "utterances/travel/en/ml-utterances.json").read_text(encoding="utf-8"))[0]
    sandbox.edit_utterance(BOT, "en", first["taskName"], first["sentence"], "Get me a flight to Lisbon")
    sandbox.set_variable(BOT, "flightApi", "https://staging.flights.example.com")
    refreshed = cli("refresh", "--yes", "--stack", "e2e").stdout
    assert "differ from what this file imported (changed in the builder?)" in refreshed
    assert "changed on the bot since the last `pulumi up`: flightApi" in refreshed
    steps, said = previewed(cli, "e2e")
    assert steps == {
        "travel-en-ml-utterances.json": "update",
        "travel-en": "update",
        "travel-variables": "update",
    }
    assert f"bot {BOT} (en): to be trained again: the bot's utterances changed" in said
    assert f"bot {BOT}: variables: changed: flightApi" in said

    sandbox.clear_calls()
    cli("up", "--yes", "--stack", "e2e")
    posted = [(c.path.rsplit("/", 1)[-1], c.language) for c in sandbox.calls if c.method == "POST"]
    assert ("train", "en") in posted and ("train", "de") not in posted
    assert ("mlimport", "en") in posted and ("mlimport", "de") not in posted
    on_bot = {(u["taskName"], u["sentence"]) for u in sandbox.utterances(BOT, "en")}
    assert (first["taskName"], first["sentence"]) in on_bot
    assert {v["key"]: v["value"] for v in sandbox.variables(BOT)}["flightApi"] == api_url
    cli("refresh", "--yes", "--stack", "e2e")
    cli("preview", "--expect-no-changes", "--stack", "e2e")

    # A training that fails after the stack recorded it: refresh sees Failed, up retrains that language.
    de_training = resources(cli, "e2e")["travel-de"]["outputs"]["training_id"]
    sandbox.fail_training(de_training)
    cli("refresh", "--yes", "--stack", "e2e")
    steps, said = previewed(cli, "e2e")
    assert steps == {"travel-de": "update"}
    assert f"bot {BOT} (de): to be trained again: the bot language's latest training is Failed" in said
    cli("up", "--yes", "--stack", "e2e")
    assert resources(cli, "e2e")["travel-de"]["outputs"]["training_id"] != de_training
    cli("refresh", "--yes", "--stack", "e2e")
    cli("preview", "--expect-no-changes", "--stack", "e2e")
    # Every download of an export went to the download host without a credential.
    assert sandbox.ml_export.downloads and not any(d.auth_header for d in sandbox.ml_export.downloads)
