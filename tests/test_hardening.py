"""Faults, rate limits, hostile input and credential hygiene (issue: hardening). Every test runs against a
real server on 127.0.0.1 (the sandbox, or a tiny purpose-built one), through the plugin process where it
matters. docs/reliability.md maps each fault to the test here that proves the behaviour."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest

from conftest import BOT, CREDENTIALS_CONFIG, OTHER_BOT, SECRET, training_inputs
from kore_resources import BotTrainingProvider
from kore_resources.api.auth import Credentials
from kore_resources.api.client import KoreClient
from kore_resources.api.ratelimit import RateBudget, Window
from kore_resources.api.retry import RetryPolicy
from kore_resources.errors import AmbiguousRequestError, ConfigurationError, KoreApiError, RateLimitedError
from kore_resources.resources.runtime import RUNTIME
from kore_sandbox import DEMO_APP
from kore_sandbox.testing import HANG_SECONDS, VirtualClock, wait_until
from plugin_harness import MiniEngine, Plugin, PluginError

CREDS = Credentials(DEMO_APP.client_id, DEMO_APP.client_secret)
FAST = RetryPolicy(base_delay=0.05, max_delay=0.2, max_attempts=4)
#: A read timeout that must fire meets an answer delayed far longer (HANG_SECONDS, released when the
#: sandbox stops); every answer that should arrive gets seconds, so a loaded machine cannot make it late.
READ_TIMEOUT = 3.0


def client(url: str, **kwargs: Any) -> KoreClient:
    return KoreClient(url, CREDS, policy=kwargs.pop("policy", FAST), **kwargs)


def deadline(seconds: float = 30.0) -> float:
    return time.monotonic() + seconds


# -- a tiny loopback server for what the sandbox should not do (redirects, TLS, header inspection) ----------


class Recorder(ThreadingHTTPServer):
    """Answers every request with `answer(handler)`, and records method, path and headers."""

    daemon_threads = True

    def __init__(self, answer: Any, *, tls: tuple[Path, Path] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer = answer
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
                recorder.answer(self)

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        if tls is not None:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.socket = context.wrap_socket(self.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()


def json_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Any:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return answer


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder(json_answer(200, {"trainingStatus": "Finished", "isMlInSyncWithSentences": True}))
    yield server
    server.shutdown()


# -- retries: which, how long, and what the final error says -------------------------------------------------


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


def test_a_flapping_status_endpoint_does_not_fail_the_training(virtual_sandbox, provider):
    sandbox = virtual_sandbox  # the retries' waits pass on the virtual clock
    sandbox.inject_error(503, method="GET", path_contains="/status", count=5, every=2)
    result = provider.create(training_inputs(sandbox))
    assert result.outs["training_status"] == "Finished"
    statuses = [c.status for c in sandbox.calls if c.method == "GET"]
    assert statuses.count(503) == 5 and statuses.count(200) >= 5


# -- rate limits and concurrency -----------------------------------------------------------------------------


def test_concurrent_operations_share_one_budget_per_bot(sandbox, provider):
    # Fewer calls per window than one bot's two trainings make (each reads the status about once a second)
    window = Window(3, 3.0)
    admitted: dict[tuple[str, ...], list[float]] = defaultdict(list)  # admission times, on the budget's clock
    held_back: list[float] = []

    def wait(seconds: float) -> None:
        held_back.append(seconds)
        time.sleep(seconds)

    budget = RateBudget([window], sleep=wait, observer=lambda key, at: admitted[key].append(at))
    with RUNTIME.use_budget(budget):
        run_concurrently(sandbox, provider)
    assert len(sandbox.trainings) == 4
    for bot in (BOT, OTHER_BOT):
        for kind, method in (("bot", "POST"), ("status", "GET")):
            [times] = [times for key, times in admitted.items() if key[1:] == (bot, kind)]
            # every call of the bot, from both its operations, went through the one budget...
            assert len(times) == len([c for c in sandbox.calls if c.bot_id == bot and c.method == method])
            # ...which admitted no more than 3 of them within any 3 s
            late = zip(times[window.calls :], times, strict=False)  # each call and the 3rd before it
            over = [t for t, earlier in late if t < earlier + window.seconds]
            assert over == [], f"{bot} {kind}: more than {window.calls} calls within {window.seconds}s"
    assert held_back, "the budget never had to hold a call back: the test did not reach the limit"
    assert all(c.status == 200 for c in sandbox.calls)


def run_concurrently(sandbox, provider):
    jobs = [(BOT, "en"), (BOT, "de"), (OTHER_BOT, "en"), (OTHER_BOT, "de")]
    threads = [
        threading.Thread(target=provider.create, args=(training_inputs(sandbox, bot_id=b, language=lang),))
        for b, lang in jobs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# -- hostile input ----------------------------------------------------------------------------------------


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


# -- credentials on the wire --------------------------------------------------------------------------------


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


# -- through the plugin process ---------------------------------------------------------------------------


class BackgroundUp(threading.Thread):
    """`pulumi up` of `resources` in a thread, so the test can act (interrupt, release) while it waits."""

    def __init__(self, engine: MiniEngine, resources: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.engine, self.resources = engine, resources
        self.error: BaseException | None = None
        self.steps: dict[str, str] | None = None
        self.start()

    def run(self) -> None:
        try:
            self.steps = self.engine.up(self.resources, skip_preview=True)
        except PluginError as exc:
            self.error = exc

    def finish(self) -> None:
        self.join(timeout=HANG_SECONDS)
        assert not self.is_alive(), "the up never returned"


def status_reads(sandbox) -> int:
    return len([c for c in sandbox.calls if c.method == "GET" and c.path.endswith("/ml/train/status")])


def interrupted_up(sandbox, resources, *, until, what, provider=None) -> MiniEngine:
    """An `up` whose plugin (serving `provider`, default a BotTrainingProvider) is killed (the engine's
    second Ctrl-C) once `until()` holds. Returns its engine, which must have recorded nothing."""
    first = Plugin(config=CREDENTIALS_CONFIG, provider=provider)
    engine = MiniEngine(first)
    up = BackgroundUp(engine, resources)
    wait_until(until, what)
    first.interrupt()
    up.finish()
    first.close()
    assert up.error is not None and engine.state == {}  # nothing recorded, nothing half-recorded
    return engine


# The promises after an interrupted `up` (docs/reliability.md, "Interrupted up"), one test per moment of
# the interrupt: before the train POST, while its training runs, after it ended, and right after the POST
# while the status still describes the previous training (the documented limit).


def test_up_interrupted_before_its_post_queues_nothing_and_the_next_up_trains_once(sandbox):
    sandbox.hang_trainings()
    builders = client(sandbox.url).train(BOT, "en", deadline=deadline())  # running, started elsewhere
    wait_until(lambda: sandbox.trainings[0].phase == "Inprogress", "the builder's training to run")
    resources = {"travel-en": training_inputs(sandbox)}
    reads = status_reads(sandbox)
    engine = interrupted_up(
        sandbox, resources, until=lambda: status_reads(sandbox) > reads, what="the idle check's first read"
    )
    assert [t.training_id for t in sandbox.trainings] == [builders.training_id]  # it never posted

    engine.plugin = second = Plugin(config=CREDENTIALS_CONFIG)
    try:
        reads = status_reads(sandbox)
        up = BackgroundUp(engine, resources)
        wait_until(lambda: status_reads(sandbox) > reads, "the next up's idle check")
        assert len(sandbox.trainings) == 1  # it waits: the builder's training still runs
        sandbox.hang_trainings(False)
        up.finish()
    finally:
        second.close()
    assert up.error is None and up.steps == {"travel-en": "create"}
    _, ours = sandbox.trainings
    assert ours.queued_behind is None  # never two trainings of one bot language at once
    assert engine.state[engine.urn("travel-en")].outputs["training_id"] == ours.training_id


@pytest.mark.parametrize("interrupted_training", ["still running", "ended"])
def test_up_interrupted_while_its_training_runs_records_nothing_and_the_next_up_waits_for_it(
    sandbox, interrupted_training
):
    sandbox.hang_trainings()  # the interrupted training stays Inprogress until the test releases it
    resources = {"travel-en": training_inputs(sandbox)}
    engine = interrupted_up(
        sandbox,
        resources,
        until=lambda: [t.phase for t in sandbox.trainings] == ["Inprogress"],
        what="the training to run",
    )
    if interrupted_training == "ended":
        sandbox.hang_trainings(False)
        wait_until(lambda: sandbox.trainings[0].phase == "Finished", "the interrupted training to end")

    engine.plugin = second = Plugin(config=CREDENTIALS_CONFIG)
    try:
        reads = status_reads(sandbox)
        up = BackgroundUp(engine, resources)
        if interrupted_training == "still running":
            wait_until(lambda: status_reads(sandbox) > reads, "the next up's idle check")
            assert len(sandbox.trainings) == 1  # it does not queue while the interrupted one runs
            sandbox.hang_trainings(False)
        up.finish()
    finally:
        second.close()
    assert up.error is None and up.steps == {"travel-en": "create"}
    interrupted, converged = sandbox.trainings
    assert interrupted.phase == converged.phase == "Finished"
    assert converged.queued_behind is None  # queued only once the interrupted training had ended
    assert engine.state[engine.urn("travel-en")].outputs["training_id"] == converged.training_id


def test_up_interrupted_before_its_training_shows_may_queue_a_second_one_the_documented_limit(sandbox):
    # The training is queued, but the status still describes the previous one (Finished): the next up
    # cannot see it and queues its own behind it. What is promised then: nothing recorded by the
    # interrupted up, and the next up records its own training only after trainings ran after its POST.
    sandbox.hold_queue()
    resources = {"travel-en": training_inputs(sandbox)}
    patient = BotTrainingProvider()
    patient.grace_seconds = 3600.0  # no wall-clock rule may decide this test; only the sandbox's states
    engine = interrupted_up(
        sandbox,
        resources,
        until=lambda: len(sandbox.trainings) == 1,
        what="the train call",
        provider=patient,  # so a slow interrupt cannot let the grace period record the stale status
    )
    engine.plugin = second = Plugin(config=CREDENTIALS_CONFIG, provider=patient)
    try:
        up = BackgroundUp(engine, resources)
        wait_until(lambda: len(sandbox.trainings) == 2, "the next up's train call")
        interrupted, ours = sandbox.trainings
        assert ours.queued_behind == interrupted.training_id  # the limit: two trainings queued at once
        # Let the trainings run, and keep the first one running until the up has read it running (a
        # patient provider never takes a terminal status for its own without that).
        sandbox.hang_trainings()
        sandbox.hold_queue(False)
        wait_until(
            lambda: any(
                c.at >= (sandbox.trainings[0].started_at or float("inf"))
                for c in sandbox.calls
                if c.method == "GET" and c.path.endswith("/ml/train/status")
            ),
            "a status read while the first training runs",
        )
        sandbox.hang_trainings(False)
        up.finish()
    finally:
        second.close()
    assert up.error is None
    interrupted, ours = sandbox.trainings
    assert engine.state[engine.urn("travel-en")].outputs["training_id"] == ours.training_id
    assert interrupted.phase == ours.phase == "Finished"  # recorded once its own training had finished


def test_the_secret_never_leaves_on_any_error_path(sandbox):
    # After the lost train call (the 500), the provider checks for a training for the grace period before
    # it sends the call again; 1 s is plenty for the sandbox's 0.3 s queue, and this test is about output.
    quick = BotTrainingProvider()
    quick.grace_seconds = 1.0
    plugin = Plugin(config=CREDENTIALS_CONFIG, provider=quick)
    engine = MiniEngine(plugin)
    scenarios = [
        lambda: sandbox.fail_next_training(bot_id=BOT, language="en"),
        lambda: sandbox.inject_error(500, method="POST"),
        lambda: sandbox.inject_error(401, method="GET", count=1),
        lambda: sandbox.inject_error(405, method="POST"),
        lambda: sandbox.inject_error(429, method="POST", retry_after=3600),
    ]
    failures = 0
    try:
        for index, arrange in enumerate(scenarios):
            arrange()
            try:
                engine.up({"travel-en": training_inputs(sandbox, utterances_hash=f"sha256:{index:064d}")})
            except PluginError:
                failures += 1
        engine.refresh()
        engine.destroy()
    finally:
        stderr = plugin.close()
    everything = stderr + plugin.later_stdout + "".join(str(r) for r in plugin.responses)
    assert failures >= 4  # the error paths really ran
    assert SECRET not in everything
    assert "eyJ" not in everything  # no JWT (base64url of '{"') was printed or returned either
    for recorded in engine.state.values():
        assert SECRET not in repr(recorded.outputs)


def test_trainings_of_one_bot_never_overlap_through_the_plugin(sandbox):
    plugin = Plugin(config=CREDENTIALS_CONFIG)
    engine_a, engine_b = MiniEngine(plugin, stack="a"), MiniEngine(plugin, stack="b")
    try:
        threads = [
            threading.Thread(target=engine_a.up, args=({"t-en": training_inputs(sandbox, language="en")},)),
            threading.Thread(target=engine_b.up, args=({"t-de": training_inputs(sandbox, language="de")},)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        plugin.close()
    # on the sandbox's clock: the second was queued only after the first had finished
    first, second = sorted(sandbox.trainings, key=lambda t: t.queued_at)
    assert first.finished_at is not None and second.queued_at >= first.finished_at
