"""BotDefinition and BotVariables through the real plugin process (`python -u -m pulumi.dynamic`, driven over
gRPC as the engine drives it; tests/plugin_harness.py) against the Kore.ai sandbox: create, no-op, change,
failure, refresh and destroy, and a secured variable's value as a secret end to end.

Each test starts its own plugin process (in the project directory, as the CLI starts it), so what the
process wrote to stderr is that test's alone."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc

import wire
from demo_values import BOT, CREDENTIALS_CONFIG, OTHER_BOT, SECRET
from kore_resources import BotDefinitionProvider, BotVariablesProvider
from kore_sandbox import Sandbox
from plugin_harness import PROJECT_DIR, UNKNOWN, CheckFailed, MiniEngine, Plugin, PluginError, is_secret

pytestmark = pytest.mark.plugin

DEFINITION_TYPE = "pulumi-python:dynamic/kore:BotDefinition"
VARIABLES_TYPE = "pulumi-python:dynamic/kore:BotVariables"
API_URL = "https://flights.example.com/v1"
API_KEY = "k-" + "9" * 20  # the secured variable's value: must never show in plain text


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(definition_import_seconds=0.2) as sb:
        yield sb


@pytest.fixture
def plugin() -> Iterator[Plugin]:
    plugin = Plugin(config=CREDENTIALS_CONFIG)
    yield plugin
    stderr = plugin.close()
    assert SECRET not in stderr and API_KEY not in stderr


@pytest.fixture
def definitions(plugin: Plugin) -> MiniEngine:
    return MiniEngine(plugin, type_=DEFINITION_TYPE, provider=serialize_provider(BotDefinitionProvider()))


@pytest.fixture
def variables(plugin: Plugin) -> MiniEngine:
    return MiniEngine(plugin, type_=VARIABLES_TYPE, provider=serialize_provider(BotVariablesProvider()))


@pytest.fixture
def export(tmp_path: Path) -> Path:
    folder = tmp_path / "travel"
    shutil.copytree(PROJECT_DIR / "definitions/travel", folder)
    return folder


def definition_inputs(sandbox: Sandbox, folder: Path | None = None, **changes: Any) -> dict[str, Any]:
    """What BotDefinition sends (tests/wire.py): the project's sample files by relative paths, or with
    `folder` an edited copy elsewhere, by absolute paths."""
    if folder is not None:
        changes = {
            "definition_file": str(folder / "botDefinition.json"),
            "config_file": str(folder / "config.json"),
            "functions_files": [str(folder / "flightStatus.js")],
            **changes,
        }
    return wire.definition(sandbox.url, **changes)


def declared(api_key: str = API_KEY, api_url: str = API_URL) -> dict[str, Any]:
    """The variables as BotVariables sends them: a secured value wrapped as a secret
    (`pulumi.Output.secret`), as the engine hands it over."""
    return {
        "flightApiUrl": {"value": api_url, "hint": "the flight API", "variable_type": "env"},
        "flightApiKey": {
            "value": rpc.wrap_rpc_secret(api_key),
            "hint": "the flight API's key",
            "variable_type": "env",
            "scope": "hidden",
            "secured": True,
        },
        "greeting": {"value": {"en": "Hello", "de": "Hallo"}, "variable_type": "locale"},
    }


def variables_inputs(sandbox: Sandbox, variables: dict[str, Any] | None = None, **changes: Any) -> dict:
    declared_here = declared() if variables is None else variables
    return wire.variables(sandbox.url, declared_here, **{"timeout_seconds": 30.0, **changes})


def recorded(engine: MiniEngine, name: str) -> dict[str, Any]:
    return engine.state[engine.urn(name)].outputs


def plain_occurrences(value: Any, secret: str, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths where `secret` appears outside a secret-marked value (keys included)."""
    if is_secret(value):
        return []
    if isinstance(value, dict):
        found = [(*path, str(k)) for k in value if secret in str(k)]
        for key, item in value.items():
            found += plain_occurrences(item, secret, (*path, str(key)))
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in plain_occurrences(item, secret, (*path, str(i)))]
    return [path] if secret in str(value) else []


