"""BotTrainingProvider's methods against the Kore.ai sandbox over real HTTP on 127.0.0.1.

The provider and the sandbox share one virtual clock (conftest `virtual_sandbox`): a training queued for
5 s and running for 60 s takes no real time, and every duration is asserted on that clock or on the sleeps
the provider asked for. The one test with several threads runs in real time on the sandbox's states."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator

import pytest

from conftest import BOT, CREDENTIALS_CONFIG, OTHER_BOT, SECRET, make_provider, training_inputs
from kore_resources import (
    AuthenticationError,
    ConfigurationError,
    JobFailedError,
    JobTimeoutError,
    KoreApiError,
)
from kore_sandbox import DEMO_JTI_APP, Sandbox
from kore_sandbox.testing import wait_until

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


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
