"""`BotPublish`: a publish of a Kore.ai bot, redone whenever its `triggers` change.

The API (docs/kore-api.md §10): Publish Bot answers per-resource results; Bot Publish Status reports the
bot's *latest* publish job, documented `successful`, `failed` or `inprogress` (compared ignoring case,
`-` and `_`). A `successful` job whose summary lists a resource that failed counts as failed. Like the
training status it takes no job id, so `PublishTracker` accepts a terminal status only when it can be
ours: a job `_id` newer than the one read before our POST, or a running status seen since, or the grace
period passed; and never after the platform restarted
(docs/reliability.md, "When a queued training is done").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi
from pulumi.output import Unknown

from .. import settings
from ..api.errors import KoreApiError
from ..api.models import PublishStatus, is_failure_word, is_success_word
from ..errors import JobFailedError, JobLostError
from . import framework
from .framework import Deadline, KoreInputs, KoreProvider, KoreResource, Run, known, program
from .polling import LatestJobTracker, Verdict, wait_for
from .runtime import RUNTIME, log, utc_now

if TYPE_CHECKING:
    from ..api.client import KoreClient

# -- status rules (pure) ------------------------------------------------------------------------------------


def publish_verdict(status: PublishStatus) -> Verdict:
    """`successful` is done (unless a resource in the summary failed), a failure word failed, anything
    else waits."""
    if is_success_word(status.status):
        return Verdict.FAILED if status.failed_resources else Verdict.FINISHED
    return Verdict.FAILED if is_failure_word(status.status) else Verdict.WAITING


def is_terminal(status: PublishStatus) -> bool:
    return publish_verdict(status) is not Verdict.WAITING


@dataclass
class PublishTracker(LatestJobTracker[PublishStatus]):
    """Feeds status reads of one publish through the rules in this module's docstring."""

    baseline_id: str | None  # the job `_id` the status reported just before our POST (None: no job read)

    def is_terminal(self, status: PublishStatus) -> bool:
        return is_terminal(status)

    def ended(self, status: PublishStatus, elapsed: float) -> Verdict:
        newer_job = status.job_id is not None and status.job_id != self.baseline_id
        if newer_job or self.seen_running or elapsed >= self.grace_seconds:
            return publish_verdict(status)
        return Verdict.WAITING


def describe_wait(status: PublishStatus) -> str:
    if is_terminal(status):
        previous = f"{status.job_id}: {status.status}"
        return f"publish not visible yet (the status still describes publish {previous})"
    percent = f" ({status.percentage:.0f}%)" if status.percentage is not None else ""
    return f"publish {status.job_id or ''} {status.status}{percent}"


