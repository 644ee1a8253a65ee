"""The sandbox's promotion pipeline endpoints (kore-sandbox/kore_sandbox/pipeline.py): upload, ML import,
import status, publish, publish status. Real sockets on 127.0.0.1, real JWTs; timing on a fake clock.
Nothing from kore_resources is imported except the sandbox."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from documented import BOT, CREDENTIALS, ISO_MS, OTHER_BOT, SCOPE, VALIDATION, token
from kore_sandbox import (
    DEMO_APP,
    SCOPE_TRAIN_ML,
    RateLimit,
    Sandbox,
    SandboxApp,
    SandboxBot,
)
from kore_sandbox.testing import VirtualClock, wait_until

pytestmark = pytest.mark.sandbox

#: Kore's own QA upload files (tests/fixtures/kore-samples/README.md); a missing one fails the tests using it.
#: (The repository's tests/fixtures: the provider's tests read them too.)
KORE_SAMPLES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "kore-samples"
UTTERANCES = [
    {
        "taskName": "Book Flight",
        "sentence": "Book a flight to Lisbon",
        "type": "DialogIntent",
        "language": "en",
    },
    {
        "taskName": "Book Flight",
        "sentence": "I need a plane ticket",
        "type": "DialogIntent",
        "language": "en",
    },
    {"taskName": "Flight Status", "sentence": "Is LH 123 on time?", "type": "DialogIntent", "language": "en"},
]
JSON_FILE = json.dumps(UTTERANCES).encode()
CSV_FILE = b"taskName,sentence,type,language\nBook Flight,Buche einen Flug,DialogIntent,de\n"


@pytest.fixture
def sb(clock: VirtualClock) -> Iterator[Sandbox]:
    """Imports take 5 s, publishes 8 s, trainings 10 s after 2 s queued: all on the fake clock."""
    with Sandbox(
        training_seconds=10, queue_seconds=2, import_seconds=5, publish_seconds=8, clock=clock
    ) as sandbox:
        yield sandbox


def upload(
    sb: Sandbox,
    content: bytes = JSON_FILE,
    *,
    name: str = "ml-utterances.json",
    context: str = "bulkImport",
    extension: str = "json",
    app: SandboxApp = DEMO_APP,
) -> requests.Response:
    return requests.post(
        f"{sb.url}/api/public/uploadfile",
        headers={"auth": token(app)},
        files={"file": (name, content, "application/octet-stream")},
        data={"fileContext": context, "fileExtension": extension},
        timeout=5,
    )


def ml_import(
    sb: Sandbox, body: Any, bot: str = BOT, language: str | None = None, app: SandboxApp = DEMO_APP
) -> requests.Response:
    headers = {"auth": token(app)}
    if language is not None:
        headers["bot-language"] = language
    return requests.post(f"{sb.url}/api/public/bot/{bot}/mlimport", headers=headers, json=body, timeout=5)


def import_file(sb: Sandbox, content: bytes = JSON_FILE, language: str = "en", **kw: Any) -> dict[str, Any]:
    extension = "csv" if content.startswith(b"taskName") else "json"
    file_id = upload(sb, content, extension=extension).json()["fileId"]
    response = ml_import(sb, {"fileName": f"x.{extension}", "fileId": file_id}, language=language, **kw)
    assert response.status_code == 200, response.text
    return dict(response.json())


def import_status(
    sb: Sandbox, import_id: str, bot: str = BOT, app: SandboxApp = DEMO_APP
) -> requests.Response:
    return requests.get(
        f"{sb.url}/api/public/bot/{bot}/mlimport/status/{import_id}", headers={"auth": token(app)}, timeout=5
    )


def publish(sb: Sandbox, body: Any, bot: str = BOT, app: SandboxApp = DEMO_APP) -> requests.Response:
    return requests.post(
        f"{sb.url}/api/public/bot/{bot}/publish", headers={"auth": token(app)}, json=body, timeout=5
    )


def publish_status(sb: Sandbox, bot: str = BOT, app: SandboxApp = DEMO_APP) -> requests.Response:
    return requests.get(
        f"{sb.url}/api/public/bot/{bot}/publish/status", headers={"auth": token(app)}, timeout=5
    )


def in_sync(sb: Sandbox, language: str = "en") -> bool:
    return bool(sb.training_status(BOT, language)["isMlInSyncWithSentences"])


# -- upload ------------------------------------------------------------------------------------------------
def test_upload_answers_the_documented_sample_keys_and_keeps_the_file(sb: Sandbox) -> None:
    r = upload(sb, CSV_FILE, name="de.csv", extension=".csv")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    answer = r.json()
    assert set(answer) == {"fileId", "hash", "fileName"}  # the developer.kore.ai v10-2 sample's keys
    assert re.fullmatch(r"[0-9a-f]{24}", answer["fileId"])
    assert answer["hash"] == hashlib.sha1(CSV_FILE).hexdigest()
    assert re.fullmatch(r"f-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", answer["fileName"])
    [stored] = sb.pipeline.files
    assert (stored.file_id, stored.file_name, stored.stored_name, stored.extension, stored.content) == (
        answer["fileId"],
        "de.csv",
        answer["fileName"],
        "csv",
        CSV_FILE,
    )


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"context": "findly"}, "another fileContext"),
        ({"context": ""}, "no fileContext"),
        ({"extension": "exe"}, "an undocumented extension"),
        ({"extension": ""}, "no extension"),
    ],
)
def test_upload_with_bad_fields_is_412(sb: Sandbox, kwargs: dict[str, str], why: str) -> None:
    r = upload(sb, **kwargs)
    assert (r.status_code, r.json()) == (412, VALIDATION), why
    assert sb.pipeline.files == []


def test_upload_must_be_multipart_with_a_file(sb: Sandbox) -> None:
    as_json = requests.post(
        f"{sb.url}/api/public/uploadfile", headers={"auth": token()}, json={"file": "x"}, timeout=5
    )
    no_file = requests.post(
        f"{sb.url}/api/public/uploadfile",
        headers={"auth": token()},
        files={"fileContext": (None, "bulkImport"), "fileExtension": (None, "json")},
        timeout=5,
    )
    assert [as_json.status_code, no_file.status_code] == [412, 412]


def test_upload_needs_a_valid_token_but_no_scope(sb: Sandbox) -> None:
    scopeless = SandboxApp(
        "scopeless", "cs-00000000-0000-4000-8000-0000000000a1", "s" * 40, scopes=frozenset()
    )
    sb.add_app(scopeless)
    assert upload(sb, app=scopeless).status_code == 200
    r = requests.post(f"{sb.url}/api/public/uploadfile", files={"file": ("a.json", b"[]")}, timeout=5)
    assert (r.status_code, r.json()) == (401, CREDENTIALS)


# -- ML import and its status -----------------------------------------------------------------------------
def test_import_answers_the_documented_pending_object_then_success(sb: Sandbox, clock: VirtualClock) -> None:
    started = import_file(sb)
    assert set(started) == {
        "status",
        "streamId",
        "createdBy",
        "requestType",
        "_id",
        "statusLogs",
        "createdOn",
        "__v",
    }
    assert started["status"] == "pending" and started["requestType"] == "MLimport"
    assert started["streamId"] == BOT and started["statusLogs"] == [] and started["__v"] == 0
    assert re.fullmatch(r"bir-[0-9a-f-]{36}", started["_id"])
    assert re.fullmatch(r"u-[0-9a-f-]{36}", started["createdBy"])
    assert ISO_MS.fullmatch(started["createdOn"])

    clock.advance(4.9)
    assert import_status(sb, started["_id"]).json() == started
    clock.advance(0.2)
    done = import_status(sb, started["_id"]).json()
    assert done == {
        **started,
        "status": "success",
        "message": "File imported completed. 3 utterances copied successfully",
    }


def test_a_successful_import_puts_the_model_out_of_sync_until_the_next_training(
    sb: Sandbox, clock: VirtualClock
) -> None:
    assert in_sync(sb)
    import_file(sb, language="de", content=CSV_FILE)
    clock.advance(4)
    assert in_sync(sb, "de"), "nothing changes while the import is pending"
    clock.advance(2)
    assert not in_sync(sb, "de") and in_sync(sb, "en")
    r = requests.post(
        f"{sb.url}/api/public/bot/{BOT}/ml/train", headers={"auth": token(), "bot-language": "de"}, timeout=5
    )
    assert r.status_code == 200
    clock.advance(12.5)
    assert in_sync(sb, "de")
    [record] = sb.pipeline.imports
    assert (record.bot_id, record.language, record.status) == (BOT, "de", "success")


def test_a_training_queued_before_the_import_finished_does_not_count(
    sb: Sandbox, clock: VirtualClock
) -> None:
    import_file(sb)
    r = requests.post(f"{sb.url}/api/public/bot/{BOT}/ml/train", headers={"auth": token()}, timeout=5)
    assert r.status_code == 200
    clock.advance(13)  # the import finished at 5 s, the training (queued at 0 s) at 12 s
    assert sb.trainings[0].phase == "Finished"
    assert not in_sync(sb)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "the file is not valid JSON"),
        (b'{"utterances": []}', "expected a JSON array of utterances"),
        (b'[{"taskName": "Book Flight"}]', "utterance 1 has no sentence"),
        (b"taskName,sentence\nBook Flight,\n", "utterance 1 has no sentence"),
    ],
)
def test_an_unreadable_file_ends_in_failure_and_changes_nothing(
    sb: Sandbox, clock: VirtualClock, content: bytes, reason: str
) -> None:
    started = import_file(sb, content)
    assert started["status"] == "pending"  # the file is read asynchronously
    clock.advance(6)
    body = import_status(sb, started["_id"]).json()
    assert body["status"] == "failure"
    assert body["message"] == f"File import failed. {reason}"
    assert in_sync(sb)


def import_sample(sb: Sandbox, clock: VirtualClock, name: str) -> dict[str, Any]:
    """Upload one of Kore's QA files as Kore's suite does (`bulkImport`, its extension), import it into the
    bot's default language, let the import finish, and answer its status."""
    extension = name.rsplit(".", 1)[1]
    file_id = upload(sb, (KORE_SAMPLES / name).read_bytes(), name=name, extension=extension).json()["fileId"]
    started = ml_import(sb, {"fileName": name, "fileId": file_id})
    assert started.status_code == 200, started.text
    clock.advance(6)
    return dict(import_status(sb, started.json()["_id"]).json())


