"""Drift through the real plugin process (tests/plugin_harness.py, a fresh process per pass as the engine
runs them) against the Kore.ai sandbox: the bot is changed behind the stack's back with the sandbox's
drift knobs, `pulumi refresh` records it, `pulumi preview` shows exactly that change (and says why),
`pulumi up` puts git's version back, and the next refresh is clean.

The stack is the shipped program's shape: the ML utterance imports of each language, each language's
training (taking the import's content_hash, and its import_id as a trigger) and the bot's variables."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from demo_values import BOT, CREDENTIALS_CONFIG, SECRET
from kore_resources import BotVariablesProvider, MlUtterancesProvider, hash_utterances
from kore_resources.api.auth import Credentials
from kore_resources.api.client import KoreClient
from kore_sandbox import Sandbox
from kore_sandbox.testing import wait_until
from plugin_harness import PROJECT_DIR, UNKNOWN, MiniEngine, Plugin, PluginError

pytestmark = pytest.mark.plugin

MLU_TYPE = "pulumi-python:dynamic/kore:MlUtterances"
VARIABLES_TYPE = "pulumi-python:dynamic/kore:BotVariables"
LANGUAGES = ("en", "de")
FILES = {"en": "en/ml-utterances.json", "de": "de/ml-utterances.csv"}
API_URL = "https://flights.example.com/v1"


class Stack:
    """One stack of the program's resources, on three MiniEngines (one per resource type) that share one
    plugin process per pass, a fresh one each pass, as the engine runs them; `log()` is everything those
    processes wrote to stderr."""

    def __init__(self, sandbox: Sandbox, folder: Path) -> None:
        self.sandbox = sandbox
        self.folder = folder
        self.plugins: list[Plugin] = [Plugin(config=CREDENTIALS_CONFIG)]
        self.imports = MiniEngine(
            self.plugin, type_=MLU_TYPE, provider=serialize_provider(MlUtterancesProvider())
        )
        self.trainings = MiniEngine(self.plugin)
        self.variables_engine = MiniEngine(
            self.plugin, type_=VARIABLES_TYPE, provider=serialize_provider(BotVariablesProvider())
        )
        self.variables: dict[str, Any] = {
            "flightApiUrl": {"value": API_URL, "hint": "the flight API"},
            "flightApiKey": {"value": "k-" + "7" * 16, "secured": True},
        }

    @property
    def plugin(self) -> Plugin:
        return self.plugins[-1]

    def new_pass(self) -> None:
        self.plugin.close()
        self.plugins.append(Plugin(config=CREDENTIALS_CONFIG))
        for engine in (self.imports, self.trainings, self.variables_engine):
            engine.plugin = self.plugin

    def close(self) -> str:
        log = self.log()
        for plugin in self.plugins:
            plugin.close()
        return log

    def log(self) -> str:
        return "".join(plugin.stderr() for plugin in self.plugins)

    # -- the program ------------------------------------------------------------------------------------

    def import_inputs(self) -> dict[str, dict[str, Any]]:
        return {
            f"travel-{lang}-{Path(FILES[lang]).name}": {
                "bot_id": BOT,
                "file": str(self.folder / FILES[lang]),
                "language": lang,
                "host": self.sandbox.url,
                "content_hash": hash_utterances(self.folder / FILES[lang]),
                # also a refresh's deadline: a refresh that cannot read gives up within it
                "timeout_seconds": 8,
            }
            for lang in LANGUAGES
        }

    def training_inputs(self, import_steps: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
        """`import_steps` (a preview): an import that will run has no import_id yet (unknown)."""
        trainings = {}
        for lang in LANGUAGES:
            name = f"travel-{lang}-{Path(FILES[lang]).name}"
            recorded = self.imports.state.get(self.imports.urn(name))
            runs = recorded is None or (import_steps is not None and import_steps[name] != "same")
            trainings[f"travel-{lang}"] = {
                "bot_id": BOT,
                "utterances_hash": hash_utterances(self.folder / FILES[lang]),
                "language": lang,
                "host": self.sandbox.url,
                "wait_for_completion": True,
                "timeout_seconds": 20,
                "triggers": [UNKNOWN if runs or recorded is None else recorded.outputs["import_id"]],
            }
        return trainings

    def variables_inputs(self) -> dict[str, dict[str, Any]]:
        return {
            "travel-variables": {
                "bot_id": BOT,
                "variables": self.variables,
                "host": self.sandbox.url,
                "timeout_seconds": 20,
            }
        }

    # -- the commands -----------------------------------------------------------------------------------

    def preview(self) -> dict[str, str]:
        self.new_pass()
        steps = self.variables_engine.plan(self.variables_inputs())
        import_steps = self.imports.plan(self.import_inputs())
        return steps | import_steps | self.trainings.plan(self.training_inputs(import_steps))

    def up(self) -> dict[str, str]:
        self.preview()
        self.new_pass()
        steps = self.variables_engine.up(self.variables_inputs(), skip_preview=True)
        steps |= self.imports.up(self.import_inputs(), skip_preview=True)
        return steps | self.trainings.up(self.training_inputs(), skip_preview=True)

    def refresh(self) -> dict[str, str]:
        """`pulumi refresh --yes`: a preview pass, then the real one, which is recorded."""
        drift = {}
        for preview in (True, False):
            self.new_pass()
            drift = self.variables_engine.refresh(record=not preview)
            drift |= self.imports.refresh(record=not preview) | self.trainings.refresh(record=not preview)
        return drift

    def refresh_imports(self) -> dict[str, str]:
        """The imports' part of a refresh pass, recorded only if every read succeeds."""
        self.new_pass()
        return self.imports.refresh(record=True)

    def outputs(self) -> dict[str, dict[str, Any]]:
        return {
            urn: recorded.outputs
            for engine in (self.variables_engine, self.imports, self.trainings)
            for urn, recorded in engine.state.items()
        }


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # A training runs for longer than a poll interval (1 s), so a status read sees it running (rule 1 of
    # bot_training.py) instead of waiting out the grace period: a speed choice, not a race.
    with Sandbox(training_seconds=2.5, queue_seconds=0.1, import_seconds=0.2, export_seconds=0.2) as sb:
        yield sb


