"""BotDefinitionProvider against the sandbox over real HTTP, on a virtual clock shared with the sandbox:
upload, import, wait, refresh, failures, the Admin Console app."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo_values import BOT
from kore_resources import (
    AuthenticationError,
    BotDefinitionProvider,
    DefinitionFileError,
    JobFailedError,
    JobTimeoutError,
    KoreApiError,
    hash_definition,
)
from kore_sandbox import DEMO_ADMIN_APP, DEMO_BOT_APP, Sandbox
from kore_sandbox.testing import VirtualClock
from resource_harness import ISO_UTC, TRAVEL, configured, copy_of_travel, files, hash_of

pytestmark = pytest.mark.sandbox


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A copy of definitions/travel (botDefinition.json, config.json, flightStatus.js) to edit."""
    return copy_of_travel(tmp_path)


ROOT = Path(__file__).resolve().parents[2]


#: How the sandbox's definition imports take on the virtual clock.
IMPORT_SECONDS = 5


@pytest.fixture
def sandbox(virtual_clock: VirtualClock) -> Iterator[Sandbox]:
    """Definition imports stay pending for 5 s of the providers' virtual clock."""
    with Sandbox(definition_import_seconds=IMPORT_SECONDS, clock=virtual_clock.monotonic) as sb:
        yield sb


def definition_inputs(sandbox: Sandbox | None, folder: Path, **changes: Any) -> dict[str, Any]:
    """Inputs as they arrive from the engine after Check (numbers are floats on the wire)."""
    definition, config, functions = files(folder)
    return {
        "bot_id": BOT,
        "definition_file": str(definition),
        "config_file": str(config),
        "functions_files": [str(f) for f in functions],
        "import_options": None,
        "full_import": changes.get("import_options") is None,  # a full import unless told otherwise
        "host": sandbox.url if sandbox is not None else "http://127.0.0.1:8089",
        "timeout_seconds": 60.0,
        "content_hash": hash_definition(definition, config, functions),
        **changes,
    }


def write_json(path: Path, data: Any, **dumps: Any) -> Path:
    path.write_text(json.dumps(data, **dumps), encoding="utf-8")
    return path


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def posts(sandbox: Sandbox) -> list[str]:
    return [c.path for c in sandbox.calls if c.method == "POST"]


def test_bot_functions_count_byte_for_byte_except_line_endings_and_a_bom(export):
    before = hash_of(export)
    script = files(export)[2][0]
    text = script.read_bytes()
    assert b"\r\n" not in text
    script.write_bytes(text.replace(b"\n", b"\r\n"))  # git autocrlf on Windows: the same commit
    assert hash_of(export) == before
    script.write_bytes(b"\xef\xbb\xbf" + text)  # a BOM is not content
    assert hash_of(export) == before
    for changed in (
        text + b"\n",  # a trailing newline more
        text.replace(b"  return", b"    return"),  # indentation
        text.replace(b"// Bot function", b"//  Bot function"),  # a comment
        text.replace(b'"Flight "', b"'Flight '"),  # quoting
    ):
        assert changed != text
        script.write_bytes(changed)
        assert hash_of(export) != before, changed
    script.write_bytes(text)
    assert hash_of(export) == before


def test_the_functions_file_names_and_order_count_but_not_their_folders(export, tmp_path):
    definition, config, [script] = files(export)
    before = hash_definition(definition, config, [script])
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    moved = shutil.copy(script, elsewhere / script.name)
    assert hash_definition(definition, config, [moved]) == before  # the path does not count
    renamed = shutil.copy(script, export / "flightStatusLine.js")
    assert hash_definition(definition, config, [renamed]) != before  # the builder names it after its file
    assert hash_definition(definition, config, []) != before
    second = export / "greeting.js"
    second.write_text("function greet(name) { return 'Hello ' + name; }\n", encoding="utf-8")
    in_order = hash_definition(definition, config, [script, second])
    assert in_order not in (before, hash_definition(definition, config, [second, script]))
    assert hash_definition(definition, config, [script, second]) == in_order
    # the functions are counted after the two JSON files, so moving one never aliases a JSON file
    assert hash_definition(definition, config, (str(script), str(second))) == in_order


