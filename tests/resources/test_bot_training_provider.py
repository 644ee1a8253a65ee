"""BotTrainingProvider against the sandbox over real HTTP (the provider methods as the plugin calls them),
mostly on a virtual clock shared with the sandbox: train, wait, record, refresh, and every way it fails,
each failure's message as `pulumi up` prints it."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from demo_values import BOT, CREDENTIALS_CONFIG, OTHER_BOT, SECRET, make_provider, training_inputs
from kore_resources import (
    AuthenticationError,
    ConfigurationError,
    JobFailedError,
    JobTimeoutError,
    KoreApiError,
)
from kore_resources.api.auth import Credentials
from kore_resources.api.client import KoreClient
from kore_resources.errors import HostUnreachableError, JobLostError
from kore_resources.resources.runtime import RUNTIME
from kore_resources.settings import resolve_credentials
from kore_sandbox import DEMO_APP, DEMO_JTI_APP, Sandbox
from kore_sandbox.testing import VirtualClock, wait_until
from resource_harness import ISO_UTC

pytestmark = pytest.mark.sandbox


@pytest.fixture
def sandbox(virtual_sandbox: Sandbox) -> Sandbox:
    return virtual_sandbox


def api_calls(sandbox, method=None):
    return [c for c in sandbox.calls if method is None or c.method == method]


def test_create_trains_waits_and_returns_full_outputs(sandbox, provider, virtual_clock, capfd):
    inputs = training_inputs(sandbox)
    result = provider.create(inputs)
    returned_at = virtual_clock.monotonic()  # the sandbox's clock

    [training] = sandbox.trainings[-1:]
    assert result.id == f"{BOT}/en"
    assert result.outs == {
        **inputs,
        "timeout_seconds": 60,
        "training_id": training.training_id,
        "training_status": "Finished",
        "trained_at": result.outs["trained_at"],
        "model_in_sync": True,
    }
    assert ISO_UTC.fullmatch(result.outs["trained_at"])
    # It returned only after the sandbox finished *this* training, although the status read "Finished"
    # (the previous training) while it was queued.
    assert training.phase == "Finished"
    assert training.finished_at is not None and training.finished_at <= returned_at
    posts = api_calls(sandbox, "POST")
    assert len(posts) == 1 and posts[0].language == "en"
    assert all(c.query.get("state") == "configured" for c in api_calls(sandbox, "GET"))
    stderr = capfd.readouterr().err
    assert f"training {training.training_id} queued" in stderr
    assert "in progress" in stderr and "finished" in stderr


def test_stale_finished_while_queued_is_not_taken_for_completion(sandbox, provider, virtual_clock):
    sandbox.set_queue_seconds(8)  # under the 10 s grace; the first polls all see the previous "Finished"
    result = provider.create(training_inputs(sandbox))
    returned_at = virtual_clock.monotonic()
    training = sandbox.trainings[-1]
    assert result.outs["training_id"] == training.training_id
    assert training.finished_at is not None and training.finished_at <= returned_at
    assert training.started_at is not None
    stale_reads = [c for c in api_calls(sandbox, "GET") if training.queued_at <= c.at < training.started_at]
    assert stale_reads, "the test must exercise polls that saw the stale status"


def test_update_trains_again_and_keeps_every_output(sandbox, provider):
    created = provider.create(training_inputs(sandbox))
    news = training_inputs(sandbox, utterances_hash="sha256:" + "2" * 64)
    updated = provider.update(created.id, created.outs, news)
    assert updated.outs is not None
    assert updated.outs["utterances_hash"] == news["utterances_hash"]
    assert updated.outs["training_id"] == sandbox.trainings[-1].training_id != created.outs["training_id"]
    assert set(updated.outs) == set(created.outs)
    assert len(api_calls(sandbox, "POST")) == 2


def test_bot_language_header_selects_the_language(sandbox, provider):
    result = provider.create(training_inputs(sandbox, language="de"))
    assert result.id == f"{BOT}/de"
    assert [c.language for c in api_calls(sandbox, "POST")] == ["de"]
    assert {c.query.get("language") for c in api_calls(sandbox, "GET")} == {"de"}


def test_failed_training_raises_naming_bot_language_and_training_id(sandbox, provider):
    sandbox.fail_next_training(bot_id=BOT, language="en")
    with pytest.raises(JobFailedError) as info:
        provider.create(training_inputs(sandbox))
    training = sandbox.trainings[-1]
    message = str(info.value)
    assert BOT in message and "(en)" in message and training.training_id in message
    assert "Failed" in message and "next `pulumi up`" in message
    assert info.value.job_id == training.training_id


def test_training_that_never_finishes_times_out(sandbox, provider, virtual_clock):
    sandbox.hang_trainings(True)
    started = virtual_clock.monotonic()
    with pytest.raises(JobTimeoutError) as info:
        provider.create(training_inputs(sandbox, timeout_seconds=300.0))
    # It gave up at the deadline: not before it (on the clock), and without sleeping past it.
    assert virtual_clock.monotonic() - started >= 300
    assert sum(virtual_clock.sleeps) <= 300 + 1e-6
    assert "timeout_seconds=300" in str(info.value) and sandbox.trainings[-1].training_id in str(info.value)


def test_not_waiting_records_queued_without_polling(sandbox, provider):
    result = provider.create(training_inputs(sandbox, wait_for_completion=False))
    assert result.outs["training_status"] == "Queued"
    assert result.outs["training_id"] == sandbox.trainings[-1].training_id
    # one status read before queueing (is another training still running?), none after
    assert [c.method for c in sandbox.calls] == ["GET", "POST"]


def test_read_reports_current_status_and_keeps_outputs(sandbox, provider, virtual_clock):
    created = provider.create(training_inputs(sandbox, wait_for_completion=False))
    virtual_clock.sleep(sandbox.queue_seconds + sandbox.training_seconds)  # the sandbox finishes meanwhile
    assert sandbox.trainings[-1].phase == "Finished"
    read = provider.read(created.id, {**created.outs, "__provider": "x"})
    assert read.id == created.id
    assert created.outs["model_in_sync"] is None  # not known while queued
    assert read.outs == {**created.outs, "training_status": "Finished", "model_in_sync": True}


def test_delete_forgets_without_calling_kore(sandbox, provider, capfd):
    provider.delete(f"{BOT}/en", {**training_inputs(sandbox), "training_id": "abc"})
    assert sandbox.calls == []
    assert "forgetting training abc" in capfd.readouterr().err


def test_missing_credentials_fail_before_any_call(sandbox, monkeypatch):
    monkeypatch.delenv("KORE_CLIENT_ID", raising=False)
    monkeypatch.delenv("KORE_CLIENT_SECRET", raising=False)
    with pytest.raises(ConfigurationError) as info:
        make_provider({}).create(training_inputs(sandbox))
    assert "kore:clientId" in str(info.value) and "KORE_CLIENT_SECRET" in str(info.value)
    assert sandbox.calls == []


def test_credentials_from_environment(sandbox, monkeypatch):
    monkeypatch.setenv("KORE_CLIENT_ID", CREDENTIALS_CONFIG["kore:clientId"])
    monkeypatch.setenv("KORE_CLIENT_SECRET", SECRET)
    result = make_provider({}).create(training_inputs(sandbox, wait_for_completion=False))
    assert result.outs["training_status"] == "Queued"


def test_wrong_secret_is_an_actionable_auth_error_and_not_retried(sandbox):
    provider = make_provider({**CREDENTIALS_CONFIG, "kore:clientSecret": "not-the-secret-" + "x" * 30})
    with pytest.raises(AuthenticationError) as info:
        provider.create(training_inputs(sandbox))
    message = str(info.value)
    assert "401" in message and "Invalid SDK credentials" in message and "4002" in message
    assert "kore:clientSecret" in message and "published" in message and "scope" in message
    assert "not-the-secret" not in message
    assert len(sandbox.calls) == 1


def test_jti_enforcing_app_accepts_every_token(sandbox):
    provider = make_provider(
        {"kore:clientId": DEMO_JTI_APP.client_id, "kore:clientSecret": DEMO_JTI_APP.client_secret}
    )
    result = provider.create(training_inputs(sandbox))
    assert result.outs["training_status"] == "Finished"
    assert all(c.status == 200 for c in sandbox.calls)


def test_rate_limited_train_is_retried_after_retry_after(sandbox, provider, virtual_clock):
    sandbox.inject_error(429, method="POST", retry_after=3)  # longer than any backoff of the first retry
    result = provider.create(training_inputs(sandbox, wait_for_completion=False))
    rejected, accepted = api_calls(sandbox, "POST")
    assert [rejected.status, accepted.status] == [429, 200]
    assert accepted.at - rejected.at >= 3  # on the clock the sandbox and the provider share
    assert max(virtual_clock.sleeps) == 3  # what the provider waited for: Retry-After
    assert result.outs["training_id"] == sandbox.trainings[-1].training_id


def test_server_error_on_train_is_checked_before_it_is_sent_again(sandbox, provider, capfd):
    # The 10 s a lost train call gets to show up as a running training pass on the virtual clock.
    sandbox.inject_error(503, method="POST")  # the sandbox answers 503 without queueing anything
    result = provider.create(training_inputs(sandbox))
    assert [c.status for c in api_calls(sandbox, "POST")] == [503, 200]
    assert len(sandbox.trainings) == 1
    assert result.outs["training_id"] == sandbox.trainings[0].training_id
    assert "no training started, so the train call is sent again" in capfd.readouterr().err


def test_dropped_connection_after_train_was_read_is_not_resent(sandbox, provider, capfd):
    sandbox.drop_connection(method="POST", after_read=True)  # the training IS queued, the answer is lost
    result = provider.create(training_inputs(sandbox))
    assert len(sandbox.trainings) == 1  # it waited for that training instead of queueing a second one
    assert len(api_calls(sandbox, "POST")) == 1
    assert result.outs["training_status"] == "Finished"
    assert result.outs["training_id"] == "unknown"  # the id was in the lost response
    assert sandbox.trainings[0].phase == "Finished"
    assert "its id was in the lost response" in capfd.readouterr().err


def test_lost_train_response_then_failed_training_raises(sandbox, provider):
    sandbox.drop_connection(method="POST", after_read=True)
    sandbox.fail_next_training(bot_id=BOT, language="en")
    with pytest.raises(JobFailedError) as info:
        provider.create(training_inputs(sandbox))
    assert info.value.job_id is None and "Failed" in str(info.value)
    assert len(sandbox.trainings) == 1


def test_transient_status_errors_are_retried(sandbox, provider):
    sandbox.inject_error(503, method="GET", count=2)
    result = provider.create(training_inputs(sandbox))
    assert result.outs["training_status"] == "Finished"
    assert [c.status for c in api_calls(sandbox, "GET")][:2] == [503, 503]


@pytest.fixture
def refusing_url() -> Iterator[str]:
    """A loopback port the OS gave us that refuses connections: bound, but not listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_unreachable_host_names_the_config_key(sandbox, provider, refusing_url):
    with pytest.raises(KoreApiError) as info:
        provider.create(training_inputs(sandbox, host=refusing_url, timeout_seconds=5.0))
    assert f"Could not connect to {refusing_url}" in str(info.value) and "kore:host" in str(info.value)