@pytest.mark.parametrize(
    ("name", "count"),
    [("Import_MLUtterances50.json", 48), ("fileupload_MLUtterances.csv", 124)],
)
def test_kores_qa_files_import_with_the_message_kores_suite_expects(
    sb: Sandbox, clock: VirtualClock, name: str, count: int
) -> None:
    # KAR 3.3 expects "124 utterances copied successfully" for the CSV (docs/kore-api.md §7.3).
    body = import_sample(sb, clock, name)
    assert (body["status"], body["message"]) == (
        "success",
        f"File imported completed. {count} utterances copied successfully",
    )
    assert len(sb.utterances(BOT)) == count
    assert {u["taskName"] for u in sb.utterances(BOT)} == {"Book Ticket", "Mobile Enquiry"}
    assert not in_sync(sb)


def test_kores_junk_csv_ends_in_failure_naming_the_header_line(sb: Sandbox, clock: VirtualClock) -> None:
    """ImportFile_emptydata.csv is `,jkkjkjkj`: no taskName or sentence column. Kore answers it with 400
    `CSV format is incorrect` (KAR 3.3); the sandbox reads files asynchronously (A22)."""
    body = import_sample(sb, clock, "ImportFile_emptydata.csv")
    assert body["status"] == "failure"
    assert body["message"] == (
        "File import failed. CSV format is incorrect: line 1, the header row ',jkkjkjkj', has no taskName "
        "or sentence column; expected taskName,sentence,type,language"
    )
    assert sb.utterances(BOT) == [] and in_sync(sb)


