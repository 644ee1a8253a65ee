"""BotPublish's rules, without sockets: its inputs (check), its diff, the publish status vocabulary and
answers, and which publish status is ours."""

from __future__ import annotations

import pytest
from pulumi.output import Unknown

from kore_resources.api.models import PublishStatus, PublishTicket
from kore_resources.resources.bot_publish import (
    BotPublishInputs,
    BotPublishProvider,
    PublishTracker,
    publish_verdict,
)
from kore_resources.resources.polling import Verdict

pytestmark = pytest.mark.unit


def decide_publish_diff(olds, news):
    return BotPublishProvider().diff("id", olds, news)


BOT = "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01"


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        ("successful", Verdict.FINISHED),
        ("Successful", Verdict.FINISHED),
        ("in-progress", Verdict.WAITING),
        ("IN_PROGRESS", Verdict.WAITING),
        ("running", Verdict.WAITING),
        ("failed", Verdict.FAILED),
        ("failure", Verdict.FAILED),
    ],
)
def test_publish_status_vocabulary(status, verdict):
    assert publish_verdict(PublishStatus(status)) is verdict


def test_documented_publish_answers_parse():
    ticket = PublishTicket.from_api(
        [{"resourceType": "dialog", "resourceId": "dg-1", "status": "SUCCESS", "result": {}}]
    )
    assert [r.resource_id for r in ticket.resources] == ["dg-1"] and ticket.failed_resources == ()
    refused = PublishTicket.from_api([{"resourceType": "dialog", "resourceId": "dg-2", "status": "FAILED"}])
    assert [r.describe() for r in refused.failed_resources] == ["dialog dg-2: FAILED"]
    with pytest.raises(ValueError, match="array"):
        PublishTicket.from_api({"status": "ok"})

    sample = {
        "_id": "ds-4a1b",
        "action": "RUN",
        "jobType": "PUBLISH_BOT",
        "percentageComplete": 100,
        "status": "successful",
        "statusSummary": [{"resourceId": "NL", "resourceType": "NL", "status": "SUCCESS"}],
    }
    status = PublishStatus.from_api(sample)
    assert (status.job_id, status.percentage, publish_verdict(status)) == ("ds-4a1b", 100.0, Verdict.FINISHED)
    # a "successful" job that failed to publish a resource is not a success
    broken = {**sample, "statusSummary": [{"resourceType": "NL", "status": "FAILED", "message": "model"}]}
    assert publish_verdict(PublishStatus.from_api(broken)) is Verdict.FAILED
    assert PublishStatus.from_api(broken).failed_resources[0].describe() == "NL: FAILED (model)"
    assert PublishStatus.from_api({"status": "in-progress", "percentageComplete": True}).percentage is None
    with pytest.raises(ValueError, match="status"):
        PublishStatus.from_api({"_id": "ds-1"})


def read(status: str, job_id: str | None = "ds-old") -> PublishStatus:
    return PublishStatus(status=status, job_id=job_id)


def test_publish_tracker_accepts_a_newer_job_at_once():
    tracker = PublishTracker(baseline_id="ds-old", grace_seconds=10)
    assert tracker.observe(read("successful", "ds-new"), elapsed=1) is Verdict.FINISHED
    assert PublishTracker("ds-old").observe(read("failed", "ds-new"), elapsed=1) is Verdict.FAILED
    assert PublishTracker(None).observe(read("successful", "ds-any"), elapsed=0) is Verdict.FINISHED


def test_publish_tracker_does_not_take_the_previous_job_for_ours():
    tracker = PublishTracker(baseline_id="ds-old", grace_seconds=10)
    assert tracker.observe(read("successful"), elapsed=1) is Verdict.WAITING  # stale: the previous publish
    assert tracker.observe(read("failed"), elapsed=2) is Verdict.WAITING
    assert tracker.observe(read("successful"), elapsed=10) is Verdict.FINISHED  # rule 3: after the grace


def test_publish_tracker_after_seeing_it_run_the_next_terminal_status_is_ours():
    tracker = PublishTracker(baseline_id="ds-old", grace_seconds=10)
    assert tracker.observe(read("in-progress"), elapsed=1) is Verdict.WAITING
    assert tracker.observe(read("failed"), elapsed=2) is Verdict.FAILED  # same (reused) id, but seen running


PUBLISH = {
    "bot_id": BOT,
    "version_comment": "travel: from git",
    "triggers": ["5d6f0c3a9e1b2c3d4e5f6a7b", "5d6f0c3a9e1b2c3d4e5f6a7c"],
    "host": "https://platform.kore.ai",
    "timeout_seconds": 900.0,
}


PUBLISHED = {**PUBLISH, "publish_status": "successful", "published_at": "t"}


def test_good_publish_inputs_pass_and_get_defaults():
    assert BotPublishInputs.problems(PUBLISH) == []
    assert BotPublishInputs.problems({**PUBLISH, "triggers": []}) == []
    assert (
        BotPublishInputs.problems({**PUBLISH, "triggers": ["a", Unknown()], "version_comment": Unknown()})
        == []
    )
    minimal = {k: v for k, v in PUBLISH.items() if k != "timeout_seconds"}
    assert BotPublishInputs.normalize(minimal)["timeout_seconds"] == 900


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("bot_id", "st-1"),
        ("host", "platform.kore.ai"),
        ("timeout_seconds", -1),
        ("version_comment", ""),
        ("version_comment", 12),
        ("triggers", "training-1"),
        ("triggers", [["nested"]]),
        ("triggers", [{"a": 1}]),
    ],
)
def test_each_bad_publish_input_names_the_property(prop, value):
    failures = BotPublishInputs.problems({**PUBLISH, prop: value})
    assert [p for p, _ in failures] == [prop]


@pytest.mark.parametrize("prop", ["bot_id", "version_comment", "triggers", "host"])
def test_required_publish_inputs(prop):
    failures = BotPublishInputs.problems({k: v for k, v in PUBLISH.items() if k != prop})
    assert [p for p, _ in failures] == [prop]


def test_publish_diff_republishes_when_triggers_change_not_for_the_comment_alone():
    assert decide_publish_diff(PUBLISHED, PUBLISH).changes is False
    assert decide_publish_diff(PUBLISHED, {**PUBLISH, "version_comment": "new words"}).changes is False
    assert decide_publish_diff(PUBLISHED, {**PUBLISH, "timeout_seconds": 60.0}).changes is False
    new_training = decide_publish_diff(PUBLISHED, {**PUBLISH, "triggers": [PUBLISH["triggers"][0], "new"]})
    assert (new_training.changes, new_training.replaces) == (True, [])
    assert decide_publish_diff(
        PUBLISHED, {**PUBLISH, "triggers": [PUBLISH["triggers"][0], Unknown()]}
    ).changes
    assert decide_publish_diff(PUBLISHED, {**PUBLISH, "triggers": Unknown()}).changes
    assert decide_publish_diff(PUBLISHED, {**PUBLISH, "bot_id": BOT.replace("01", "02")}).replaces == [
        "bot_id"
    ]
    assert decide_publish_diff(PUBLISHED, {**PUBLISH, "host": "https://bots.kore.ai"}).replaces == ["host"]