def test_languages_of_one_bot_train_one_after_another_other_bots_in_parallel(provider):
    # Three threads drive the provider, so this runs in real time; the sandbox's states decide the order.
    jobs = [(BOT, "en"), (BOT, "de"), (OTHER_BOT, "en")]
    errors: list[BaseException] = []

    def run(bot, language):
        try:
            provider.create(training_inputs(sandbox, bot_id=bot, language=language))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with Sandbox(training_seconds=1.2, queue_seconds=0.3) as sandbox:
        sandbox.hang_trainings()  # the first trainings run until the test lets them finish
        threads = [threading.Thread(target=run, args=job) for job in jobs]
        for thread in threads:
            thread.start()
        wait_until(
            lambda: {t.bot_id for t in sandbox.trainings} == {BOT, OTHER_BOT}, "a training of each bot"
        )
        # another bot trains while this bot's first training runs; this bot's other language waits
        assert [t.bot_id for t in sandbox.trainings].count(BOT) == 1
        sandbox.hang_trainings(False)
        for thread in threads:
            thread.join()
        trainings = sandbox.trainings
    assert errors == []
    by_key = {(t.bot_id, t.language): t for t in trainings}
    en, de, other = by_key[(BOT, "en")], by_key[(BOT, "de")], by_key[(OTHER_BOT, "en")]
    first, second = sorted([en, de], key=lambda t: t.queued_at)
    # on the sandbox's clock:
    assert first.finished_at is not None and second.queued_at >= first.finished_at  # same bot: no overlap
    assert other.queued_at < first.finished_at  # another bot: in parallel


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound by the OS, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def scripted() -> Iterator[VirtualClock]:
    clock = VirtualClock()
    with RUNTIME.use_clock(clock):
        yield clock


