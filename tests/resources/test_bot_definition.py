"""BotDefinition's rules, without sockets: what the content hash ignores and what it does not, a bad
file named with its line, its inputs (check) and its diff."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from pulumi.output import Unknown

from demo_values import BOT, OTHER_BOT
from kore_resources import (
    BotDefinitionProvider,
    DefinitionFileError,
    hash_definition,
)
from resource_harness import TRAVEL, configured, copy_of_travel, files, hash_of

pytestmark = pytest.mark.unit


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A copy of definitions/travel (botDefinition.json, config.json, flightStatus.js) to edit."""
    return copy_of_travel(tmp_path)


HOST = "http://127.0.0.1:8089"  # never called: check and diff make no call


def definition_inputs(folder: Path, **changes: Any) -> dict[str, Any]:
    """Inputs as they arrive from the engine after Check (numbers are floats on the wire)."""
    definition, config, functions = files(folder)
    return {
        "bot_id": BOT,
        "definition_file": str(definition),
        "config_file": str(config),
        "functions_files": [str(f) for f in functions],
        "import_options": None,
        "full_import": changes.get("import_options") is None,  # a full import unless told otherwise
        "host": HOST,
        "timeout_seconds": 60.0,
        "content_hash": hash_definition(definition, config, functions),
        **changes,
    }


def write_json(path: Path, data: Any, **dumps: Any) -> Path:
    path.write_text(json.dumps(data, **dumps), encoding="utf-8")
    return path


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_hash_is_a_sha256_of_the_travel_export_and_stable(export):
    first = hash_of(export)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first)
    assert hash_of(export) == first == hash_of(TRAVEL)  # where the export lives does not count


def test_json_formatting_and_key_order_do_not_change_the_hash(export):
    before = hash_of(export)
    definition, config, _ = files(export)
    data = load(definition)
    # reversed key order at the top and inside every dialog, compact separators, no indentation
    reordered = {k: data[k] for k in reversed(list(data))}
    reordered["dialogs"] = [{k: d[k] for k in reversed(list(d))} for d in data["dialogs"]]
    write_json(definition, reordered, separators=(",", ":"))
    write_json(config, {k: v for k, v in reversed(list(load(config).items()))}, indent=8)
    assert hash_of(export) == before
    # a UTF-8 byte-order mark is not content either (module docstring)
    definition.write_bytes(b"\xef\xbb\xbf" + definition.read_bytes())
    assert hash_of(export) == before


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda d: d["localeData"]["en"].update(name="Trips"), id="a-value"),
        pytest.param(lambda d: d.update(extra=True), id="a-key-added"),
        pytest.param(lambda d: d.pop("channels"), id="a-key-removed"),
        pytest.param(lambda d: d["dialogs"].reverse(), id="the-order-of-the-dialogs"),
        pytest.param(lambda d: d["dialogs"][0]["nodes"].reverse(), id="the-order-of-a-dialog-s-nodes"),
        pytest.param(lambda d: d["supportedLanguages"].reverse(), id="the-order-of-an-array-of-strings"),
        pytest.param(lambda d: d.update(defaultLanguage="de"), id="a-string-value"),
    ],
)
def test_any_change_of_the_definition_s_content_changes_the_hash(export, edit):
    """Arrays keep their order (module docstring: dialogs, nodes, bot functions), so their order counts."""
    before = hash_of(export)
    definition = files(export)[0]
    data = load(definition)
    edit(data)
    write_json(definition, data, indent=2)
    assert hash_of(export) != before


def test_a_change_of_config_json_changes_the_hash(export):
    before = hash_of(export)
    config = files(export)[1]
    write_json(config, {**load(config), "envVariables": [{"key": "k", "value": "v"}]})
    assert hash_of(export) != before
    write_json(config, {**load(config), "envVariables": []})
    assert hash_of(export) == before
    write_json(config, {**load(config), "name": "Travel "})  # whitespace inside a value is content
    assert hash_of(export) != before


def test_the_roles_of_the_two_json_files_count(export):
    """The same two objects as definition and config, swapped, are another export."""
    definition, config, functions = files(export)
    write_json(config, {"name": "Travel"})
    write_json(definition, {"name": "Travel", "x": 1})
    swapped = hash_definition(config, definition, functions)
    assert swapped != hash_definition(definition, config, functions)