@pytest.fixture
def stack(sandbox: Sandbox, tmp_path: Path) -> Iterator[Stack]:
    folder = tmp_path / "travel"
    shutil.copytree(PROJECT_DIR / "utterances/travel", folder)
    deployed = Stack(sandbox, folder)
    assert set(deployed.up().values()) == {"create"}
    yield deployed
    log = deployed.close()
    assert SECRET not in log and "7" * 16 not in log  # neither the client secret nor a secured value


ALL_SAME = {
    "travel-variables": "same",
    "travel-en-ml-utterances.json": "same",
    "travel-de-ml-utterances.csv": "same",
    "travel-en": "same",
    "travel-de": "same",
}


EN_IMPORT, DE_IMPORT = "travel-en-ml-utterances.json", "travel-de-ml-utterances.csv"


def only(*changed: str) -> dict[str, str]:
    """What a preview or refresh shows when exactly `changed` (names) change: an update each."""
    return {**ALL_SAME, **dict.fromkeys(changed, "update")}


def en_sentence(folder: Path) -> tuple[str, str]:
    first = json.loads((folder / FILES["en"]).read_text(encoding="utf-8"))[0]
    return first["taskName"], first["sentence"]


def posts(sandbox: Sandbox) -> list[tuple[str, str | None]]:
    """(what, language) of every POST: uploadfile, mlimport, train, mlexport, import (variables)."""
    kinds = []
    for call in sandbox.calls:
        if call.method == "POST":
            kind = "train" if "/ml/train" in call.path else call.path.rstrip("/").rsplit("/", 1)[-1]
            kinds.append((kind, call.language))
    return kinds


