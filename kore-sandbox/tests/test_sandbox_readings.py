"""The sandbox's readings (kore-sandbox/kore_sandbox/readings.py): one switch per open question about
Kore.ai's API, each value played over real HTTP against a real sandbox on 127.0.0.1 with real JWTs; timing
on a fake clock. Also the table, its validation, the admin API, the CLI option and the language rule.
Nothing from kore_resources is imported except the sandbox."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from documented import BOT, CREDENTIALS, VALIDATION, token
from kore_sandbox import (
    DEFAULT_READINGS,
    DEMO_ADMIN_APP,
    DEMO_APP,
    DEMO_BOT_APP,
    DEMO_BOTS,
    RATE_LIMIT_COMMUNITY_MSG,
    RATE_LIMIT_LEGACY_MSG,
    RATE_LIMIT_MINUTE_MSG,
    READINGS,
    RateLimit,
    Readings,
    Sandbox,
    SandboxApp,
    SandboxBot,
    check_reading,
)
from kore_sandbox.testing import HANG_SECONDS, VirtualClock
from sandbox_process import SandboxProcess

pytestmark = pytest.mark.sandbox

ROOT = Path(__file__).resolve().parent.parent
FLIGHTS = [{"taskName": "Book Flight", "sentence": "Book a flight to Lisbon", "language": "en"}]
FLUEGE = [{"taskName": "Book Flight", "sentence": "Buche einen Flug nach Lissabon", "language": "de"}]
#: An app linked to no bot (so it may read none), with the export scope.
STRANGER = SandboxApp(
    "stranger",
    "cs-00000000-0000-4000-8000-0000000000f1",
    "stranger-secret-not-for-production",
    scopes=frozenset({"Utterances Export"}),
)


#: The documented limit (60 a minute, 1800 an hour).
DOCUMENTED_LIMIT = RateLimit()


def sandbox(clock: VirtualClock, limit: RateLimit = DOCUMENTED_LIMIT, **readings: str) -> Sandbox:
    """Trainings 10 s after 2 s queued, ML imports 5 s, publishes 8 s, definition imports 3 s, exports 4 s:
    all on the fake clock; `limit` for the train-family endpoints. Keyword `a_b=...` is reading `a-b`."""
    return Sandbox(
        training_seconds=10,
        queue_seconds=2,
        import_seconds=5,
        publish_seconds=8,
        definition_import_seconds=3,
        export_seconds=4,
        clock=clock,
        train_rate_limit=limit,
        readings={name.replace("_", "-"): value for name, value in readings.items()},
        apps=[STRANGER],
    )


@pytest.fixture
def sb(clock: VirtualClock) -> Iterator[Sandbox]:
    """A sandbox with every reading at its default (the tests switch them)."""
    with sandbox(clock) as started:
        yield started


# -- calls ---------------------------------------------------------------------------------------------
def train(sb: Sandbox, language: str = "en", bot: str = BOT) -> requests.Response:
    return requests.post(
        f"{sb.url}/api/public/bot/{bot}/ml/train",
        headers={"auth": token(), "bot-language": language},
        timeout=5,
    )


def train_status(sb: Sandbox, **params: str) -> requests.Response:
    return requests.get(
        f"{sb.url}/api/public/bot/{BOT}/ml/train/status", headers={"auth": token()}, params=params, timeout=5
    )


def upload(sb: Sandbox, content: bytes, name: str = "ml.json", extension: str = "json") -> requests.Response:
    return requests.post(
        f"{sb.url}/api/public/uploadfile",
        headers={"auth": token()},
        files={"file": (name, content, "application/octet-stream")},
        data={"fileContext": "bulkImport", "fileExtension": extension},
        timeout=5,
    )


def ml_import(sb: Sandbox, content: bytes, language: str = "en") -> requests.Response:
    file_id = upload(sb, content).json()["fileId"]
    return requests.post(
        f"{sb.url}/api/public/bot/{BOT}/mlimport",
        headers={"auth": token(), "bot-language": language},
        json={"fileName": "ml.json", "fileId": file_id},
        timeout=5,
    )


def ml_import_status(sb: Sandbox, import_id: str) -> requests.Response:
    return requests.get(
        f"{sb.url}/api/public/bot/{BOT}/mlimport/status/{import_id}", headers={"auth": token()}, timeout=5
    )


def imported(sb: Sandbox, clock: VirtualClock, records: list[dict[str, str]], language: str) -> None:
    """Import utterances into a bot language and let the import finish."""
    assert ml_import(sb, json.dumps(records).encode(), language).status_code == 200
    clock.advance(5)
    assert sb.pipeline.imports[-1].status == "success"


def publish(sb: Sandbox) -> requests.Response:
    return requests.post(
        f"{sb.url}/api/public/bot/{BOT}/publish",
        headers={"auth": token()},
        json={"versionComment": "readings"},
        timeout=5,
    )


def publish_status(sb: Sandbox) -> dict[str, Any]:
    r = requests.get(f"{sb.url}/api/public/bot/{BOT}/publish/status", headers={"auth": token()}, timeout=5)
    assert r.status_code == 200, r.text
    return dict(r.json())


def bot_import(sb: Sandbox, **extra: Any) -> requests.Response:
    definition = upload(sb, json.dumps({"dialogs": []}).encode(), "botDefinition.json").json()["fileId"]
    config = upload(sb, json.dumps({"name": "travel"}).encode(), "config.json").json()["fileId"]
    return requests.post(
        f"{sb.url}/api/public/bot/{BOT}/import",
        headers={"auth": token(DEMO_ADMIN_APP)},
        json={"botDefinition": definition, "configInfo": config, **extra},
        timeout=5,
    )


def variables(sb: Sandbox, op: str, body: Any = None) -> requests.Response:
    return requests.post(
        f"{sb.url}/api/1.1/public/builder/bot/{BOT}/variables/{op}",
        headers={"auth": token(DEMO_BOT_APP)},
        json=body,
        timeout=5,
    )


def export(sb: Sandbox, language: str | None = None) -> requests.Response:
    headers = {"auth": token()}
    if language is not None:
        headers["bot-language"] = language
    return requests.post(
        f"{sb.url}/api/public/bot/{BOT}/mlexport?state=configured&type=json", headers=headers, timeout=5
    )


def export_status(sb: Sandbox) -> dict[str, Any]:
    r = requests.get(f"{sb.url}/api/public/bot/{BOT}/mlexport/status", headers={"auth": token()}, timeout=5)
    assert r.status_code == 200, r.text
    return dict(r.json())


def admin(sb: Sandbox, method: str, path: str, **kw: Any) -> requests.Response:
    return requests.request(method, f"{sb.url}/_sandbox/{path}", timeout=5, **kw)


# -- the table and its validation ----------------------------------------------------------------------
def test_every_reading_is_kebab_case_with_distinct_described_values_including_its_default() -> None:
    assert len(READINGS) == len({r.name for r in READINGS}) == 16
    for reading in READINGS:
        assert reading.name == reading.name.lower() and " " not in reading.name and "_" not in reading.name
        assert reading.default in reading.values and len(set(reading.values)) == len(reading.values) >= 2
        assert all(choice.description.strip() for choice in reading.choices), reading.name
        assert reading.question.strip() and "ASSUMPTION" in reading.stands_for, reading.name
        assert DEFAULT_READINGS[reading.name] == reading.default


def test_the_defaults_are_the_assumptions_and_now_the_documented_publish_words_and_upload_answer() -> None:
    assert dict(DEFAULT_READINGS) == {
        "rate-limit-status": "429",
        "rate-limit-retry-after": "seconds",
        "rate-limit-message": "per-window",
        "untrained-language": "trained",
        "queued-training": "stale",
        "sync-flags": "all",
        "secured-on-import": "honoured",
        "export-language": "header",
        "export-status-id": "same",
        "publish-words": "documented",
        "upload-answer": "documented",
        "import-without-options": "full",
        "variables-bad-body": "500",
        "ml-import-failure-word": "failure",
        "bot-import-failure-word": "failure",
        "download-host": "separate",
    }


def test_a_bad_value_is_a_value_error_naming_the_reading_and_its_allowed_values() -> None:
    with pytest.raises(ValueError) as bad_value:
        Readings({"publish-words": "in-progress"})
    assert str(bad_value.value) == (
        "reading 'publish-words' cannot be 'in-progress'; allowed: documented (default), hyphenated, upper"
    )
    with pytest.raises(
        ValueError, match=r"unknown reading 'publish-word'; the readings are: rate-limit-status, "
    ):
        Readings({"publish-word": "upper"})
    with pytest.raises(ValueError, match="'rate-limit-status' cannot be True"):
        check_reading("rate-limit-status", True)


def test_a_number_is_taken_as_its_text() -> None:
    assert check_reading("rate-limit-status", 503) == "503"
    assert Readings({"variables-bad-body": 400})["variables-bad-body"] == "400"


def test_an_update_is_all_or_nothing() -> None:
    readings = Readings({"sync-flags": "none"})
    with pytest.raises(ValueError, match="download-host"):
        readings.update({"publish-words": "upper", "download-host": "cdn"})
    assert readings.as_dict() == {**DEFAULT_READINGS, "sync-flags": "none"}
    assert readings.changed() == {"sync-flags": "none"}
    readings.update({"publish-words": "upper"})
    assert readings["publish-words"] == "upper"
    with pytest.raises(ValueError, match="unknown reading 'nope'"):
        readings["nope"]


def test_the_constructor_refuses_a_bad_reading_before_listening(clock: VirtualClock) -> None:
    with pytest.raises(
        ValueError, match=r"reading 'queued-training' cannot be 'queued'; allowed: stale \(default\)"
    ):
        sandbox(clock, queued_training="queued")


def test_set_reading_switches_one_and_reset_returns_to_the_constructors_readings(clock: VirtualClock) -> None:
    with sandbox(clock, queued_training="inprogress") as sb:
        assert sb.readings == {**DEFAULT_READINGS, "queued-training": "inprogress"}
        sb.set_reading("sync-flags", "none")
        sb.set_reading("queued-training", "queued-word")
        with pytest.raises(ValueError, match="allowed: all \\(default\\), none"):
            sb.set_reading("sync-flags", "some")
        with pytest.raises(ValueError, match="sync-flags"):
            sb.set_readings({"queued-training": "stale", "sync-flags": "some"})
        assert (sb.readings["sync-flags"], sb.readings["queued-training"]) == ("none", "queued-word")
        assert train_status(sb).json() == {"trainingStatus": "Finished"}
        sb.reset()  # readings are configuration: back to what the constructor was given, like the knobs
        assert sb.readings == {**DEFAULT_READINGS, "queued-training": "inprogress"}
        assert train(sb).status_code == 200
        assert train_status(sb).json()["trainingStatus"] == "Inprogress"


# -- rate limits -----------------------------------------------------------------------------------------
TWO_A_MINUTE = RateLimit(per_minute=2, per_hour=100)


def refused(sb: Sandbox) -> requests.Response:
    """The third train POST in a minute: refused by the sandbox's limit of two."""
    assert [train(sb).status_code, train(sb, "de").status_code] == [200, 200]
    return train(sb)


