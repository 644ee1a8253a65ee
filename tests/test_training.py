"""When a queued training counts as done (pure; see kore_resources/training.py for the rules)."""

import pytest

from kore_resources.api.models import TrainingStatus
from kore_resources.resources.bot_training import CompletionTracker, IdleTracker, LostTrainTracker
from kore_resources.resources.polling import MAX_POLL_SECONDS, MIN_POLL_SECONDS, Verdict, poll_delay

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