# -- inputs ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BotPublishInputs(KoreInputs):
    """What a BotPublish is given, as the provider checks and records it."""

    DESCRIBE: ClassVar[str] = "bot {bot_id}"
    JOB: ClassVar[str] = "publish"

    #: The comment of the published version. Changing it alone does not publish.
    version_comment: str
    #: A list of values; when it changes, the bot is published again. Usually the `training_id`s of the bot's
    #: `BotTraining`s, so a publish follows every successful training.
    triggers: list[Any] = field(metadata=program(type="pulumi.Input[Sequence[pulumi.Input[Any]]]"))
    #: Deadline for the whole operation (publish call and waiting), in seconds.
    timeout_seconds: float = settings.DEFAULT_PUBLISH_TIMEOUT_SECONDS

    @classmethod
    def problems(cls, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures = super().problems(news)
        comment = news.get("version_comment")
        if comment is None:
            failures.append(
                ("version_comment", "version_comment is required: the comment of the published version")
            )
        elif known(news, "version_comment") and not (isinstance(comment, str) and comment.strip()):
            failures.append(
                ("version_comment", f"{comment!r} is not a version comment; expected a non-empty string")
            )
        triggers = news.get("triggers")
        if triggers is None:
            failures.append(
                ("triggers", "triggers is required: a list (e.g. the training ids this publish follows)")
            )
        elif known(news, "triggers") and not (
            isinstance(triggers, list)
            and all(isinstance(t, str | int | float | bool | Unknown) for t in triggers)
        ):
            failures.append(
                (
                    "triggers",
                    f"{triggers!r} is not a list of plain values; expected e.g. [training.training_id, ...] "
                    "(strings, numbers or booleans)",
                )
            )
        return failures


@dataclass(frozen=True, kw_only=True)
class BotPublishOutputs(BotPublishInputs):
    #: `successful`, or after `pulumi refresh` the status of the bot's latest publish.
    publish_status: str | None = None
    #: When the publish was recorded (ISO 8601, UTC).
    published_at: str | None = None


# -- the provider ------------------------------------------------------------------------------------------


#: What `job` is given.
BotPublishRun = Run[BotPublishInputs, BotPublishOutputs, None]


class BotPublishProvider(KoreProvider[BotPublishInputs, BotPublishOutputs, None]):
    """Publishes a bot when its `triggers` change. See `BotPublish`."""

    inputs_type = BotPublishInputs
    outputs_type = BotPublishOutputs
    admin = True  # Bot Publish is an Admin Console scope
    #: Another bot or host is another publish: replace.
    replace_keys = ("bot_id", "host")
    #: Changed `triggers` (e.g. a new training id) publish again. Not `version_comment` alone: it describes
    #: a publish, it is no reason for one; the new comment is used by the next publish, and until then the
    #: recorded comment is the one last published.
    trigger_keys = ("triggers",)
    #: The public API cannot unpublish: the bot keeps its published version.
    forgotten = "bot {bot_id}: forgetting the publish; the bot keeps its published version"

    #: Seconds to wait before trusting a terminal status that may describe the previous publish (rule 3).
    grace_seconds: float = settings.GRACE_SECONDS

    def refresh(
        self, inputs: BotPublishInputs, recorded: BotPublishOutputs, client: KoreClient, deadline: Deadline
    ) -> BotPublishOutputs:
        """The status of the bot's latest publish; every other recorded output is kept."""
        status = client.publish_status(inputs.bot_id, deadline=deadline.at)
        return replace(recorded, publish_status=status.status)

    # -- the work -----------------------------------------------------------------------------------------

    def job(self, run: BotPublishRun) -> BotPublishOutputs:
        """Publish (without training: BotTraining trained already) and wait. Raises unless the publish
        succeeded, so nothing is recorded otherwise and the next `pulumi up` publishes again."""
        inputs, client, deadline = run.inputs, run.client, run.deadline
        baseline = self._latest(client, inputs, deadline)
        ticket = client.publish(
            inputs.bot_id, inputs.version_comment, initiate_training=False, deadline=deadline.at
        )
        if ticket.failed_resources:
            failed = "; ".join(r.describe() for r in ticket.failed_resources)
            raise inputs.job_error(
                JobFailedError,
                f"Kore.ai refused to publish {failed}. Nothing was recorded, so the next `pulumi up` "
                "publishes again; check those resources in the Kore.ai builder.",
                job_id=None,
            )
        log(f"{inputs.describe}: publish requested: {inputs.version_comment!r}")
        status = self._wait(run, PublishTracker(baseline, grace_seconds=self.grace_seconds))
        log(f"{inputs.describe}: publish {status.job_id or ''} {status.status} after {deadline.elapsed:.0f}s")
        return BotPublishOutputs(**vars(inputs), publish_status=status.status, published_at=utc_now())

    @staticmethod
    def _latest(client: KoreClient, inputs: BotPublishInputs, deadline: Deadline) -> str | None:
        """The job id the publish status reports before we publish (None: the bot has no publish job)."""
        try:
            return client.publish_status(inputs.bot_id, deadline=deadline.at).job_id
        except KoreApiError as exc:
            if exc.status in (400, 404):  # a bot that was never published may have no status to report
                return None
            raise

    @staticmethod
    def _wait(run: BotPublishRun, tracker: PublishTracker) -> PublishStatus:
        inputs, client, deadline = run.inputs, run.client, run.deadline

        def timed_out(last: PublishStatus | None) -> Exception:
            job_id = last.job_id if last else None
            return inputs.timeout_error(
                "the publish", last.status if last else None, "publishes", job_id=job_id
            )

        verdict, status = wait_for(
            lambda: client.publish_status(inputs.bot_id, deadline=deadline.at),
            tracker.observe,
            clock=RUNTIME.clock,
            since=RUNTIME.clock.monotonic(),
            deadline=deadline.at,
            timed_out=timed_out,
            progress=describe_wait,
            log=lambda message: log(f"{inputs.describe}: {message}"),
            describe=f"{inputs.describe}: publish",
            refusals=lambda: client.refused_connections,
            on_outage=tracker.outage,
        )
        if verdict is Verdict.LOST:
            raise inputs.job_error(
                JobLostError,
                f"{inputs.host} refused connections while the publish ran (the platform restarted or failed "
                "over), so the status it reports since cannot be taken for this publish's outcome. Nothing "
                "was recorded, so the next `pulumi up` publishes again.",
                job_id=status.job_id,
            )
        if verdict is Verdict.FAILED:
            failed = "; ".join(r.describe() for r in status.failed_resources)
            raise inputs.job_error(
                JobFailedError,
                f"Kore.ai reports publish {status.job_id or '(no id)'} as {status.status!r}"
                + (f" ({failed})" if failed else "")
                + ". Nothing was recorded, so the next `pulumi up` publishes again; check the bot's publish "
                "status in the Kore.ai builder (Deploy > Publish).",
                job_id=status.job_id,
            )
        return status


# -- the resource ------------------------------------------------------------------------------------------


# -- generated by scripts/generate_resources.py (do not edit): BotPublishArgs, BotPublishAttributes


@dataclass(kw_only=True)
class BotPublishArgs(framework.KoreArgs):
    """Inputs of a `BotPublish`, each a plain value or a `pulumi.Input`.

    Besides `bot_id` and `host` (`KoreArgs`):
    - `timeout_seconds`: Deadline for the whole operation (publish call and waiting), in seconds.
    - `version_comment`: The comment of the published version. Changing it alone does not publish.
    - `triggers`: A list of values; when it changes, the bot is published again. Usually the `training_id`s of
      the bot's `BotTraining`s, so a publish follows every successful training.
    """

    timeout_seconds: pulumi.Input[float] = settings.DEFAULT_PUBLISH_TIMEOUT_SECONDS
    version_comment: pulumi.Input[str]
    triggers: pulumi.Input[Sequence[pulumi.Input[Any]]]


class BotPublishAttributes(framework.KoreAttributes):
    """The outputs of a `BotPublish` as a program reads them: its inputs, and what its job records."""

    version_comment: pulumi.Output[str]
    triggers: pulumi.Output[list[Any]]
    publish_status: pulumi.Output[str | None]
    published_at: pulumi.Output[str | None]


# -- end of the generated part --


class BotPublish(BotPublishAttributes, KoreResource[BotPublishArgs], module="kore", name="BotPublish"):
    """A publish of a Kore.ai bot, redone whenever `triggers` change.

    `pulumi up` calls `/api/public/bot/{id}/publish` with the `version_comment` and
    `initiateTraining: false` (the bot's `BotTraining`s trained it already), then waits for
    `/api/public/bot/{id}/publish/status` to report `successful`. Another `bot_id` or `host` replaces the
    resource. Destroying it makes no API call: the public API cannot unpublish. Publishing needs an
    Admin Console app with the Bot Publish scopes.
    """

    provider_class = BotPublishProvider