@pytest.mark.parametrize("status", ["400", "403", "503"])
def test_rate_limit_status_sets_the_status_and_code_of_a_refusal(clock: VirtualClock, status: str) -> None:
    with sandbox(clock, TWO_A_MINUTE, rate_limit_status=status) as sb:
        r = refused(sb)
        assert (r.status_code, r.json()) == (
            int(status),
            {"errors": [{"msg": RATE_LIMIT_MINUTE_MSG, "code": int(status)}]},
        )
        assert r.headers["Retry-After"] == "60"
        assert len(sb.trainings) == 2


def test_rate_limit_retry_after_none_sends_no_retry_after_header(clock: VirtualClock) -> None:
    with sandbox(clock, TWO_A_MINUTE, rate_limit_retry_after="none") as sb:
        r = refused(sb)
        assert r.status_code == 429 and "Retry-After" not in r.headers
        assert r.json()["errors"][0]["msg"] == RATE_LIMIT_MINUTE_MSG


@pytest.mark.parametrize(
    ("message", "text"),
    [
        ("legacy", "Rate limit for this API has been reached. Please try again after some time."),
        ("community", "Rate limit for this API has been reached. Please try again later"),
    ],
)
def test_rate_limit_message_sets_the_msg_of_every_familys_refusal(
    clock: VirtualClock, message: str, text: str
) -> None:
    with sandbox(clock, TWO_A_MINUTE, rate_limit_message=message) as sb:
        assert text == {"legacy": RATE_LIMIT_LEGACY_MSG, "community": RATE_LIMIT_COMMUNITY_MSG}[message]
        assert refused(sb).json() == {"errors": [{"msg": text, "code": 429}]}
        assert [publish(sb).status_code for _ in range(3)] == [200, 200, 429]
        assert publish(sb).json()["errors"][0]["msg"] == text


