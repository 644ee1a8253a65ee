"""MlUtterancesProvider against the sandbox over real HTTP (the provider methods as the plugin calls them),
on a virtual clock shared with the sandbox: upload, import, wait, refresh by export, failures."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo_values import BOT, OTHER_BOT, SAMPLE_UTTERANCES, training_inputs
from kore_resources import (
    AuthenticationError,
    BotTrainingProvider,
    JobFailedError,
    JobTimeoutError,
    KoreApiError,
    MlUtterancesProvider,
    UtteranceFileError,
    hash_utterances,
)
from kore_resources.resources.ml_utterances import utterances_digest
from kore_resources.utterances import read_utterances
from kore_sandbox import SCOPE_TRAIN_ML, Sandbox, SandboxApp
from kore_sandbox.testing import HANG_SECONDS, wait_until
from resource_harness import ISO_UTC, configured, write_sample_utterances

pytestmark = pytest.mark.sandbox


@pytest.fixture
def sandbox(pipeline_sandbox: Sandbox) -> Sandbox:
    return pipeline_sandbox


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_sample_utterances(tmp_path)


ROOT = Path(__file__).resolve().parents[2]


UTTERANCES = SAMPLE_UTTERANCES


@pytest.fixture
def real_time_sandbox() -> Iterator[Sandbox]:
    """For several threads at once: imports take 0.5 s, trainings 1.2 s after 0.3 s queued, in real time."""
    with Sandbox(training_seconds=1.2, queue_seconds=0.3, import_seconds=0.5, publish_seconds=0.8) as sb:
        yield sb


def import_inputs(sandbox: Sandbox, file: Path | str, **changes: Any) -> dict[str, Any]:
    """Inputs as they arrive from the engine after Check (numbers are floats on the wire)."""
    return {
        "bot_id": BOT,
        "file": str(file),
        "language": "en",
        "host": sandbox.url,
        "content_hash": hash_utterances(file),
        "timeout_seconds": 30.0,
        **changes,
    }


def calls(sandbox: Sandbox, method: str | None = None, contains: str = "") -> list[Any]:
    return [c for c in sandbox.calls if (method is None or c.method == method) and contains in c.path]


def test_create_uploads_imports_waits_and_returns_full_outputs(sandbox, export, capfd):
    inputs = import_inputs(sandbox, export, language="de")
    result = configured(MlUtterancesProvider).create(inputs)

    [uploaded] = sandbox.pipeline.files
    [job] = sandbox.pipeline.imports
    assert uploaded.content == export.read_bytes() and uploaded.extension == "json"
    assert (job.bot_id, job.language, job.file_id, job.status) == (BOT, "de", uploaded.file_id, "success")
    assert result.id == f"{BOT}/de/ml-utterances.json"
    assert result.outs == {
        **inputs,
        "timeout_seconds": 30,
        "file_id": uploaded.file_id,
        "import_id": job.import_id,
        "import_status": "success",
        "imported_at": result.outs["imported_at"],
        # what refresh compares the bot with: the file's intents and a digest of their utterances
        "intents": sorted({u["taskName"] for u in UTTERANCES}),
        "imported_digest": utterances_digest(read_utterances(export)),
    }
    assert ISO_UTC.fullmatch(result.outs["imported_at"])
    # the import changed the sentences: the bot language now needs a training
    assert sandbox.training_status(BOT, "de")["isMlInSyncWithSentences"] is False
    assert sandbox.training_status(BOT, "en")["isMlInSyncWithSentences"] is True
    assert [c.method for c in sandbox.calls if "status" not in c.path] == ["POST", "POST"]
    log = capfd.readouterr().err
    assert f"uploaded as file {uploaded.file_id}" in log and f"import {job.import_id} finished" in log
    assert "2 utterances copied successfully" in log


def test_a_relative_file_is_read_from_the_project_directory(sandbox, monkeypatch):
    monkeypatch.chdir(ROOT)  # the plugin's working directory
    relative = "utterances/travel/de/ml-utterances.csv"
    result = configured(MlUtterancesProvider).create(import_inputs(sandbox, relative, language="de"))
    assert result.outs["file"] == relative
    assert sandbox.pipeline.files[0].content == (ROOT / relative).read_bytes()
    assert sandbox.pipeline.files[0].extension == "csv"


def test_update_imports_the_new_content_again(sandbox, export):
    provider = configured(MlUtterancesProvider)
    created = provider.create(import_inputs(sandbox, export))
    export.write_text(
        json.dumps([*UTTERANCES, {**UTTERANCES[0], "sentence": "Fly me to Rome"}]), encoding="utf-8"
    )
    news = import_inputs(sandbox, export)
    updated = provider.update(created.id, created.outs, news)
    assert updated.outs["content_hash"] == news["content_hash"] != created.outs["content_hash"]
    assert updated.outs["import_id"] != created.outs["import_id"]
    assert updated.outs["file_id"] != created.outs["file_id"]
    assert set(updated.outs) == set(created.outs)
    assert len(sandbox.pipeline.imports) == 2


def test_a_file_changed_after_the_plan_is_not_uploaded(sandbox, export):
    planned = import_inputs(sandbox, export)
    export.write_text(json.dumps(UTTERANCES[:1]), encoding="utf-8")
    with pytest.raises(UtteranceFileError) as info:
        configured(MlUtterancesProvider).create(planned)
    assert planned["content_hash"] in str(info.value) and hash_utterances(export) in str(info.value)
    assert sandbox.calls == []


def test_failed_import_raises_naming_bot_language_file_and_import_id(sandbox, export):
    sandbox.pipeline.fail_next_import(BOT, "en")
    with pytest.raises(JobFailedError) as info:
        configured(MlUtterancesProvider).create(import_inputs(sandbox, export))
    [job] = sandbox.pipeline.imports
    message = str(info.value)
    assert BOT in message and "(en)" in message and str(export) in message and job.import_id in message
    assert "'failure'" in message and "File import failed" in message and "next `pulumi up`" in message
    assert (info.value.bot_id, info.value.language, info.value.job_id) == (BOT, "en", job.import_id)


def test_import_that_never_finishes_times_out(sandbox, export, virtual_clock):
    sandbox.pipeline.set_import_seconds(3600)
    started = virtual_clock.monotonic()
    with pytest.raises(JobTimeoutError) as info:
        configured(MlUtterancesProvider).create(import_inputs(sandbox, export, timeout_seconds=250.5))
    # It gave up at the deadline: not before it (on the clock), and without sleeping past it.
    assert virtual_clock.monotonic() - started >= 250.5
    assert sum(virtual_clock.sleeps) <= 250.5 + 1e-6
    assert "timeout_seconds=250.5" in str(info.value) and sandbox.pipeline.imports[0].import_id in str(
        info.value
    )


def test_read_refreshes_the_import_status_and_delete_calls_nothing(sandbox, export, capfd):
    provider = configured(MlUtterancesProvider)
    created = provider.create(import_inputs(sandbox, export))
    sandbox.clear_calls()
    read = provider.read(created.id, {**created.outs, "__provider": "x"})
    assert read.outs == created.outs
    # the import's status, then the bot language's utterances: the export status before (which export is
    # older than ours), an export, its status, the download
    status_call, baseline_call, export_call, *export_status_calls = sandbox.calls
    assert status_call.path.endswith(f"/mlimport/status/{created.outs['import_id']}")
    assert baseline_call.path.endswith("/mlexport/status") and baseline_call.status == 400  # none yet
    assert "/mlexport" in export_call.path and export_call.method == "POST"
    assert export_status_calls and all("/mlexport/status" in c.path for c in export_status_calls)
    [download] = sandbox.ml_export.downloads
    assert not download.auth_header and not download.jwt_seen
    forgotten = provider.read(created.id, {**created.outs, "import_id": "bir-unknown"})
    assert forgotten.outs["import_status"] == "success"  # Kore no longer knows it: keep what was recorded
    sandbox.clear_calls()
    provider.delete(created.id, created.outs)
    assert sandbox.calls == []
    assert f"forgetting import {created.outs['import_id']}" in capfd.readouterr().err


def test_refresh_compares_each_file_with_the_bot_s_utterances_of_its_own_intents(sandbox, tmp_path, capfd):
    """A language's utterances from several files: each import compares only its own intents, so an edit
    in the builder shows on the file that holds the intent, and the bot language is exported once for
    all its files (the shared read keeps a refresh of many files within the rate limits)."""
    provider = configured(MlUtterancesProvider)
    by_intent: dict[str, list[dict[str, Any]]] = {}
    for record in UTTERANCES:
        by_intent.setdefault(record["taskName"], []).append(record)
    files = {}
    for number, (intent, records) in enumerate(sorted(by_intent.items())):
        files[intent] = tmp_path / f"{number}.json"
        files[intent].write_text(json.dumps(records), encoding="utf-8")
    assert len(files) >= 2
    created = {intent: provider.create(import_inputs(sandbox, file)) for intent, file in files.items()}
    edited_intent, untouched_intent = sorted(files)[:2]
    sentence = by_intent[edited_intent][0]["sentence"]
    sandbox.edit_utterance(BOT, "en", edited_intent, sentence, "Get me a flight to Lisbon")
    sandbox.clear_calls()
    capfd.readouterr()

    edited = provider.read(created[edited_intent].id, created[edited_intent].outs)
    untouched = provider.read(created[untouched_intent].id, created[untouched_intent].outs)
    assert untouched.outs == created[untouched_intent].outs
    assert edited.outs["content_hash"] != created[edited_intent].outs["content_hash"]
    assert {k: v for k, v in edited.outs.items() if k != "content_hash"} == {
        k: v for k, v in created[edited_intent].outs.items() if k != "content_hash"
    }
    assert provider.diff(edited.id, edited.outs, import_inputs(sandbox, files[edited_intent])).changes
    assert not provider.diff(
        untouched.id, untouched.outs, import_inputs(sandbox, files[untouched_intent])
    ).changes
    assert len([c for c in sandbox.calls if c.method == "POST" and "/mlexport" in c.path]) == 1
    log = capfd.readouterr().err
    # it names the intent that differs, and how many of its utterances
    assert f"utterances of {edited_intent} (1 not in the file, 1 gone from the bot) differ from what" in log
    assert untouched_intent not in log


def test_missing_import_scope_names_the_scope_to_add(sandbox, export):
    train_only = SandboxApp(
        "train-only", "cs-00000000-0000-4000-8000-0000000000e1", "e" * 40, frozenset({SCOPE_TRAIN_ML})
    )
    sandbox.add_app(train_only)
    sandbox.add_bot(dataclasses.replace(sandbox.bot(BOT), linked_apps=(train_only.client_id,)))
    provider = configured(
        MlUtterancesProvider,
        {"kore:clientId": train_only.client_id, "kore:clientSecret": train_only.client_secret},
    )
    with pytest.raises(AuthenticationError) as info:
        provider.create(import_inputs(sandbox, export))
    assert "(Utterances Import)" in str(info.value) and "Train ML" not in str(info.value)
    assert "Permission denied" in str(info.value)


def test_server_error_on_the_upload_is_not_resent(sandbox, export):
    sandbox.inject_error(503, method="POST", path_contains="uploadfile")
    with pytest.raises(KoreApiError) as info:
        configured(MlUtterancesProvider).create(import_inputs(sandbox, export))
    assert "503" in str(info.value) and "upload and import again" in str(info.value)
    assert len(calls(sandbox, "POST")) == 1


def test_transient_import_status_errors_are_retried(sandbox, export):
    sandbox.inject_error(503, method="GET", path_contains="mlimport/status", count=2)
    result = configured(MlUtterancesProvider).create(import_inputs(sandbox, export))
    assert result.outs["import_status"] == "success"
    assert [c.status for c in calls(sandbox, "GET", "mlimport/status")][:2] == [503, 503]


def test_an_import_and_a_training_of_one_bot_never_overlap(real_time_sandbox, export):
    sandbox = real_time_sandbox  # several threads drive the providers: real time, ordered by the sandbox
    errors: list[BaseException] = []

    def run(job: Any) -> None:
        try:
            job()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    mlu, trainer = configured(MlUtterancesProvider), configured(BotTrainingProvider)
    jobs = [
        lambda: mlu.create(import_inputs(sandbox, export, timeout_seconds=HANG_SECONDS)),
        lambda: trainer.create(training_inputs(sandbox)),
        lambda: trainer.create(training_inputs(sandbox, bot_id=OTHER_BOT)),
    ]
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    # The import's first status read is answered only when the test says so: until then the import holds
    # the bot (it reads its status inside the bot's turn).
    sandbox.delay_response(HANG_SECONDS, method="GET", path_contains="/mlimport/status")
    threads[0].start()
    wait_until(lambda: calls(sandbox, "GET", "mlimport/status"), "the import's first status read")
    for thread in threads[1:]:
        thread.start()
    wait_until(lambda: [t.bot_id for t in sandbox.trainings] == [OTHER_BOT], "the other bot's training")
    released_at = time.monotonic()  # the sandbox's clock
    sandbox.release_delayed_responses()
    for thread in threads:
        thread.join()
    assert errors == []
    trainings = {t.bot_id: t for t in sandbox.trainings}
    # on the sandbox's clock: another bot trained while the import held this bot, which trained only after
    assert trainings[OTHER_BOT].queued_at < released_at <= trainings[BOT].queued_at
    # queued after the import finished, this training brings the model back in sync
    assert sandbox.training_status(BOT, "en")["isMlInSyncWithSentences"] is True
