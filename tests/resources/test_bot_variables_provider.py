"""BotVariablesProvider against the sandbox over real HTTP: variables deleted in the builder are drift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from demo_values import BOT, SAMPLE_UTTERANCES
from kore_resources import (
    BotVariablesProvider,
)
from kore_resources.resources.bot_variables import DELETED_ON_BOT
from kore_sandbox import Sandbox
from plugin_harness import through_the_plugin
from resource_harness import configured, write_sample_utterances

pytestmark = pytest.mark.sandbox


@pytest.fixture
def sandbox(pipeline_sandbox: Sandbox) -> Sandbox:
    return pipeline_sandbox


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_sample_utterances(tmp_path)


UTTERANCES = SAMPLE_UTTERANCES


def calls(sandbox: Sandbox, method: str | None = None, contains: str = "") -> list[Any]:
    return [c for c in sandbox.calls if (method is None or c.method == method) and contains in c.path]


#: As the program declares them (BotVariable.wire), after the plugin dropped the None fields.
VARIABLES = {
    "apiUrl": {"value": "https://api.example", "variable_type": "env", "scope": "prePopulated"},
    "greeting": {
        "value": {"en": "Hello", "de": "Hallo"},
        "variable_type": "locale",
        "scope": "askOnInstall",
        "secured": False,
    },
    "apiKey": {"value": "k-" + "5" * 16, "variable_type": "env", "secured": True, "hint": "the key"},
    "timeoutMs": {"value": "2000"},
}


def variables_inputs(sandbox: Sandbox) -> dict[str, Any]:
    return {"bot_id": BOT, "variables": VARIABLES, "host": sandbox.url, "timeout_seconds": 30.0}


def test_variables_deleted_in_the_builder_are_drift_of_every_kind_and_are_imported_again(sandbox, capfd):
    """The export lacks a deleted variable's key whatever its kind: an env, a locale and a secured one
    deleted behind the stack's back are all recorded as deleted, a second refresh of that state reads the
    same (the plugin drops None values, so the mark must survive its serialization), and `up` imports the
    three again with the declared values."""
    provider = configured(BotVariablesProvider)
    inputs = variables_inputs(sandbox)
    created = provider.create(inputs)
    for key in ("apiUrl", "greeting", "apiKey"):
        sandbox.delete_variable(BOT, key)
    assert [v["key"] for v in sandbox.variables(BOT)] == ["timeoutMs"]
    capfd.readouterr()

    once = through_the_plugin(provider.read(created.id, created.outs).outs)
    recorded = once["variables"]
    for key in ("apiUrl", "greeting", "apiKey"):
        # marked, and otherwise as recorded: a secured value stays where the engine keeps it secret
        assert recorded[key] == {**VARIABLES[key], DELETED_ON_BOT: True}, key
    assert recorded["timeoutMs"] == VARIABLES["timeoutMs"]
    assert {k: v for k, v in once.items() if k != "variables"} == {
        k: v for k, v in created.outs.items() if k != "variables"
    }
    log = capfd.readouterr().err
    assert "changed on the bot since the last `pulumi up`: apiKey (deleted), apiUrl (deleted), " in log
    assert "greeting (deleted)" in log

    twice = through_the_plugin(provider.read(created.id, once).outs)
    assert twice == once  # no crash, and a refresh never invents a change
    assert "changed on the bot" not in capfd.readouterr().err

    assert provider.diff(created.id, twice, inputs).changes
    assert "variables: deleted on the bot: apiKey, apiUrl, greeting" in capfd.readouterr().err

    sandbox.clear_calls()
    updated = provider.update(created.id, twice, inputs)
    assert len(calls(sandbox, "POST", "/variables/import")) == 1
    assert updated.outs["import_message"] == "3 Variables imported/updated successfully."  # those three
    on_bot = {v["key"]: v for v in sandbox.variables(BOT)}
    assert on_bot["apiUrl"]["value"] == "https://api.example"
    assert on_bot["apiKey"]["value"] == VARIABLES["apiKey"]["value"] and on_bot["apiKey"]["isSecured"]
    assert {lang: e["value"] for lang, e in on_bot["greeting"]["localeData"].items()} == {
        "en": "Hello",
        "de": "Hallo",
    }
    assert updated.outs["variables"] == VARIABLES
    assert "5" * 16 not in capfd.readouterr().err
    assert through_the_plugin(provider.read(created.id, updated.outs).outs) == through_the_plugin(
        updated.outs
    )
    assert not provider.diff(created.id, updated.outs, inputs).changes