# -- ML train status ---------------------------------------------------------------------------------------
def test_the_default_reading_starts_every_language_with_a_finished_training(sb: Sandbox) -> None:
    assert train_status(sb).json()["trainingStatus"] == "Finished"
    assert train(sb).status_code == 200
    assert train_status(sb).json()["trainingStatus"] == "Finished", "stale while queued"


@pytest.mark.parametrize("status", ["400", "404"])
def test_untrained_language_error_answers_until_the_first_training_shows(
    clock: VirtualClock, status: str
) -> None:
    error = {"errors": [{"msg": "No training found for the language 'en'", "code": int(status)}]}
    with sandbox(clock, untrained_language=status) as sb:
        r = train_status(sb)
        assert (r.status_code, r.json()) == (int(status), error)
        assert train(sb).status_code == 200
        r = train_status(sb)
        assert (r.status_code, r.json()) == (int(status), error), "queued: still no training to describe"
        clock.advance(2)
        running = train_status(sb).json()
        assert running["trainingStatus"] == "Inprogress"
        assert running["isMlInSyncWithSentences"] is False, "no model trained yet"
        clock.advance(10)
        finished = train_status(sb).json()
        assert (finished["trainingStatus"], finished["isMlInSyncWithSentences"]) == ("Finished", True)
        de = train_status(sb, language="de")
        assert de.status_code == int(status) and "'de'" in de.json()["errors"][0]["msg"]
        assert train_status(sb, language="de", state="published").json()["trainingStatus"] == "Finished"
        assert sb.training_status(BOT, "de") == {
            "errors": [{"msg": "No training found for the language 'de'", "code": int(status)}]
        }


