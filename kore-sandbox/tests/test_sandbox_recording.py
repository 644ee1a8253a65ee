"""Recordings of a Kore.ai host's answers (kore_sandbox/recording.py: redaction, shapes, comparison, the file)
and the recording proxy that makes them (recording_proxy.py), here in front of a real sandbox."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import jwt
import pytest
import requests

from documented import BOT
from kore_sandbox import DEMO_APP, Sandbox
from kore_sandbox.recording import (
    BYTES,
    EMPTY,
    MULTIPART,
    Difference,
    Exchange,
    Recording,
    RecordingError,
    body_shape,
    compare,
    exchange_of,
    header_names,
    looks_like_id,
    redact_path,
    redact_query,
    shape_of,
    words_of,
)
from kore_sandbox.recording_proxy import RecordingProxy, forwarded_headers, rewritten_links, target_problem
from kore_sandbox.testing import wait_until

pytestmark = pytest.mark.sandbox

UUID = "7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01"


def token() -> str:
    claims = {"appId": DEMO_APP.client_id, "exp": int(time.time()) + 300}
    return jwt.encode(claims, DEMO_APP.client_secret, algorithm="HS256")


# -- redaction -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"st-{UUID}",
        f"bir-{UUID}",
        f"ds-{UUID}",
        "65f1c3a2e8b7d4e6f9a0b1c2",  # a 24-hex id
        UUID,
        f"f-{UUID}",
        "eyJhbGciOiJIUzI1NiJ9.eyJhcHBJZCI6ImNzIn0.sig",
        "Zx9qL2mN8pR4tV6wY1bC3dF5",  # a token with a digit, 20+ characters
    ],
)
def test_ids_tokens_and_hashes_look_like_ids(text: str) -> None:
    assert looks_like_id(text)


@pytest.mark.parametrize(
    "text",
    ["isMlInSyncWithSentences", "trainingStatus", "Training_ID", "en", "zh_cn", "statusLogs", "_id", "__v"],
)
def test_field_names_and_language_codes_do_not(text: str) -> None:
    assert not looks_like_id(text)


@pytest.mark.parametrize(
    ("path", "redacted"),
    [
        (f"/api/public/bot/st-{UUID}/ml/train", "/api/public/bot/{bot_id}/ml/train"),
        (
            f"/api/public/bot/st-{UUID}/mlimport/status/bir-{UUID}",
            "/api/public/bot/{bot_id}/mlimport/status/{id}",
        ),
        (f"/api/public/bot/import/status/bir-{UUID}", "/api/public/bot/import/status/{id}"),
        (
            f"/api/1.1/public/builder/bot/st-{UUID}/variables/import",
            "/api/1.1/public/builder/bot/{bot_id}/variables/import",
        ),
        ("/api/getMediaStream/market/onlyletterstoken", "/api/getMediaStream/market/{token}"),
        ("/api/getMediaStream/market/a1b2c3/", "/api/getMediaStream/market/{token}/"),
        ("/api/public/uploadfile", "/api/public/uploadfile"),
        ("/api/public/bot/65f1c3a2e8b7d4e6f9a0b1c2/x", "/api/public/bot/{id}/x"),
    ],
)
def test_a_path_keeps_its_route_words_and_loses_its_ids(path: str, redacted: str) -> None:
    assert redact_path(path) == redacted


def test_a_query_keeps_its_names_and_only_the_vocabulary_values() -> None:
    query = {"language": "en", "state": "configured", "type": "json", "token": "abc", "language2": "en"}
    assert redact_query(query) == {
        "language": "en",
        "language2": "<redacted>",
        "state": "configured",
        "token": "<redacted>",
        "type": "json",
    }
    assert redact_query({"language": f"st-{UUID}", "state": "a b"}) == {
        "language": "<redacted>",
        "state": "<redacted>",
    }


def test_header_names_keep_what_the_api_says_and_never_a_value() -> None:
    assert header_names(["Content-Type", "Retry-After", "Date", "Content-Length", "Connection"]) == (
        "content-type",
        "retry-after",
    )


# -- shapes --------------------------------------------------------------------------------------------------


def test_a_shape_holds_keys_and_types_and_no_value() -> None:
    answer = {
        "_id": f"ds-{UUID}",
        "status": "successful",
        "percentageComplete": 100,
        "ratio": 0.5,
        "done": True,
        "streamId": BOT,
        "note": None,
        "statusSummary": [
            {"platform": "NL", "status": "SUCCESS"},
            {"platform": "KG", "status": "SUCCESS"},
            {"platform": "NL", "status": "FAILED", "message": "secret words"},
        ],
        "tags": ["a", 1, "b"],
        "empty": [],
        "byBot": {BOT: {"n": 1}, f"st-{UUID[:-1]}2": {"n": 2}},
    }
    shape = shape_of(answer)
    assert shape == {
        "_id": "str",
        "byBot": {"<id>": {"n": "number"}},
        "done": "bool",
        "empty": [],
        "note": "null",
        "percentageComplete": "number",
        "ratio": "number",
        "status": "str",
        "statusSummary": [
            {"message": "str", "platform": "str", "status": "str"},
            {"platform": "str", "status": "str"},
        ],
        "streamId": "str",
        "tags": ["number", "str"],
    }
    text = json.dumps(shape)
    for value in ("successful", "ds-", "st-", "secret words", "SUCCESS", "NL"):
        assert value not in text


def test_id_keys_give_one_shape_whatever_the_ids() -> None:
    one = shape_of({f"st-{UUID}": {"a": 1}, f"bir-{UUID}": {"b": "x"}})
    other = shape_of({f"bir-{UUID}": {"b": "x"}, f"st-{UUID}": {"a": 1}})
    assert one == other and list(one) == ["<id>"]


def test_a_body_that_is_not_json_is_named_by_its_kind() -> None:
    assert body_shape(b"", "application/json") == EMPTY
    assert body_shape(b"--x\r\n...", "multipart/form-data; boundary=x") == MULTIPART
    assert body_shape(b"taskName,sentence\nBook,Fly me\n", "text/csv") == BYTES
    assert body_shape(b"\xff\xfe", None) == BYTES
    assert body_shape(b'[{"taskName": "Book"}]', "application/json") == [{"taskName": "str"}]


def test_an_exchange_is_recorded_without_its_values() -> None:
    exchange = exchange_of(
        step="up",
        method="get",
        path=f"/api/public/bot/{BOT}/ml/train/status",
        query={"language": "en", "state": "configured"},
        language=None,
        status=200,
        answer_headers=[("Content-Type", "application/json"), ("Retry-After", "3"), ("Date", "now")],
        answer=json.dumps({"trainingStatus": "Finished"}).encode(),
    )
    assert exchange == Exchange(
        step="up",
        method="GET",
        path="/api/public/bot/{bot_id}/ml/train/status",
        query={"language": "en", "state": "configured"},
        language=None,
        status=200,
        answer={"trainingStatus": "str"},
        headers=("content-type", "retry-after"),
    )


# -- the file ------------------------------------------------------------------------------------------------


def exchange(
    path: str = "/api/x", status: int | None = 200, answer: object = "str", **fields: object
) -> Exchange:
    values: dict[str, object] = {
        "step": None,
        "method": "GET",
        "path": path,
        "query": {},
        "language": None,
        "status": status,
        "answer": answer,
        "headers": (),
        **fields,
    }
    return Exchange(**values)  # type: ignore[arg-type]


def test_a_recording_reads_back_what_it_wrote() -> None:
    recording = Recording(
        "tenant", (exchange(answer={"a": ["str"]}, step="up", language="de"), exchange(status=None))
    )
    assert Recording.loads(recording.dumps()) == recording


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(format="other"), "not a recording"),
        (
            lambda d: d["exchanges"][0]["answer"].update(key="a real value"),
            "exchanges[0]: answer: $.key holds a value",
        ),
        (
            lambda d: d["exchanges"][0].update(status="200"),
            "exchanges[0]: status is missing or of the wrong type",
        ),
        (
            lambda d: d["exchanges"][0].update(status=True),
            "exchanges[0]: status is missing or of the wrong type",
        ),
        (lambda d: d["exchanges"][0]["query"].update(q=1), "query values and header names must be strings"),
        (lambda d: d.pop("exchanges"), "a recording needs a target"),
    ],
)
def test_a_file_that_holds_anything_but_shapes_is_refused(edit, message: str) -> None:
    data = Recording("tenant", (exchange(answer={"key": "str"}),)).to_json()
    edit(data)
    with pytest.raises(RecordingError, match=re.escape(message)):
        Recording.loads(json.dumps(data))


def test_the_words_of_a_recording_are_everything_in_it_but_type_names() -> None:
    recording = Recording(
        "tenant",
        (
            exchange(
                step="up",
                query={"language": "en"},
                language="de",
                headers=("retry-after",),
                answer={"a": [{"b": "str"}]},
            ),
        ),
    )
    assert words_of(recording) == ["GET /api/x", "a", "b", "de", "language=en", "retry-after", "tenant", "up"]


# -- comparison ----------------------------------------------------------------------------------------------


def describe(recorded: list[Exchange], sandbox: list[Exchange]) -> list[str]:
    return [
        d.describe()
        for d in compare(Recording("tenant", tuple(recorded)), Recording("sandbox", tuple(sandbox)))
    ]


def test_the_same_shapes_compare_clean_however_often_and_in_whatever_order_they_came() -> None:
    a, b = exchange(answer={"x": "str"}), exchange("/api/y", answer=["number"])
    assert describe([a, b, a], [b, a]) == []


def test_endpoints_and_statuses_on_one_side_only_are_listed() -> None:
    assert describe([exchange("/api/x"), exchange("/api/y")], [exchange("/api/x"), exchange("/api/z")]) == [
        "GET /api/y: called in the recording, never in the sandbox's run",
        "GET /api/z: called in the sandbox's run, never in the recording",
    ]
    assert describe([exchange(status=200), exchange(status=429)], [exchange(status=None)]) == [
        "GET /api/x: status 200, 429 in the recording, no answer from the sandbox"
    ]


def test_keys_missing_extra_and_of_another_type_are_listed_once_at_their_top() -> None:
    recorded = exchange(
        answer={"same": "str", "gone": {"deep": {"deeper": "str"}}, "kind": "str", "n": "number"}
    )
    sandbox = exchange(answer={"same": "str", "new": [{"x": "bool"}], "kind": {"x": "str"}, "n": "number"})
    assert describe([recorded], [sandbox]) == [
        "GET /api/x (200): $.gone (object) is in the recording, missing from the sandbox",
        "GET /api/x (200): $.kind is str in the recording, object from the sandbox",
        "GET /api/x (200): $.new (array) is extra in the sandbox, not in the recording",
    ]


def test_answers_of_one_endpoint_and_status_are_compared_together() -> None:
    """A key that only some answers have (a job's message once it ended) is no difference, as long as
    some answer on each side has it; each status is compared with its own kind."""
    pending, done = exchange(answer={"status": "str"}), exchange(answer={"status": "str", "message": "str"})
    error = exchange(status=400, answer={"errors": [{"msg": "str"}]})
    assert describe([pending, done, error], [done, error]) == []
    assert describe(
        [pending, error], [done, exchange(status=400, answer={"errors": [{"msg": "number"}]})]
    ) == [
        "GET /api/x (200): $.message (str) is extra in the sandbox, not in the recording",
        "GET /api/x (400): $.errors[].msg is str in the recording, number from the sandbox",
    ]


def test_array_items_and_keys_that_are_not_identifiers_have_paths() -> None:
    assert describe([exchange(answer=[{"a b": "str"}])], [exchange(answer=[])]) == [
        "GET /api/x (200): $[] (object) is in the recording, missing from the sandbox"
    ]
    assert describe([exchange(answer={"a b": "str"})], [exchange(answer={"a b": "null"})]) == [
        'GET /api/x (200): $["a b"] is str in the recording, null from the sandbox'
    ]


def test_a_difference_is_a_record_with_named_fields() -> None:
    difference = Difference(
        endpoint="GET /x", kind="type", status=200, path="$.a", recorded="str", sandbox="null"
    )
    assert difference.describe() == "GET /x (200): $.a is str in the recording, null from the sandbox"


# -- the proxy, in front of a sandbox ------------------------------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(
        training_seconds=0.2, queue_seconds=0.1, export_seconds=0.1, readings={"download-host": "api-host"}
    ) as sb:
        yield sb


@pytest.fixture
def proxy(sandbox: Sandbox) -> Iterator[RecordingProxy]:
    with RecordingProxy(sandbox.url, label="sandbox") as recording_proxy:
        yield recording_proxy


def test_the_proxy_forwards_everything_and_records_nothing_secret(
    sandbox: Sandbox, proxy: RecordingProxy
) -> None:
    auth = token()
    proxy.begin_step("train")
    trained = requests.post(
        f"{proxy.url}/api/public/bot/{BOT}/ml/train", headers={"auth": auth, "bot-language": "de"}, timeout=10
    )
    assert trained.status_code == 200
    training_id = trained.json()[0]["Training_ID"]
    proxy.begin_step("variables")
    variables = [
        {"key": "apiKey", "value": "value-never-recorded", "variableType": "env", "scope": "prePopulated"}
    ]
    imported = requests.post(
        f"{proxy.url}/api/1.1/public/builder/bot/{BOT}/variables/import",
        headers={"auth": token()},
        json=variables,
        timeout=10,
    )
    assert imported.status_code == 200
    exported = requests.post(
        f"{proxy.url}/api/1.1/public/builder/bot/{BOT}/variables/export",
        headers={"auth": token()},
        timeout=10,
    )
    assert exported.json()[0]["value"] == "value-never-recorded"  # forwarded as it came
    denied = requests.get(f"{proxy.url}/api/public/bot/{BOT}/ml/train/status", timeout=10)
    assert denied.status_code == 401

    # The sandbox got the requests as the client sent them, its own token included.
    assert [(c.method, c.status, c.language) for c in sandbox.calls][:1] == [("POST", 200, "de")]
    text = proxy.recording().dumps()
    for secret in (
        auth,
        DEMO_APP.client_secret,
        DEMO_APP.client_id,
        BOT,
        training_id,
        "value-never-recorded",
    ):
        assert secret not in text
    assert "eyJ" not in text
    assert [(e.step, e.endpoint, e.status, e.language) for e in proxy.exchanges] == [
        ("train", "POST /api/public/bot/{bot_id}/ml/train", 200, "de"),
        ("variables", "POST /api/1.1/public/builder/bot/{bot_id}/variables/import", 200, None),
        ("variables", "POST /api/1.1/public/builder/bot/{bot_id}/variables/export", 200, None),
        ("variables", "GET /api/public/bot/{bot_id}/ml/train/status", 401, None),
    ]
    assert proxy.exchanges_in("train")[0].answer == [{"Training_ID": "str", "message": "str"}]
    assert Recording.loads(text).exchanges == tuple(proxy.exchanges)


def test_a_download_link_on_the_target_goes_through_the_proxy_and_its_token_is_not_recorded(
    sandbox: Sandbox, proxy: RecordingProxy
) -> None:
    """Under `download-host=api-host` the export's link is on the API host: the proxy points it at itself,
    so the client treats it as its configured host (and sends its token there, as it would directly)."""
    started = requests.post(
        f"{proxy.url}/api/public/bot/{BOT}/mlexport",
        params={"state": "configured", "type": "json"},
        headers={"auth": token(), "bot-language": "en"},
        timeout=10,
    )
    assert started.status_code == 200

    def link() -> str | None:
        status = requests.get(
            f"{proxy.url}/api/public/bot/{BOT}/mlexport/status", headers={"auth": token()}, timeout=10
        )
        return status.json().get("downloadUrl")

    wait_until(link, "the export to succeed")
    url = link()
    assert url is not None and url.startswith(proxy.url + "/api/getMediaStream/market/")
    downloaded = requests.get(url, headers={"auth": token()}, timeout=10)
    assert downloaded.status_code == 200 and downloaded.json() == []
    last = proxy.exchanges[-1]
    assert (last.endpoint, last.status, last.answer) == ("GET /api/getMediaStream/market/{token}", 200, [])
    assert url.rsplit("/", 1)[1] not in proxy.recording().dumps()


def test_a_target_that_does_not_answer_is_a_502_and_an_exchange_without_status() -> None:
    with Sandbox() as stopped:
        url = stopped.url
    with RecordingProxy(url, label="tenant") as proxy:
        answer = requests.get(f"{proxy.url}/api/public/bot/{BOT}/publish/status", timeout=10)
    assert answer.status_code == 502
    assert "did not answer" in answer.json()["errors"][0]["msg"]
    assert [(e.endpoint, e.status, e.answer) for e in proxy.exchanges] == [
        ("GET /api/public/bot/{bot_id}/publish/status", None, EMPTY)
    ]


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("https://platform.kore.ai", None),
        ("http://127.0.0.1:8089", None),
        ("http://platform.kore.ai", "plain http:// to a host that is not loopback"),
        ("ftp://platform.kore.ai", "not an http(s) URL"),
        ("https://user:pw@platform.kore.ai", "must be a base URL"),
    ],
)
def test_the_proxy_forwards_over_https_or_to_loopback_only(target: str, problem: str | None) -> None:
    found = target_problem(target)
    assert found is None if problem is None else problem in (found or "")
    if problem is not None:
        with pytest.raises(ValueError, match=re.escape(problem)):
            RecordingProxy(target, label="tenant")


def test_forwarded_headers_keep_the_token_and_drop_the_connections_own() -> None:
    headers = {
        "auth": "t",
        "Host": "127.0.0.1:1",
        "Connection": "keep-alive",
        "Accept-Encoding": "gzip",
        "bot-language": "en",
    }
    assert forwarded_headers(headers, "platform.kore.ai") == {
        "auth": "t",
        "bot-language": "en",
        "Host": "platform.kore.ai",
        "Accept-Encoding": "identity",
    }


def test_links_to_the_target_are_rewritten_to_the_proxy_and_others_left_alone() -> None:
    body = json.dumps(
        {
            "downloadUrl": "https://t.example/api/getMediaStream/market/x",
            "other": "https://files.example/x",
            "n": 1,
        }
    ).encode()
    rewritten = json.loads(
        rewritten_links(body, "application/json", "https://t.example", "http://127.0.0.1:9")
    )
    assert rewritten == {
        "downloadUrl": "http://127.0.0.1:9/api/getMediaStream/market/x",
        "other": "https://files.example/x",
        "n": 1,
    }
    assert rewritten_links(body, "text/plain", "https://t.example", "http://127.0.0.1:9") == body
    assert (
        rewritten_links(b"https://t.example{", "application/json", "https://t.example", "x")
        == b"https://t.example{"
    )