def test_create_uploads_each_file_imports_waits_and_returns_full_outputs(sandbox, export, capfd):
    inputs = definition_inputs(sandbox, export)
    result = configured(BotDefinitionProvider).create(inputs)

    definition, config, [script] = files(export)
    uploaded = sandbox.pipeline.files
    assert [(f.file_name, f.extension, f.file_context) for f in uploaded] == [
        ("botDefinition.json", "json", "bulkImport"),
        ("config.json", "json", "bulkImport"),
        ("flightStatus.js", "js", "bulkImport"),
    ]
    assert [f.content for f in uploaded] == [p.read_bytes() for p in (definition, config, script)]
    [job] = sandbox.definitions.imports
    assert (job.bot_id, job.status, job.import_options) == (BOT, "success", None)
    assert (job.definition_file_id, job.config_file_id, job.function_file_ids) == (
        uploaded[0].file_id,
        uploaded[1].file_id,
        (uploaded[2].file_id,),
    )
    assert job.status_logs[-1] == {"taskType": "importBot", "taskName": "travel-local", "status": "success"}
    # the calls: three uploads, the import, then its status until it succeeded
    upload, _, _, start, *status = [(c.method, c.path) for c in sandbox.calls]
    assert upload == ("POST", "/api/public/uploadfile")
    assert posts(sandbox) == ["/api/public/uploadfile"] * 3 + [f"/api/public/bot/{BOT}/import"]
    assert start == ("POST", f"/api/public/bot/{BOT}/import")
    assert status and set(status) == {("GET", f"/api/public/bot/import/status/{job.import_id}")}
    assert all(c.status == 200 for c in sandbox.calls)

    assert result.id == BOT
    assert result.outs == {
        **inputs,
        "timeout_seconds": 60,
        "import_id": job.import_id,
        "import_status": "success",
        "imported_at": result.outs["imported_at"],
    }
    assert ISO_UTC.fullmatch(result.outs["imported_at"])
    # what the bot got: the files as they are in git (a full import)
    imported = sandbox.definitions.imported(BOT)
    assert imported is not None and imported.full_import and imported.import_id == job.import_id
    assert (imported.definition, imported.config) == (load(definition), load(config))
    assert [(f.file_name, f.text) for f in imported.functions] == [
        ("flightStatus.js", script.read_text(encoding="utf-8"))
    ]
    log = capfd.readouterr().err
    for part in (
        f"uploaded {definition} as file {uploaded[0].file_id}",
        f"uploaded {script} as file {uploaded[2].file_id}",
        f"import {job.import_id} started (a full import, pending)",
        f"import {job.import_id} finished",
    ):
        assert part in log


def test_the_import_is_waited_for_on_the_clock(sandbox, export, virtual_clock):
    started = virtual_clock.monotonic()
    configured(BotDefinitionProvider).create(definition_inputs(sandbox, export))
    # never recorded while the import was still pending: it read the status until it said success
    assert virtual_clock.monotonic() - started >= IMPORT_SECONDS
    [job] = sandbox.definitions.imports
    reads = [c for c in sandbox.calls if c.path.endswith(f"/import/status/{job.import_id}")]
    assert reads and all(c.at >= started for c in reads)
    assert reads[-1].at - started >= IMPORT_SECONDS


def test_import_options_are_sent_and_without_functions_no_bot_functions(sandbox, export):
    options = {
        "tasks": ["botTask"],
        "nlpData": ["utterances"],
        "settings": ["botVariables"],
        "options": {"botVariables": {"ignore": ["flightApiKey"]}, "utterances": {"replace": True}},
    }
    definition, config, _ = files(export)
    inputs = definition_inputs(
        sandbox,
        export,
        functions_files=[],
        import_options=options,
        content_hash=hash_definition(definition, config, []),
    )
    result = configured(BotDefinitionProvider).create(inputs)
    [job] = sandbox.definitions.imports
    assert job.import_options == options and job.function_file_ids == ()
    assert [f.file_name for f in sandbox.pipeline.files] == ["botDefinition.json", "config.json"]
    imported = sandbox.definitions.imported(BOT)
    assert imported is not None and not imported.full_import and imported.functions == ()
    assert result.outs["import_options"] == options


def test_relative_files_are_read_from_the_project_directory(sandbox, monkeypatch):
    monkeypatch.chdir(ROOT)  # the plugin's working directory
    relative = {
        "definition_file": "definitions/travel/botDefinition.json",
        "config_file": "definitions/travel/config.json",
        "functions_files": ["definitions/travel/flightStatus.js"],
    }
    result = configured(BotDefinitionProvider).create(definition_inputs(sandbox, TRAVEL, **relative))
    assert {k: result.outs[k] for k in relative} == relative
    assert [f.content for f in sandbox.pipeline.files] == [
        (ROOT / p).read_bytes() for p in (*list(relative.values())[:2], *relative["functions_files"])
    ]