@pytest.mark.parametrize(("untrained", "body"), [("empty", {}), ("null", {"trainingStatus": None})])
def test_untrained_language_empty_or_null_answers_200_until_the_first_training_shows(
    clock: VirtualClock, untrained: str, body: dict[str, Any]
) -> None:
    with sandbox(clock, untrained_language=untrained) as sb:
        r = train_status(sb)
        assert (r.status_code, r.json()) == (200, body)
        assert train(sb).status_code == 200
        assert train_status(sb).json() == body
        clock.advance(2)
        assert train_status(sb).json()["trainingStatus"] == "Inprogress"
        clock.advance(10)
        assert train_status(sb).json()["trainingStatus"] == "Finished"
        assert sb.training_status(BOT, "de") == body


@pytest.mark.parametrize(("queued", "word"), [("inprogress", "Inprogress"), ("queued-word", "Queued")])
def test_queued_training_shows_the_queued_training_at_once(
    clock: VirtualClock, queued: str, word: str
) -> None:
    with sandbox(clock, queued_training=queued) as sb:
        assert train_status(sb).json()["trainingStatus"] == "Finished"
        assert train(sb).status_code == 200
        body = train_status(sb).json()
        assert body["trainingStatus"] == word and "trainDetails" not in body
        assert sb.trainings[0].phase == "queued"
        clock.advance(2)
        assert train_status(sb).json()["trainingStatus"] == "Inprogress"
        clock.advance(10)
        assert train_status(sb).json()["trainingStatus"] == "Finished"


def test_a_queued_first_training_shows_under_queued_training_even_when_untrained(clock: VirtualClock) -> None:
    with sandbox(clock, untrained_language="404", queued_training="inprogress") as sb:
        assert train_status(sb).status_code == 404
        assert train(sb).status_code == 200
        assert train_status(sb).json()["trainingStatus"] == "Inprogress"


def test_sync_flags_none_answers_the_training_status_alone(clock: VirtualClock) -> None:
    with sandbox(clock, sync_flags="none") as sb:
        assert train_status(sb).json() == {"trainingStatus": "Finished"}
        assert train_status(sb, state="published").json() == {"trainingStatus": "Finished"}
        sb.fail_next_training(BOT)
        train(sb)
        clock.advance(2)
        assert train_status(sb).json() == {"trainingStatus": "Inprogress"}
        clock.advance(10)
        assert train_status(sb).json() == {"trainingStatus": "Failed"}


