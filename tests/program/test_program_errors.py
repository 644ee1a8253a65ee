"""Mistakes in the stack config fail the program at once, with one clean line naming the key and the fix
(issue: "Every mistake a user can make fails fast"). The program runs under mocks (test_program.py's
runner); tests/cli/test_cli_e2e.py shows the same through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kore_resources.errors import ConfigurationError, DefinitionFileError
from kore_resources.program.bots_config import parse_bots
from program_under_mocks import run_program

pytestmark = pytest.mark.unit

BOT = {
    "name": "travel",
    "botId": "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01",
    "languages": ["en", "de"],
    "utterances": "utterances/travel",
}


def failure(extra: dict) -> str:
    result = run_program("local", extra)
    assert result.returncode != 0, result.stdout
    assert "pulumi.errors.RunError: " in result.stderr  # shown by Pulumi as one `error:` line
    return result.stderr.rsplit("RunError: ", 1)[1].strip()


@pytest.mark.parametrize("key", ["kore:promoteForm", "kore:clientSecrets", "kore-bots:bot"])
def test_an_unknown_key_in_the_programs_namespaces_lists_the_known_keys(key: str) -> None:
    message = failure({key: "organization/kore-bots/staging"})
    assert message.startswith(f"Unknown stack config key {key}:")
    for known in ("kore:host", "kore:clientId", "kore:clientSecret", "kore:promoteFrom", "kore-bots:bots"):
        assert known in message
    assert f"pulumi config rm {key}" in message


def test_keys_of_other_namespaces_are_not_the_programs_business() -> None:
    assert run_program("local", {"aws:region": "eu-west-1"}).returncode == 0


@pytest.mark.parametrize(
    ("bot", "named"),
    [
        ({**BOT, "botId": "st-123"}, "kore-bots:bots[0].botId: 'st-123' is not a Kore.ai bot id"),
        (
            {**BOT, "languages": ["en", "english"]},
            "kore-bots:bots[0].languages[1]: 'english' is not a language code",
        ),
        (
            {**BOT, "languages": "en, de"},
            "kore-bots:bots[0].languages must be a list of NLU language codes, "
            "e.g. [en, de]; got the string 'en, de'",
        ),
    ],
)
def test_bot_ids_and_languages_are_checked_where_the_program_reads_them(bot: dict, named: str) -> None:
    message = failure({"kore-bots:bots": [bot]})
    assert message.startswith(named)
    assert message.count("kore-bots:bots[0]") == 1  # one error, not one per resource


def test_a_missing_bots_key_names_it() -> None:
    message = failure({"kore-bots:bots": None})
    assert message.startswith("Missing required stack config kore-bots:bots")


def test_utterance_folders_are_named_relative_to_the_project(tmp_path, monkeypatch) -> None:
    from kore_resources.program.bots_config import parse_bots

    monkeypatch.chdir(tmp_path)
    [bot] = parse_bots([BOT], key="kore-bots:bots", base_dir=tmp_path)
    assert bot.utterances_folder("en").as_posix() == "utterances/travel/en"  # as the README's messages show


def test_a_secured_variable_in_plain_text_is_refused_naming_the_command() -> None:
    bot = {**BOT, "variables": {"apiKey": {"value": "plain-secret-value", "secured": True}}}
    message = failure({"kore-bots:bots": [bot]})
    assert message.startswith(
        "kore-bots:bots[0].variables.apiKey is secured, but its value is set in plain text"
    )
    assert "pulumi config set --secret --path 'kore-bots:bots[0].variables.apiKey.value' <value>" in message
    assert "plain-secret-value" not in message


def definition_folder(tmp_path: Path, *env_keys: str) -> Path:
    """A bot export's files whose config.json declares `env_keys` in its envVariables."""
    folder = tmp_path / "definition"
    folder.mkdir()
    (folder / "botDefinition.json").write_text(json.dumps({"name": "Travel"}), encoding="utf-8")
    env = [
        {"key": key, "value": "from-config-json", "variableType": "env", "scope": "prePopulated"}
        for key in env_keys
    ]
    (folder / "config.json").write_text(json.dumps({"name": "Travel", "envVariables": env}), encoding="utf-8")
    return folder


def test_a_variable_in_both_the_stack_config_and_config_json_is_refused_naming_both_places(tmp_path) -> None:
    """Otherwise every import of the definition would put config.json's value back, while the unchanged
    BotVariables sends nothing."""
    folder = definition_folder(tmp_path, "flightApi", "onlyInConfigJson")
    bot = {
        **BOT,
        "definition": {"folder": str(folder), "fullImport": True},
        "variables": {"flightApi": "https://api.example.com/flights", "onlyInStackConfig": "x"},
    }
    message = failure({"kore-bots:bots": [bot]})
    assert message.startswith(
        f"kore-bots:bots[0].variables.flightApi is also declared in {folder / 'config.json'} (envVariables): "
    )
    assert "Declare each variable in one place" in message
    assert "onlyInConfigJson" not in message and "onlyInStackConfig" not in message


def test_variables_declared_twice_are_named_together_unless_the_import_leaves_them_alone(tmp_path) -> None:
    folder = definition_folder(tmp_path, "a", "b", "c")
    bot = {
        **BOT,
        "definition": {"folder": str(folder), "fullImport": True},
        "variables": {"a": "1", "b": "2", "d": "4"},
    }
    with pytest.raises(ConfigurationError) as refused:
        parse_bots([bot], key="kore-bots:bots", base_dir=tmp_path)
    assert str(refused.value).startswith(
        "kore-bots:bots[0].variables.a, kore-bots:bots[0].variables.b are also declared in "
    )
    # importOptions.options.botVariables.ignore: the definition import leaves those keys alone
    ignoring = {"folder": str(folder), "importOptions": {"options": {"botVariables": {"ignore": ["a", "b"]}}}}
    [parsed] = parse_bots([{**bot, "definition": ignoring}], key="kore-bots:bots", base_dir=tmp_path)
    assert [v.key for v in parsed.variables] == ["a", "b", "d"]
    # each in one place: no conflict
    [parsed] = parse_bots([{**bot, "variables": {"d": "4"}}], key="kore-bots:bots", base_dir=tmp_path)
    assert [v.key for v in parsed.variables] == ["d"]


def test_an_unreadable_config_json_is_named_with_its_line_when_variables_are_declared(tmp_path) -> None:
    folder = definition_folder(tmp_path)
    (folder / "config.json").write_text('{"envVariables": [\n  {"key": }]}', encoding="utf-8")
    bot = {**BOT, "definition": {"folder": str(folder), "fullImport": True}, "variables": {"a": "1"}}
    with pytest.raises(DefinitionFileError, match=r"config\.json:2: invalid JSON"):
        parse_bots([bot], key="kore-bots:bots", base_dir=tmp_path)
