"""Deciding when a queued ML training is done. Pure logic: no I/O, no clock, no sleeping.

Why this is not just "poll until trainingStatus is Finished": Kore.ai's status API
(`GET /api/public/bot/{BotID}/ml/train/status?language=..&state=configured`) takes no Training_ID. It
describes the *latest* training of the bot language, and nothing documents when a freshly queued training
becomes the latest one. So the first reads after "Training Queued." may still describe the previous
training, which typically says `Finished`. Accepting that read would record a training as done before it
ran. The rules below accept a terminal status only when it belongs to the training we queued:

1. Once we have seen a non-terminal status (`Inprogress`, or any status we do not know, such as a queued
   state) since queueing, the platform has picked up a training of this bot language after our POST.
   BotTraining never runs two trainings of one bot language at once, so the next terminal status
   (`Finished` or `Failed`) is ours.
2. A `Finished` with `isMlInSyncWithSentences: false` is stale for certain: a successful training leaves
   the model in sync with the utterances. We keep waiting.
3. A terminal status without rule 1's evidence is accepted only after `grace_seconds` have passed since
   queueing, and for `Finished` only while the model reports being in sync with its utterances. This covers
   a training so fast that it started and ended between two polls. The cost of the rare wrong guess (a
   training still queued after the grace period while the previous one reads `Finished` and in sync) is
   small: the model is already trained on the same utterances.

After an interrupted `pulumi up` (the engine's second Ctrl-C kills the plugin mid-wait; the first one lets
the operation finish and records it), nothing of the interrupted operation is in the state, and the next
`up` trains again. What it can promise depends on when the interrupt came:

- before the train POST: nothing was queued. The next `up` trains once, as on a first run.
- while the interrupted training is visible as running (`Inprogress`): `IdleTracker` makes the next `up`
  wait for it to end before queueing its own, so the two never run at once and rule 1 holds.
- after it ended: the bot language is idle; the next `up` trains again (one redundant training of the same
  utterances) and records its own.
- right after the POST, while the status still describes the *previous* training (a queued training is
  invisible for a while; the sandbox keeps it so for `--queue-seconds`): the next `up` cannot see it and
  queues a second training behind it. This is the one case where two trainings of one bot language are
  queued at once. Nothing wrong is recorded: the next `up` records its own `Training_ID`, and only after
  a training ran after its POST (rules 1-3). If the bot's utterances did not change in between, both
  trainings train the same utterances, so the model is the one declared; the cost is one redundant
  training. Closing this gap would need an observation window before trusting every idle status (a
  `grace_seconds` wait before each training, paid by every `up`) for an interrupt in the first second or
  two after a POST; we document the limit instead (docs/reliability.md, "Interrupted up").
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

FINISHED = "Finished"
IN_PROGRESS = "Inprogress"
FAILED = "Failed"
#: Recorded as `training_status` when `wait_for_completion` is False. Not a Kore.ai value.
QUEUED = "Queued"

SENTENCES_IN_SYNC = "isMlInSyncWithSentences"

#: See rule 3 above: long enough for a training to leave the queue on a busy platform.
DEFAULT_GRACE_SECONDS = 10.0
#: Kore.ai allows 60 status calls per minute per request: never poll more often than once a second.
MIN_POLL_SECONDS = 1.0
MAX_POLL_SECONDS = 30.0
#: Reading every 8% of the time already waited keeps completion lag under 10% of the training time, even
#: though "time waited" includes Kore.ai's queueing before the training starts (bench: completion lag).
POLL_FRACTION = 0.08


@dataclass(frozen=True)
class TrainingStatus:
    """One read of the ML train status API."""

    training_status: str
    in_sync: Mapping[str, bool] = field(default_factory=dict)  # the isMlInSync* flags that were present

    @classmethod
    def from_api(cls, payload: Any) -> TrainingStatus:
        """Parse the status API's JSON object; raises ValueError when it is not the documented shape."""
        if not isinstance(payload, dict) or not isinstance(payload.get("trainingStatus"), str):
            raise ValueError(f"expected an object with a trainingStatus string, got {payload!r:.200}")
        flags = {k: v for k, v in payload.items() if k.startswith("isMlInSync") and isinstance(v, bool)}
        return cls(training_status=payload["trainingStatus"], in_sync=flags)

    @property
    def is_terminal(self) -> bool:
        return self.training_status in (FINISHED, FAILED)

    @property
    def sentences_in_sync(self) -> bool | None:
        return self.in_sync.get(SENTENCES_IN_SYNC)


class Verdict(enum.Enum):
    WAITING = "waiting"
    FINISHED = "finished"
    FAILED = "failed"
    NOT_STARTED = "not started"  # only LostTrainTracker: the lost train call evidently queued nothing


class Tracker(Protocol):
    def observe(self, status: TrainingStatus, elapsed: float) -> Verdict: ...


@dataclass
class CompletionTracker:
    """Feeds status reads of one queued training through the rules in this module's docstring."""

    grace_seconds: float = DEFAULT_GRACE_SECONDS
    seen_running: bool = False

    def observe(self, status: TrainingStatus, elapsed: float) -> Verdict:
        """`elapsed`: seconds since the train POST was answered."""
        if not status.is_terminal:
            self.seen_running = True
            return Verdict.WAITING
        if self.seen_running:
            return Verdict.FINISHED if status.training_status == FINISHED else Verdict.FAILED
        if elapsed < self.grace_seconds:
            return Verdict.WAITING
        return self.unproven(status)

    def unproven(self, status: TrainingStatus) -> Verdict:
        """A terminal status after the grace period, with no running status seen since the POST (rule 3)."""
        if status.training_status == FAILED:
            return Verdict.FAILED
        return Verdict.WAITING if status.sentences_in_sync is False else Verdict.FINISHED


@dataclass
class IdleTracker:
    """Before queueing: wait until no training of the bot language is running, for example one left over
    from an interrupted `pulumi up` or started in the builder. Rule 1 above relies on it: after our POST,
    a running status must be ours."""

    def observe(self, status: TrainingStatus, elapsed: float) -> Verdict:
        return Verdict.FINISHED if status.is_terminal else Verdict.WAITING


@dataclass
class LostTrainTracker(CompletionTracker):
    """After a train POST whose outcome is unknown (connection dropped or timed out after sending, or a
    5xx): did it queue a training? The bot language was idle before the POST (`IdleTracker`), so a running
    status seen afterwards is that training, and its terminal status is the answer, as for any training.
    If no running status shows within the grace period, nothing was queued and the POST may be sent again.
    (A training that queued, ran and ended between two reads a second apart would be trained twice; real
    trainings take far longer than that.)"""

    def unproven(self, status: TrainingStatus) -> Verdict:
        return Verdict.NOT_STARTED


def poll_delay(elapsed: float, remaining: float) -> float:
    """How long after one status read the next one is due: `POLL_FRACTION` of the time waited so far,
    within the rate limit's floor and a ceiling, and never past the deadline (`remaining` seconds away)."""
    delay = min(MAX_POLL_SECONDS, max(MIN_POLL_SECONDS, elapsed * POLL_FRACTION))
    return max(0.0, min(delay, remaining))