def secret_paths(value: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if is_secret(value):
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in secret_paths(item, (*path, str(key)))]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in secret_paths(item, (*path, str(i)))]
    return []


def response_leaks(plugin: Plugin, secret: str) -> list[str]:
    """Where `secret` shows in what the plugin answered over gRPC, other than as the secured variable's own
    value: the plugin answers acceptSecrets=False, so it returns that value plain at exactly
    `variables.flightApiKey.value` (of `inputs` or `properties`), and the engine marks it secret there."""
    leaks = []
    for number, response in enumerate(plugin.responses):
        if not isinstance(response, Message):  # an error's details
            if secret in str(response):
                leaks.append(f"response {number}: error details")
            continue
        body = json_format.MessageToDict(response)
        for field in ("inputs", "properties"):
            entry = body.get(field, {}).get("variables", {}).get("flightApiKey")
            if isinstance(entry, dict) and entry.get("value") == secret:
                entry["value"] = "<the secret-marked value>"
        if secret in json.dumps(body):
            leaks.append(f"response {number} ({type(response).__name__}): {body}")
    return leaks


# -- BotDefinition -----------------------------------------------------------------------------------------
def test_bot_definition_create_noop_change_replace_and_destroy(sandbox, definitions, export):
    # create, from the project's own definitions/travel by relative paths
    stack = {"travel-definition": definition_inputs(sandbox)}
    assert definitions.plan(stack) == {"travel-definition": "create"}
    assert sandbox.calls == []  # a preview calls nothing
    assert definitions.up(stack) == {"travel-definition": "create"}
    record = definitions.state[definitions.urn("travel-definition")]
    [job] = sandbox.definitions.imports
    assert record.id == BOT
    # the plugin drops None values (import_options of a full import) and adds its provider
    assert {k: v for k, v in record.outputs.items() if k != "__provider"} == {
        **{k: v for k, v in stack["travel-definition"].items() if v is not None},
        "import_id": job.import_id,
        "import_status": "success",
        "imported_at": record.outputs["imported_at"],
    }
    assert [(f.file_name, f.extension, f.file_context) for f in sandbox.pipeline.files] == [
        ("botDefinition.json", "json", "bulkImport"),
        ("config.json", "json", "bulkImport"),
        ("flightStatus.js", "js", "bulkImport"),
    ]
    assert [f.content for f in sandbox.pipeline.files] == [
        (PROJECT_DIR / p).read_bytes()
        for p in (*list(wire.DEFINITION_FILES.values())[:2], *wire.DEFINITION_FILES["functions_files"])
    ]
    imported = sandbox.definitions.imported(BOT)
    assert imported is not None and imported.import_id == job.import_id and imported.full_import

    # nothing changed, also not when the same export is elsewhere and reformatted: no API call
    sandbox.clear_calls()
    assert definitions.up(stack) == {"travel-definition": "same"}
    definition = export / "botDefinition.json"
    definition.write_text(json.dumps(json.loads(definition.read_text("utf-8")), indent=1), encoding="utf-8")
    moved = {"travel-definition": definition_inputs(sandbox, export)}
    assert definitions.up(moved) == {"travel-definition": "same"}
    assert definitions.up({"travel-definition": {**moved["travel-definition"], "timeout_seconds": 90}}) == {
        "travel-definition": "same"
    }
    assert sandbox.calls == []

    # changed content: imported again, in place
    data = json.loads(definition.read_text("utf-8"))
    definition.write_text(json.dumps({**data, "purpose": "employee"}), encoding="utf-8")
    changed = {"travel-definition": definition_inputs(sandbox, export)}
    assert definitions.plan(changed) == {"travel-definition": "update"}
    assert definitions.up(changed) == {"travel-definition": "update"}
    after = recorded(definitions, "travel-definition")
    assert after["import_id"] == sandbox.definitions.imports[-1].import_id != job.import_id
    assert after["content_hash"] == changed["travel-definition"]["content_hash"]
    assert definitions.state[definitions.urn("travel-definition")].id == BOT
    bot = sandbox.definitions.imported(BOT)
    assert bot is not None and bot.definition["purpose"] == "employee"

    # other import options: imported again too
    options = {"tasks": ["botTask"], "nlpData": ["utterances"]}
    incremental = {
        "travel-definition": {**changed["travel-definition"], "import_options": options, "full_import": False}
    }
    assert definitions.up(incremental) == {"travel-definition": "update"}
    assert sandbox.definitions.imports[-1].import_options == options

    # another bot: a replacement, the new import first; forgetting the old one calls nothing more
    sandbox.clear_calls()
    other = {"travel-definition": {**incremental["travel-definition"], "bot_id": OTHER_BOT}}
    assert definitions.up(other) == {"travel-definition": "replace"}
    assert sandbox.definitions.imports[-1].bot_id == OTHER_BOT
    assert {c.bot_id for c in sandbox.calls} == {None, OTHER_BOT}  # the uploads name no bot
    assert definitions.state[definitions.urn("travel-definition")].id == OTHER_BOT

    # destroy: an import cannot be undone, so nothing is called
    sandbox.clear_calls()
    definitions.destroy()
    assert sandbox.calls == [] and definitions.state == {}
    assert "forgetting definition import" in definitions.plugin.stderr()