def test_update_imports_the_new_content_into_the_same_bot(sandbox, export):
    provider = configured(BotDefinitionProvider)
    created = provider.create(definition_inputs(sandbox, export))
    definition = files(export)[0]
    write_json(definition, {**load(definition), "purpose": "employee"}, indent=2)
    news = definition_inputs(sandbox, export)
    assert provider.diff(created.id, created.outs, news).changes
    updated = provider.update(created.id, created.outs, news)
    assert updated.outs["content_hash"] == news["content_hash"] != created.outs["content_hash"]
    assert updated.outs["import_id"] != created.outs["import_id"]
    assert set(updated.outs) == set(created.outs)
    first, second = sandbox.definitions.imports
    assert (first.import_id, second.import_id) == (created.outs["import_id"], updated.outs["import_id"])
    imported = sandbox.definitions.imported(BOT)
    assert imported is not None and imported.definition["purpose"] == "employee"
    assert len(sandbox.pipeline.files) == 6  # every file uploaded again


def test_a_file_that_became_unreadable_is_refused_before_any_upload(sandbox, export):
    planned = definition_inputs(sandbox, export)
    files(export)[1].write_text("{ not json", encoding="utf-8")
    with pytest.raises(DefinitionFileError) as info:
        configured(BotDefinitionProvider).create(planned)
    assert str(info.value).startswith(f"bot {BOT}: definition ")
    assert f"{files(export)[1]}:1: invalid JSON" in str(info.value)
    assert sandbox.calls == []


def test_a_failed_import_raises_naming_the_failed_status_logs_and_records_nothing(sandbox, export):
    sandbox.definitions.fail_next_import(BOT)
    with pytest.raises(JobFailedError) as info:
        configured(BotDefinitionProvider).create(definition_inputs(sandbox, export))
    [job] = sandbox.definitions.imports
    assert job.status == "failure"
    message = str(info.value)
    assert message.startswith(f"bot {BOT}: definition {files(export)[0]}: ")
    assert f"Kore.ai reports import {job.import_id} as 'failure'" in message
    assert "importBot 'travel-local': failed (The sandbox was told to fail this import" in message
    assert "Nothing was recorded, so the next `pulumi up` imports again" in message
    assert "Dialog" not in message  # only the failed entries are named
    assert (info.value.bot_id, info.value.job_id, info.value.job_id) == (BOT, job.import_id, job.import_id)
    assert sandbox.definitions.imported(BOT) is None


def test_a_failed_part_of_the_export_is_named_from_its_status_log(sandbox, export):
    config = files(export)[1]
    write_json(
        config,
        {
            **load(config),
            "envVariables": [{"key": "x", "value": "", "variableType": "env", "scope": "later"}],
        },
    )
    with pytest.raises(JobFailedError) as info:
        configured(BotDefinitionProvider).create(definition_inputs(sandbox, export))
    [job] = sandbox.definitions.imports
    [failed] = [entry for entry in job.status_logs if entry["status"] == "failed"]
    assert (failed["taskType"], failed["taskName"]) == ("BotVariables", "BotVariables")
    assert f"BotVariables 'BotVariables': failed ({failed['message']})" in str(info.value)
    assert job.import_id in str(info.value)
    assert sandbox.definitions.imported(BOT) is None and sandbox.variables(BOT) == []


def test_an_import_that_never_finishes_times_out_naming_it(sandbox, export, virtual_clock):
    sandbox.definitions.set_import_seconds(3600)
    started = virtual_clock.monotonic()
    with pytest.raises(JobTimeoutError) as info:
        configured(BotDefinitionProvider).create(definition_inputs(sandbox, export, timeout_seconds=250.5))
    assert virtual_clock.monotonic() - started >= 250.5
    assert sum(virtual_clock.sleeps) <= 250.5 + 1e-6
    [job] = sandbox.definitions.imports
    assert "timeout_seconds=250.5" in str(info.value) and job.import_id in str(info.value)
    assert "last status: pending" in str(info.value)


def test_an_admin_console_app_makes_the_import_and_a_bot_level_app_alone_cannot(sandbox, export):
    split = {
        "kore:clientId": DEMO_BOT_APP.client_id,
        "kore:clientSecret": DEMO_BOT_APP.client_secret,
        "kore:adminClientId": DEMO_ADMIN_APP.client_id,
        "kore:adminClientSecret": DEMO_ADMIN_APP.client_secret,
    }
    assert (
        configured(BotDefinitionProvider, split)
        .create(definition_inputs(sandbox, export))
        .outs["import_status"]
        == "success"
    )
    bot_only = {"kore:clientId": DEMO_BOT_APP.client_id, "kore:clientSecret": DEMO_BOT_APP.client_secret}
    with pytest.raises(AuthenticationError) as info:
        configured(BotDefinitionProvider, bot_only).create(definition_inputs(sandbox, export))
    assert "Admin Console" in str(info.value) and BOT in str(info.value)
    assert len(sandbox.definitions.imports) == 1