def test_a_host_that_never_answered_fails_within_seconds_naming_the_host_and_kore_host(scripted):
    provider = make_provider(CREDENTIALS_CONFIG)
    host = f"http://127.0.0.1:{closed_port()}"
    inputs = {"bot_id": BOT, "utterances_hash": "sha256:" + "1" * 64, "host": host, "timeout_seconds": 300.0}
    started = scripted.now
    with pytest.raises(HostUnreachableError) as info:
        provider.create(inputs)
    assert scripted.now - started < 10  # not the 300 s of timeout_seconds
    message = str(info.value)
    assert message.startswith(f"bot {BOT} (en): Could not connect to {host} (connection refused; 3 attempts)")
    assert "kore:host" in message and "nothing has answered there" in message


def test_a_host_that_stops_answering_mid_training_is_named_as_such_not_as_a_slow_training(scripted):
    with Sandbox(training_seconds=60, queue_seconds=1, clock=scripted) as sandbox:
        provider = make_provider(CREDENTIALS_CONFIG)
        scripted.at(10, sandbox.stop)  # killed while the training runs
        with pytest.raises(HostUnreachableError) as info:
            provider.create(training_inputs(sandbox, timeout_seconds=120.0))
        [training] = sandbox.trainings
    message = str(info.value)
    assert message.startswith(f"bot {BOT} (en): training {training.training_id}: the status could not be")
    assert "stopped answering (connection refused" in message and "raise timeout_seconds" not in message
    assert "nothing was recorded" in message