def test_fail_next_import_filters_by_bot_and_language(sb: Sandbox, clock: VirtualClock) -> None:
    sb.pipeline.fail_next_import(BOT, "de")
    first = import_file(sb, language="en")
    second = import_file(sb, CSV_FILE, language="de")
    third = import_file(sb, CSV_FILE, language="de")
    clock.advance(6)
    statuses = [import_status(sb, job["_id"]).json()["status"] for job in (first, second, third)]
    assert statuses == ["success", "failure", "success"]


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "x",
        {},
        {"fileId": "abc"},
        {"fileName": "a.json"},
        {"fileName": "", "fileId": "abc"},
        {"fileName": "a", "fileId": 7},
    ],
    ids=[
        "no-body",
        "array",
        "string",
        "empty",
        "no-fileName",
        "no-fileId",
        "empty-fileName",
        "number-fileId",
    ],
)
def test_import_with_a_bad_payload_is_412(sb: Sandbox, body: Any) -> None:
    r = ml_import(sb, body)
    assert (r.status_code, r.json()) == (412, VALIDATION)
    assert sb.pipeline.imports == []


def test_import_of_an_unknown_file_id_is_400(sb: Sandbox) -> None:
    r = ml_import(sb, {"fileName": "a.json", "fileId": "0" * 24})
    assert (r.status_code, r.json()) == (400, {"errors": [{"msg": "Invalid file id", "code": 400}]})


