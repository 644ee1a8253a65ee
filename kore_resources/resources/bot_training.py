"""`BotTraining`: an ML training of one language of a Kore.ai bot, redone whenever its utterances change.

The API (docs/kore-api.md §6): `POST /api/public/bot/{BotID}/ml/train` with `bot-language` queues a
training and answers its `Training_ID`; `GET .../ml/train/status?language=..&state=configured` reports the
bot language's *latest* training. Why not just "poll until Finished": the status call takes no training
id, so right after "Training Queued." it may still describe the previous training. The status rules below
accept a terminal status only when it can be ours; the reasoning, the drift rules and what an interrupted
`up` leaves are in docs/reliability.md, "When a queued training is done".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi
from pulumi.dynamic import DiffResult

from .. import settings
from ..api.errors import AmbiguousRequestError, KoreApiError
from ..api.models import FAILED, FINISHED, IN_PROGRESS, TrainingStatus
from ..errors import JobFailedError, JobLostError
from . import framework
from .framework import Deadline, KoreInputs, KoreProvider, KoreResource, Run, differs, known, program
from .polling import LatestJobTracker, Tracker, Verdict, wait_for
from .runtime import RUNTIME, log, utc_now

if TYPE_CHECKING:
    from ..api.client import KoreClient

#: Recorded as `training_status` when `wait_for_completion` is False. Not a Kore.ai value.
QUEUED = "Queued"
#: Recorded as `training_id` when a train call's response was lost but its training finished: the status
#: API never reports training ids.
UNKNOWN_TRAINING_ID = "unknown"


# -- the fields ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BotTrainingInputs(KoreInputs):
    """What a BotTraining is given, as the provider checks and records it."""

    RESOURCE_ID: ClassVar[str] = "{bot_id}/{language}"
    DESCRIBE: ClassVar[str] = "bot {bot_id} ({language})"
    JOB: ClassVar[str] = "training"

    #: What was trained; a change retrains. Usually `hash_utterances(folder)`.
    utterances_hash: str
    #: The bot language to train (`en`, `de`, `pt_pt`, `zh_cn`, ...), sent as `bot-language`.
    language: str = settings.DEFAULT_LANGUAGE
    #: Wait until Kore.ai reports the training finished (or failed). False records the training as `Queued` as
    #: soon as Kore.ai accepted it.
    wait_for_completion: bool = True
    #: Deadline for the whole operation (queueing, retries and waiting), in seconds.
    timeout_seconds: float = settings.DEFAULT_TRAINING_TIMEOUT_SECONDS
    #: Values whose change retrains too, as pulumi-command's `triggers`; e.g. the `import_id` of each
    #: `MlUtterances` of the bot language, so that an import that changed the bot's sentences without changing
    #: the hash (restoring git's version after an edit in the builder) retrains.
    triggers: list[Any] = field(
        default_factory=list,
        metadata=program(type="pulumi.Input[Sequence[pulumi.Input[Any]]]", default="()"),
    )

    @classmethod
    def problems(cls, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures = super().problems(news)
        utterances_hash = news.get("utterances_hash")
        if known(news, "utterances_hash") and not (
            isinstance(utterances_hash, str) and utterances_hash.strip()
        ):
            failures.append(
                (
                    "utterances_hash",
                    "utterances_hash must be a non-empty string, e.g. the result of "
                    "kore_resources.hash_utterances(folder)",
                )
            )
        wait = news.get("wait_for_completion", True)
        if known(news, "wait_for_completion") and not isinstance(wait, bool):
            failures.append(("wait_for_completion", f"{wait!r} is not true or false"))
        triggers = news.get("triggers", [])
        if known(news, "triggers") and not isinstance(triggers, list):
            failures.append(("triggers", f"{triggers!r} is not a list of values"))
        return failures


@dataclass(frozen=True, kw_only=True)
class BotTrainingOutputs(BotTrainingInputs):
    #: The `Training_ID` Kore.ai returned for the last successful training.
    training_id: str | None = None
    #: `Finished`, `Queued` (when not waiting), or after `pulumi refresh` the bot language's current status.
    training_status: str | None = None
    #: When the training was recorded (ISO 8601, UTC).
    trained_at: str | None = None
    #: Whether the model is trained on the bot's current utterances (`isMlInSyncWithSentences`), as read
    #: when the training finished or at the last refresh; None when the platform did not say (or 0.1).
    model_in_sync: bool | None = None


# -- status rules (pure) ------------------------------------------------------------------------------------


@dataclass
class CompletionTracker(LatestJobTracker[TrainingStatus]):
    """Feeds status reads of one queued training through the rules 1 to 4 (docs/reliability.md,
    "When a queued training is done")."""

    def is_terminal(self, status: TrainingStatus) -> bool:
        return status.is_terminal

    def is_absent(self, status: TrainingStatus) -> bool:
        return not status.reported

    def ended(self, status: TrainingStatus, elapsed: float) -> Verdict:
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
    from an interrupted `pulumi up` or started in the builder. Rule 1 relies on it: after our POST, a
    running status must be ours."""

    def observe(self, status: TrainingStatus, elapsed: float) -> Verdict:
        # No training reported at all (a bot language never trained) is idle too.
        return Verdict.FINISHED if status.is_terminal or not status.reported else Verdict.WAITING