def test_a_restarted_host_is_never_taken_to_have_finished_the_training(scripted):
    sandbox = Sandbox(training_seconds=60, queue_seconds=1, clock=scripted).start()
    port = sandbox.port
    restarted: list[Sandbox] = []
    scripted.at(10, sandbox.stop)
    scripted.at(
        20, lambda: restarted.append(Sandbox(port=port, clock=scripted).start())
    )  # fresh: reads Finished
    try:
        with pytest.raises(JobLostError) as info:
            make_provider(CREDENTIALS_CONFIG).create(training_inputs(sandbox, timeout_seconds=120.0))
    finally:
        for server in restarted:
            server.stop()
    message = str(info.value)
    assert "refused connections while training" in message and "cannot be taken" in message
    assert info.value.job_id == sandbox.trainings[0].training_id
    assert restarted[0].trainings == []  # the restarted host never ran it


def test_https_to_a_plain_http_host_names_the_protocol_mismatch_in_a_whole_message(sandbox):
    client = KoreClient(
        sandbox.url.replace("http://", "https://"), Credentials(DEMO_APP.client_id, DEMO_APP.client_secret)
    )
    with pytest.raises(KoreApiError) as info:
        client.training_status(BOT, "en", deadline=time.monotonic() + 30)
    message = str(info.value)
    assert "does not speak TLS" in message and "http://" in message
    assert "REQUESTS_CA_BUNDLE" not in message
    assert message.endswith(".")  # whole, not cut off


def test_a_client_secret_with_a_trailing_newline_is_stripped(sandbox):
    credentials = resolve_credentials(
        {"kore:clientId": DEMO_APP.client_id + "\n", "kore:clientSecret": DEMO_APP.client_secret + "\n"}.get,
        {},
    )
    assert credentials == Credentials(DEMO_APP.client_id, DEMO_APP.client_secret)
    provider = make_provider(
        {"kore:clientId": DEMO_APP.client_id, "kore:clientSecret": DEMO_APP.client_secret + "\r\n"}
    )
    assert provider.create(training_inputs(sandbox, wait_for_completion=False)).outs["training_id"]


def test_provider_errors_are_short_with_the_actionable_line_last_and_no_inner_frames():
    code = """
import traceback
from pulumi.dynamic import Config, ConfigureRequest
from kore_resources import BotTrainingProvider

p = BotTrainingProvider()
p.configure(ConfigureRequest(Config({}, "p")))
try:
    p.create({"bot_id": "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01", "utterances_hash": "x",
              "host": "http://127.0.0.1:9", "timeout_seconds": 5.0})
except Exception:
    print(traceback.format_exc())
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )
    frames = [line for line in result.stdout.splitlines() if line.strip().startswith('File "')]
    assert len(frames) <= 2, result.stdout  # the caller and the provider's entry point, nothing inside
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line.startswith(("kore_resources.errors.", "kore_resources.api.errors.ConfigurationError: "))
    assert last_line.endswith(
        "Missing the Kore.ai client id: run `pulumi config set kore:clientId cs-...` or set KORE_CLIENT_ID; "
        "and the Kore.ai client secret: run `pulumi config set --secret kore:clientSecret ...` or set "
        "KORE_CLIENT_SECRET. Both come from a JWT app of the bot (App Settings > Dev Tools) with the "
        "Train ML API scope."
    )


def test_an_auth_error_names_the_bot_and_language_first(sandbox):
    provider = make_provider({**CREDENTIALS_CONFIG, "kore:clientSecret": "not-the-secret-" + "x" * 32})
    with pytest.raises(KoreApiError) as info:
        provider.create(training_inputs(sandbox, language="de"))
    assert str(info.value).startswith(f"bot {BOT} (de): Kore.ai answered HTTP 401 'Invalid SDK credentials'")