@pytest.mark.parametrize("language", ["fr", "english"])
def test_import_into_a_language_the_bot_lacks_is_400(sb: Sandbox, language: str) -> None:
    file_id = upload(sb).json()["fileId"]
    r = ml_import(sb, {"fileName": "a.json", "fileId": file_id}, language=language)
    assert r.status_code == 400 and language in r.json()["errors"][0]["msg"]


def test_import_status_of_an_unknown_or_foreign_id_is_400(sb: Sandbox) -> None:
    started = import_file(sb)
    invalid = {"errors": [{"msg": "Invalid request ID", "code": 400}]}
    for import_id, bot in (("bir-00000000-0000-4000-8000-000000000000", BOT), (started["_id"], OTHER_BOT)):
        r = import_status(sb, import_id, bot)
        assert (r.status_code, r.json()) == (400, invalid)


# -- publish and its status -------------------------------------------------------------------------------
def test_every_bot_starts_with_one_earlier_successful_publish(sb: Sandbox) -> None:
    body = publish_status(sb).json()
    assert body["status"] == "successful" and body["percentageComplete"] == 100
    assert body["jobType"] == "PUBLISH_BOT" and body["action"] == "RUN" and body["streamId"] == BOT
    assert publish_status(sb).json()["_id"] == body["_id"]
    assert publish_status(sb, OTHER_BOT).json()["_id"] != body["_id"]
    assert sb.pipeline.publishes == []


def test_publish_answers_the_documented_array_then_the_status_moves_to_successful(
    sb: Sandbox, clock: VirtualClock
) -> None:
    before = publish_status(sb).json()["_id"]
    r = publish(sb, {"versionComment": "travel: more flight utterances", "initiateTraining": False})
    assert r.status_code == 200
    [entry] = r.json()
    assert entry["resourceType"] == "dialog" and entry["status"] == "SUCCESS"
    assert entry["resourceId"].startswith("dg-") and entry["result"]["versionComment"].startswith("travel")

    running = publish_status(sb).json()
    assert running["_id"] != before and re.fullmatch(r"ds-[0-9a-f-]{36}", running["_id"])
    assert (running["status"], running["percentageComplete"], running["statusSummary"]) == (
        "inprogress",  # D2's word
        0,
        [],
    )
    clock.advance(4)
    assert publish_status(sb).json()["percentageComplete"] == 49
    clock.advance(4.1)
    done = publish_status(sb).json()
    assert done["_id"] == running["_id"]
    assert (done["status"], done["percentageComplete"]) == ("successful", 100)
    assert {s["resourceType"] for s in done["statusSummary"]} >= {"NL", "BOTLANGUAGES"}
    assert all(s["status"] == "SUCCESS" for s in done["statusSummary"])
    assert {k for k in ("requestedTime", "initiatedOn", "lastModifiedOn") if ISO_MS.fullmatch(done[k])} == {
        "requestedTime",
        "initiatedOn",
        "lastModifiedOn",
    }
    [record] = sb.pipeline.publishes
    assert (record.version_comment, record.initiate_training, record.status) == (
        "travel: more flight utterances",
        False,
        "successful",
    )