@dataclass
class LostTrainTracker(CompletionTracker):
    """After a train POST whose outcome is unknown (connection dropped or timed out after sending, or a
    5xx): did it queue a training? The bot language was idle before the POST (`IdleTracker`), so a running
    status seen afterwards is that training, and its terminal status is the answer. If no running status
    shows within the grace period, nothing was queued and the POST may be sent again."""

    def unproven(self, status: TrainingStatus) -> Verdict:
        return Verdict.NOT_STARTED

    def absent(self, elapsed: float) -> Verdict:
        # Still no training of a bot language never trained, after the grace period: nothing was queued.
        return Verdict.WAITING if elapsed < self.grace_seconds else Verdict.NOT_STARTED


def drift_reason(recorded: Mapping[str, Any]) -> str | None:
    """Why the recorded training is no longer the bot's model, or None: a later training `Failed`, or a
    `Finished` model out of sync with the bot's utterances (edited in the builder)."""
    if recorded.get("training_status") == FAILED:
        return (
            f"the bot language's latest training is {FAILED} (a training after the one recorded, in the "
            "builder or queued without waiting), so its model may not be trained on these utterances"
        )
    if recorded.get("training_status") == FINISHED and recorded.get("model_in_sync") is False:
        return (
            "the bot's utterances changed after its last successful training (in the builder?), so the "
            "model is out of sync with them"
        )
    return None