def test_a_healthy_stack_refreshes_to_no_diff_twice_and_state_is_unchanged(stack, sandbox):
    before = stack.outputs()
    assert stack.refresh() == ALL_SAME
    once = stack.outputs()
    assert stack.refresh() == ALL_SAME
    assert stack.outputs() == once
    # what refresh may change are statuses; every other recorded value is as `up` recorded it
    for urn, outputs in once.items():
        assert {k: v for k, v in outputs.items() if not k.endswith("_status")} == {
            k: v for k, v in before[urn].items() if not k.endswith("_status")
        }, urn
    assert stack.preview() == ALL_SAME
    # one ML export per bot language and pass (a refresh runs a preview pass and the real one), whatever
    # the number of its files; the JWT went to the API host, never to the download host
    downloads = sandbox.ml_export.downloads
    assert len(downloads) == 2 * 2 * len(LANGUAGES)
    assert not any(d.auth_header or d.jwt_seen for d in downloads)


def test_an_utterance_edited_in_the_builder_is_imported_again_and_retrained(stack, sandbox):
    intent, sentence = en_sentence(stack.folder)
    sandbox.edit_utterance(BOT, "en", intent, sentence, "Get me a flight to Lisbon")

    assert stack.refresh() == only(EN_IMPORT, "travel-en")
    log = stack.log()
    assert "differ from what this file imported" in log
    assert "bot's utterances changed after its last successful training" in log

    assert stack.preview() == only(EN_IMPORT, "travel-en")
    assert f"bot {BOT} (en): to be trained again" in stack.log()

    sandbox.clear_calls()
    assert stack.up() == only(EN_IMPORT, "travel-en")
    assert [p for p in posts(sandbox) if p[0] != "mlexport"] == [
        ("uploadfile", None),
        ("mlimport", "en"),
        ("train", "en"),
    ]
    on_bot = {(u["taskName"], u["sentence"]) for u in sandbox.utterances(BOT, "en")}
    assert (intent, sentence) in on_bot and (intent, "Get me a flight to Lisbon") not in on_bot
    assert sandbox.training_status(BOT, "en")["isMlInSyncWithSentences"] is True

    assert stack.refresh() == ALL_SAME
    assert stack.preview() == ALL_SAME


def test_an_edit_trained_in_the_builder_is_imported_again_and_retrained_after_the_import(stack, sandbox):
    """The model reads in sync (trained on the edit), so only the import shows drift; the import's new
    import_id (a trigger) retrains after it, because the import changed the bot's sentences back."""
    intent, sentence = en_sentence(stack.folder)
    sandbox.edit_utterance(BOT, "en", intent, sentence, "Get me a flight to Lisbon")
    # "Train" in the builder: a training the stack did not queue
    builder = KoreClient(sandbox.url, Credentials(CREDENTIALS_CONFIG["kore:clientId"], SECRET))
    builder.train(BOT, "en", deadline=time.monotonic() + 30)
    wait_until(
        lambda: (
            sandbox.training_status(BOT, "en")
            == {
                **sandbox.training_status(BOT, "en"),
                "trainingStatus": "Finished",
                "isMlInSyncWithSentences": True,
            }
        ),
        "the builder's training to finish",
    )

    assert stack.refresh() == only(EN_IMPORT)
    assert stack.preview() == only(EN_IMPORT, "travel-en")
    assert stack.up() == only(EN_IMPORT, "travel-en")
    assert "its triggers changed" in stack.log()
    assert stack.refresh() == ALL_SAME


def test_a_training_that_failed_after_the_stack_recorded_it_is_retrained(stack, sandbox):
    training_id = stack.trainings.state[stack.trainings.urn("travel-de")].outputs["training_id"]
    sandbox.fail_training(training_id)

    assert stack.refresh() == only("travel-de")
    assert stack.trainings.state[stack.trainings.urn("travel-de")].outputs["training_status"] == "Failed"
    assert stack.preview() == only("travel-de")
    assert "the bot language's latest training is Failed" in stack.log()

    sandbox.clear_calls()
    assert stack.up() == only("travel-de")
    assert posts(sandbox) == [("train", "de")]
    retrained = stack.trainings.state[stack.trainings.urn("travel-de")].outputs
    assert retrained["training_status"] == "Finished" and retrained["training_id"] != training_id
    assert stack.refresh() == ALL_SAME