@pytest.mark.parametrize(
    ("which", "content", "line", "words"),
    [
        (
            "definition",
            b'{\n  "name": "Travel",\n  "dialogs": [\n    {"name": }\n  ]\n}\n',
            4,
            "invalid JSON",
        ),
        ("config", b'{\n  "name": "Travel"\n  "envVariables": []\n}\n', 3, "invalid JSON"),
        ("definition", b"", 1, "invalid JSON"),
        ("definition", b'[\n  {"name": "Travel"}\n]\n', 1, "not an object"),
        ("config", b'"Travel"\n', 1, "not an object"),
        ("config", b"null", 1, "not an object"),
        ("definition", b'{\n\n "name": "Reisen \xfc"\n}\n', 3, "not valid UTF-8"),
        ("config", '{"name": "Travel"}'.encode("utf-16"), 1, "UTF-16"),
    ],
    ids=[
        "definition-syntax",
        "config-syntax",
        "definition-empty",
        "definition-array",
        "config-string",
        "config-null",
        "definition-latin1",
        "config-utf16",
    ],
)
def test_a_json_file_that_cannot_be_used_names_the_file_and_the_line(export, which, content, line, words):
    definition, config, functions = files(export)
    bad = definition if which == "definition" else config
    bad.write_bytes(content)
    with pytest.raises(DefinitionFileError) as info:
        hash_definition(definition, config, functions)
    assert (info.value.path, info.value.line) == (str(bad), line)
    assert str(info.value).startswith(f"{bad}:{line}: ") and words in str(info.value)
    expected = "botDefinition.json" if which == "definition" else "config.json"
    if words in ("invalid JSON", "not an object"):
        assert f"expected the {expected} of a Kore.ai bot export" in str(info.value)


def test_an_unreadable_or_missing_file_names_it(export):
    definition, config, functions = files(export)
    missing = export / "nope.json"
    with pytest.raises(DefinitionFileError) as info:
        hash_definition(definition, missing, functions)
    assert info.value.path == str(missing) and "cannot read the file" in str(info.value)
    with pytest.raises(DefinitionFileError) as info:
        hash_definition(export, config, functions)  # a folder, not a file
    assert info.value.path == str(export) and "cannot read the file" in str(info.value)
    gone = export / "gone.js"
    with pytest.raises(DefinitionFileError) as info:
        hash_definition(definition, config, [*functions, gone])
    assert info.value.path == str(gone) and "cannot read the file" in str(info.value)


def test_a_bot_function_must_be_utf8_javascript(export):
    definition, config, [script] = files(export)
    not_js = export / "flightStatus.txt"
    shutil.copy(script, not_js)
    with pytest.raises(DefinitionFileError) as info:
        hash_definition(definition, config, [not_js])
    assert info.value.path == str(not_js) and "expected a .js file" in str(info.value)
    script.write_bytes(b"// Fl\xfcge\nfunction f() {}\n")
    with pytest.raises(DefinitionFileError) as info:
        hash_definition(definition, config, [script])
    assert (info.value.path, info.value.line) == (str(script), 1) and "not valid UTF-8" in str(info.value)


def failures(provider: BotDefinitionProvider, news: dict[str, Any]) -> dict[str, str]:
    return {f.property: f.reason for f in provider.check({}, news).failures}


def test_check_accepts_the_travel_export_and_fills_in_the_defaults(export):
    provider = configured(BotDefinitionProvider)
    news = definition_inputs(export, host=HOST + "/")
    for key in ("functions_files", "import_options", "timeout_seconds"):
        del news[key]
    result = provider.check({}, news)
    assert result.failures == []
    assert result.inputs == {
        **news,
        "host": HOST,  # canonical: state compares equal across spellings
        "functions_files": [],
        "import_options": None,
        "full_import": True,
        "timeout_seconds": 1800,
    }