# -- variables ---------------------------------------------------------------------------------------------
def test_secured_on_import_ignored_keeps_the_flag_and_a_new_variable_exports_in_clear(
    clock: VirtualClock,
) -> None:
    key = {"variableType": "env", "scope": "hidden"}
    with sandbox(clock, secured_on_import="ignored") as sb:
        assert variables(sb, "import", [{**key, "key": "api_key", "value": "s3cret", "isSecured": True}]).ok
        assert variables(sb, "export").json()[0]["value"] == "s3cret"
        assert variables(sb, "export").json()[0]["isSecured"] is False
        sb.secure_variable(BOT, "api_key")
        assert variables(sb, "import", [{**key, "key": "api_key", "value": "rotated", "isSecured": False}]).ok
        [exported] = variables(sb, "export").json()
        assert (exported["value"], exported["isSecured"]) == ("", True), "an import cannot unsecure it"
        assert sb.variables(BOT)[0]["value"] == "rotated"


def test_variables_bad_body_400_answers_the_validation_envelope(clock: VirtualClock) -> None:
    with sandbox(clock, variables_bad_body="400") as sb:
        for body in ([], [{"key": "x"}], {"botVariables": "x"}):
            r = variables(sb, "import", body)
            assert (r.status_code, r.json()) == (
                400,
                {"errors": [{"msg": "Validation errors/ Invalid arguments", "code": 400}]},
            ), body


# -- ML export ---------------------------------------------------------------------------------------------
def test_export_language_default_language_ignores_the_bot_language_header(clock: VirtualClock) -> None:
    with sandbox(clock, export_language="default-language") as sb:
        imported(sb, clock, FLIGHTS, "en")
        imported(sb, clock, FLUEGE, "de")
        for header in ("de", "xx-not-a-code!", None):
            started = export(sb, header)
            assert started.status_code == 200, started.text
            assert sb.calls[-1].language == "en"
            clock.advance(4)
            records = requests.get(export_status(sb)["downloadUrl"], timeout=5).json()
            assert [(r["sentence"], r["language"]) for r in records] == [("Book a flight to Lisbon", "en")]
        assert [e.language for e in sb.ml_export.exports] == ["en", "en", "en"]


def test_export_status_id_own_answers_a_stable_id_of_its_own(clock: VirtualClock) -> None:
    with sandbox(clock, export_status_id="own") as sb:
        posted = export(sb).json()["_id"]
        running = export_status(sb)["_id"]
        clock.advance(4)
        done = export_status(sb)
        assert running == done["_id"] != posted and running.startswith("ds-")
        assert done["status"] == "SUCCESS"
        second = export(sb).json()["_id"]
        assert export_status(sb)["_id"] not in (running, second)


def test_export_status_id_none_answers_no_id(clock: VirtualClock) -> None:
    with sandbox(clock, export_status_id="none") as sb:
        assert export(sb).json()["_id"].startswith("ds-"), "the POST keeps its _id"
        assert "_id" not in export_status(sb)
        clock.advance(4)
        done = export_status(sb)
        assert "_id" not in done and done["status"] == "SUCCESS" and done["downloadUrl"]


# -- the download host -------------------------------------------------------------------------------------
def test_the_api_host_serves_no_download_by_default(sb: Sandbox, clock: VirtualClock) -> None:
    export(sb)
    clock.advance(4)
    url = export_status(sb)["downloadUrl"]
    assert not url.startswith(sb.url)
    token_part = url.rsplit("/", 1)[1]
    r = requests.get(f"{sb.url}/api/getMediaStream/market/{token_part}", headers={"auth": token()}, timeout=5)
    assert r.status_code == 404