def triggers_changed(recorded: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """A new value of `triggers`. A record without them (written before 0.2) takes the first ones."""
    return "triggers" in recorded and differs(recorded.get("triggers"), news.get("triggers", []))


def describe_wait(status: TrainingStatus) -> str:
    if not status.reported:
        return f"waiting ({status.describe()})"
    if status.is_terminal:
        return f"waiting (the status still describes the previous training: {status.training_status})"
    if status.training_status == IN_PROGRESS:
        return "in progress"
    return f"reported as {status.training_status!r}"


def read_status(client: KoreClient, inputs: BotTrainingInputs, deadline: Deadline) -> TrainingStatus:
    """The bot language's training status. A 400 or 404 is taken for "no training reported": how the call
    answers for a bot language never trained is undocumented, and the train call that follows says
    loudly if the language is the problem (its refusal names it)."""
    try:
        return client.training_status(inputs.bot_id, inputs.language, deadline=deadline.at)
    except KoreApiError as exc:
        if exc.status not in (400, 404):
            raise
        return TrainingStatus.none(
            f"HTTP {exc.status}" + (f" '{exc.api_message}'" if exc.api_message else "")
        )


# -- the provider ------------------------------------------------------------------------------------------


class BotTrainingProvider(KoreProvider[BotTrainingInputs, BotTrainingOutputs, None]):
    """Trains a Kore.ai bot language when its utterances hash changes. See `BotTraining`."""

    inputs_type = BotTrainingInputs
    outputs_type = BotTrainingOutputs
    #: A change of any of these is a different training (another bot, language or platform): replace.
    replace_keys = ("bot_id", "language", "host")
    #: New utterances are a new training of the same bot language: update in place (and so is a change of
    #: `triggers`, or drift seen by refresh: `diff`).
    trigger_keys = ("utterances_hash",)
    #: A training cannot be undone on Kore.ai: the bot keeps its model.
    forgotten = (
        "bot {bot_id} ({language}): forgetting training {training_id}; the bot keeps its trained model"
    )

    #: Seconds to wait before trusting a terminal status never preceded by a running one (rule 3).
    grace_seconds: float = settings.GRACE_SECONDS

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """As every resource (`decide_diff`), and a retrain in place when `triggers` changed or refresh
        recorded drift; the log says why, since a preview shows no changed input."""
        result = super().diff(_id, olds, news)
        if result.changes:
            return result
        reasons = [reason] if (reason := drift_reason(olds)) is not None else []
        if triggers_changed(olds, news):
            reasons.append("its triggers changed (an import of its utterances runs first)")
        if not reasons:
            return result
        describe = f"bot {olds.get('bot_id')} ({olds.get('language')})"
        log(f"{describe}: to be trained again: {'; and '.join(reasons)}")
        return DiffResult(changes=True, replaces=[], delete_before_replace=False)

    def refresh(
        self,
        inputs: BotTrainingInputs,
        recorded: BotTrainingOutputs,
        client: KoreClient,
        deadline: Deadline,
    ) -> BotTrainingOutputs:
        """The bot language's current training status and whether the model is in sync with its
        utterances; every other recorded output is kept. A training recorded as in sync that now reads
        out of sync, or failed, is drift (`drift_reason`)."""
        status = read_status(client, inputs, deadline)
        if not status.reported:
            log(
                f"{inputs.describe}: the training status reports no training ({status.absent}), so refresh "
                "cannot compare the recorded training with the bot's model; nothing was changed"
            )
            return recorded
        in_sync = status.sentences_in_sync if status.sentences_in_sync is not None else recorded.model_in_sync
        refreshed = replace(recorded, training_status=status.training_status, model_in_sync=in_sync)
        if (reason := drift_reason(vars(refreshed))) is not None:
            log(f"{inputs.describe}: {reason}; the next `pulumi up` retrains")
        return refreshed

    # -- the work -----------------------------------------------------------------------------------------

    def job(self, run: Run[BotTrainingInputs, BotTrainingOutputs, None]) -> BotTrainingOutputs:
        """Queue a training and (unless told not to) wait for it. Raises unless it finished successfully,
        so a failed or timed-out training is never recorded and the next `pulumi up` tries again."""
        # A training still running (left by an interrupted `pulumi up`, or started in the builder) would
        # be taken for ours once we queue: let it finish first.
        _, idle = self._poll(
            run,
            IdleTracker(),
            "started earlier (in the builder, or by an interrupted `pulumi up`)",
            run.deadline.started,
            first=0.0,
        )
        if not idle.reported:
            log(
                f"{run.inputs.describe}: the training status reports no training ({idle.absent}), as Kore.ai "
                "may for a bot language never trained (undocumented); training it"
            )
        try:
            outputs = self._queue_and_wait(run)
        except AmbiguousRequestError as lost:
            outputs = self._recover_lost_train(run, lost)
        if outputs.training_status == FINISHED:
            elapsed = run.deadline.elapsed
            log(f"{run.inputs.describe}: training {outputs.training_id} finished after {elapsed:.0f}s")
        return outputs

    def _queue_and_wait(self, run: Run[BotTrainingInputs, BotTrainingOutputs, None]) -> BotTrainingOutputs:
        inputs = run.inputs
        ticket = run.client.train(inputs.bot_id, inputs.language, deadline=run.deadline.at)
        log(f"{inputs.describe}: training {ticket.training_id} queued ({ticket.message or 'no message'})")
        if not inputs.wait_for_completion:
            return self._record(inputs, ticket.training_id, QUEUED, None)
        tracker = CompletionTracker(grace_seconds=self.grace_seconds)
        verdict, status = self._poll(
            run, tracker, ticket.training_id, RUNTIME.clock.monotonic(), training_id=ticket.training_id
        )
        self._raise_if_failed_or_lost(verdict, inputs, ticket.training_id)
        return self._record(inputs, ticket.training_id, FINISHED, status.sentences_in_sync)

    def _recover_lost_train(
        self, run: Run[BotTrainingInputs, BotTrainingOutputs, None], lost: AmbiguousRequestError
    ) -> BotTrainingOutputs:
        """The train POST may or may not have queued a training. Sending it again blindly could train twice,
        so read the status until it tells (`LostTrainTracker`), and send it again only if nothing
        started."""
        inputs = run.inputs
        log(
            f"{inputs.describe}: the train call got no clear answer ({lost.outcome}); it may have queued a "
            "training, so the training status is read before the call is sent again"
        )
        tracker = LostTrainTracker(grace_seconds=self.grace_seconds)
        verdict, status = self._poll(run, tracker, "(response lost)", RUNTIME.clock.monotonic())
        self._raise_if_failed_or_lost(verdict, inputs, None)
        if verdict is Verdict.FINISHED:
            # The training's id was in the lost response; the status API never reports it.
            log(
                f"{inputs.describe}: a training ran and finished; its id was in the lost response, so "
                f"training_id is recorded as {UNKNOWN_TRAINING_ID!r}"
            )
            return self._record(inputs, UNKNOWN_TRAINING_ID, FINISHED, status.sentences_in_sync)
        log(f"{inputs.describe}: no training started, so the train call is sent again")
        return self._queue_and_wait(run)

    @staticmethod
    def _record(
        inputs: BotTrainingInputs, training_id: str, training_status: str, model_in_sync: bool | None
    ) -> BotTrainingOutputs:
        return BotTrainingOutputs(
            **vars(inputs),
            training_id=training_id,
            training_status=training_status,
            trained_at=utc_now(),
            model_in_sync=model_in_sync,
        )

    @staticmethod
    def _raise_if_failed_or_lost(
        verdict: Verdict, inputs: BotTrainingInputs, training_id: str | None
    ) -> None:
        """Raise if the training failed or was lost (`verdict`); `training_id`: None when not known."""
        which = f"training {training_id}" if training_id else "the training"
        if verdict is Verdict.FAILED:
            raise inputs.job_error(
                JobFailedError,
                f"Kore.ai reports {which} as {FAILED}. Nothing was recorded, so the next `pulumi up` trains "
                "again; check the bot's ML utterances and training messages in the Kore.ai builder (Build > "
                "Natural Language > Training).",
                job_id=training_id,
            )
        if verdict is Verdict.LOST:
            raise inputs.job_error(
                JobLostError,
                f"{inputs.host} refused connections while {which} ran (the platform restarted or failed "
                "over), so the status it reports since cannot be taken for this training's outcome. Nothing "
                "was recorded, so the next `pulumi up` trains again.",
                job_id=training_id,
            )

    @staticmethod
    def _poll(
        run: Run[BotTrainingInputs, BotTrainingOutputs, None],
        tracker: Tracker[TrainingStatus],
        label: str,
        since: float,
        *,
        training_id: str | None = None,
        first: float | None = None,
    ) -> tuple[Verdict, TrainingStatus]:
        """Read the training status until `tracker` decides (polling.wait_for); the verdict and the status
        that decided it. `label` names the training in messages; `training_id`, when known, goes into a
        timeout error."""
        inputs, client, deadline = run.inputs, run.client, run.deadline

        def timed_out(last: TrainingStatus | None) -> Exception:
            status = last.describe() if last else None
            return inputs.timeout_error(f"training {label}", status, "trains", job_id=training_id)

        return wait_for(
            lambda: read_status(client, inputs, deadline),
            tracker.observe,
            clock=RUNTIME.clock,
            since=since,
            deadline=deadline.at,
            timed_out=timed_out,
            progress=lambda status: f"training {label} {describe_wait(status)}",
            log=lambda message: log(f"{inputs.describe}: {message}"),
            describe=f"{inputs.describe}: training {label}",
            refusals=lambda: client.refused_connections,
            on_outage=getattr(tracker, "outage", None),
            first=first,
        )


# -- the resource ------------------------------------------------------------------------------------------

# -- generated by scripts/generate_resources.py (do not edit): BotTrainingArgs, BotTrainingAttributes


@dataclass(kw_only=True)
class BotTrainingArgs(framework.KoreArgs):
    """Inputs of a `BotTraining`, each a plain value or a `pulumi.Input`.

    Besides `bot_id` and `host` (`KoreArgs`):
    - `timeout_seconds`: Deadline for the whole operation (queueing, retries and waiting), in seconds.
    - `utterances_hash`: What was trained; a change retrains. Usually `hash_utterances(folder)`.
    - `language`: The bot language to train (`en`, `de`, `pt_pt`, `zh_cn`, ...), sent as `bot-language`.
    - `wait_for_completion`: Wait until Kore.ai reports the training finished (or failed). False records the
      training as `Queued` as soon as Kore.ai accepted it.
    - `triggers`: Values whose change retrains too, as pulumi-command's `triggers`; e.g. the `import_id` of
      each `MlUtterances` of the bot language, so that an import that changed the bot's sentences without
      changing the hash (restoring git's version after an edit in the builder) retrains.
    """

    timeout_seconds: pulumi.Input[float] = settings.DEFAULT_TRAINING_TIMEOUT_SECONDS
    utterances_hash: pulumi.Input[str]
    language: pulumi.Input[str] = settings.DEFAULT_LANGUAGE
    wait_for_completion: pulumi.Input[bool] = True
    triggers: pulumi.Input[Sequence[pulumi.Input[Any]]] = ()


class BotTrainingAttributes(framework.KoreAttributes):
    """The outputs of a `BotTraining` as a program reads them: its inputs, and what its job records."""

    utterances_hash: pulumi.Output[str]
    language: pulumi.Output[str]
    wait_for_completion: pulumi.Output[bool]
    triggers: pulumi.Output[list[Any]]
    training_id: pulumi.Output[str | None]
    training_status: pulumi.Output[str | None]
    trained_at: pulumi.Output[str | None]
    model_in_sync: pulumi.Output[bool | None]


# -- end of the generated part --


class BotTraining(BotTrainingAttributes, KoreResource[BotTrainingArgs], module="kore", name="BotTraining"):
    """An ML training of one language of a Kore.ai bot, redone whenever `utterances_hash` changes.

    Like pulumi-command's `triggers`, the hash is the trigger: `pulumi up` trains only the bot languages
    whose hash differs from the one recorded at their last successful training, and records the returned
    `training_id`. After `pulumi refresh`, a training that failed since or a model out of sync with the
    bot's utterances retrains too (drift). Another `bot_id`, `language` or `host` replaces the resource (it
    is another training). Destroying it makes no API call: a training cannot be undone.

    Credentials come from stack config `kore:clientId` / `kore:clientSecret` (set the secret with
    `--secret`), or `KORE_CLIENT_ID` / `KORE_CLIENT_SECRET`; they are never inputs or outputs.
    """

    provider_class = BotTrainingProvider

    @classmethod
    def wire_inputs(cls, resource_name: str, args: BotTrainingArgs) -> dict[str, Any]:
        """A plain sequence of triggers goes on the wire as a list (a tuple is not a property value)."""
        return {"triggers": list(args.triggers) if isinstance(args.triggers, Sequence) else args.triggers}