def test_refresh_reads_the_import_status_and_keeps_every_recorded_output(sandbox, export):
    provider = configured(BotDefinitionProvider)
    created = provider.create(definition_inputs(sandbox, export))
    sandbox.clear_calls()
    read = provider.read(created.id, {**created.outs, "__provider": "pickled"})
    assert read.id == created.id and read.outs == created.outs  # __provider dropped, the rest kept
    [call] = sandbox.calls
    assert (call.method, call.path) == ("GET", f"/api/public/bot/import/status/{created.outs['import_id']}")
    # a later failed import of the bot does not change what this one's status says
    sandbox.definitions.fail_next_import(BOT)
    with pytest.raises(JobFailedError):
        provider.update(created.id, created.outs, created.outs)
    assert provider.read(created.id, created.outs).outs == created.outs


def test_refresh_reports_the_status_the_platform_reads_now(sandbox, export):
    """A recorded import whose status now reads otherwise (here: the id of an import that failed) takes
    that status; every other recorded output stays."""
    provider = configured(BotDefinitionProvider)
    created = provider.create(definition_inputs(sandbox, export))
    sandbox.definitions.fail_next_import(BOT)
    with pytest.raises(JobFailedError):
        provider.update(created.id, created.outs, created.outs)
    failed = sandbox.definitions.imports[-1].import_id
    read = provider.read(created.id, {**created.outs, "import_id": failed})
    assert read.outs == {**created.outs, "import_id": failed, "import_status": "failure"}


def test_an_import_the_platform_no_longer_knows_keeps_the_recorded_status(sandbox, export, capfd):
    provider = configured(BotDefinitionProvider)
    created = provider.create(definition_inputs(sandbox, export))
    forgotten = {**created.outs, "import_id": "bir-00000000-0000-4000-8000-000000000000"}
    capfd.readouterr()
    sandbox.clear_calls()
    assert provider.read(created.id, forgotten).outs == forgotten
    [call] = sandbox.calls
    assert call.status == 400
    assert "no longer knows import bir-00000000-0000-4000-8000-000000000000" in capfd.readouterr().err
    # a refresh that cannot read for another reason fails, naming the resource
    sandbox.inject_error(401, method="GET", path_contains="/import/status/")
    with pytest.raises(AuthenticationError) as info:
        provider.read(created.id, created.outs)
    assert str(info.value).startswith(f"bot {BOT}: definition ")


def test_a_record_without_an_import_id_refreshes_without_a_call(sandbox, export):
    outs = {**definition_inputs(sandbox, export), "timeout_seconds": 60}
    assert configured(BotDefinitionProvider).read(BOT, outs).outs == outs
    assert sandbox.calls == []


def test_delete_makes_no_api_call(sandbox, export, capfd):
    provider = configured(BotDefinitionProvider)
    created = provider.create(definition_inputs(sandbox, export))
    sandbox.clear_calls()
    capfd.readouterr()
    provider.delete(created.id, created.outs)
    assert sandbox.calls == []
    log = capfd.readouterr().err
    assert f"bot {BOT}: forgetting definition import {created.outs['import_id']}" in log
    assert "the bot keeps the imported definition" in log
    assert sandbox.definitions.imported(BOT) is not None


def test_a_file_edited_after_the_program_hashed_it_is_refused_before_any_upload(sandbox, export):
    planned = definition_inputs(sandbox, export)
    script = files(export)[2][0]
    script.write_text(script.read_text(encoding="utf-8") + "// edited\n", encoding="utf-8")
    with pytest.raises(DefinitionFileError) as info:
        configured(BotDefinitionProvider).create(planned)
    message = str(info.value)
    assert planned["content_hash"] in message and hash_of(export) in message
    assert "Nothing was uploaded" in message and planned["definition_file"] in message
    assert sandbox.calls == [] and sandbox.pipeline.files == []


def test_an_unknown_bot_names_the_bot_id_and_where_it_is_set(sandbox, export):
    """An Admin Console app answers an unknown bot 400 'Invalid StreamId' (Kore's QA): one line that says
    so and where the bot id comes from, as the 401 does for credentials."""
    unknown = "st-00000000-0000-4000-8000-000000000099"
    with pytest.raises(KoreApiError) as info:
        configured(BotDefinitionProvider).create(definition_inputs(sandbox, export, bot_id=unknown))
    message = str(info.value)
    assert (
        f"bot {unknown}: definition" in message and "Kore.ai answered HTTP 400 'Invalid StreamId'" in message
    )
    assert "Kore.ai does not know the bot" in message and "botId in the stack config" in message