def test_bot_definition_failed_import_records_nothing_and_the_next_up_converges(sandbox, definitions, export):
    stack = {"travel-definition": definition_inputs(sandbox, export)}
    definitions.up(stack)
    before = dict(recorded(definitions, "travel-definition"))
    config = export / "config.json"
    config.write_text(json.dumps({"name": "Travel", "envVariables": [], "x": 1}), encoding="utf-8")
    changed = {"travel-definition": definition_inputs(sandbox, export)}
    sandbox.definitions.fail_next_import(BOT)

    with pytest.raises(PluginError) as info:
        definitions.up(changed)
    failed = sandbox.definitions.imports[-1]
    assert failed.status == "failure"
    for part in (
        f"bot {BOT}: definition {export / 'botDefinition.json'}",
        f"Kore.ai reports import {failed.import_id} as 'failure'",
        "importBot 'travel-local': failed",
        "Nothing was recorded, so the next `pulumi up` imports again",
    ):
        assert part in info.value.details
    assert recorded(definitions, "travel-definition") == before
    bot = sandbox.definitions.imported(BOT)
    assert bot is not None and bot.import_id == before["import_id"]

    # the plan still shows the import; the next up converges
    assert definitions.plan(changed) == {"travel-definition": "update"}
    assert definitions.up(changed) == {"travel-definition": "update"}
    after = recorded(definitions, "travel-definition")
    assert after["content_hash"] == changed["travel-definition"]["content_hash"] != before["content_hash"]
    bot = sandbox.definitions.imported(BOT)
    assert bot is not None and bot.import_id == after["import_id"] and bot.config["x"] == 1
    assert definitions.up(changed) == {"travel-definition": "same"}


def test_bot_definition_files_edited_between_preview_and_up_are_refused(sandbox, definitions, export):
    planned = {"travel-definition": definition_inputs(sandbox, export)}
    assert definitions.plan(planned) == {"travel-definition": "create"}
    script = export / "flightStatus.js"
    script.write_text(script.read_text("utf-8") + "// edited\n", encoding="utf-8")
    with pytest.raises(PluginError) as info:
        definitions.up(planned, skip_preview=True)
    assert "the bot export changed after the program read it" in info.value.details
    assert planned["travel-definition"]["content_hash"] in info.value.details
    assert sandbox.calls == [] and definitions.state == {}


def test_bot_definition_refresh_of_a_healthy_bot_shows_no_diff_twice(sandbox, definitions):
    definitions.up({"travel-definition": definition_inputs(sandbox)})
    import_id = recorded(definitions, "travel-definition")["import_id"]
    # the refresh reads the import's status, nothing else
    read = ("GET", f"/api/public/bot/import/status/{import_id}")
    refreshes_clean_twice(sandbox, definitions, "travel-definition", definition_inputs(sandbox), read)


def refreshes_clean_twice(
    sandbox: Sandbox, engine: MiniEngine, name: str, inputs: dict[str, Any], read: tuple[str, str]
) -> None:
    """Two refreshes of a healthy resource show no drift and change nothing in state; each pass (a refresh
    runs a preview pass and the real one) makes exactly the one `read` call; the next plan is `same`."""
    before = dict(recorded(engine, name))
    sandbox.clear_calls()
    for _ in range(2):
        assert engine.refresh() == {name: "same"}
        assert recorded(engine, name) == before
    assert [(c.method, c.path) for c in sandbox.calls] == [read] * 4
    assert engine.plan({name: inputs}) == {name: "same"}