def test_download_host_api_host_serves_the_file_on_the_api_host_to_a_linked_app_only(
    clock: VirtualClock,
) -> None:
    with sandbox(clock, download_host="api-host") as sb:
        imported(sb, clock, FLIGHTS, "en")
        export_id = export(sb).json()["_id"]
        clock.advance(4)
        url = export_status(sb)["downloadUrl"]
        assert url.startswith(f"{sb.url}/api/getMediaStream/market/")
        assert sb.ml_export.download_url(export_id) == url
        sb.clear_calls()
        jwt_token = token(DEMO_BOT_APP)

        anonymous = requests.get(url, timeout=5)
        assert (anonymous.status_code, anonymous.json()) == (401, CREDENTIALS)
        stranger = requests.get(url, headers={"auth": token(STRANGER)}, timeout=5)
        assert (stranger.status_code, stranger.json()) == (401, CREDENTIALS)
        linked = requests.get(url, headers={"auth": jwt_token}, timeout=5)
        assert linked.status_code == 200 and linked.headers["Content-Type"] == "application/json"
        assert [r["sentence"] for r in linked.json()] == ["Book a flight to Lisbon"]
        assert linked.headers["Content-Disposition"].startswith("attachment; filename=")
        head = requests.head(url, headers={"auth": jwt_token}, timeout=5)
        assert head.status_code == 200 and head.content == b""
        unknown = requests.get(f"{url}x", headers={"auth": jwt_token}, timeout=5)
        assert (unknown.status_code, unknown.json()["errors"][0]["code"]) == (404, 404)
        posted = requests.post(url, headers={"auth": jwt_token}, timeout=5)
        assert (posted.status_code, posted.headers["Allow"]) == (405, "GET")

        calls = sb.calls
        assert [(c.method, c.status) for c in calls] == [
            ("GET", 401),
            ("GET", 401),
            ("GET", 200),
            ("HEAD", 200),
            ("GET", 404),
            ("POST", 405),
        ]
        assert {c.path for c in calls} == {"/api/getMediaStream/market/<token>"}
        assert calls[2].bot_id == BOT
        log = json.dumps([c.to_json() for c in calls])
        assert jwt_token not in log and url.rsplit("/", 1)[1] not in log
        assert sb.ml_export.downloads == [], "the separate download host got nothing"


def test_an_export_that_has_not_succeeded_is_404_on_the_api_host(clock: VirtualClock) -> None:
    with sandbox(clock, download_host="api-host") as sb:
        export_id = export(sb).json()["_id"]
        url = sb.ml_export.download_url(export_id)
        r = requests.get(url, headers={"auth": token()}, timeout=5)
        assert r.status_code == 404


# -- pipeline: upload, ML import, publish ------------------------------------------------------------------
def test_upload_answer_file_id_only_answers_the_file_id_alone(clock: VirtualClock) -> None:
    with sandbox(clock, upload_answer="file-id-only") as sb:
        r = upload(sb, b"[]")
        assert r.status_code == 200 and set(r.json()) == {"fileId"}


@pytest.mark.parametrize(
    ("words", "running", "done", "failed"),
    [("hyphenated", "in-progress", "successful", "failed"), ("upper", "INPROGRESS", "SUCCESSFUL", "FAILED")],
)
def test_publish_words_set_the_status_words_but_not_the_per_resource_ones(
    clock: VirtualClock, words: str, running: str, done: str, failed: str
) -> None:
    with sandbox(clock, publish_words=words) as sb:
        assert publish_status(sb)["status"] == done, "the initial publish"
        assert publish(sb).status_code == 200
        assert publish_status(sb)["status"] == running
        clock.advance(8)
        body = publish_status(sb)
        assert body["status"] == done and {s["status"] for s in body["statusSummary"]} == {"SUCCESS"}
        sb.pipeline.fail_next_publish(BOT)
        assert publish(sb).status_code == 200
        clock.advance(8)
        body = publish_status(sb)
        assert body["status"] == failed and {s["status"] for s in body["statusSummary"]} == {
            "SUCCESS",
            "FAILED",
        }
        assert [p.status for p in sb.pipeline.publishes] == ["successful", "failed"], "records: D2's words"


@pytest.mark.parametrize("word", ["failed", "error"])
def test_ml_import_failure_word_sets_the_word_of_a_failed_import(clock: VirtualClock, word: str) -> None:
    with sandbox(clock, ml_import_failure_word=word) as sb:
        started = ml_import(sb, b"not json").json()
        assert started["status"] == "pending"
        clock.advance(5)
        body = ml_import_status(sb, started["_id"]).json()
        assert body["status"] == word and body["message"].startswith("File import failed.")
        assert sb.pipeline.imports[0].status == "failure", "the sandbox's record keeps its own word"


