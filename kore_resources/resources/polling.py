"""Waiting for a Kore.ai job: the one polling loop behind trainings, ML imports and publishes.

Each job has its own status call and its own vocabulary (each resource module's status rules decide what a
status means, as a `Tracker`); what they share is how to wait: reads scheduled by `poll_delay` from when
the previous read was *sent* (so a slow answer adds no lag), transient read errors ridden out until the
deadline, progress logged when it changes (and every 30 s), and one deadline for all of it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from .. import settings
from ..api.errors import HostUnreachableError, KoreApiError
from ..api.models import is_failure_word, is_success_word

Status = TypeVar("Status")
Status_contra = TypeVar("Status_contra", contravariant=True)

#: Log a still-unchanged status again after this long, so a long wait visibly goes on.
PROGRESS_EVERY_SECONDS = 30.0
#: Kore.ai allows 60 status calls per minute per request: never poll more often than once a second.
MIN_POLL_SECONDS = 1.0
MAX_POLL_SECONDS = 30.0
#: Reading every 8% of the time already waited keeps completion lag under 10% of the training time, even
#: though "time waited" includes Kore.ai's queueing before the training starts (bench: completion lag).
POLL_FRACTION = 0.08


class Verdict(enum.Enum):
    """What a job's status reads mean, as a resource's status rules judge them."""

    WAITING = "waiting"
    FINISHED = "finished"
    FAILED = "failed"
    NOT_STARTED = "not started"  # a lost train call evidently queued nothing (bot_training.py)
    LOST = "lost"  # the platform restarted during the job: what it reports now cannot be the job's outcome


def word_verdict(status: str) -> Verdict:
    """The vocabulary of Kore.ai's import jobs (ML import, bot import): a success word is done, a failure
    word failed, anything else (`pending`, a word we do not know) waits; the deadline bounds that."""
    if is_success_word(status):
        return Verdict.FINISHED
    return Verdict.FAILED if is_failure_word(status) else Verdict.WAITING


class Tracker(Protocol[Status_contra]):
    """A resource's status rules for one job: each read, and seconds since the job was started."""

    def observe(self, status: Status_contra, elapsed: float) -> Verdict: ...


@dataclass(kw_only=True)
class LatestJobTracker(Generic[Status]):
    """The status rules of a job whose status call takes no job id and describes the bot's (or bot
    language's) *latest* job, so the first reads after the POST may describe the previous one: trainings and
    publishes (docs/reliability.md, "When a queued training is done"). What they share: a running status seen
    since the POST means the next terminal one is ours (rule 1), and a terminal status read after the host
    refused a connection (the platform restarted) is not taken for ours: the job is lost (rule 4). What any
    other terminal status means is each job's own (`ended`)."""

    grace_seconds: float = settings.GRACE_SECONDS
    seen_running: bool = False
    platform_restarted: bool = False

    def outage(self) -> None:
        """The host refused a connection while we waited (rule 4)."""
        self.platform_restarted = True

    def observe(self, status: Status, elapsed: float) -> Verdict:
        """`elapsed`: seconds since the POST that started the job was answered."""
        if self.is_absent(status):
            return self.absent(elapsed)
        if not self.is_terminal(status):
            self.seen_running = True
            return Verdict.WAITING
        return Verdict.LOST if self.platform_restarted else self.ended(status, elapsed)

    def is_terminal(self, status: Status) -> bool:
        raise NotImplementedError

    def is_absent(self, status: Status) -> bool:
        """The read reports no job at all (a training of a bot language never trained): neither running nor
        ended."""
        return False

    def absent(self, elapsed: float) -> Verdict:
        """What a read that reports no job means: ours is not visible yet."""
        return Verdict.WAITING

    def ended(self, status: Status, elapsed: float) -> Verdict:
        """What a terminal status means, the platform not having restarted."""
        raise NotImplementedError


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


def poll_delay(elapsed: float, remaining: float) -> float:
    """How long after one status read the next one is due: `POLL_FRACTION` of the time waited so far,
    within the rate limit's floor and a ceiling, and never past the deadline (`remaining` seconds away)."""
    delay = min(MAX_POLL_SECONDS, max(MIN_POLL_SECONDS, elapsed * POLL_FRACTION))
    return max(0.0, min(delay, remaining))


