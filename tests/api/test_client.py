"""The Kore.ai HTTP client against real servers on 127.0.0.1 (the sandbox, and a tiny server for what the
sandbox should not do: redirects, TLS, header inspection): which failures are retried and how long, what
the final error says, hostile input, credentials on the wire."""

from __future__ import annotations

import subprocess
from pathlib import Path

import jwt
import pytest

from demo_values import BOT, SECRET
from http_stub import CREDS, FAST, Recorder, client, deadline, json_answer
from kore_resources.api.client import KoreClient
from kore_resources.api.retry import RetryPolicy
from kore_resources.errors import AmbiguousRequestError, ConfigurationError, KoreApiError, RateLimitedError
from kore_sandbox import DEMO_APP
from kore_sandbox.testing import HANG_SECONDS, VirtualClock

pytestmark = pytest.mark.sandbox


#: A read timeout that must fire meets an answer delayed far longer (HANG_SECONDS, released when the
#: sandbox stops); every answer that should arrive gets seconds, so a loaded machine cannot make it late.
READ_TIMEOUT = 3.0


def test_read_timeout_on_a_status_read_is_retried(sandbox):
    sandbox.delay_response(HANG_SECONDS, method="GET")
    status = client(sandbox.url, read_timeout=READ_TIMEOUT).training_status(BOT, "en", deadline=deadline())
    assert status.training_status == "Finished"
    assert [c.method for c in sandbox.calls] == ["GET", "GET"]


def test_connection_dropped_during_a_status_read_is_retried(sandbox):
    sandbox.drop_connection(method="GET", after_read=True)
    status = client(sandbox.url).training_status(BOT, "en", deadline=deadline())
    assert status.training_status == "Finished"
    assert [c.status for c in sandbox.calls] == [None, 200]  # None: dropped without an answer


def test_read_timeout_on_the_train_call_is_not_resent(sandbox):
    sandbox.delay_response(HANG_SECONDS, method="POST")  # processed (queued) at once, answered too late
    with pytest.raises(AmbiguousRequestError) as info:
        client(sandbox.url, read_timeout=READ_TIMEOUT).train(BOT, "en", deadline=deadline())
    assert info.value.outcome == "no response within the read timeout"
    assert "not sent again" in str(info.value)
    assert len([c for c in sandbox.calls if c.method == "POST"]) == 1
    assert len(sandbox.trainings) == 1


def test_connection_dropped_before_the_request_was_read_is_not_resent_either(sandbox):
    # The client cannot tell "dropped before reading" from "dropped after": both are ambiguous for a POST.
    sandbox.drop_connection(method="POST", after_read=False)
    with pytest.raises(AmbiguousRequestError):
        client(sandbox.url).train(BOT, "en", deadline=deadline())
    assert sandbox.trainings == []


def test_429_without_retry_after_waits_long_enough_for_the_window_then_retries(sandbox):
    sandbox.inject_error(429, method="POST")
    fake = VirtualClock()
    ticket = client(sandbox.url, sleep=fake.sleep, clock=fake).train(BOT, "en", deadline=fake() + 60)
    assert [c.status for c in sandbox.calls] == [429, 200]
    assert ticket.training_id == sandbox.trainings[0].training_id
    # Not the backoff's fraction of a second: a refusal that names no time waits for the window to roll.
    assert fake.sleeps == [FAST.rate_limited_delay]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "Rate limit for this API has been reached. Please try again after some time."),
        (403, "Rate limit for this API has been reached. Please try again later"),
        (503, "You've exceeded the per-minute rate limit. Please wait for sometime before retrying."),
    ],
)
def test_a_refusal_in_the_documented_words_is_a_rate_limit_whatever_its_status(sandbox, status, message):
    # The docs give the rate limit's words, not its status (docs/kore-api.md §5.2): a train POST refused so
    # was not acted on, so it is sent again, after the wait.
    sandbox.inject_error(status, method="POST", body={"errors": [{"msg": message, "code": status}]})
    fake = VirtualClock()
    ticket = client(sandbox.url, sleep=fake.sleep, clock=fake).train(BOT, "en", deadline=fake() + 60)
    assert [c.status for c in sandbox.calls] == [status, 200]
    assert ticket.training_id == sandbox.trainings[0].training_id and len(sandbox.trainings) == 1


def test_an_hourly_refusal_without_retry_after_fails_at_once_saying_so(sandbox):
    message = "You've exceeded the hourly rate limit. Please wait for sometime before retrying."
    sandbox.inject_error(429, method="POST", body={"errors": [{"msg": message, "code": 429}]}, count=5)
    fake = VirtualClock()
    with pytest.raises(RateLimitedError, match="hourly budget for this bot is spent") as info:
        client(sandbox.url, sleep=fake.sleep, clock=fake).train(BOT, "en", deadline=fake() + 1800)
    assert message in str(info.value) and "nothing was done" in str(info.value)
    assert fake.sleeps == [] and len(sandbox.calls) == 1 and sandbox.trainings == []