@pytest.mark.parametrize(
    ("change", "prop", "words"),
    [
        ({"bot_id": None}, "bot_id", "bot_id is required"),
        ({"bot_id": "st-not-a-uuid"}, "bot_id", "st-not-a-uuid"),
        ({"bot_id": "7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01"}, "bot_id", "7c0a4c1e"),
        ({"definition_file": None}, "definition_file", "definition_file is required"),
        ({"definition_file": "definitions/travel/botDefinition.yaml"}, "definition_file", "not a .json"),
        ({"config_file": "definitions/travel/config"}, "config_file", "not a .json"),
        ({"config_file": 7}, "config_file", "not a .json"),
        ({"functions_files": ["definitions/travel/flightStatus.ts"]}, "functions_files", ".js files"),
        ({"functions_files": "definitions/travel/flightStatus.js"}, "functions_files", ".js files"),
        (
            {"import_options": {"tasks": ["botTasks"]}, "full_import": False},
            "import_options",
            "importOptions.tasks",
        ),
        (
            {"import_options": {"everything": True}, "full_import": False},
            "import_options",
            "not a documented import option",
        ),
        ({"import_options": [], "full_import": False}, "import_options", "not an object"),
        ({"host": None}, "host", "kore:host"),
        ({"host": "ftp://platform.kore.ai"}, "host", "ftp://platform.kore.ai"),
        ({"timeout_seconds": -1}, "timeout_seconds", "-1 is not a positive number"),
        ({"timeout_seconds": 0}, "timeout_seconds", "0 is not a positive number"),
        ({"timeout_seconds": True}, "timeout_seconds", "True is not a positive number"),
        ({"timeout_seconds": "60"}, "timeout_seconds", "'60' is not a positive number"),
        ({"content_hash": None}, "content_hash", "hash_definition"),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else None,
)
def test_check_names_the_invalid_property(export, change, prop, words):
    news = {k: v for k, v in {**definition_inputs(export), **change}.items() if v is not None}
    found = failures(configured(BotDefinitionProvider), news)
    assert list(found) == [prop], found
    assert words in found[prop]


def test_check_reports_every_invalid_property_at_once(export):
    news = definition_inputs(
        export,
        bot_id="bot",
        definition_file="x.txt",
        config_file="y.csv",
        functions_files=["z.py"],
        timeout_seconds=-5,
    )
    del news["content_hash"]
    assert sorted(failures(configured(BotDefinitionProvider), news)) == [
        "bot_id",
        "config_file",
        "content_hash",
        "definition_file",
        "functions_files",
        "timeout_seconds",
    ]


def test_unknown_values_in_a_preview_are_not_judged(export):
    provider = configured(BotDefinitionProvider)
    for key in (
        "bot_id",
        "definition_file",
        "config_file",
        "functions_files",
        "import_options",
        "host",
        "timeout_seconds",
        "content_hash",
    ):
        result = provider.check({}, definition_inputs(export, **{key: Unknown()}))
        assert result.failures == [], key


def test_diff_on_content_hash_options_bot_and_host_and_nothing_else(export, tmp_path):
    provider = configured(BotDefinitionProvider)
    assert BotDefinitionProvider.replace_keys == ("bot_id", "host")
    olds = {
        **definition_inputs(export),
        "timeout_seconds": 60,
        "import_id": "bir-1",
        "import_status": "success",
        "imported_at": "2025-01-01T00:00:00Z",
    }

    def diff(**changes: Any) -> tuple[bool, list[str]]:
        result = provider.diff(BOT, olds, definition_inputs(export, **changes))
        assert result.delete_before_replace is False
        return bool(result.changes), list(result.replaces or [])

    assert diff() == (False, [])
    # the same content reformatted (the program hashes it again): the same hash, nothing to do
    definition = files(export)[0]
    write_json(definition, load(definition), separators=(",", ":"), sort_keys=True)
    assert diff() == (False, [])
    # moved files, another timeout: nothing
    moved = tmp_path / "moved"
    shutil.copytree(export, moved)
    assert diff(**{k: v for k, v in definition_inputs(moved).items() if k != "host"}) == (False, [])
    assert diff(timeout_seconds=5.0) == (False, [])
    # new content or other import options: update in place
    write_json(definition, {**load(definition), "purpose": "employee"})
    assert diff() == (True, [])
    assert diff(content_hash=olds["content_hash"], import_options={"tasks": ["botTask"]}) == (True, [])
    assert diff(content_hash=Unknown()) == (True, [])
    # another bot or host: another import, a replacement
    same = {"content_hash": olds["content_hash"]}
    assert diff(**same, bot_id=OTHER_BOT) == (True, ["bot_id"])
    assert diff(**same, host="http://127.0.0.1:1") == (True, ["host"])
    assert diff(**same, bot_id=Unknown()) == (True, ["bot_id"])