# -- bot import ----------------------------------------------------------------------------------------------
def test_import_without_options_refused_is_412(clock: VirtualClock) -> None:
    with sandbox(clock, import_without_options="refused") as sb:
        r = bot_import(sb)
        assert (r.status_code, r.json()) == (412, VALIDATION)
        assert bot_import(sb, importOptions={"nlpData": ["utterances"]}).status_code == 200


def test_bot_import_failure_word_failed_ends_a_failed_import_failed(clock: VirtualClock) -> None:
    with sandbox(clock, bot_import_failure_word="failed") as sb:
        sb.definitions.fail_next_import(BOT)
        started = bot_import(sb).json()
        clock.advance(3)
        r = requests.get(
            f"{sb.url}/api/public/bot/import/status/{started['_id']}",
            headers={"auth": token(DEMO_ADMIN_APP)},
            timeout=5,
        )
        body = r.json()
        assert body["status"] == "failed" and body["statusLogs"][-1]["status"] == "failed"
        assert sb.definitions.imports[0].status == "failure"


# -- the admin API ------------------------------------------------------------------------------------------
def test_admin_get_readings_lists_current_values_defaults_and_described_allowed_values(sb: Sandbox) -> None:
    view = admin(sb, "GET", "readings").json()
    assert view["readings"] == view["defaults"] == dict(DEFAULT_READINGS)
    assert view["allowed"]["publish-words"] == [
        {"value": "documented", "description": "inprogress, successful, failed (D2)"},
        {
            "value": "hyphenated",
            "description": "in-progress, successful, failed (the sandbox's older ASSUMPTION 24)",
        },
        {"value": "upper", "description": "INPROGRESS, SUCCESSFUL, FAILED (D1)"},
    ]
    assert set(view["allowed"]) == set(view["questions"]) == set(view["stands_for"]) == set(DEFAULT_READINGS)
    assert view["stands_for"]["upload-answer"].startswith("ASSUMPTION 20")
    assert admin(sb, "GET", "info").json()["readings"] == dict(DEFAULT_READINGS)


def test_admin_post_readings_switches_them_and_reset_keeps_the_constructors(clock: VirtualClock) -> None:
    with sandbox(clock, upload_answer="file-id-only") as sb:
        r = admin(sb, "POST", "readings", json={"publish-words": "upper", "rate-limit-status": 503})
        assert r.status_code == 200, r.text
        assert r.json()["readings"]["publish-words"] == "upper" and sb.readings["rate-limit-status"] == "503"
        assert publish_status(sb)["status"] == "SUCCESSFUL"
        assert admin(sb, "GET", "info").json()["readings"]["publish-words"] == "upper"
        assert admin(sb, "POST", "reset").status_code == 200
        assert sb.readings == {**DEFAULT_READINGS, "upload-answer": "file-id-only"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"publish-words": "upper", "sync-flags": "some"},
            "reading 'sync-flags' cannot be 'some'; allowed: all (default), none",
        ),
        (
            {"publish-words": "upper", "publish-word": "upper"},
            "unknown reading 'publish-word'; the readings are: ",
        ),
        (["publish-words", "upper"], "body must be a JSON object of readings"),
    ],
    ids=["bad-value", "unknown-name", "not-an-object"],
)
def test_admin_post_readings_is_all_or_nothing_with_a_400_naming_the_problem(
    sb: Sandbox, body: Any, message: str
) -> None:
    r = admin(sb, "POST", "readings", json=body)
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == 400
    assert message in r.json()["errors"][0]["msg"]
    assert sb.readings == dict(DEFAULT_READINGS), "nothing switched"
    assert admin(sb, "POST", "readings", data="not json").status_code == 400
    assert admin(sb, "DELETE", "readings").status_code == 405


# -- the CLI ------------------------------------------------------------------------------------------------
def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kore_sandbox", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
        check=False,
    )