def test_429_retry_after_is_honoured(sandbox):
    sandbox.inject_error(429, method="GET", retry_after=1)
    fake = VirtualClock()
    client(sandbox.url, sleep=fake.sleep, clock=fake).training_status(BOT, "en", deadline=fake() + 30)
    assert [c.status for c in sandbox.calls] == [429, 200]
    assert fake.sleeps == [1.0]  # Retry-After, not the backoff (at most 0.05 s after a first failure)


def test_429_beyond_the_deadline_fails_fast_and_says_so(sandbox):
    sandbox.inject_error(429, method="GET", retry_after=60)
    fake = VirtualClock()
    with pytest.raises(RateLimitedError, match="60 calls per minute"):
        client(sandbox.url, sleep=fake.sleep, clock=fake).training_status(BOT, "en", deadline=fake() + 5)
    assert fake.sleeps == []  # did not sleep into a deadline it could not meet
    assert len(sandbox.calls) == 1


@pytest.mark.parametrize("status", [400, 401, 405, 412])
def test_permanent_errors_are_not_retried(sandbox, status):
    sandbox.inject_error(status, method="GET")
    with pytest.raises(KoreApiError) as info:
        client(sandbox.url).training_status(BOT, "en", deadline=deadline())
    assert f"HTTP {status}" in str(info.value) and not info.value.transient
    assert len(sandbox.calls) == 1


def test_the_final_error_says_what_was_tried(sandbox):
    sandbox.inject_error(503, method="GET", count=10)
    with pytest.raises(KoreApiError) as info:
        client(sandbox.url).training_status(BOT, "en", deadline=deadline())
    assert "after 4 attempts (HTTP 503, HTTP 503, HTTP 503, HTTP 503)" in str(info.value)
    assert info.value.transient


def test_retries_stop_at_the_operation_deadline(sandbox):
    sandbox.inject_error(503, method="GET", count=100)
    slow = RetryPolicy(base_delay=1.0, max_delay=1.0, max_attempts=100)
    fake = VirtualClock()
    with pytest.raises(KoreApiError, match="HTTP 503"):
        client(sandbox.url, policy=slow, sleep=fake.sleep, clock=fake).training_status(
            BOT, "en", deadline=fake() + 2.5
        )
    # Retries (each after 0.5 to 1 s) went on until the next one could not start before the deadline.
    assert len(sandbox.calls) >= 3 and len(fake.sleeps) == len(sandbox.calls) - 1
    assert sum(fake.sleeps) < 2.5


@pytest.mark.parametrize(
    ("bot_id", "language"),
    [
        (BOT + "/../../admin", "en"),
        (BOT + "?state=published", "en"),
        ("st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01%2F..", "en"),
        (BOT, "en\r\nX-Injected: 1"),
        (BOT, "en&state=published"),
    ],
)
def test_inputs_cannot_change_the_path_query_or_headers(sandbox, bot_id, language):
    with pytest.raises(ConfigurationError):
        client(sandbox.url).train(bot_id, language, deadline=deadline())
    with pytest.raises(ConfigurationError):
        client(sandbox.url).training_status(bot_id, language, deadline=deadline())
    assert sandbox.calls == []


@pytest.mark.parametrize(
    "host",
    [
        "http://platform.kore.ai",
        "https://platform.kore.ai/evil?x=1",
        "https://user:pw@platform.kore.ai",
        "ftp://platform.kore.ai",
    ],
)
def test_the_client_refuses_unsafe_hosts(host):
    with pytest.raises(ConfigurationError, match="kore:host"):
        KoreClient(host, CREDS)


def test_every_request_carries_a_fresh_short_lived_token(recorder):
    kore = client(recorder.url)
    for _ in range(3):
        kore.training_status(BOT, "en", deadline=deadline())
    tokens = [r["headers"]["auth"] for r in recorder.requests]
    claims = [jwt.decode(t, SECRET, algorithms=["HS256"]) for t in tokens]
    assert len({c["jti"] for c in claims}) == 3
    assert all(c["exp"] - c["iat"] <= 300 and c["appId"] == DEMO_APP.client_id for c in claims)
    assert all(set(c) == {"appId", "sub", "iat", "exp", "jti"} for c in claims)


def test_redirects_are_not_followed_so_the_token_stays_home(recorder):
    elsewhere = recorder  # another host on loopback that must never see the token
    redirector = Recorder(
        json_answer(307, {}, {"Location": f"{elsewhere.url}/api/public/bot/{BOT}/ml/train"})
    )
    try:
        with pytest.raises(KoreApiError, match=r"redirects to .* not followed"):
            client(redirector.url).train(BOT, "en", deadline=deadline())
    finally:
        redirector.shutdown()
    assert elsewhere.requests == []


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_tls_is_verified_and_a_private_ca_goes_in_requests_ca_bundle(certificate, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    server = Recorder(json_answer(200, {"trainingStatus": "Finished"}), tls=certificate)
    try:
        with pytest.raises(KoreApiError) as info:
            client(server.url).training_status(BOT, "en", deadline=deadline())
        assert "TLS verification failed" in str(info.value) and "REQUESTS_CA_BUNDLE" in str(info.value)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
        assert (
            client(server.url).training_status(BOT, "en", deadline=deadline()).training_status == "Finished"
        )
    finally:
        server.shutdown()
