"""Tests of the Kore.ai sandbox (kore_sandbox): real sockets on 127.0.0.1, real JWTs (PyJWT).

The state machine and the rate limiter are tested with a fake clock; a few end-to-end tests run on the
real clock, and wait for the sandbox's states rather than for guessed durations. Nothing from
kore_resources is imported except the sandbox.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from documented import BOT, CREDENTIALS
from kore_sandbox import (
    DEMO_APP,
    DEMO_BOTS,
    DEMO_JTI_APP,
    RATE_LIMIT_HOUR_MSG,
    RATE_LIMIT_MINUTE_MSG,
    RateLimit,
    RateLimiter,
    Sandbox,
    SandboxApp,
    SandboxBot,
    TrainingModel,
)
from kore_sandbox.testing import HANG_SECONDS, VirtualClock, wait_until
from sandbox_process import SandboxProcess

pytestmark = pytest.mark.sandbox

ROOT = Path(__file__).resolve().parent.parent
SIX_FLAGS = {
    "isMlInSyncWithSentences",
    "isMlInSyncWithSynonyms",
    "isMlInSyncWithMlparams",
    "isMlInSyncWithTraits",
    "isMlInSyncWithSmallTalk",
    "isMlInSyncWithUBTraining",
}
FINISHED_EXTRA = {
    "isMlInSyncWithEntityNode",
    "isMlInSyncWithIntentNode",
    "isMlInSyncWithPatterns",
    "isMlInSyncWithBTUtterances",
    "trainDetails",
}


def token(app: SandboxApp = DEMO_APP, *, secret: str | None = None, alg: str = "HS256", **claims: Any) -> str:
    payload: dict[str, Any] = {"sub": "1234567890", "appId": app.client_id, **claims}
    return jwt.encode(payload, secret if secret is not None else app.client_secret, algorithm=alg)


def train_url(sb: Sandbox, bot: str = BOT, prefix: str = "/api/public") -> str:
    return f"{sb.url}{prefix}/bot/{bot}/ml/train"


def status_url(sb: Sandbox, bot: str = BOT, prefix: str = "/api/public") -> str:
    return f"{sb.url}{prefix}/bot/{bot}/ml/train/status"


def train(sb: Sandbox, bot: str = BOT, *, language: str | None = None, **kw: Any) -> requests.Response:
    headers = {"auth": kw.pop("tok", None) or token()}
    if language is not None:
        headers["bot-language"] = language
    kw.setdefault("timeout", 5)
    return requests.post(train_url(sb, bot), headers=headers, **kw)


def status(sb: Sandbox, bot: str = BOT, **params: str) -> requests.Response:
    return requests.get(status_url(sb, bot), headers={"auth": token()}, params=params, timeout=5)


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(training_seconds=0.3, queue_seconds=0.15) as sandbox:
        yield sandbox


@pytest.fixture
def fsb(clock: VirtualClock) -> Iterator[Sandbox]:
    """A sandbox on a fake clock (training 10 s after 2 s queued), small rate limits."""
    with Sandbox(
        training_seconds=10,
        queue_seconds=2,
        clock=clock,
        train_rate_limit=RateLimit(per_minute=2, per_hour=3),
        status_rate_limit=RateLimit(per_minute=2, per_hour=100),
    ) as sandbox:
        yield sandbox


# -- the documented train / status responses ---------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"json": {}}, {"data": "{}", "headers_ct": "application/json"}, {"data": b""}],
    ids=["no-body", "json-{}", "json-with-ct", "empty"],
)
def test_train_returns_documented_array(sb: Sandbox, kwargs: dict[str, Any]) -> None:
    headers = {"auth": token()}
    if "headers_ct" in kwargs:
        headers["Content-Type"] = kwargs.pop("headers_ct")
    r = requests.post(train_url(sb), headers=headers, timeout=5, **kwargs)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert isinstance(body, list)
    assert len(body) == 1
    assert set(body[0]) == {"message", "Training_ID"}
    assert body[0]["message"] == "Training Queued."
    assert re.fullmatch(r"[0-9a-f]{24}", body[0]["Training_ID"])
    [record] = sb.trainings
    assert record.training_id == body[0]["Training_ID"]
    assert (record.bot_id, record.language) == (BOT, "en")


def test_initial_status_is_a_finished_training(sb: Sandbox) -> None:
    r = status(sb)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["trainingStatus"] == "Finished"
    assert set(body) == {"trainingStatus"} | SIX_FLAGS | FINISHED_EXTRA
    assert all(body[k] is True for k in SIX_FLAGS | FINISHED_EXTRA - {"trainDetails"})
    assert body["trainDetails"] == {"nlpVersion": 3, "trainVersion": 3}


def test_status_cycle_end_to_end_real_time(sb: Sandbox) -> None:
    session = requests.Session()
    session.headers["auth"] = token()
    seen: list[str] = []

    def reads(status: str) -> bool:
        current = session.get(status_url(sb), timeout=5).json()
        if not seen or seen[-1] != current["trainingStatus"]:
            seen.append(current["trainingStatus"])
        if current["trainingStatus"] == "Inprogress":
            assert set(current) == {"trainingStatus"} | SIX_FLAGS
        return bool(current["trainingStatus"] == status)

    # The sandbox's states hold each phase while it is read, so no read races the 0.15 s queue or the
    # 0.3 s training: queued (held), then running (hung), then finished.
    sb.hold_queue()
    sb.hang_trainings()
    assert session.post(train_url(sb), timeout=5).status_code == 200
    # Right after "Training Queued." the status still reports the previous training.
    assert reads("Finished")
    assert sb.trainings[0].phase == "queued"
    sb.hold_queue(False)
    wait_until(lambda: reads("Inprogress"), "the training to start")
    sb.hang_trainings(False)
    wait_until(lambda: reads("Finished"), "the training to finish")
    assert seen == ["Finished", "Inprogress", "Finished"]
    [record] = sb.trainings
    assert record.phase == "Finished"
    assert record.finished_wall is not None
    # Without anything held, time alone moves a training on: queued 0.15 s, then 0.3 s in progress (on
    # the sandbox's clock, the real one).
    assert session.post(train_url(sb), headers={"bot-language": "de"}, timeout=5).status_code == 200
    wait_until(lambda: sb.trainings[-1].phase == "Finished", "the second training to finish by itself")
    second = sb.trainings[-1]
    assert second.started_at is not None and second.finished_at is not None
    assert (second.started_at - second.queued_at, second.finished_at - second.queued_at) == pytest.approx(
        (0.15, 0.45)
    )


def test_failed_training_end_to_end(sb: Sandbox) -> None:
    sb.set_queue_seconds(0)
    sb.set_training_seconds(0.1)
    sb.fail_next_training(BOT, "en")
    assert train(sb).status_code == 200
    wait_until(lambda: sb.trainings[0].phase == "Failed", "the training to fail")
    body = status(sb).json()
    assert body["trainingStatus"] == "Failed"
    assert set(body) == {"trainingStatus"} | SIX_FLAGS
    assert body["isMlInSyncWithSentences"] is False
    assert sb.trainings[0].outcome == "Failed"
    # Only the next training fails.
    assert train(sb).status_code == 200
    wait_until(lambda: sb.trainings[1].phase == "Finished", "the next training to finish")
    assert status(sb).json()["trainingStatus"] == "Finished"


def test_languages_are_trained_and_reported_separately(fsb: Sandbox, clock: VirtualClock) -> None:
    assert train(fsb, language="de").status_code == 200
    clock.advance(3)
    assert status(fsb, language="de").json()["trainingStatus"] == "Inprogress"
    assert status(fsb, language="en").json()["trainingStatus"] == "Finished"
    assert status(fsb).json()["trainingStatus"] == "Finished"  # default language en
    assert fsb.trainings[0].language == "de"
    assert fsb.calls[0].language == "de"


@pytest.mark.parametrize("language", ["xx", "fr", "EN-us"])
def test_unknown_or_disabled_language_is_400(sb: Sandbox, language: str) -> None:
    for r in (train(sb, language=language), status(sb, language=language)):
        assert r.status_code == 400
        [error] = r.json()["errors"]
        assert error["code"] == 400
        assert language.lower() in error["msg"]
    assert sb.trainings == []


def test_invalid_state_is_400_and_published_is_unaffected(fsb: Sandbox, clock: VirtualClock) -> None:
    r = status(fsb, state="draft")
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == 400
    train(fsb)
    clock.advance(3)
    assert status(fsb, state="configured").json()["trainingStatus"] == "Inprogress"
    assert status(fsb, state="published").json()["trainingStatus"] == "Finished"


def test_versioned_path_prefix(sb: Sandbox) -> None:
    r = requests.post(train_url(sb, prefix="/api/1.1/public"), headers={"auth": token()}, timeout=5)
    assert r.status_code == 200
    assert r.json()[0]["message"] == "Training Queued."
    r = requests.get(status_url(sb, prefix="/api/1.1/public"), headers={"auth": token()}, timeout=5)
    assert r.json()["trainingStatus"] == "Finished"
    r = requests.get(
        f"{sb.url}/api/2.0/public/bot/{BOT}/ml/train/status", headers={"auth": token()}, timeout=5
    )
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("method", "url_of"),
    [
        ("GET", train_url),
        ("PUT", train_url),
        ("DELETE", train_url),
        ("POST", status_url),
        ("PATCH", status_url),
    ],
)
def test_wrong_method_is_405(sb: Sandbox, method: str, url_of: Any) -> None:
    r = requests.request(method, url_of(sb), headers={"auth": token()}, timeout=5)
    assert r.status_code == 405
    assert r.json() == {"errors": [{"msg": "Method Not Allowed", "code": 405}]}
    assert sb.trainings == []


def test_unknown_path_is_404_envelope(sb: Sandbox) -> None:
    r = requests.post(f"{sb.url}/api/public/bot/{BOT}/train", headers={"auth": token()}, timeout=5)
    assert r.status_code == 404
    assert r.json()["errors"][0]["code"] == 404


# -- auth ----------------------------------------------------------------------------------------------
NO_SCOPE_APP = SandboxApp("no-scope", "cs-00000000-0000-4000-8000-0000000000aa", "x" * 40, scopes=frozenset())
OTHER_APP = SandboxApp("other", "cs-00000000-0000-4000-8000-0000000000bb", "y" * 40)
LONELY_BOT = SandboxBot(
    "lonely", "st-00000000-0000-4000-8000-0000000000cc", linked_apps=(OTHER_APP.client_id,)
)
SCOPELESS_BOT = SandboxBot(
    "scopeless", "st-00000000-0000-4000-8000-0000000000dd", linked_apps=(NO_SCOPE_APP.client_id,)
)


@pytest.fixture
def asb() -> Iterator[Sandbox]:
    with Sandbox(apps=[NO_SCOPE_APP, OTHER_APP], bots=[LONELY_BOT, SCOPELESS_BOT]) as sandbox:
        yield sandbox


def _auth_cases() -> list[tuple[str, dict[str, str] | None, str, dict[str, Any]]]:
    now = int(time.time())
    good = token()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        hs512 = token(alg="HS512")  # the right secret, the wrong algorithm
    return [
        ("missing", None, BOT, CREDENTIALS),
        ("empty", {"auth": ""}, BOT, CREDENTIALS),
        ("not-a-jwt", {"auth": "not-a-jwt"}, BOT, {"errors": [{"msg": "Invalid JWT token", "code": 4002}]}),
        ("bearer", {"auth": f"Bearer {good}"}, BOT, {"errors": [{"msg": "Invalid JWT token", "code": 4002}]}),
        ("wrong-secret", {"auth": token(secret="z" * 40)}, BOT, CREDENTIALS),
        ("digits-appended", {"auth": good + "123"}, BOT, CREDENTIALS),
        ("unknown-app", {"auth": token(OTHER_APP, appId="cs-unknown")}, BOT, CREDENTIALS),
        ("hs512", {"auth": hs512}, BOT, CREDENTIALS),
        (
            "alg-none",
            {"auth": jwt.encode({"appId": DEMO_APP.client_id}, None, algorithm="none")},
            BOT,
            CREDENTIALS,
        ),
        (
            "appid-lowercase",
            {"auth": jwt.encode({"appid": DEMO_APP.client_id}, DEMO_APP.client_secret, algorithm="HS256")},
            BOT,
            CREDENTIALS,
        ),
        ("expired", {"auth": token(exp=now - 5)}, BOT, CREDENTIALS),
        ("bot-unknown", {"auth": good}, f"st-{uuid.uuid4()}", CREDENTIALS),
        ("bot-not-linked", {"auth": good}, LONELY_BOT.bot_id, CREDENTIALS),
        (
            "no-scope",
            {"auth": token(NO_SCOPE_APP)},
            SCOPELESS_BOT.bot_id,
            {"errors": [{"msg": "Permission denied. Scope is incorrect!", "code": 4002}]},
        ),
    ]


@pytest.mark.parametrize("endpoint", ["train", "status"])
@pytest.mark.parametrize("case", _auth_cases(), ids=lambda c: c[0])
def test_auth_errors(asb: Sandbox, endpoint: str, case: tuple[str, dict[str, str] | None, str, Any]) -> None:
    _name, headers, bot, expected = case
    if endpoint == "train":
        r = requests.post(train_url(asb, bot), headers=headers, timeout=5)
    else:
        r = requests.get(status_url(asb, bot), headers=headers, timeout=5)
    assert r.status_code == 401
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == expected
    assert asb.trainings == []


def test_accepted_token_variants(asb: Sandbox) -> None:
    now = int(time.time())
    variants = [
        {"Auth": token()},  # header names are case-insensitive
        {"AUTH": token(exp=now + 60)},  # BotKit style
        {
            "auth": token(
                iat=now, exp=now + 3600, aud="https://idproxy.kore.ai/authorize", iss=DEMO_APP.client_id
            )
        },
        {"auth": token(OTHER_APP)},  # another app linked to the bot
    ]
    for headers in variants:
        bot = LONELY_BOT.bot_id if headers.get("auth") == variants[3]["auth"] else BOT
        r = requests.post(train_url(asb, bot), headers=headers, timeout=5)
        assert r.status_code == 200, (headers.keys(), r.text)
    assert len(asb.trainings) == 4


def test_jti_enforced_app(sb: Sandbox) -> None:
    now = int(time.time())

    def call(tok: str) -> requests.Response:
        return requests.post(train_url(sb), headers={"auth": tok}, timeout=5)

    r = call(token(DEMO_JTI_APP, exp=now + 60))
    assert r.status_code == 401
    assert r.json()["errors"][0]["code"] == 401
    assert "jti" in r.json()["errors"][0]["msg"]
    too_long = {
        "errors": [{"msg": 'error verifying the jwt: if "jti" claim "exp" must be <= 1 hour(s)', "code": 401}]
    }
    for tok in (
        token(DEMO_JTI_APP, jti="a1", exp=now + 3700),
        token(DEMO_JTI_APP, jti="a2", iat=now - 100, exp=now + 3550),
        token(DEMO_JTI_APP, jti="a3"),
    ):
        r = call(tok)
        assert (r.status_code, r.json()) == (401, too_long)
    tok = token(DEMO_JTI_APP, jti="once", iat=now, exp=now + 3600)
    assert call(tok).status_code == 200
    r = call(tok)
    assert r.status_code == 401
    assert r.json() == {"errors": [{"msg": "error verifying the jwt: possibly a replay", "code": 401}]}
    assert call(token(DEMO_JTI_APP, kore_jti="other", exp=now + 60)).status_code == 200
    assert len(sb.trainings) == 2


# -- rate limits ---------------------------------------------------------------------------------------
def test_train_rate_limit_per_minute(fsb: Sandbox, clock: VirtualClock) -> None:
    assert train(fsb).status_code == 200
    clock.advance(20)
    assert train(fsb, language="de").status_code == 200
    r = train(fsb)
    assert r.status_code == 429
    assert r.json() == {"errors": [{"msg": RATE_LIMIT_MINUTE_MSG, "code": 429}]}
    assert r.headers["Retry-After"] == "40"
    assert train(fsb, DEMO_BOTS[1].bot_id).status_code == 200  # per bot
    clock.advance(40)
    assert train(fsb).status_code == 200
    assert len(fsb.trainings) == 4


def test_train_rate_limit_per_hour(fsb: Sandbox, clock: VirtualClock) -> None:
    for _ in range(3):
        assert train(fsb).status_code == 200
        clock.advance(61)
    r = train(fsb)
    assert r.status_code == 429
    assert r.json()["errors"] == [{"msg": RATE_LIMIT_HOUR_MSG, "code": 429}]
    assert r.headers["Retry-After"] == str(3600 - 3 * 61)


def test_status_rate_limit_is_per_bot_language_state(fsb: Sandbox) -> None:
    assert status(fsb).status_code == 200
    assert status(fsb, language="en").status_code == 200
    r = status(fsb)
    assert r.status_code == 429
    assert r.json()["errors"][0]["msg"] == RATE_LIMIT_MINUTE_MSG
    assert int(r.headers["Retry-After"]) == 60
    assert status(fsb, language="de").status_code == 200
    assert status(fsb, state="published").status_code == 200
    assert status(fsb, DEMO_BOTS[2].bot_id).status_code == 200


def test_rate_limiter_rolling_windows(clock: VirtualClock) -> None:
    limiter = RateLimiter(RateLimit(per_minute=2, per_hour=4), clock)
    assert limiter.hit("k") is None
    clock.advance(30)
    assert limiter.hit("k") is None
    refused = limiter.hit("k")
    assert refused is not None
    assert (refused.window, refused.retry_after) == ("minute", 30)
    clock.advance(30)  # the first hit leaves the minute window
    assert limiter.hit("k") is None
    clock.advance(60)
    assert limiter.hit("k") is None
    refused = limiter.hit("k")
    assert refused is not None
    assert (refused.window, refused.message, refused.retry_after) == ("hour", RATE_LIMIT_HOUR_MSG, 3600 - 120)
    assert limiter.hit("other") is None
    assert RateLimiter(None, clock).hit("k") is None


# -- the state machine on a fake clock -----------------------------------------------------------------
def model(clock: VirtualClock, **kw: Any) -> TrainingModel:
    kw.setdefault("training_seconds", 10)
    kw.setdefault("queue_seconds", 2)
    return TrainingModel(clock=clock, wall_clock=lambda: clock.now + 5000, **kw)


def test_model_queued_inprogress_finished(clock: VirtualClock) -> None:
    m = model(clock)
    record = m.queue_training("b", "en")
    assert (record.queued_at, record.started_at, record.finished_at) == (1000, 1002, 1012)
    assert record.phase == "queued"
    assert m.status("b", "en")["trainingStatus"] == "Finished"  # stale
    clock.advance(1.99)
    assert m.status("b", "en")["trainingStatus"] == "Finished"
    clock.advance(0.01)
    body = m.status("b", "en")
    assert body["trainingStatus"] == "Inprogress"
    assert set(body) == {"trainingStatus"} | SIX_FLAGS
    clock.advance(9.99)
    assert m.status("b", "en")["trainingStatus"] == "Inprogress"
    assert m.records()[0].finished_wall is None
    clock.advance(0.01)
    assert m.status("b", "en") == m.status("other", "en")  # Finished, all in sync
    [done] = m.records()
    assert done.phase == "Finished"
    assert done.finished_wall == pytest.approx(1012 + 5000)


def test_model_fail_next_training_filters_and_counts(clock: VirtualClock) -> None:
    m = model(clock, queue_seconds=0, training_seconds=1)
    m.fail_next_training("b", "de", count=2)
    outcomes = [m.queue_training(bot, lang).outcome for bot, lang in [("b", "en"), ("x", "de"), ("b", "de")]]
    assert outcomes == ["Finished", "Finished", "Failed"]
    assert m.pending_failures[0].remaining == 1
    assert m.queue_training("b", "de").outcome == "Failed"
    assert m.pending_failures == []
    clock.advance(5)
    assert m.status("b", "de")["trainingStatus"] == "Failed"
    assert m.status("b", "en")["trainingStatus"] == "Finished"
    always = model(clock, fail_rate=1.0)
    assert always.queue_training("b", "en").outcome == "Failed"


def test_model_second_training_queues_after_the_running_one(clock: VirtualClock) -> None:
    m = model(clock)
    m.queue_training("b", "en")
    clock.advance(5)
    second = m.queue_training("b", "en")
    assert (second.started_at, second.finished_at) == (1012, 1022)
    clock.advance(7.5)  # t=1012.5: first finished, second running
    first, second = m.records()
    assert (first.phase, second.phase) == ("Finished", "Inprogress")
    assert m.status("b", "en")["trainingStatus"] == "Inprogress"
    clock.advance(10)
    assert m.status("b", "en")["trainingStatus"] == "Finished"


def test_model_hang_and_release(clock: VirtualClock) -> None:
    m = model(clock)
    m.queue_training("b", "en")
    m.hang_trainings(True)
    clock.advance(100)
    assert m.status("b", "en")["trainingStatus"] == "Inprogress"
    queued_behind = m.queue_training("b", "en")
    assert queued_behind.started_at is None  # waits for the hung one
    assert m.records()[0].finished_at is None
    m.hang_trainings(False)  # the first finishes now, the second then runs after its queue time
    first, second = m.records()
    assert (first.phase, first.finished_at, second.started_at, second.finished_at) == (
        "Finished",
        1100,
        1102,
        1112,
    )
    clock.advance(2)
    assert m.status("b", "en")["trainingStatus"] == "Inprogress"
    clock.advance(10)
    assert m.status("b", "en")["trainingStatus"] == "Finished"


def test_model_hold_queue_keeps_trainings_invisible_until_released(clock: VirtualClock) -> None:
    m = model(clock)
    m.hold_queue(True)
    first = m.queue_training("b", "en")
    assert first.queued_behind is None
    clock.advance(100)
    assert m.records()[0].phase == "queued"
    assert m.status("b", "en")["trainingStatus"] == "Finished"  # still the previous training
    second = m.queue_training("b", "en")
    assert second.queued_behind == first.training_id  # a second training queued while one is pending
    m.hold_queue(False)  # both start in turn: the first now, the second when the first ends
    first, second = m.records()
    assert (first.started_at, first.finished_at, second.started_at, second.finished_at) == (
        1100,
        1110,
        1110,
        1120,
    )
    assert m.status("b", "en")["trainingStatus"] == "Inprogress"
    clock.advance(20)
    third = m.queue_training("b", "en")
    assert third.queued_behind is None  # the others have ended
    assert [r.phase for r in m.records()] == ["Finished", "Finished", "queued"]


def test_model_sentences_changed_until_a_successful_training(clock: VirtualClock) -> None:
    m = model(clock, queue_seconds=0, training_seconds=1)
    m.queue_training("b", "en")  # queued before the change: does not count
    m.mark_sentences_changed("b", "en")
    clock.advance(2)
    body = m.status("b", "en")
    assert (body["trainingStatus"], body["isMlInSyncWithSentences"]) == ("Finished", False)
    assert m.status("b", "de")["isMlInSyncWithSentences"] is True
    m.fail_next_training()
    m.queue_training("b", "en")
    clock.advance(2)
    assert m.status("b", "en")["isMlInSyncWithSentences"] is False
    m.queue_training("b", "en")
    assert m.status("b", "en")["isMlInSyncWithSentences"] is False  # Inprogress
    clock.advance(2)
    assert m.status("b", "en")["isMlInSyncWithSentences"] is True


def test_model_timing_knobs_apply_to_new_trainings(clock: VirtualClock) -> None:
    m = model(clock)
    m.queue_training("b", "en")
    m.training_seconds = 100
    m.queue_seconds = 0
    second = m.queue_training("b", "de")
    assert (second.started_at, second.finished_at) == (1000, 1100)
    assert m.records()[0].finished_at == 1012
    with pytest.raises(ValueError, match="training_seconds"):
        m.training_seconds = -1


# -- faults --------------------------------------------------------------------------------------------
def test_inject_error_with_filters_and_retry_after(sb: Sandbox) -> None:
    sb.inject_error(429, retry_after=7, method="POST")
    sb.inject_error(503, count=2, path_contains="/status")
    assert status(sb).status_code == 503
    r = train(sb)
    assert (r.status_code, r.headers["Retry-After"]) == (429, "7")
    assert r.json() == {"errors": [{"msg": RATE_LIMIT_MINUTE_MSG, "code": 429}]}
    assert sb.trainings == []  # an injected error is not processed
    r = status(sb)
    assert r.status_code == 503
    assert r.json() == {"errors": [{"msg": "Service Unavailable", "code": 503}]}
    assert "Retry-After" not in r.headers
    assert status(sb).status_code == 200
    assert train(sb).status_code == 200
    sb.inject_error(502, body={"custom": True})
    r = train(sb)
    assert (r.status_code, r.json()) == (502, {"custom": True})
    assert [c.fault for c in sb.calls] == ["error", "error", "error", None, None, "error"]


def test_drop_connection_after_read_queues_the_training(sb: Sandbox) -> None:
    sb.drop_connection(method="POST")
    with pytest.raises(requests.ConnectionError):
        train(sb)
    [record] = sb.trainings
    call = sb.calls[-1]
    assert (call.status, call.fault, call.training_id) == (None, "drop", record.training_id)
    assert train(sb).status_code == 200


def test_drop_connection_before_read_queues_nothing(sb: Sandbox) -> None:
    sb.drop_connection(after_read=False, path_contains="/ml/train")
    with pytest.raises(requests.ConnectionError):
        train(sb)
    assert sb.trainings == []
    assert sb.calls[-1].status is None
    assert train(sb).status_code == 200


def test_delay_response_processes_first_then_waits(sb: Sandbox) -> None:
    # A delay far longer than the client's (generous) read timeout: the timeout fires for certain.
    sb.delay_response(HANG_SECONDS, method="POST")
    with pytest.raises(requests.ReadTimeout):
        train(sb, timeout=2)
    assert len(sb.trainings) == 1  # the client timed out, but the training IS queued
    # The answer waits until its delay is over, or until the test releases it.
    sb.delay_response(HANG_SECONDS)
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(requests.get, status_url(sb), headers={"auth": token()}, timeout=HANG_SECONDS)
        wait_until(lambda: len(sb.calls) == 2, "the delayed request to be processed")
        assert not answer.done()
        sb.release_delayed_responses()
        assert answer.result(timeout=HANG_SECONDS).status_code == 200
    # A delay ends by itself; the request after it is not delayed.
    sb.delay_response(0.2)
    assert status(sb).status_code == 200
    assert status(sb).status_code == 200
    assert [c.fault for c in sb.calls] == ["delay", "delay", "delay", None]


def test_hang_trainings_over_http(fsb: Sandbox, clock: VirtualClock) -> None:
    fsb.hang_trainings(True)
    train(fsb)
    clock.advance(500)
    assert status(fsb).json()["trainingStatus"] == "Inprogress"
    assert fsb.trainings[0].hung
    fsb.hang_trainings(False)
    clock.advance(10)
    assert status(fsb).json()["trainingStatus"] == "Finished"


def test_mark_sentences_changed_and_timing_knobs(fsb: Sandbox, clock: VirtualClock) -> None:
    fsb.mark_sentences_changed(BOT, "en")
    assert status(fsb).json()["isMlInSyncWithSentences"] is False
    fsb.set_queue_seconds(0)
    fsb.set_training_seconds(1)
    train(fsb)
    record = fsb.trainings[0]
    assert record.finished_at == pytest.approx(record.queued_at + 1)
    clock.advance(1)
    assert status(fsb).json()["isMlInSyncWithSentences"] is True
    with pytest.raises(ValueError, match="not enabled"):
        fsb.mark_sentences_changed(BOT, "fr")


# -- call log, connections -----------------------------------------------------------------------------
def test_call_log_never_holds_the_jwt_or_secrets(sb: Sandbox) -> None:
    tok = token()
    requests.post(train_url(sb), headers={"auth": tok, "bot-language": "de"}, timeout=5)
    requests.get(status_url(sb), headers={"auth": tok}, params={"language": "de", "token": tok}, timeout=5)
    requests.get(status_url(sb), headers={"auth": "garbage-token"}, timeout=5)
    dumped = repr(sb.calls) + requests.get(f"{sb.url}/_sandbox/calls", timeout=5).text
    for secret in (tok, tok.split(".")[2], DEMO_APP.client_secret, "garbage-token"):
        assert secret not in dumped
    first, second, third = sb.calls
    assert (first.method, first.status, first.bot_id, first.language) == ("POST", 200, BOT, "de")
    assert second.query == {"language": "de", "token": "<redacted>"}
    assert third.status == 401
    assert len(sb.calls) == 3  # admin requests are not logged


def test_keep_alive_and_connection_ids(sb: Sandbox) -> None:
    session = requests.Session()
    session.headers["auth"] = token()
    for _ in range(3):
        assert session.get(status_url(sb), timeout=5).status_code == 200
    assert len({c.connection_id for c in sb.calls}) == 1
    for _ in range(2):
        assert status(sb).status_code == 200  # requests.get: a new connection each time
    assert len({c.connection_id for c in sb.calls}) == 3
    assert sb.connections_opened == 3


# -- admin HTTP API ------------------------------------------------------------------------------------
def test_admin_faults_endpoint_drives_the_sandbox(sb: Sandbox) -> None:
    r = requests.post(
        f"{sb.url}/_sandbox/faults",
        json={
            "training_seconds": 0,
            "queue_seconds": 0,
            "fail_next_training": {"bot_id": BOT},
            "inject_error": [{"status": 500, "method": "GET"}],
        },
        timeout=5,
    )
    assert r.status_code == 200
    assert r.json()["training_seconds"] == 0
    assert r.json()["pending_faults"][0]["status"] == 500
    assert status(sb).status_code == 500
    assert train(sb).status_code == 200
    assert status(sb).json()["trainingStatus"] == "Failed"
    trainings = requests.get(f"{sb.url}/_sandbox/trainings", timeout=5).json()["trainings"]
    assert [(t["outcome"], t["phase"]) for t in trainings] == [("Failed", "Failed")]
    r = requests.post(f"{sb.url}/_sandbox/faults", json={"drop_connection": {"after_read": False}}, timeout=5)
    assert r.status_code == 200
    with pytest.raises(requests.ConnectionError):
        status(sb)


def test_admin_faults_are_validated_all_or_nothing(sb: Sandbox) -> None:
    for body in (
        {"training_seconds": 9, "bogus": 1},
        {"inject_error": {"status": 200}},
        {"queue_seconds": -1},
    ):
        r = requests.post(f"{sb.url}/_sandbox/faults", json=body, timeout=5)
        assert r.status_code == 400, body
        assert r.json()["errors"][0]["code"] == 400
    assert sb.training_seconds == 0.3
    assert sb.pending_faults == []
    r = requests.post(f"{sb.url}/_sandbox/faults", data="not json", timeout=5)
    assert r.status_code == 400


def test_admin_reset_info_and_errors(sb: Sandbox) -> None:
    train(sb)
    sb.set_training_seconds(99)
    sb.inject_error(500)
    assert requests.post(f"{sb.url}/_sandbox/reset", timeout=5).json() == {"ok": True}
    assert (sb.trainings, sb.calls, sb.pending_faults, sb.training_seconds) == ([], [], [], 0.3)
    info = requests.get(f"{sb.url}/_sandbox/info", timeout=5).json()
    assert [b["bot_id"] for b in info["bots"]] == [b.bot_id for b in DEMO_BOTS]
    assert DEMO_APP.client_secret not in json.dumps(info)
    assert requests.get(f"{sb.url}/_sandbox/reset", timeout=5).status_code == 405
    assert requests.get(f"{sb.url}/_sandbox/nope", timeout=5).status_code == 404
    assert sb.calls == []


# -- lifecycle and CLI ---------------------------------------------------------------------------------
def test_sandbox_refuses_non_loopback_host() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Sandbox(host="0.0.0.0")
    assert Sandbox(host="localhost").host == "127.0.0.1"


def test_stop_closes_keep_alive_connections() -> None:
    sandbox = Sandbox().start()
    session = requests.Session()
    assert session.get(status_url(sandbox), headers={"auth": token()}, timeout=5).status_code == 200
    url = status_url(sandbox)
    sandbox.stop()
    with pytest.raises(requests.ConnectionError):
        session.get(url, headers={"auth": token()}, timeout=2)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_credentials_and_stops_cleanly(
    sig: signal.Signals, sandbox_process: Callable[..., SandboxProcess]
) -> None:
    sandbox = sandbox_process("--training-seconds", "0.2", "--queue-seconds", "0.1")
    out = sandbox.banner
    match = re.fullmatch(r"Kore\.ai sandbox listening on (http://127\.0\.0\.1:(\d+))", out[0])
    assert match, out
    url = match.group(1)
    text = "\n".join(out)
    assert (
        f"app demo: client id {DEMO_APP.client_id}  client secret {DEMO_APP.client_secret}  "
        f"(export KORE_CLIENT_ID={DEMO_APP.client_id} KORE_CLIENT_SECRET={DEMO_APP.client_secret})"
    ) in text
    for bot in DEMO_BOTS:
        assert f"bot {bot.name}: {bot.bot_id}  (languages: en, de)" in out
    r = requests.post(f"{url}/api/public/bot/{BOT}/ml/train", headers={"auth": token()}, timeout=5)
    assert r.status_code == 200
    sandbox.stop(sig)


def test_cli_refuses_non_loopback_host() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kore_sandbox", "--host", "0.0.0.0", "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
        check=False,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr
    assert "listening" not in result.stdout


def run_sandbox_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kore_sandbox", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "argument --port: '70000' is not a port: use 1 to 65535 (e.g. 8090)"),
        (["--port", "eighty"], "argument --port: 'eighty' is not a port"),
        (["--training-seconds", "abc"], "argument --training-seconds: 'abc' is not a number of seconds"),
        (["--queue-seconds", "-1"], "argument --queue-seconds: '-1' is not a number of seconds >= 0"),
        (["--export-seconds", "inf"], "argument --export-seconds: 'inf' is not a number of seconds >= 0"),
        (["--fail-rate", "1.5"], "argument --fail-rate: '1.5' is not a probability from 0 to 1"),
        (["--fail-rate", "often"], "argument --fail-rate: 'often' is not a probability from 0 to 1"),
    ],
)
def test_cli_options_are_checked_with_a_message_naming_the_option_and_a_valid_value(
    args: list[str], message: str
) -> None:
    result = run_sandbox_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr and "_seconds value" not in result.stderr
    assert "listening" not in result.stdout


def test_cli_on_a_busy_port_says_how_to_pick_another() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_sandbox_cli("--port", str(port), "--quiet")
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "pick another port with --port (e.g. --port 8090, or --port 0 for any free one)" in result.stderr
    assert "Traceback" not in result.stderr


def test_flapping_error_fails_every_nth_matching_request(sb: Sandbox) -> None:
    sb.inject_error(503, method="GET", count=2, every=2)
    codes = [status(sb).status_code for _ in range(5)]
    assert codes == [503, 200, 503, 200, 200]
    assert sb.pending_faults == []


def test_flapping_error_via_admin_api(sb: Sandbox) -> None:
    answer = requests.post(f"{sb.url}/_sandbox/faults", json={"inject_error": {"status": 502, "every": 3}})
    assert answer.status_code == 200, answer.text
    assert [status(sb).status_code for _ in range(4)] == [502, 200, 200, 200]
    bad = requests.post(f"{sb.url}/_sandbox/faults", json={"inject_error": {"status": 502, "every": 0}})
    assert bad.status_code == 400