def test_fail_next_publish_ends_the_job_failed(sb: Sandbox, clock: VirtualClock) -> None:
    sb.pipeline.fail_next_publish(BOT)
    assert publish(sb, {"versionComment": "x"}).status_code == 200
    clock.advance(9)
    body = publish_status(sb).json()
    assert body["status"] == "failed" and body["percentageComplete"] < 100
    [failed] = [s for s in body["statusSummary"] if s["status"] != "SUCCESS"]
    assert failed["resourceType"] == "NL" and failed["status"] == "FAILED" and failed["message"]
    assert sb.pipeline.publishes[0].initiate_training is None  # left out of the request
    assert publish(sb, {"versionComment": "again"}).status_code == 200
    clock.advance(9)
    assert publish_status(sb).json()["status"] == "successful"


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"versionComment": ""},
        {"versionComment": 3},
        {"versionComment": "x", "initiateTraining": "no"},
    ],
    ids=["no-body", "empty", "empty-comment", "number-comment", "string-initiateTraining"],
)
def test_publish_with_a_bad_payload_is_412(sb: Sandbox, body: Any) -> None:
    r = publish(sb, body)
    assert (r.status_code, r.json()) == (412, VALIDATION)
    assert sb.pipeline.publishes == []


# -- auth, methods, prefixes -------------------------------------------------------------------------------
TRAIN_ONLY = SandboxApp(
    "train-only", "cs-00000000-0000-4000-8000-0000000000a2", "t" * 40, scopes=frozenset({SCOPE_TRAIN_ML})
)
TRAIN_ONLY_BOT = SandboxBot(
    "train-only", "st-00000000-0000-4000-8000-0000000000a3", linked_apps=(TRAIN_ONLY.client_id,)
)


@pytest.mark.parametrize("endpoint", ["mlimport", "mlimport_status", "publish", "publish_status"])
def test_each_bot_endpoint_checks_token_link_and_its_scope(sb: Sandbox, endpoint: str) -> None:
    sb.add_app(TRAIN_ONLY)
    sb.add_bot(TRAIN_ONLY_BOT)
    file_id = upload(sb).json()["fileId"]

    def call(bot: str, app: SandboxApp) -> requests.Response:
        if endpoint == "mlimport":
            return ml_import(sb, {"fileName": "a.json", "fileId": file_id}, bot, app=app)
        if endpoint == "mlimport_status":
            return import_status(sb, "bir-unknown", bot, app=app)
        if endpoint == "publish":
            return publish(sb, {"versionComment": "x"}, bot, app=app)
        return publish_status(sb, bot, app=app)

    assert (
        call(TRAIN_ONLY_BOT.bot_id, TRAIN_ONLY).json(),
        call(TRAIN_ONLY_BOT.bot_id, TRAIN_ONLY).status_code,
    ) == (
        SCOPE,
        401,
    )
    not_linked = call(TRAIN_ONLY_BOT.bot_id, DEMO_APP)
    assert (not_linked.status_code, not_linked.json()) == (401, CREDENTIALS)
    assert sb.pipeline.imports == [] and sb.pipeline.publishes == []


@pytest.mark.parametrize(
    ("path", "wrong"),
    [
        ("/api/public/uploadfile", "GET"),
        (f"/api/public/bot/{BOT}/mlimport", "GET"),
        (f"/api/public/bot/{BOT}/mlimport/status/bir-1", "POST"),
        (f"/api/public/bot/{BOT}/publish", "PUT"),
        (f"/api/public/bot/{BOT}/publish/status", "DELETE"),
    ],
)
def test_wrong_method_is_405_before_auth(sb: Sandbox, path: str, wrong: str) -> None:
    r = requests.request(wrong, sb.url + path, timeout=5)
    assert (r.status_code, r.json()) == (405, {"errors": [{"msg": "Method Not Allowed", "code": 405}]})
    assert r.headers["Allow"] in ("GET", "POST")


def test_versioned_prefix_and_trailing_slash(sb: Sandbox) -> None:
    r = requests.get(
        f"{sb.url}/api/1.1/public/bot/{BOT}/publish/status/", headers={"auth": token()}, timeout=5
    )
    assert r.status_code == 200 and r.json()["status"] == "successful"


def test_call_log_names_the_bot_and_language(sb: Sandbox) -> None:
    import_file(sb, CSV_FILE, language="de")
    publish_status(sb)
    upload_call, import_call, status_call = sb.calls
    assert (upload_call.path, upload_call.bot_id) == ("/api/public/uploadfile", None)
    assert (import_call.bot_id, import_call.language, import_call.status) == (BOT, "de", 200)
    assert status_call.bot_id == BOT