def test_bot_definition_check_failures_and_unknowns_make_no_calls(sandbox, definitions):
    with pytest.raises(CheckFailed) as bad:
        definitions.up(
            {
                # A file name the check refuses, after the hash of the sample files (wire.definition would
                # hash the file it names, and there is none).
                "x": {
                    **definition_inputs(sandbox, bot_id="st-x", timeout_seconds=-1),
                    "definition_file": "botDefinition.yaml",
                }
            }
        )
    assert sorted(p for p, _ in bad.value.failures) == ["bot_id", "definition_file", "timeout_seconds"]
    definitions.up({"travel-definition": definition_inputs(sandbox)})
    sandbox.clear_calls()
    assert definitions.plan({"travel-definition": definition_inputs(sandbox, content_hash=UNKNOWN)}) == {
        "travel-definition": "update"
    }
    assert definitions.plan({"travel-definition": definition_inputs(sandbox, bot_id=UNKNOWN)}) == {
        "travel-definition": "replace"
    }
    assert sandbox.calls == []


# -- BotVariables ------------------------------------------------------------------------------------------
def test_bot_variables_create_noop_change_and_destroy(sandbox, variables):
    stack = {"travel-variables": variables_inputs(sandbox)}
    assert variables.plan(stack) == {"travel-variables": "create"}
    assert sandbox.calls == []
    assert variables.up(stack) == {"travel-variables": "create"}
    record = variables.state[variables.urn("travel-variables")]
    assert record.id == f"{BOT}/variables"
    assert record.outputs["import_message"] == "3 Variables imported/updated successfully."
    on_bot = {v["key"]: v for v in sandbox.variables(BOT)}
    assert set(on_bot) == {"flightApiUrl", "flightApiKey", "greeting"}
    assert on_bot["flightApiUrl"]["value"] == API_URL
    assert {lang: e["value"] for lang, e in on_bot["greeting"]["localeData"].items()} == {
        "en": "Hello",
        "de": "Hallo",
    }

    # nothing changed: no API call
    sandbox.clear_calls()
    assert variables.up(stack) == {"travel-variables": "same"}
    assert variables.up({"travel-variables": variables_inputs(sandbox, timeout_seconds=99)}) == {
        "travel-variables": "same"
    }
    assert sandbox.calls == []

    # one value changed: only that variable is imported, in place
    changed = {"travel-variables": variables_inputs(sandbox, declared(api_url=API_URL + "/v2"))}
    assert variables.plan(changed) == {"travel-variables": "update"}
    assert "variables: changed: flightApiUrl" in variables.plugin.stderr()
    sandbox.clear_calls()
    assert variables.up(changed) == {"travel-variables": "update"}
    # the import, then the export that reads back what it did (how an import secures a value is undocumented)
    assert [c.path for c in sandbox.calls if c.method == "POST"] == [
        f"/api/1.1/public/builder/bot/{BOT}/variables/import",
        f"/api/1.1/public/builder/bot/{BOT}/variables/export",
    ]
    assert recorded(variables, "travel-variables")["import_message"] == (
        "1 Variables imported/updated successfully."
    )
    assert {v["key"]: v.get("value") for v in sandbox.variables(BOT)}["flightApiUrl"] == API_URL + "/v2"
    assert variables.state[variables.urn("travel-variables")].id == record.id

    # destroy: no API deletes a variable, so nothing is called and the bot keeps them
    sandbox.clear_calls()
    variables.destroy()
    assert sandbox.calls == [] and variables.state == {}
    assert len(sandbox.variables(BOT)) == 3
    assert "they stay on the bot" in variables.plugin.stderr()


