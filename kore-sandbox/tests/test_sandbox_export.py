"""The sandbox's ML utterances per bot language, ML Utterances Export, the download host and the drift knobs
(kore-sandbox/kore_sandbox/export.py, download.py). Real sockets, real JWTs; timing on a fake clock. Nothing
from kore_resources is imported except the sandbox."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from documented import BOT, CREDENTIALS, ISO_MS, OTHER_BOT, SCOPE, token
from kore_sandbox import (
    DEMO_ADMIN_APP,
    DEMO_APP,
    DEMO_BOT_APP,
    SCOPE_ML_IMPORT,
    SCOPE_TRAIN_ML,
    ExportModel,
    RateLimit,
    Sandbox,
    SandboxApp,
    SandboxBot,
    UtteranceStore,
)
from kore_sandbox import download as download_module
from kore_sandbox.testing import VirtualClock
from sandbox_process import SandboxProcess

pytestmark = pytest.mark.sandbox

ROOT = Path(__file__).resolve().parent.parent
#: Kore's own QA import file (tests/fixtures/kore-samples/README.md). Read by the tests that use it, so a
#: missing fixture fails them.
K50 = ROOT.parent / "tests" / "fixtures" / "kore-samples" / "Import_MLUtterances50.json"  # the repository's
ENTITY = [{"entityName": "City", "startIndex": 17, "endIndex": 23}]
FLIGHTS = [
    {
        "taskName": "Book Flight",
        "sentence": "Book a flight to Lisbon",
        "type": "DialogIntent",
        "entities": ENTITY,
        "language": "en",
    },
    {
        "taskName": "Book Flight",
        "sentence": "I need a plane ticket",
        "type": "DialogIntent",
        "entities": [],
        "language": "en",
    },
    {
        "taskName": "Flight Status",
        "sentence": "Is LH 123 on time?",
        "type": "DialogIntent",
        "entities": [],
        "language": "en",
    },
]
GERMAN_CSV = b"taskName,sentence,type,language\nBook Flight,Buche einen Flug,DialogIntent,de\n"


@pytest.fixture
def sb(clock: VirtualClock) -> Iterator[Sandbox]:
    """ML imports take 5 s, exports 4 s, trainings 10 s after 2 s queued: all on the fake clock."""
    with Sandbox(
        training_seconds=10, queue_seconds=2, import_seconds=5, export_seconds=4, clock=clock
    ) as sandbox:
        yield sandbox


def ml_import(sb: Sandbox, clock: VirtualClock, content: bytes, language: str = "en", bot: str = BOT) -> None:
    """Upload and import one ML utterance file, and let the import finish."""
    extension = "csv" if content.startswith(b"taskName") else "json"
    headers = {"auth": token(DEMO_BOT_APP)}
    file_id = requests.post(
        f"{sb.url}/api/public/uploadfile",
        headers=headers,
        files={"file": (f"ml.{extension}", content)},
        data={"fileContext": "bulkImport", "fileExtension": extension},
        timeout=5,
    ).json()["fileId"]
    r = requests.post(
        f"{sb.url}/api/public/bot/{bot}/mlimport",
        headers={**headers, "bot-language": language},
        json={"fileName": f"ml.{extension}", "fileId": file_id},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    clock.advance(5)
    assert sb.pipeline.imports[-1].status == "success"


def export(
    sb: Sandbox,
    query: str = "state=configured&type=json",
    *,
    bot: str = BOT,
    language: str | None = None,
    app: SandboxApp = DEMO_BOT_APP,
) -> requests.Response:
    headers = {"auth": token(app)}
    if language is not None:
        headers["bot-language"] = language
    return requests.post(f"{sb.url}/api/public/bot/{bot}/mlexport?{query}", headers=headers, timeout=5)


def export_status(sb: Sandbox, bot: str = BOT, app: SandboxApp = DEMO_BOT_APP) -> requests.Response:
    return requests.get(
        f"{sb.url}/api/public/bot/{bot}/mlexport/status", headers={"auth": token(app)}, timeout=5
    )


def exported(sb: Sandbox, clock: VirtualClock, query: str = "state=configured&type=json", **kw: Any) -> bytes:
    """Run one export to SUCCESS and download its file."""
    assert export(sb, query, **kw).status_code == 200
    clock.advance(4)
    body = export_status(sb, bot=kw.get("bot", BOT)).json()
    assert body["status"] == "SUCCESS", body
    r = requests.get(body["downloadUrl"], timeout=5)
    assert r.status_code == 200
    return r.content


def records(sb: Sandbox, clock: VirtualClock, **kw: Any) -> list[dict[str, Any]]:
    return list(json.loads(exported(sb, clock, **kw)))


def in_sync(sb: Sandbox, language: str = "en") -> bool:
    return bool(sb.training_status(BOT, language)["isMlInSyncWithSentences"])


def train(sb: Sandbox, language: str = "en") -> str:
    r = requests.post(
        f"{sb.url}/api/public/bot/{BOT}/ml/train",
        headers={"auth": token(DEMO_BOT_APP), "bot-language": language},
        timeout=5,
    )
    assert r.status_code == 200
    return str(r.json()[0]["Training_ID"])


# -- the utterances each bot language keeps ----------------------------------------------------------------
def test_a_bot_language_starts_empty_and_an_export_round_trips_the_sample_file(
    sb: Sandbox, clock: VirtualClock
) -> None:
    k50 = K50.read_bytes()
    assert sb.utterances(BOT) == [] and json.loads(exported(sb, clock)) == []
    ml_import(sb, clock, k50)
    assert exported(sb, clock) == k50, "the export file is byte for byte the shape of K50"
    assert sb.utterances(BOT, "en") == json.loads(k50) and len(json.loads(k50)) == 48
    assert sb.utterances(BOT, "de") == [] and sb.utterances(OTHER_BOT) == []


def test_an_import_replaces_the_utterances_of_its_intents_only(sb: Sandbox, clock: VirtualClock) -> None:
    ml_import(sb, clock, json.dumps(FLIGHTS).encode())
    replacement = [{"taskName": "Book Flight", "sentence": "Fly me to Rome"}]  # no type, entities, language
    ml_import(sb, clock, json.dumps(replacement).encode())
    assert sb.utterances(BOT) == [
        {
            "taskName": "Book Flight",
            "sentence": "Fly me to Rome",
            "type": "DialogIntent",
            "entities": [],
            "language": "en",
        },
        FLIGHTS[2],
    ], "Book Flight replaced in its place, Flight Status untouched"
    ml_import(sb, clock, GERMAN_CSV, language="de")
    assert sb.utterances(BOT, "de") == [
        {
            "taskName": "Book Flight",
            "sentence": "Buche einen Flug",
            "type": "DialogIntent",
            "entities": [],
            "language": "de",
        }
    ]
    assert len(sb.utterances(BOT, "en")) == 2, "another language is another set"


def test_a_failed_import_keeps_the_utterances(sb: Sandbox, clock: VirtualClock) -> None:
    ml_import(sb, clock, json.dumps(FLIGHTS).encode())
    sb.pipeline.fail_next_import()
    file_id = requests.post(
        f"{sb.url}/api/public/uploadfile",
        headers={"auth": token(DEMO_BOT_APP)},
        files={"file": ("x.json", b'[{"taskName": "Book Flight", "sentence": "gone?"}]')},
        data={"fileContext": "bulkImport", "fileExtension": "json"},
        timeout=5,
    ).json()["fileId"]
    requests.post(
        f"{sb.url}/api/public/bot/{BOT}/mlimport",
        headers={"auth": token(DEMO_BOT_APP)},
        json={"fileName": "x.json", "fileId": file_id},
        timeout=5,
    )
    clock.advance(5)
    assert sb.pipeline.imports[-1].status == "failure"
    assert sb.utterances(BOT) == FLIGHTS


def test_a_csv_export_has_the_documented_header_and_no_entities(sb: Sandbox, clock: VirtualClock) -> None:
    ml_import(sb, clock, json.dumps([*FLIGHTS, {"taskName": "Quote", "sentence": 'Say "hi", ok'}]).encode())
    content = exported(sb, clock, "state=configured&type=csv")
    assert content.decode() == (
        "taskName,sentence,type,language\n"
        "Book Flight,Book a flight to Lisbon,DialogIntent,en\n"
        "Book Flight,I need a plane ticket,DialogIntent,en\n"
        "Flight Status,Is LH 123 on time?,DialogIntent,en\n"
        'Quote,"Say ""hi"", ok",DialogIntent,en\n'
    )


# -- ML export and its status ------------------------------------------------------------------------------
def test_export_answers_the_documented_job_then_success_with_a_download_url(
    sb: Sandbox, clock: VirtualClock
) -> None:
    ml_import(sb, clock, json.dumps(FLIGHTS).encode())
    r = export(sb, "state=configured&=&type=csv")  # the docs' sample URL, stray `&=&` included
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    started = r.json()
    assert set(started) == {
        "status",
        "percentageComplete",
        "streamId",
        "jobType",
        "action",
        "countOfDockStatuses",
        "createdBy",
        "fileType",
        "statusLogs",
        "_id",
        "lMod",
        "createdOn",
        "requestedTime",
        "__v",
    }
    assert (started["status"], started["percentageComplete"], started["fileType"]) == (
        "IN_PROGRESS",
        0,
        "CSV",
    )
    assert (started["jobType"], started["action"], started["streamId"]) == ("ML_UTTERANCE", "EXPORT", BOT)
    assert re.fullmatch(r"ds-[0-9a-f-]{36}", started["_id"]) and re.fullmatch(
        r"u-[0-9a-f-]{36}", started["createdBy"]
    )
    assert all(ISO_MS.fullmatch(started[k]) for k in ("lMod", "createdOn", "requestedTime"))
    assert (started["statusLogs"], started["countOfDockStatuses"], started["__v"]) == ([], 1, 0)

    clock.advance(2)
    running = export_status(sb).json()
    assert (running["_id"], running["status"], running["percentageComplete"]) == (
        started["_id"],
        "IN_PROGRESS",
        49,
    )
    assert "downloadUrl" not in running
    clock.advance(2)
    done = export_status(sb).json()
    assert set(done) == set(started) | {"downloadUrl"}
    assert (done["_id"], done["status"], done["percentageComplete"]) == (started["_id"], "SUCCESS", 100)
    url = urlsplit(done["downloadUrl"])
    assert url.scheme == "http" and url.path.startswith("/api/getMediaStream/market/")
    assert len(url.path.rsplit("/", 1)[1]) >= 32, "a random token"
    assert (url.hostname, url.port) != (sb.host, sb.port), "a different host from the API"
    if not sb.ml_export.download_fallback:
        assert url.hostname == "127.0.0.2"
    assert f"http://{url.netloc}" == sb.ml_export.download_base_url
    assert sb.ml_export.download_url(started["_id"]) == done["downloadUrl"]
    [record] = sb.ml_export.exports
    assert (record.export_id, record.status, record.file_type, record.utterances) == (
        started["_id"],
        "SUCCESS",
        "CSV",
        3,
    )


def test_the_status_reports_the_bots_latest_export(sb: Sandbox, clock: VirtualClock) -> None:
    first = export(sb).json()["_id"]
    clock.advance(4)
    second = export(sb, "type=CSV").json()["_id"]  # `state` defaults to configured; `type` in any case
    assert export_status(sb).json()["_id"] == second and export_status(sb).json()["status"] == "IN_PROGRESS"
    assert export_status(sb, OTHER_BOT).status_code == 400
    clock.advance(4)
    assert export_status(sb).json()["fileType"] == "CSV"
    assert [e.export_id for e in sb.ml_export.exports] == [first, second]


def test_the_file_is_taken_when_the_export_is_requested(sb: Sandbox, clock: VirtualClock) -> None:
    ml_import(sb, clock, json.dumps(FLIGHTS).encode())
    assert export(sb).status_code == 200
    sb.add_utterance(BOT, "en", "Flight Status", "Where is my plane?")
    clock.advance(4)
    url = export_status(sb).json()["downloadUrl"]
    assert json.loads(requests.get(url, timeout=5).content) == FLIGHTS


def test_bot_language_selects_the_exported_language(sb: Sandbox, clock: VirtualClock) -> None:
    ml_import(sb, clock, json.dumps(FLIGHTS).encode())
    ml_import(sb, clock, GERMAN_CSV, language="de")
    assert [r["language"] for r in records(sb, clock, language="DE")] == ["de"]
    assert [r["language"] for r in records(sb, clock, language="")] == ["en"] * 3  # empty: the default
    assert [e.language for e in sb.ml_export.exports] == ["de", "en"]
    for language in ("fr", "klingon"):
        r = export(sb, language=language)
        assert r.status_code == 400 and language in r.json()["errors"][0]["msg"]


@pytest.mark.parametrize(
    ("query", "word"),
    [("state=configured", "type"), ("type=xml", "type"), ("type=json&state=draft", "state")],
)
def test_export_with_a_bad_query_is_400(sb: Sandbox, query: str, word: str) -> None:
    r = export(sb, query)
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == 400
    assert f"Invalid {word}" in r.json()["errors"][0]["msg"]
    assert sb.ml_export.exports == []


def test_a_published_export_is_empty(sb: Sandbox, clock: VirtualClock) -> None:
    ml_import(sb, clock, json.dumps(FLIGHTS).encode())
    assert records(sb, clock, query="state=published&type=json") == []
    assert sb.ml_export.exports[0].state == "published"


def test_export_status_before_any_export_is_400(sb: Sandbox) -> None:
    r = export_status(sb)
    assert (r.status_code, r.json()) == (
        400,
        {"errors": [{"msg": "No ML utterances export found for this bot", "code": 400}]},
    )


def test_fail_next_export_ends_the_job_failed_without_a_file(sb: Sandbox, clock: VirtualClock) -> None:
    sb.ml_export.fail_next_export(BOT)
    failed = export(sb).json()["_id"]
    clock.advance(4)
    body = export_status(sb).json()
    assert (body["_id"], body["status"]) == (failed, "FAILED") and body["percentageComplete"] < 100
    assert "downloadUrl" not in body
    token_url = sb.ml_export.download_url(failed)
    assert requests.get(token_url, timeout=5).status_code == 404
    assert records(sb, clock) == [] and export_status(sb).json()["status"] == "SUCCESS"


def test_blank_download_url_answers_an_empty_url_like_the_docs_sample(
    sb: Sandbox, clock: VirtualClock
) -> None:
    sb.ml_export.blank_download_url(count=2)
    export(sb)
    assert "downloadUrl" not in export_status(sb).json(), "in progress reads do not count"
    clock.advance(4)
    assert [export_status(sb).json()["downloadUrl"] for _ in range(3)][:2] == ["", ""]
    assert export_status(sb).json()["downloadUrl"].startswith("http://")


def test_export_endpoints_check_token_bot_and_scope(sb: Sandbox) -> None:
    no_export = SandboxApp(
        "no-export",
        "cs-00000000-0000-4000-8000-0000000000e1",
        "n" * 40,
        frozenset({SCOPE_TRAIN_ML, SCOPE_ML_IMPORT}),
    )
    bot = SandboxBot(
        "no-export", "st-00000000-0000-4000-8000-0000000000e2", linked_apps=(no_export.client_id,)
    )
    sb.add_app(no_export)
    sb.add_bot(bot)
    assert export(sb, bot=bot.bot_id, app=no_export).json() == SCOPE
    assert export_status(sb, bot.bot_id, no_export).json() == SCOPE
    for r in (
        export(sb, bot="st-00000000-0000-4000-8000-00000000beef"),
        export(sb, bot=bot.bot_id),  # not linked to the demo bot app
        export_status(sb, bot=bot.bot_id),
        requests.post(f"{sb.url}/api/public/bot/{BOT}/mlexport?type=json", timeout=5),
    ):
        assert (r.status_code, r.json()) == (401, CREDENTIALS)
    for app in (DEMO_ADMIN_APP, DEMO_APP):  # documented for both kinds of app
        assert export(sb, app=app).status_code == 200 and export_status(sb, app=app).status_code == 200
    for method, path in (
        ("GET", f"/api/public/bot/{BOT}/mlexport"),
        ("POST", f"/api/public/bot/{BOT}/mlexport/status"),
    ):
        r = requests.request(method, sb.url + path, timeout=5)
        assert (r.status_code, r.json()["errors"][0]["code"]) == (405, 405)
    r = requests.get(
        f"{sb.url}/api/1.1/public/bot/{BOT}/mlexport/status/",
        headers={"auth": token(DEMO_BOT_APP)},
        timeout=5,
    )
    assert r.status_code == 200


def test_export_rate_limits_per_bot_with_their_own_budgets(sb: Sandbox, clock: VirtualClock) -> None:
    sb.set_rate_limits(
        train=RateLimit(per_minute=2, per_hour=100), status=RateLimit(per_minute=2, per_hour=100)
    )
    assert [export(sb).status_code for _ in range(3)] == [200, 200, 429]
    assert export(sb, bot=OTHER_BOT).status_code == 200
    assert train(sb)  # the train budget is its own
    assert [export_status(sb).status_code for _ in range(3)] == [200, 200, 429]
    limited = export_status(sb)
    assert limited.json()["errors"][0]["code"] == 429 and int(limited.headers["Retry-After"]) >= 1
    assert export_status(sb, OTHER_BOT).status_code == 200
    clock.advance(61)
    assert export(sb).status_code == 200


def test_the_call_log_names_the_export_bot_and_language(sb: Sandbox) -> None:
    export(sb, language="de")
    export_status(sb)
    post, status = sb.calls
    assert (post.bot_id, post.language, post.status) == (BOT, "de", 200)
    assert (status.bot_id, status.path) == (BOT, f"/api/public/bot/{BOT}/mlexport/status")


# -- the download host -------------------------------------------------------------------------------------
def test_the_download_host_needs_no_credential_and_records_every_request(
    sb: Sandbox, clock: VirtualClock
) -> None:
    ml_import(sb, clock, json.dumps(FLIGHTS).encode())
    export_id = export(sb).json()["_id"]
    clock.advance(4)
    url = export_status(sb).json()["downloadUrl"]
    plain = requests.get(url, timeout=5)
    assert plain.status_code == 200 and plain.headers["Content-Type"] == "application/json"
    assert json.loads(plain.content) == FLIGHTS
    jwt_token = token(DEMO_BOT_APP)
    leaky = requests.get(
        url, headers={"auth": jwt_token, "Authorization": f"Bearer {jwt_token}", "X-Trace": "t-1"}, timeout=5
    )
    assert leaky.status_code == 200, "the link works with or without credentials"
    assert requests.head(url, timeout=5).status_code == 200

    first, second, head = sb.ml_export.downloads
    assert (first.method, first.path, first.status, first.export_id) == (
        "GET",
        "/api/getMediaStream/market/<token>",
        200,
        export_id,
    )
    assert (first.auth_header, first.jwt_seen) == (False, False)
    assert "auth" not in first.headers and first.headers["host"] == urlsplit(url).netloc
    assert (second.auth_header, second.jwt_seen) == (True, True)
    assert second.headers["auth"] == second.headers["authorization"] == "<redacted>"
    assert second.headers["x-trace"] == "t-1"
    assert (head.method, head.auth_header) == ("HEAD", False)
    view = requests.get(f"{sb.url}/_sandbox/exports", timeout=5).json()
    assert jwt_token not in json.dumps(view) and url.rsplit("/", 1)[1] not in json.dumps(view)
    assert [d["auth_header"] for d in view["downloads"]] == [False, True, False]
    assert view["download_url"] == sb.ml_export.download_base_url
    assert view["exports"][0]["export_id"] == export_id
    assert not any(c.path.startswith("/api/getMediaStream") for c in sb.calls), "not in the API call log"


def test_the_download_host_refuses_unknown_tokens_pending_exports_and_other_methods(
    sb: Sandbox, clock: VirtualClock
) -> None:
    export_id = export(sb).json()["_id"]
    url = sb.ml_export.download_url(export_id)
    base = sb.ml_export.download_base_url
    assert requests.get(url, timeout=5).status_code == 404, "not before SUCCESS"
    clock.advance(4)
    assert requests.get(url, timeout=5).status_code == 200
    assert requests.get(f"{base}/api/getMediaStream/market/nope", timeout=5).status_code == 404
    assert requests.get(f"{base}/elsewhere", timeout=5).status_code == 404
    r = requests.post(url, data=b"x", timeout=5)
    assert (r.status_code, r.headers["Allow"]) == (405, "GET")
    assert [(d.status, d.export_id) for d in sb.ml_export.downloads] == [
        (404, None),
        (200, export_id),
        (404, None),
        (404, None),
        (405, None),
    ]
    assert sb.ml_export.downloads[3].path == "/elsewhere"
    with pytest.raises(ValueError, match="unknown export"):
        sb.ml_export.download_url("ds-unknown")


def test_transport_faults_apply_to_the_new_paths_and_the_download_host(
    sb: Sandbox, clock: VirtualClock
) -> None:
    sb.inject_error(503, path_contains="/mlexport", method="POST")
    assert export(sb).status_code == 503 and sb.ml_export.exports == []
    assert export(sb).status_code == 200
    sb.drop_connection(path_contains="/mlexport/status")
    with pytest.raises(requests.ConnectionError):
        export_status(sb)
    sb.delay_response(0.01, path_contains="/variables/export")
    assert (
        requests.post(
            f"{sb.url}/api/1.1/public/builder/bot/{BOT}/variables/export",
            headers={"auth": token(DEMO_BOT_APP)},
            timeout=5,
        ).status_code
        == 200
    )
    assert [c.fault for c in sb.calls] == ["error", None, "drop", "delay"]
    clock.advance(4)
    url = export_status(sb).json()["downloadUrl"]
    sb.inject_error(500, path_contains="getMediaStream")
    assert requests.get(url, timeout=5).status_code == 500
    sb.drop_connection(path_contains="getMediaStream")
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)
    assert requests.get(url, timeout=5).status_code == 200
    assert [(d.status, d.fault) for d in sb.ml_export.downloads] == [
        (500, "error"),
        (None, "drop"),
        (200, None),
    ]
    assert sb.pending_faults == []


def test_the_download_host_falls_back_to_another_port_when_127_0_0_2_cannot_be_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = download_module._Server

    class Refusing(real):  # type: ignore[misc, valid-type]
        def __init__(self, address: tuple[str, int], owner: Any) -> None:
            if address[0] == "127.0.0.2":
                raise OSError(99, "Cannot assign requested address")
            super().__init__(address, owner)

    monkeypatch.setattr(download_module, "_Server", Refusing)
    with Sandbox(export_seconds=0) as sandbox:
        assert sandbox.ml_export.download_fallback
        base = urlsplit(sandbox.ml_export.download_base_url or "")
        assert base.hostname == "127.0.0.1" and base.port != sandbox.port
        export_id = export(sandbox).json()["_id"]
        url = export_status(sandbox).json()["downloadUrl"]
        assert (
            url == sandbox.ml_export.download_url(export_id)
            and requests.get(url, timeout=5).status_code == 200
        )


def test_the_download_host_must_be_loopback_and_stops_with_the_sandbox() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Sandbox(download_host="10.1.2.3")
    sandbox = Sandbox(export_seconds=0).start()
    assert sandbox.ml_export.download_base_url is not None
    session = requests.Session()
    export_id = export(sandbox).json()["_id"]
    url = sandbox.ml_export.download_url(export_id)
    assert session.get(url, timeout=5).status_code == 200
    sandbox.stop()
    with pytest.raises(requests.ConnectionError):
        session.get(url, timeout=2)
    assert Sandbox().ml_export.download_base_url is None


# -- drift knobs -------------------------------------------------------------------------------------------
def test_edit_utterance_changes_the_export_and_the_sync_flag(sb: Sandbox, clock: VirtualClock) -> None:
    ml_import(sb, clock, json.dumps(FLIGHTS).encode())
    train(sb)
    clock.advance(12)
    assert in_sync(sb)
    sb.edit_utterance(BOT, "en", "Book Flight", "Book a flight to Lisbon", "Book a flight to Porto")
    assert not in_sync(sb) and in_sync(sb, "de")
    assert records(sb, clock)[0] == {**FLIGHTS[0], "sentence": "Book a flight to Porto", "entities": []}
    train(sb)
    clock.advance(12)
    assert in_sync(sb)


def test_add_utterance_to_an_existing_or_a_new_intent(sb: Sandbox, clock: VirtualClock) -> None:
    ml_import(sb, clock, json.dumps(FLIGHTS).encode())
    sb.add_utterance(BOT, "en", "Flight Status", "Where is my plane?")
    sb.add_utterance(
        BOT,
        "de",
        "Gepäck",
        "Wo ist mein Koffer?",
        intent_type="DialogIntent",
        entities=[{"entityName": "Bag", "startIndex": 12, "endIndex": 18}],
    )
    assert not in_sync(sb, "en") and not in_sync(sb, "de")
    assert [r["sentence"] for r in records(sb, clock)] == [
        "Book a flight to Lisbon",
        "I need a plane ticket",
        "Is LH 123 on time?",
        "Where is my plane?",
    ]
    assert records(sb, clock, language="de") == [
        {
            "taskName": "Gepäck",
            "sentence": "Wo ist mein Koffer?",
            "type": "DialogIntent",
            "entities": [{"entityName": "Bag", "startIndex": 12, "endIndex": 18}],
            "language": "de",
        }
    ]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda sb: sb.edit_utterance(BOT, "en", "Nope", "a", "b"), "no intent"),
        (lambda sb: sb.edit_utterance(BOT, "en", "Book Flight", "missing", "b"), "no utterance"),
        (
            lambda sb: sb.edit_utterance(
                BOT, "en", "Book Flight", "I need a plane ticket", "Book a flight to Lisbon"
            ),
            "already has",
        ),
        (lambda sb: sb.edit_utterance(BOT, "en", "Book Flight", "I need a plane ticket", " "), "non-empty"),
        (lambda sb: sb.edit_utterance(BOT, "fr", "Book Flight", "a", "b"), "not enabled"),
        (lambda sb: sb.add_utterance(BOT, "en", "Book Flight", "I need a plane ticket"), "already has"),
        (lambda sb: sb.add_utterance(BOT, "en", "", "x"), "intent"),
        (lambda sb: sb.add_utterance("st-unknown", "en", "a", "b"), "unknown bot"),
    ],
)
def test_the_utterance_knobs_refuse_what_the_builder_would(
    sb: Sandbox, clock: VirtualClock, call: Any, match: str
) -> None:
    ml_import(sb, clock, json.dumps(FLIGHTS).encode())
    train(sb)
    clock.advance(12)
    with pytest.raises(ValueError, match=match):
        call(sb)
    assert sb.utterances(BOT) == FLIGHTS and in_sync(sb)


def test_fail_training_turns_a_finished_training_into_a_failed_one(sb: Sandbox, clock: VirtualClock) -> None:
    first = train(sb)
    with pytest.raises(ValueError, match="has not finished"):
        sb.fail_training(first)
    clock.advance(12)
    assert sb.training_status(BOT)["trainingStatus"] == "Finished"
    sb.fail_training(first)
    status = sb.training_status(BOT)
    assert (status["trainingStatus"], status["isMlInSyncWithSentences"]) == ("Failed", False)
    assert sb.training_status(BOT, "de")["trainingStatus"] == "Finished"
    [record] = sb.trainings
    assert (record.phase, record.outcome, record.failed_later) == ("Failed", "Failed", True)
    sb.fail_training(first)  # already failed: nothing changes

    second = train(sb)
    clock.advance(1)
    assert sb.training_status(BOT)["trainingStatus"] == "Failed", "the new one is still queued"
    clock.advance(2)
    assert sb.training_status(BOT)["trainingStatus"] == "Inprogress"
    with pytest.raises(ValueError, match="no longer the latest"):
        sb.fail_training(first)
    clock.advance(10)
    assert sb.training_status(BOT)["trainingStatus"] == "Finished" and in_sync(sb)
    assert sb.trainings[1].training_id == second and not sb.trainings[1].failed_later
    with pytest.raises(ValueError, match="unknown training"):
        sb.fail_training("0" * 24)


def test_admin_api_drives_the_export_and_drift_knobs(sb: Sandbox, clock: VirtualClock) -> None:
    admin = f"{sb.url}/_sandbox"
    ml_import(sb, clock, json.dumps(FLIGHTS).encode())
    training = train(sb)
    clock.advance(12)
    settings = requests.post(
        f"{admin}/faults",
        json={
            "export_seconds": 1,
            "fail_next_export": {"bot_id": OTHER_BOT},
            "blank_download_url": [{"bot_id": BOT}, {"count": 2}],
            "edit_utterance": {
                "bot_id": BOT,
                "language": "en",
                "intent": "Flight Status",
                "old_sentence": "Is LH 123 on time?",
                "new_sentence": "Is LH 124 on time?",
            },
            "add_utterance": [
                {
                    "bot_id": BOT,
                    "language": "de",
                    "intent": "Flugstatus",
                    "sentence": "Ist LH 123 pünktlich?",
                },
                {
                    "bot_id": BOT,
                    "language": "de",
                    "intent": "X",
                    "sentence": "y",
                    "intent_type": "SubIntent",
                    "entities": [],
                },
            ],
            "fail_training": {"training_id": training},
        },
        timeout=5,
    )
    assert settings.status_code == 200, settings.text
    body = settings.json()
    assert body["export_seconds"] == 1
    assert body["pending_export_failures"] == [{"bot_id": OTHER_BOT, "count": 1}]
    assert body["pending_blank_download_urls"] == [{"bot_id": BOT, "count": 1}, {"bot_id": None, "count": 2}]
    assert sb.utterances(BOT)[2]["sentence"] == "Is LH 124 on time?"
    assert [(u["taskName"], u["type"]) for u in sb.utterances(BOT, "de")] == [
        ("Flugstatus", "DialogIntent"),
        ("X", "SubIntent"),
    ]
    assert sb.training_status(BOT)["trainingStatus"] == "Failed"
    view = requests.get(f"{admin}/utterances", timeout=5).json()["utterances"]
    assert list(view) == [BOT] and [len(view[BOT][lang]) for lang in ("en", "de")] == [3, 2]

    export(sb, bot=OTHER_BOT)
    clock.advance(1)
    assert export_status(sb, OTHER_BOT).json()["status"] == "FAILED"

    bad_bodies: list[dict[str, Any]] = [
        {"export_seconds": -1},
        {"export_seconds": "1"},
        {"fail_next_export": {"language": "en"}},
        {"blank_download_url": {"count": 0}},
        {
            "edit_utterance": {
                "bot_id": BOT,
                "language": "en",
                "intent": "Flight Status",
                "old_sentence": "gone",
                "new_sentence": "x",
            }
        },
        {"edit_utterance": {"bot_id": BOT, "language": "en", "intent": "Flight Status"}},
        {"add_utterance": {"bot_id": BOT, "language": "fr", "intent": "a", "sentence": "b"}},
        {
            "add_utterance": {
                "bot_id": BOT,
                "language": "en",
                "intent": "a",
                "sentence": "b",
                "entities": "none",
            }
        },
        {"fail_training": {"training_id": "0" * 24}},
        {"fail_training": training},
    ]
    for bad in bad_bodies:
        r = requests.post(f"{admin}/faults", json={"export_seconds": 7, **bad}, timeout=5)
        assert r.status_code == 400, bad
        assert r.json()["errors"][0]["code"] == 400
    assert sb.ml_export.export_seconds == 1, "all or nothing"
    requests.delete(f"{admin}/faults", timeout=5)
    assert (
        sb.settings()["pending_export_failures"] == [] and sb.settings()["pending_blank_download_urls"] == []
    )


def test_reset_forgets_utterances_exports_and_downloads(sb: Sandbox, clock: VirtualClock) -> None:
    ml_import(sb, clock, json.dumps(FLIGHTS).encode())
    export_id = export(sb).json()["_id"]
    clock.advance(4)
    url = sb.ml_export.download_url(export_id)
    requests.get(url, timeout=5)
    sb.ml_export.set_export_seconds(30)
    sb.ml_export.fail_next_export()
    assert requests.post(f"{sb.url}/_sandbox/reset", timeout=5).json() == {"ok": True}
    assert sb.utterances(BOT) == [] and sb.ml_export.exports == [] and sb.ml_export.downloads == []
    assert sb.ml_export.export_seconds == 4 and sb.settings()["pending_export_failures"] == []
    assert export_status(sb).status_code == 400
    assert requests.get(url, timeout=5).status_code == 404, "old links are gone"
    assert requests.get(f"{sb.url}/_sandbox/utterances", timeout=5).json() == {"utterances": {}}


# -- the models on a fake clock ----------------------------------------------------------------------------
def test_export_model_timeline_on_a_fake_clock() -> None:
    clock = VirtualClock()
    model = ExportModel(export_seconds=10, clock=clock, wall_clock=lambda: clock.now + 5000)
    assert model.status(BOT, "http://h") is None
    started = model.start_export(BOT, "en", "configured", "JSON", "cs-1", FLIGHTS)
    clock.advance(5)
    running = model.status(BOT, "http://h")
    assert running is not None
    assert running == {**started, "percentageComplete": 49, "lMod": running["lMod"]}
    model.export_seconds = 0  # later exports only
    clock.advance(5)
    done = model.status(BOT, "http://h")
    assert done is not None and done["status"] == "SUCCESS"
    token = str(done["downloadUrl"]).rsplit("/", 1)[1]
    found = model.download(token)
    assert found is not None and json.loads(found.content) == FLIGHTS and found.file_type == "JSON"
    assert model.download("x" * len(token)) is None
    with pytest.raises(ValueError, match="export_seconds"):
        model.export_seconds = -1
    with pytest.raises(ValueError, match="count"):
        model.fail_next_export(count=0)


def test_utterance_store_replaces_intents_in_place() -> None:
    store = UtteranceStore()
    store.replace_intents(
        BOT, "en", [{"taskName": "A", "sentence": "a1"}, {"taskName": "B", "sentence": "b1"}]
    )
    store.replace_intents(
        BOT,
        "en",
        [
            {"taskName": "A", "sentence": "a2", "type": "SubIntent", "entities": "bad"},
            {"taskName": "C", "sentence": "c1"},
        ],
    )
    assert [
        (u["taskName"], u["sentence"], u["type"], u["entities"]) for u in store.utterances(BOT, "en")
    ] == [
        ("A", "a2", "SubIntent", []),
        ("B", "b1", "DialogIntent", []),
        ("C", "c1", "DialogIntent", []),
    ]
    assert store.languages() == [(BOT, "en")] and store.utterances(BOT, "de") == []


# -- the command line --------------------------------------------------------------------------------------
def test_cli_prints_every_demo_app_and_the_download_host(
    sandbox_process: Callable[..., SandboxProcess],
) -> None:
    sandbox = sandbox_process("--definition-import-seconds", "0.5", "--export-seconds", "0.5")
    out = sandbox.banner
    text = "\n".join(out)
    for app, kinds in (
        (DEMO_BOT_APP, "[bot-level]"),
        (DEMO_ADMIN_APP, "[Admin Console]"),
        (DEMO_APP, "[bot-level + Admin Console]"),
    ):
        assert (
            f"app {app.name}: client id {app.client_id}  client secret {app.client_secret}  "
            f"(export KORE_CLIENT_ID={app.client_id} KORE_CLIENT_SECRET={app.client_secret})  {kinds}"
        ) in text
    match = re.search(r"ML export downloads served at (http://127\.0\.0\.\d+:\d+)", text)
    assert match, text
    assert "definition imports 0.5 s, ML exports 0.5 s" in text
    sandbox.stop()
