"""BotTrainingProvider's methods against the Kore.ai sandbox over real HTTP on 127.0.0.1."""

from __future__ import annotations

import re
import threading
import time

import pytest

from conftest import BOT, CREDENTIALS_CONFIG, OTHER_BOT, SECRET, make_provider, training_inputs
from kore_resources import (
    AuthenticationError,
    ConfigurationError,
    KoreApiError,
    TrainingFailedError,
    TrainingTimeoutError,
)
from kore_resources.sandbox import DEMO_JTI_APP

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def api_calls(sandbox, method=None):
    return [c for c in sandbox.calls if method is None or c.method == method]


def test_create_trains_waits_and_returns_full_outputs(sandbox, provider, capfd):
    inputs = training_inputs(sandbox)
    result = provider.create(inputs)
    returned_at = time.time()

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
    assert training.finished_wall is not None and training.finished_wall <= returned_at
    posts = api_calls(sandbox, "POST")
    assert len(posts) == 1 and posts[0].language == "en"
    assert all(c.query.get("state") == "configured" for c in api_calls(sandbox, "GET"))
    stderr = capfd.readouterr().err
    assert f"training {training.training_id} queued" in stderr
    assert "in progress" in stderr and "finished" in stderr


def test_stale_finished_while_queued_is_not_taken_for_completion(sandbox, provider):
    sandbox.set_queue_seconds(2.5)  # the first polls all see the previous training's "Finished"
    result = provider.create(training_inputs(sandbox))
    returned_at = time.time()
    training = sandbox.trainings[-1]
    assert result.outs["training_id"] == training.training_id
    assert training.finished_wall is not None and training.finished_wall <= returned_at
    stale_reads = [c for c in api_calls(sandbox, "GET") if c.wall_time < training.queued_wall + 2.5]
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
    with pytest.raises(TrainingFailedError) as info:
        provider.create(training_inputs(sandbox))
    training = sandbox.trainings[-1]
    message = str(info.value)
    assert BOT in message and "(en)" in message and training.training_id in message
    assert "Failed" in message and "next `pulumi up`" in message
    assert info.value.training_id == training.training_id


def test_training_that_never_finishes_times_out(sandbox, provider):
    sandbox.hang_trainings(True)
    started = time.monotonic()
    with pytest.raises(TrainingTimeoutError) as info:
        provider.create(training_inputs(sandbox, timeout_seconds=3.0))
    assert 2.5 <= time.monotonic() - started < 6
    assert "timeout_seconds=3" in str(info.value) and sandbox.trainings[-1].training_id in str(info.value)


def test_not_waiting_records_queued_without_polling(sandbox, provider):
    result = provider.create(training_inputs(sandbox, wait_for_completion=False))
    assert result.outs["training_status"] == "Queued"
    assert result.outs["training_id"] == sandbox.trainings[-1].training_id
    # one status read before queueing (is another training still running?), none after
    assert [c.method for c in sandbox.calls] == ["GET", "POST"]


def test_read_reports_current_status_and_keeps_outputs(sandbox, provider):
    created = provider.create(training_inputs(sandbox, wait_for_completion=False))
    time.sleep(2)  # the sandbox finishes the training meanwhile
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


def test_rate_limited_train_is_retried_after_retry_after(sandbox, provider):
    sandbox.inject_error(429, method="POST", retry_after=1)
    started = time.monotonic()
    result = provider.create(training_inputs(sandbox, wait_for_completion=False))
    assert time.monotonic() - started >= 1.0
    assert [c.status for c in api_calls(sandbox, "POST")] == [429, 200]
    assert result.outs["training_id"] == sandbox.trainings[-1].training_id


def test_server_error_on_train_is_checked_before_it_is_sent_again(sandbox, provider, capfd):
    provider.grace_seconds = 2.0  # how long a lost train call gets to show up as a running training
    sandbox.inject_error(503, method="POST")  # the sandbox answers 503 without queueing anything
    result = provider.create(training_inputs(sandbox))
    assert [c.status for c in api_calls(sandbox, "POST")] == [503, 200]
    assert len(sandbox.trainings) == 1
    assert result.outs["training_id"] == sandbox.trainings[0].training_id
    assert "no training started, so the train call is sent again" in capfd.readouterr().err


def test_dropped_connection_after_train_was_read_is_not_resent(sandbox, provider, capfd):
    provider.grace_seconds = 2.0
    sandbox.drop_connection(method="POST", after_read=True)  # the training IS queued, the answer is lost
    result = provider.create(training_inputs(sandbox))
    assert len(sandbox.trainings) == 1  # it waited for that training instead of queueing a second one
    assert len(api_calls(sandbox, "POST")) == 1
    assert result.outs["training_status"] == "Finished"
    assert result.outs["training_id"] == "unknown"  # the id was in the lost response
    assert sandbox.trainings[0].phase == "Finished"
    assert "its id was in the lost response" in capfd.readouterr().err


def test_lost_train_response_then_failed_training_raises(sandbox, provider):
    provider.grace_seconds = 2.0
    sandbox.drop_connection(method="POST", after_read=True)
    sandbox.fail_next_training(bot_id=BOT, language="en")
    with pytest.raises(TrainingFailedError) as info:
        provider.create(training_inputs(sandbox))
    assert info.value.training_id is None and "Failed" in str(info.value)
    assert len(sandbox.trainings) == 1


def test_transient_status_errors_are_retried(sandbox, provider):
    sandbox.inject_error(503, method="GET", count=2)
    result = provider.create(training_inputs(sandbox))
    assert result.outs["training_status"] == "Finished"
    assert [c.status for c in api_calls(sandbox, "GET")][:2] == [503, 503]


def test_unreachable_host_names_the_config_key(sandbox, provider):
    with pytest.raises(KoreApiError) as info:
        provider.create(training_inputs(sandbox, host="http://127.0.0.1:9", timeout_seconds=5.0))
    assert "Could not connect to http://127.0.0.1:9" in str(info.value) and "kore:host" in str(info.value)


def test_languages_of_one_bot_train_one_after_another_other_bots_in_parallel(sandbox, provider):
    jobs = [(BOT, "en"), (BOT, "de"), (OTHER_BOT, "en")]
    errors: list[BaseException] = []

    def run(bot, language):
        try:
            provider.create(training_inputs(sandbox, bot_id=bot, language=language))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    by_key = {(t.bot_id, t.language): t for t in sandbox.trainings}
    en, de, other = by_key[(BOT, "en")], by_key[(BOT, "de")], by_key[(OTHER_BOT, "en")]
    first, second = sorted([en, de], key=lambda t: t.queued_wall)
    assert second.queued_wall >= first.finished_wall  # same bot: no overlap
    assert other.queued_wall < first.finished_wall  # another bot: in parallel