def test_cli_reading_option_switches_readings_and_the_banner_names_them(
    sandbox_process: Callable[..., SandboxProcess],
) -> None:
    sandbox = sandbox_process("--reading", "publish-words=upper", "--reading", "rate-limit-status=503")
    out = sandbox.banner
    assert "readings: rate-limit-status=503, publish-words=upper (GET /_sandbox/readings)" in out
    url = out[0].rsplit(" ", 1)[1]
    view = requests.get(f"{url}/_sandbox/readings", timeout=5).json()
    assert view["readings"] == {**DEFAULT_READINGS, "publish-words": "upper", "rate-limit-status": "503"}
    status = requests.get(
        f"{url}/api/public/bot/{BOT}/publish/status", headers={"auth": token()}, timeout=5
    ).json()
    assert status["status"] == "SUCCESSFUL"
    sandbox.stop()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "publish-words=in-progress",
            "argument --reading: reading 'publish-words' cannot be 'in-progress'; "
            "allowed: documented (default), hyphenated, upper",
        ),
        ("publish-word=upper", "argument --reading: unknown reading 'publish-word'; the readings are: "),
        (
            "publish-words",
            "argument --reading: 'publish-words' is not NAME=VALUE (e.g. publish-words=hyphenated)",
        ),
    ],
)
def test_cli_refuses_a_bad_reading_naming_the_allowed_values(value: str, message: str) -> None:
    result = run_cli("--port", "0", "--reading", value)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert "listening" not in result.stdout


def test_cli_help_lists_every_reading_and_its_values() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "--reading NAME=VALUE" in result.stdout
    for reading in READINGS:
        line = next(
            line for line in result.stdout.splitlines() if line.strip().startswith(reading.name + " ")
        )
        assert line.split(None, 1)[1] == " | ".join(reading.values)


# -- languages ----------------------------------------------------------------------------------------------
def test_a_bot_may_enable_any_well_formed_language_code(clock: VirtualClock) -> None:
    languages = ("en", "th", "tr", "fil", "zh_CN", "pt-BR")
    bot = SandboxBot(
        "worldly", "st-00000000-0000-4000-8000-0000000000a7", languages, "TH", (DEMO_APP.client_id,)
    )
    assert (bot.languages, bot.default_language) == (("en", "th", "tr", "fil", "zh_cn", "pt-br"), "th")
    with Sandbox(
        training_seconds=10, queue_seconds=2, clock=clock, demo_data=False, apps=[DEMO_APP], bots=[bot]
    ) as sb:
        base = f"{sb.url}/api/public/bot/{bot.bot_id}/ml/train"
        for language in ("TH", "fil", "zh_cn", "pt-br"):
            r = requests.post(base, headers={"auth": token(), "bot-language": language}, timeout=5)
            assert r.status_code == 200, r.text
        clock.advance(2)
        for language in ("th", "FIL", "zh_CN", "pt-BR"):
            r = requests.get(
                f"{base}/status", headers={"auth": token()}, params={"language": language}, timeout=5
            )
            assert r.json()["trainingStatus"] == "Inprogress", language
        default = requests.get(f"{base}/status", headers={"auth": token()}, timeout=5).json()
        assert default["trainingStatus"] == "Inprogress", "th is the default language"
        assert [t.language for t in sb.trainings] == ["th", "fil", "zh_cn", "pt-br"]


def test_a_malformed_language_code_is_refused_on_a_bot() -> None:
    for languages in (("english",), ("e",), ("en_",), ("en_us_east",), ("1en",)):
        with pytest.raises(ValueError, match="are not language codes"):
            SandboxBot("bad", "st-00000000-0000-4000-8000-0000000000a8", languages, languages[0])


def test_the_demo_bots_keep_english_and_german() -> None:
    assert {(b.languages, b.default_language) for b in DEMO_BOTS} == {(("en", "de"), "en")}


@pytest.mark.parametrize("language", ["th", "fr", "zh_cn"])
def test_a_language_the_bot_has_not_enabled_is_400_naming_it(sb: Sandbox, language: str) -> None:
    message = f"Language '{language}' is not enabled for this bot (enabled: en, de)"
    responses = [train(sb, language), train_status(sb, language=language), ml_import(sb, b"[]", language)]
    responses.append(export(sb, language))
    for r in responses:
        assert (r.status_code, r.json()) == (400, {"errors": [{"msg": message, "code": 400}]})
    assert sb.trainings == [] and sb.ml_export.exports == []


@pytest.mark.parametrize("language", ["english", "e", "en_", "d3"])
def test_a_malformed_language_is_400_naming_it(sb: Sandbox, language: str) -> None:
    for r in (train(sb, language), train_status(sb, language=language)):
        assert r.status_code == 400
        [error] = r.json()["errors"]
        assert error["code"] == 400 and f"Invalid language '{language}': not a language code" in error["msg"]