# -- rate limits ------------------------------------------------------------------------------------------
def test_rate_limits_per_endpoint_and_key(sb: Sandbox, clock: VirtualClock) -> None:
    sb.set_rate_limits(
        train=RateLimit(per_minute=2, per_hour=100), status=RateLimit(per_minute=2, per_hour=100)
    )
    file_id = upload(sb).json()["fileId"]
    body = {"fileName": "a.json", "fileId": file_id}
    assert [ml_import(sb, body).status_code for _ in range(3)] == [200, 200, 429]
    limited = ml_import(sb, body)
    assert limited.json()["errors"][0]["code"] == 429 and int(limited.headers["Retry-After"]) >= 1
    assert ml_import(sb, body, OTHER_BOT).status_code == 200  # per bot
    assert publish(sb, {"versionComment": "x"}).status_code == 200  # its own budget
    assert [upload(sb).status_code for _ in range(2)] == [200, 429]  # per app: one upload already
    first, second = (job.import_id for job in sb.pipeline.imports[:2])
    assert [import_status(sb, first).status_code for _ in range(3)] == [200, 200, 429]
    assert import_status(sb, second).status_code == 200  # per import id
    assert [publish_status(sb).status_code for _ in range(3)] == [200, 200, 429]
    clock.advance(61)
    assert ml_import(sb, body).status_code == 200


# -- knobs over the admin API -----------------------------------------------------------------------------
def test_admin_api_drives_and_shows_the_pipeline(sb: Sandbox, clock: VirtualClock) -> None:
    admin = f"{sb.url}/_sandbox"
    settings = requests.post(
        f"{admin}/faults",
        json={
            "import_seconds": 1,
            "publish_seconds": 2,
            "fail_next_import": {"bot_id": BOT, "language": "en"},
            "fail_next_publish": [{"bot_id": BOT}, {"bot_id": OTHER_BOT, "count": 2}],
        },
        timeout=5,
    ).json()
    assert (settings["import_seconds"], settings["publish_seconds"]) == (1, 2)
    assert settings["pending_import_failures"] == [{"bot_id": BOT, "language": "en", "count": 1}]
    assert len(settings["pending_publish_failures"]) == 2
    started = import_file(sb)
    publish(sb, {"versionComment": "x"})
    clock.advance(2.5)
    [record] = requests.get(f"{admin}/imports", timeout=5).json()["imports"]
    assert (record["import_id"], record["status"]) == (started["_id"], "failure")
    [published] = requests.get(f"{admin}/publishes", timeout=5).json()["publishes"]
    assert published["status"] == "failed"
    [stored] = requests.get(f"{admin}/files", timeout=5).json()["files"]
    assert stored["size"] == len(JSON_FILE) and "content" not in stored

    bad = requests.post(f"{admin}/faults", json={"import_seconds": -1, "publish_seconds": 1}, timeout=5)
    assert bad.status_code == 400 and sb.pipeline.publish_seconds == 2  # all or nothing
    assert (
        requests.post(
            f"{admin}/faults", json={"fail_next_publish": {"language": "en"}}, timeout=5
        ).status_code
        == 400
    )

    requests.delete(f"{admin}/faults", timeout=5)
    assert sb.settings()["pending_publish_failures"] == []
    requests.post(f"{admin}/reset", timeout=5)
    assert (sb.pipeline.import_seconds, sb.pipeline.publish_seconds) == (5, 8)
    assert sb.pipeline.imports == [] and sb.pipeline.publishes == [] and sb.pipeline.files == []


def test_real_time_pipeline_end_to_end() -> None:
    """Without a fake clock: the knobs are seconds of real time. An hour-long job is still running right
    after it started; a short one finishes by itself (waited for, not slept for)."""
    body = {"versionComment": "x", "initiateTraining": False}
    with Sandbox(import_seconds=3600, publish_seconds=3600) as sandbox:
        started = import_file(sandbox)
        assert publish(sandbox, body).status_code == 200
        assert import_status(sandbox, started["_id"]).json()["status"] == "pending"
        assert publish_status(sandbox).json()["status"] == "inprogress"
        sandbox.pipeline.set_import_seconds(0.2)
        sandbox.pipeline.set_publish_seconds(0.2)
        started = import_file(sandbox)
        wait_until(lambda: import_status(sandbox, started["_id"]).json()["status"] == "success", "the import")
        assert publish(sandbox, body).status_code == 200
        wait_until(lambda: publish_status(sandbox).json()["status"] == "successful", "the publish")