def test_bot_variables_failed_import_records_nothing_and_the_next_up_converges(sandbox, variables):
    variables.up({"travel-variables": variables_inputs(sandbox)})
    before = dict(recorded(variables, "travel-variables"))
    changed = {"travel-variables": variables_inputs(sandbox, declared(api_url="https://other.example"))}
    sandbox.inject_error(400, method="POST", path_contains="/variables/import")

    with pytest.raises(PluginError) as info:
        variables.up(changed)
    assert f"bot {BOT}: variables" in info.value.details and "400" in info.value.details
    assert API_KEY not in info.value.details
    assert recorded(variables, "travel-variables") == before
    assert {v["key"]: v.get("value") for v in sandbox.variables(BOT)}["flightApiUrl"] == API_URL

    assert variables.plan(changed) == {"travel-variables": "update"}
    assert variables.up(changed) == {"travel-variables": "update"}
    assert {v["key"]: v.get("value") for v in sandbox.variables(BOT)}[
        "flightApiUrl"
    ] == "https://other.example"
    assert variables.up(changed) == {"travel-variables": "same"}


def test_bot_variables_refresh_of_a_healthy_bot_shows_no_diff_twice(sandbox, variables):
    variables.up({"travel-variables": variables_inputs(sandbox)})
    # the refresh reads the bot's variables (an export) and imports nothing
    read = ("POST", f"/api/1.1/public/builder/bot/{BOT}/variables/export")
    refreshes_clean_twice(sandbox, variables, "travel-variables", variables_inputs(sandbox), read)


def test_a_secured_value_passed_as_a_secret_stays_secret_end_to_end(sandbox, variables, plugin):
    """The engine hands the plugin (acceptSecrets=False) the plain value; the bot gets it; the state has it
    only as a secret, exactly at `variables.flightApiKey.value`; the plugin never logs it and answers it
    only there. The same after an update, a refresh and a change of the secret itself."""
    new_key = "k-" + "8" * 20
    stack = {"travel-variables": variables_inputs(sandbox)}
    variables.up(stack)
    on_bot = {v["key"]: v for v in sandbox.variables(BOT)}
    assert (on_bot["flightApiKey"]["value"], on_bot["flightApiKey"]["isSecured"]) == (API_KEY, True)
    assert on_bot["flightApiKey"]["scope"] == "hidden"

    def assert_secret_only_at_its_path(secret: str) -> None:
        record = variables.state[variables.urn("travel-variables")]
        for props in (record.outputs, record.inputs):
            assert secret_paths(props) == [("variables", "flightApiKey", "value")]
            assert props["variables"]["flightApiKey"]["value"] == rpc.wrap_rpc_secret(secret)
            assert plain_occurrences(props, secret) == []
        assert response_leaks(plugin, secret) == []

    # not vacuous: the plugin (acceptSecrets=False) answered the value plain where the engine marks it
    answered = [r for r in plugin.responses if isinstance(r, Message)]
    assert any(API_KEY in json.dumps(json_format.MessageToDict(r)) for r in answered)
    assert_secret_only_at_its_path(API_KEY)
    assert recorded(variables, "travel-variables")["variables"]["flightApiKey"]["secured"] is True

    # another variable changes: the secured one is not sent again, and stays secret in the new state
    sandbox.clear_calls()
    changed = {"travel-variables": variables_inputs(sandbox, declared(api_url=API_URL + "/v2"))}
    assert variables.up(changed) == {"travel-variables": "update"}
    assert_secret_only_at_its_path(API_KEY)
    # a refresh (the export hides the secured value) keeps it recorded, secret, and shows no drift
    assert variables.refresh() == {"travel-variables": "same"}
    assert_secret_only_at_its_path(API_KEY)

    # the secret itself changes: imported, plain to the bot, secret in the state
    rotated = {"travel-variables": variables_inputs(sandbox, declared(new_key, API_URL + "/v2"))}
    assert variables.plan(rotated) == {"travel-variables": "update"}
    assert variables.up(rotated) == {"travel-variables": "update"}
    assert {v["key"]: v.get("value") for v in sandbox.variables(BOT)}["flightApiKey"] == new_key
    assert_secret_only_at_its_path(new_key)
    assert plain_occurrences(recorded(variables, "travel-variables"), API_KEY) == []

    stderr = plugin.close()
    assert "flightApiKey" in stderr  # the log names keys...
    assert API_KEY not in stderr and new_key not in stderr  # ...never values
    assert SECRET not in stderr