def test_a_variable_changed_in_the_builder_is_put_back_and_a_secured_one_is_never_compared(stack, sandbox):
    sandbox.set_variable(BOT, "flightApiUrl", "https://staging.flights.example.com")
    sandbox.set_variable(BOT, "flightApiKey", "changed-in-the-builder")  # secured: the export hides it

    assert stack.refresh() == only("travel-variables")
    assert "changed on the bot since the last `pulumi up`: flightApiUrl" in stack.log()
    assert stack.preview() == only("travel-variables")
    assert "variables: changed: flightApiUrl" in stack.log()

    sandbox.clear_calls()
    assert stack.up() == only("travel-variables")
    [variables_import] = [c for c in sandbox.calls if c.path.endswith("/variables/import")]
    assert variables_import.path.endswith("/variables/import")
    values = {v["key"]: v["value"] for v in sandbox.variables(BOT)}
    assert values["flightApiUrl"] == API_URL
    assert values["flightApiKey"] == "changed-in-the-builder"  # never re-sent: no refresh can see it
    assert stack.refresh() == ALL_SAME


def test_variables_deleted_in_the_builder_survive_two_refreshes_and_are_imported_again(stack, sandbox):
    """Deleted behind the stack's back: an env variable and a secured one (whose value refresh never
    compares, but whose absence it sees). The refreshed state goes through the plugin's serialization
    and is read again by the next refresh: the second one neither fails nor changes anything."""
    sandbox.delete_variable(BOT, "flightApiUrl")
    sandbox.delete_variable(BOT, "flightApiKey")

    assert stack.refresh() == only("travel-variables")
    deleted = "flightApiKey (deleted), flightApiUrl (deleted)"
    assert f"changed on the bot since the last `pulumi up`: {deleted}" in stack.log()
    once = stack.outputs()
    assert stack.refresh() == only("travel-variables")
    assert stack.outputs() == once
    assert stack.preview() == only("travel-variables")
    assert "variables: deleted on the bot: flightApiKey, flightApiUrl" in stack.log()

    sandbox.clear_calls()
    assert stack.up() == only("travel-variables")
    [variables_import] = [c for c in sandbox.calls if c.path.endswith("/variables/import")]
    assert variables_import.path.endswith("/variables/import")
    on_bot = {v["key"]: v for v in sandbox.variables(BOT)}
    assert on_bot["flightApiUrl"]["value"] == API_URL
    assert on_bot["flightApiKey"]["value"] == stack.variables["flightApiKey"]["value"]
    assert on_bot["flightApiKey"]["isSecured"] is True
    assert stack.refresh() == ALL_SAME
    assert stack.preview() == ALL_SAME


def test_a_refresh_that_cannot_read_fails_clearly_and_changes_nothing(stack, sandbox):
    """A 5xx on every export: the refresh of the imports fails, naming the resource and what to do, and
    the state the engine keeps is exactly what it was."""
    intent, sentence = en_sentence(stack.folder)
    sandbox.edit_utterance(BOT, "en", intent, sentence, "Get me a flight to Lisbon")
    before = stack.outputs()
    sandbox.inject_error(503, count=1000, path_contains="/mlexport")
    with pytest.raises(PluginError) as failed:
        stack.refresh_imports()
    assert f"bot {BOT} (en)" in str(failed.value) and "503" in str(failed.value)
    assert stack.outputs() == before
    sandbox.clear_faults()

    sandbox.ml_export.fail_next_export(BOT)
    with pytest.raises(PluginError) as failed:
        stack.refresh_imports()
    assert "FAILED" in str(failed.value) and "nothing was changed" in str(failed.value)
    assert stack.outputs() == before
    # once the platform answers again, the drift is seen
    assert stack.refresh() == only(EN_IMPORT, "travel-en")
