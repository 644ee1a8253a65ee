"""BotTraining's rules, without sockets: its inputs (check), its diff (replace, retrain, drift, triggers),
the language codes it accepts, and the status rules that tell when a queued training is done."""

from __future__ import annotations

import pytest
from pulumi.output import Unknown

from kore_resources.api.languages import DOCUMENTED_LANGUAGES, undocumented_language
from kore_resources.api.models import TrainingStatus
from kore_resources.api.validation import host_problem
from kore_resources.resources.bot_training import (
    BotTrainingInputs,
    BotTrainingProvider,
    CompletionTracker,
    IdleTracker,
    LostTrainTracker,
)
from kore_resources.resources.polling import MAX_POLL_SECONDS, MIN_POLL_SECONDS, Verdict, poll_delay

pytestmark = pytest.mark.unit


def decide_diff(olds, news):
    return BotTrainingProvider().diff("id", olds, news)


GOOD = {
    "bot_id": "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01",
    "utterances_hash": "sha256:" + "ab" * 32,
    "language": "en",
    "host": "https://platform.kore.ai",
    "wait_for_completion": True,
    "timeout_seconds": 1800.0,  # numbers arrive as floats: protobuf Structs carry doubles
}


RECORDED = {
    **GOOD,
    "training_id": "5d6f0c3a9e1b2c3d4e5f6a7b",
    "training_status": "Finished",
    "trained_at": "2026-11-28T10:00:00Z",
    "__provider": "old-code",
}


def failures(**changes):
    return BotTrainingInputs.problems({**GOOD, **changes})


def test_good_inputs_pass():
    assert BotTrainingInputs.problems(GOOD) == []


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("bot_id", "7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01"),
        ("bot_id", "st-7c0a4c1e"),
        ("bot_id", "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01/../x"),
        ("bot_id", 42),
        ("language", "english"),
        ("language", "en US"),
        ("language", "de\r\nx-evil: 1"),
        ("host", "platform.kore.ai"),
        ("host", "ftp://platform.kore.ai"),
        ("host", "http://platform.kore.ai"),
        ("host", "https://platform.kore.ai/api/public"),
        ("host", "https://platform.kore.ai?x=1"),
        ("host", "https://user:pw@platform.kore.ai"),
        ("utterances_hash", ""),
        ("utterances_hash", "   "),
        ("timeout_seconds", 0),
        ("timeout_seconds", -5.0),
        ("timeout_seconds", True),
        ("timeout_seconds", "1800"),
        ("wait_for_completion", "yes"),
    ],
)
def test_each_bad_input_is_a_failure_naming_the_property(prop, value):
    found = failures(**{prop: value})
    assert [p for p, _ in found] == [prop]
    assert repr(value)[:10].strip("'") in found[0][1] or prop in found[0][1]


def test_missing_bot_id_and_host_are_failures():
    news = {k: v for k, v in GOOD.items() if k not in ("bot_id", "host")}
    found = dict(BotTrainingInputs.problems(news))
    assert "st-" in found["bot_id"]
    assert "kore:host" in found["host"] and "KORE_HOST" in found["host"]


@pytest.mark.parametrize(
    "host",
    [
        "http://127.0.0.1:8089",
        "http://localhost:8089",
        "http://[::1]:8089",
        "https://platform.kore.ai",
        "https://bots.kore.ai/",
        "https://kore.example.com:8443",
    ],
)
def test_accepted_hosts(host):
    assert host_problem(host) is None


def test_unknown_values_are_accepted_during_preview():
    news = {k: Unknown() for k in GOOD}
    assert BotTrainingInputs.problems(news) == []


def test_normalize_fills_defaults_and_canonical_host():
    news = BotTrainingInputs.normalize(
        {"bot_id": GOOD["bot_id"], "utterances_hash": "h", "host": "https://Platform.Kore.ai/"}
    )
    assert news["host"] == "https://platform.kore.ai"
    assert (
        news["language"] == "en" and news["wait_for_completion"] is True and news["timeout_seconds"] == 1800
    )


def test_nothing_changed_is_no_change():
    result = decide_diff(RECORDED, {**GOOD, "__provider": "old-code"})
    assert result.changes is False and result.replaces == []


def test_new_provider_code_credentials_or_waiting_options_do_not_retrain():
    news = {**GOOD, "__provider": "new-code", "wait_for_completion": False, "timeout_seconds": 60.0}
    assert decide_diff(RECORDED, news).changes is False