def wait_for(
    read: Callable[[], Status],
    judge: Callable[[Status, float], Verdict],
    *,
    clock: Clock,
    since: float,
    deadline: float,
    timed_out: Callable[[Status | None], Exception],
    progress: Callable[[Status], str],
    log: Callable[[str], None],
    describe: str,
    refusals: Callable[[], int] | None = None,
    on_outage: Callable[[], None] | None = None,
    first: float | None = None,
) -> tuple[Verdict, Status]:
    """Read a status until `judge(status, seconds since `since`)` is not WAITING; return that verdict and
    the status. `first`: the delay before the first read (default: the schedule's). `progress` describes a
    waiting status for the log; `describe` names the job in errors (`bot st-... (en): training ...`).

    A read error that is not transient (a 401, a host that never answered) ends the wait at once. Transient
    ones (5xx, 429, a host that stopped answering after it had) are ridden out until the deadline, logged
    when they start and every 30 s while they last. When `refusals` (the client's count of refused
    connections) grows during a read, even one whose retry then succeeded, the host had nothing listening:
    the platform restarted or failed over, and `on_outage` is told, so the job's status rules can refuse to
    take a status read after it for the job's own. At the deadline it raises `timed_out(last status read)`,
    or, when the last reads failed, an error that says the status could not be read: then the news is the
    outage, not a slow job."""
    last: Status | None = None
    last_error: KoreApiError | None = None
    failing_since: float | None = None  # the first failed read of the failures going on now
    logged, logged_at = "", since
    next_read = since + (poll_delay(0.0, deadline - since) if first is None else first)
    while True:
        clock.sleep(max(0.0, min(next_read, deadline) - clock.monotonic()))
        if clock.monotonic() >= deadline:
            if last_error is not None and failing_since is not None:
                raise _unreadable(describe, last_error, clock.monotonic() - failing_since)
            raise timed_out(last)
        read_at = clock.monotonic()
        next_read = read_at + poll_delay(read_at - since, deadline - read_at)
        refused_before = refusals() if refusals is not None else 0
        try:
            status = read()
        except KoreApiError as exc:
            if not exc.transient:
                raise
            _outage(refusals, refused_before, on_outage)
            if failing_since is None or read_at - logged_at >= PROGRESS_EVERY_SECONDS:
                failing = f" for {read_at - failing_since:.0f}s" if failing_since is not None else ""
                log(f"reading the status failed{failing} ({exc}); trying again until the deadline")
                logged, logged_at = "", read_at
            failing_since = read_at if failing_since is None else failing_since
            last_error = exc
            continue
        _outage(refusals, refused_before, on_outage)
        last, last_error, failing_since = status, None, None
        elapsed = clock.monotonic() - since
        verdict = judge(status, elapsed)
        if verdict is not Verdict.WAITING:
            return verdict, status
        description = progress(status)
        if description != logged or clock.monotonic() - logged_at >= PROGRESS_EVERY_SECONDS:
            log(f"{description}, {elapsed:.0f}s elapsed")
            logged, logged_at = description, clock.monotonic()


def _outage(refusals: Callable[[], int] | None, before: int, on_outage: Callable[[], None] | None) -> None:
    if refusals is not None and on_outage is not None and refusals() > before:
        on_outage()


def _unreadable(describe: str, error: KoreApiError, seconds: float) -> KoreApiError:
    """The deadline came while every status read failed: say so, not that the job was slow."""
    message = (
        f"{describe}: the status could not be read for the last {seconds:.0f}s before the deadline "
        f"(timeout_seconds): {error} The job may still be running on Kore.ai; nothing was recorded, so the "
        "next `pulumi up` does it again once the host answers."
    )
    if isinstance(error, HostUnreachableError):
        return HostUnreachableError(message, refused=error.refused)
    return KoreApiError(message, status=error.status, code=error.code, api_message=error.api_message)