def test_new_utterances_hash_is_an_in_place_update():
    result = decide_diff(RECORDED, {**GOOD, "utterances_hash": "sha256:" + "cd" * 32})
    assert result.changes is True and result.replaces == []


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("bot_id", "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e02"),
        ("language", "de"),
        ("host", "https://bots.kore.ai"),
    ],
)
def test_other_bot_language_or_host_is_a_replacement(prop, value):
    result = decide_diff(RECORDED, {**GOOD, prop: value})
    assert result.changes is True and result.replaces == [prop]
    assert result.delete_before_replace is False


def test_unknown_hash_in_preview_may_change():
    result = decide_diff(RECORDED, {**GOOD, "utterances_hash": Unknown()})
    assert result.changes is True and result.replaces == []


@pytest.mark.parametrize(
    ("recorded", "retrains"),
    [
        ({"training_status": "Finished", "model_in_sync": True}, False),
        ({"training_status": "Finished"}, False),  # recorded before 0.2: compares as in sync
        ({"training_status": "Finished", "model_in_sync": None}, False),  # the platform did not say
        ({"training_status": "Finished", "model_in_sync": False}, True),
        ({"training_status": "Failed", "model_in_sync": True}, True),
        ({"training_status": "Failed"}, True),
        # someone is training in the builder, or this stack queued without waiting: not yet a verdict
        ({"training_status": "Inprogress", "model_in_sync": False}, False),
        ({"training_status": "Queued", "model_in_sync": None}, False),
    ],
)
def test_refreshed_drift_retrains_in_place_and_says_why(recorded, retrains, capsys):
    olds = {**RECORDED, "triggers": [], **recorded}
    diff = decide_diff(olds, {**GOOD, "triggers": []})
    assert (diff.changes, diff.replaces) == (retrains, [])
    said = capsys.readouterr().err
    assert ("to be trained again" in said) is retrains
    if retrains:
        assert "Failed" in said if recorded["training_status"] == "Failed" else "out of sync" in said


def test_new_triggers_retrain_in_place_and_a_record_without_triggers_takes_the_first_ones(capsys):
    olds = {**RECORDED, "triggers": ["import-1"]}
    assert not decide_diff(olds, {**GOOD, "triggers": ["import-1"]}).changes
    changed = decide_diff(olds, {**GOOD, "triggers": ["import-2"]})
    assert changed.changes and changed.replaces == []
    assert "its triggers changed" in capsys.readouterr().err
    assert decide_diff(olds, {**GOOD, "triggers": [Unknown()]}).changes  # preview: the import runs first
    # recorded by 0.1 (no triggers): an upgrade retrains nothing
    assert not decide_diff(RECORDED, {**GOOD, "triggers": ["import-1"]}).changes


def test_triggers_must_be_a_list():
    assert failures(triggers="import-1") == [("triggers", "'import-1' is not a list of values")]
    assert failures(triggers=["import-1", 2]) == []


@pytest.mark.parametrize("language", ["th", "tr", "fil", "zh_cn", "pt_pt", "en-US", "zh_CN", "xx"])
def test_any_well_formed_language_code_is_accepted_the_platform_decides(language):
    """Kore.ai adds bot languages release by release; a list here would refuse a bot that works."""
    assert BotTrainingInputs.problems({**GOOD, "language": language}) == []


@pytest.mark.parametrize(
    ("language", "closest"),
    [("th", None), ("zh_cn", None), ("en-US", "en"), ("zh-CN", "zh_cn"), ("deu", "de"), ("english", None)],
)
def test_a_code_the_docs_do_not_list_warns_naming_the_closest_documented_one(language, closest):
    warning = undocumented_language(language)
    if closest is None and language in DOCUMENTED_LANGUAGES:
        assert warning is None
    elif closest is not None:
        assert warning is not None and f"Did you mean {closest!r}?" in warning


IN_SYNC = {"isMlInSyncWithSentences": True, "isMlInSyncWithSynonyms": True}


STALE = {"isMlInSyncWithSentences": False, "isMlInSyncWithSynonyms": True}


def status(value, flags=IN_SYNC):
    return TrainingStatus(value, dict(flags))


def test_finished_after_in_progress_is_ours():
    tracker = CompletionTracker(grace_seconds=10)
    assert tracker.observe(status("Finished"), 1) is Verdict.WAITING  # stale: the previous training
    assert tracker.observe(status("Inprogress"), 2) is Verdict.WAITING
    assert tracker.observe(status("Finished"), 3) is Verdict.FINISHED


def test_failed_after_in_progress_is_ours():
    tracker = CompletionTracker(grace_seconds=10)
    tracker.observe(status("Inprogress"), 1)
    assert tracker.observe(status("Failed"), 2) is Verdict.FAILED


def test_finished_right_after_queueing_is_not_trusted_within_grace():
    tracker = CompletionTracker(grace_seconds=10)
    assert tracker.observe(status("Finished"), 1) is Verdict.WAITING
    assert tracker.observe(status("Finished"), 9.9) is Verdict.WAITING
    assert tracker.observe(status("Finished"), 10) is Verdict.FINISHED


def test_finished_but_out_of_sync_with_sentences_is_stale_whatever_the_time():
    tracker = CompletionTracker(grace_seconds=10)
    assert tracker.observe(status("Finished", STALE), 50) is Verdict.WAITING
    assert tracker.observe(status("Finished", STALE), 500) is Verdict.WAITING


def test_stale_failed_is_not_reported_within_grace():
    tracker = CompletionTracker(grace_seconds=10)
    assert tracker.observe(status("Failed"), 1) is Verdict.WAITING
    assert tracker.observe(status("Failed"), 11) is Verdict.FAILED


def test_unknown_non_terminal_status_counts_as_running():
    tracker = CompletionTracker(grace_seconds=10)
    assert tracker.observe(status("Queued"), 1) is Verdict.WAITING
    assert tracker.observe(status("Finished", STALE), 2) is Verdict.FINISHED


def test_status_parsing_keeps_only_sync_flags():
    parsed = TrainingStatus.from_api(
        {"trainingStatus": "Finished", "isMlInSyncWithSentences": False, "trainDetails": {"nlpVersion": 3}}
    )
    assert parsed.training_status == "Finished"
    assert parsed.in_sync == {"isMlInSyncWithSentences": False}
    assert parsed.sentences_in_sync is False and parsed.is_terminal


@pytest.mark.parametrize("payload", [[], {"trainingStatus": 3}, {"trainingStatus": ["Finished"]}, None])
def test_status_parsing_rejects_other_shapes(payload):
    with pytest.raises(ValueError, match="trainingStatus"):
        TrainingStatus.from_api(payload)


def test_poll_delay_is_a_fraction_of_elapsed_within_bounds():
    assert poll_delay(0, 100) == MIN_POLL_SECONDS
    assert poll_delay(50, 100) == 4.0  # 8%: lag under 10% of the training even with the queue time
    assert poll_delay(3000, 1000) == MAX_POLL_SECONDS
    assert poll_delay(100, 2.5) == 2.5  # never sleeps past the deadline
    assert poll_delay(50, -1) == 0.0


def test_idle_means_no_training_running():
    tracker = IdleTracker()
    assert tracker.observe(status("Inprogress"), 0) is Verdict.WAITING
    assert tracker.observe(status("Finished", STALE), 0) is Verdict.FINISHED
    assert tracker.observe(status("Failed"), 0) is Verdict.FINISHED


def test_lost_train_that_shows_up_running_is_waited_for():
    tracker = LostTrainTracker(grace_seconds=10)
    assert tracker.observe(status("Finished"), 1) is Verdict.WAITING
    assert tracker.observe(status("Inprogress"), 2) is Verdict.WAITING
    assert tracker.observe(status("Finished"), 30) is Verdict.FINISHED


def test_lost_train_that_shows_up_and_fails_is_a_failure():
    tracker = LostTrainTracker(grace_seconds=10)
    tracker.observe(status("Inprogress"), 2)
    assert tracker.observe(status("Failed"), 3) is Verdict.FAILED


@pytest.mark.parametrize("final", [status("Finished"), status("Finished", STALE), status("Failed")])
def test_lost_train_that_never_shows_up_was_not_started(final):
    tracker = LostTrainTracker(grace_seconds=10)
    assert tracker.observe(final, 9) is Verdict.WAITING
    assert tracker.observe(final, 10) is Verdict.NOT_STARTED  # safe to send the train call again


@pytest.mark.parametrize("payload", [{}, {"trainingStatus": None}, {"status": "Finished"}])
def test_an_answer_without_a_training_status_reports_no_training(payload):
    """What the status call answers for a bot language never trained is undocumented: an answer without
    `trainingStatus` says there is no training, which is neither running nor ended."""
    parsed = TrainingStatus.from_api(payload)
    assert not parsed.reported and not parsed.is_terminal
    assert parsed.describe() == "no training reported (no trainingStatus)"
    assert (
        TrainingStatus.none("HTTP 400 'No training'").describe()
        == "no training reported (HTTP 400 'No training')"
    )


@pytest.mark.parametrize("timeout", [999999999, 10**12, 7 * 24 * 3600 + 1])
def test_a_timeout_of_more_than_a_week_is_refused_as_a_unit_mistake(timeout):
    [(prop, reason)] = BotTrainingInputs.problems({**GOOD, "timeout_seconds": timeout})
    assert prop == "timeout_seconds"
    assert reason.startswith(f"{timeout!r} seconds is more than 7 days") and "not milliseconds" in reason
    assert BotTrainingInputs.problems({**GOOD, "timeout_seconds": 7 * 24 * 3600}) == []
