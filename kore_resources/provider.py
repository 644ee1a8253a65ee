"""`BotTrainingProvider`: the Pulumi dynamic provider behind `BotTraining`.

The Pulumi engine runs this class in a separate plugin process (`python -u -m pulumi.dynamic`, started in
the project directory), after unpickling it from the `__provider` input. It is pickled *by reference*
(module `kore_resources.provider`), so the instance carries no state of its own before serialization:
credentials are read in `configure()`, which runs inside the plugin process, and HTTP sessions are made
lazily there. Decisions (validation, diff) are pure functions at the top of this module; the methods are
thin I/O around them.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

from .auth import Credentials, resolve_credentials
from .errors import AmbiguousRequestError, TrainingFailedError, TrainingTimeoutError
from .polling import wait_for
from .ratelimit import RateBudget
from .training import (
    FAILED,
    FINISHED,
    IN_PROGRESS,
    QUEUED,
    CompletionTracker,
    IdleTracker,
    LostTrainTracker,
    Tracker,
    TrainingStatus,
    Verdict,
)
from .validation import bot_id_problem, host_problem, language_problem, normalize_host

if TYPE_CHECKING:  # imported on first use below: see _session()
    import requests

    from .client import KoreClient

DEFAULT_LANGUAGE = "en"
DEFAULT_TIMEOUT_SECONDS = 1800
#: Recorded as `training_id` when a train call's response was lost but its training finished: the status
#: API never reports training ids.
UNKNOWN_TRAINING_ID = "unknown"

#: Inputs as they appear on the wire, in state, and echoed in the outputs.
INPUT_KEYS = ("bot_id", "utterances_hash", "language", "host", "wait_for_completion", "timeout_seconds")
#: Outputs added by create/update.
OUTPUT_KEYS = ("training_id", "training_status", "trained_at")
#: A change of any of these is a different training (another bot, language or platform): replace.
REPLACE_KEYS = ("bot_id", "language", "host")


def _log(message: str) -> None:
    # The plugin has no connection to the engine; the CLI shows each line of the plugin's stderr as an info
    # diagnostic on the stack's row. One write per line: the plugin's worker threads log concurrently, and
    # print()'s separate write of the newline let the real engine show two messages glued on one line.
    sys.stderr.write(f"kore: {message}\n")
    sys.stderr.flush()


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- pure decisions --------------------------------------------------------------------------------------


def validate_inputs(news: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(property, reason) for every invalid input. Unknown values (during preview) are not judged."""
    failures: list[tuple[str, str]] = []

    def known(key: str) -> bool:
        return key in news and not isinstance(news[key], Unknown)

    bot_id = news.get("bot_id")
    if "bot_id" not in news or bot_id is None:
        failures.append(("bot_id", "bot_id is required: the Kore.ai bot (stream) id, st-<uuid>"))
    elif known("bot_id") and (problem := bot_id_problem(bot_id)):
        failures.append(("bot_id", problem))
    language = news.get("language", DEFAULT_LANGUAGE)
    if known("language") and (problem := language_problem(language)):
        failures.append(("language", problem))
    host = news.get("host")
    if "host" not in news or host is None:
        failures.append(("host", "host is required: set stack config kore:host or KORE_HOST"))
    elif known("host"):
        host_issue = host_problem(host) if isinstance(host, str) else f"{host!r} is not a string"
        if host_issue:
            failures.append(("host", host_issue))
    utterances_hash = news.get("utterances_hash")
    if known("utterances_hash") and not (isinstance(utterances_hash, str) and utterances_hash.strip()):
        failures.append(
            (
                "utterances_hash",
                "utterances_hash must be a non-empty string, e.g. the result of "
                "kore_resources.hash_utterances(folder)",
            )
        )
    timeout = news.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
    if known("timeout_seconds") and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0
    ):
        failures.append(("timeout_seconds", f"{timeout!r} is not a positive number of seconds"))
    wait = news.get("wait_for_completion", True)
    if known("wait_for_completion") and not isinstance(wait, bool):
        failures.append(("wait_for_completion", f"{wait!r} is not true or false"))
    return failures


def normalize_inputs(news: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults filled in and the host in canonical form, so state compares equal across spellings."""
    inputs = dict(news)
    inputs.setdefault("language", DEFAULT_LANGUAGE)
    inputs.setdefault("wait_for_completion", True)
    inputs.setdefault("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
    host = inputs.get("host")
    if isinstance(host, str) and host_problem(host) is None:
        inputs["host"] = normalize_host(host)
    return inputs


def kept_outputs(props: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The recorded values of `keys` (refresh keeps them; `__provider` and anything else is dropped)."""
    return {key: props[key] for key in keys if key in props}


def _differs(old: Any, new: Any) -> bool:
    # An unknown new value (preview) may differ: report the change, as the engine would.
    return isinstance(new, Unknown) or old != new


def decide_diff(olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffResult:
    """Compare the recorded *outputs* (`olds`) with the new inputs.

    - another bot, language or host is another training: replace;
    - new utterances are a new training of the same bot language: update in place;
    - nothing else retrains: not credentials (not inputs at all), not `wait_for_completion` or
      `timeout_seconds` (how to wait, not what to train), not the provider's code (`__provider`).
    """
    replaces = [key for key in REPLACE_KEYS if _differs(olds.get(key), news.get(key))]
    retrain = _differs(olds.get("utterances_hash"), news.get("utterances_hash"))
    return DiffResult(changes=bool(replaces) or retrain, replaces=replaces, delete_before_replace=False)


@dataclass(frozen=True)
class TrainingInputs:
    """The checked inputs of one BotTraining."""

    bot_id: str
    utterances_hash: str
    language: str
    host: str
    wait_for_completion: bool
    timeout_seconds: float

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> TrainingInputs:
        p = normalize_inputs(props)
        return cls(
            bot_id=p["bot_id"],
            utterances_hash=p["utterances_hash"],
            language=p["language"],
            host=p["host"],
            wait_for_completion=bool(p["wait_for_completion"]),
            timeout_seconds=float(p["timeout_seconds"]),
        )

    @property
    def resource_id(self) -> str:
        return f"{self.bot_id}/{self.language}"

    def outputs(self, training_id: str, training_status: str, trained_at: str) -> dict[str, Any]:
        return {
            "bot_id": self.bot_id,
            "utterances_hash": self.utterances_hash,
            "language": self.language,
            "host": self.host,
            "wait_for_completion": self.wait_for_completion,
            # Protobuf Structs carry only doubles; keep whole seconds whole in state.
            "timeout_seconds": int(self.timeout_seconds)
            if self.timeout_seconds.is_integer()
            else self.timeout_seconds,
            "training_id": training_id,
            "training_status": training_status,
            "trained_at": trained_at,
        }


# -- process-wide state of the plugin (module level: the provider is pickled by reference) ----------------


class _Clock:
    """Time as the providers see it. Benchmarks swap in a virtual clock (shared with the sandbox) to run a
    five-minute training in seconds; nothing else should touch it."""

    monotonic: Callable[[], float] = staticmethod(time.monotonic)
    sleep: Callable[[float], None] = staticmethod(time.sleep)


clock = _Clock()
#: One rate budget for the whole plugin process: its (up to four) concurrent operations share Kore.ai's
#: per-bot limits. The lambdas read the clock hook at call time.
_budget = RateBudget(clock=lambda: clock.monotonic(), sleep=lambda s: clock.sleep(s))  # noqa: PLW0108
_locks_guard = threading.Lock()
_bot_locks: dict[tuple[str, str], threading.Lock] = {}
_sessions = threading.local()


@contextmanager
def one_job_per_bot(
    host: str, bot_id: str, deadline: float, timed_out: Callable[[], Exception]
) -> Iterator[None]:
    """Trainings, ML imports and publishes of one bot run one after another in this process; other bots
    proceed in parallel. `timed_out` makes the error to raise when the turn does not come by `deadline`."""
    with _locks_guard:
        lock = _bot_locks.setdefault((host, bot_id), threading.Lock())
    if not lock.acquire(timeout=max(0.0, deadline - clock.monotonic())):
        raise timed_out()
    try:
        yield
    finally:
        lock.release()


def _one_training_per_bot(
    inputs: TrainingInputs, deadline: float, describe: str
) -> AbstractContextManager[None]:
    return one_job_per_bot(
        inputs.host,
        inputs.bot_id,
        deadline,
        lambda: TrainingTimeoutError(
            f"{describe}: timed out after timeout_seconds={inputs.timeout_seconds:g} waiting for another "
            "training, ML import or publish of this bot to finish first. Nothing was recorded; raise "
            "timeout_seconds.",
            bot_id=inputs.bot_id,
            language=inputs.language,
            training_id=None,
        ),
    )


def _session() -> requests.Session:
    # One keep-alive session per plugin worker thread: connections are reused across resources, and no
    # session is shared between threads.
    # requests (and the client built on it) is imported on first use: a no-op preview (check and diff
    # only) makes no HTTP call, and the import is most of what this package adds to the plugin's start-up
    # (docs/performance.md, start-up).
    import requests

    session: requests.Session | None = getattr(_sessions, "session", None)
    if session is None:
        session = requests.Session()
        _sessions.session = session
    return session


class KoreProvider(ResourceProvider):
    """What every kore_resources provider shares: credentials from config or the environment, read in the
    plugin process, and an HTTP client per call on the worker thread's keep-alive session."""

    # Nothing secret is captured in the pickle (credentials come from config or the environment at run
    # time), so `__provider` need not be encrypted in state; encrypting it costs every operation.
    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        # Runs in the plugin process, after unpickling: nothing read here is ever serialized into state.
        self._config_get: Callable[[str], str | None] = req.config.get

    def _client(self, host: str) -> KoreClient:
        from .client import KoreClient  # first use: see _session()

        config_get = getattr(self, "_config_get", lambda _key: None)
        credentials: Credentials = resolve_credentials(config_get)
        return KoreClient(
            host, credentials, session=_session(), budget=_budget, sleep=clock.sleep, clock=clock.monotonic
        )


class BotTrainingProvider(KoreProvider):
    """Trains a Kore.ai bot language when its utterances hash changes. See `BotTraining`."""

    #: Seconds to wait before trusting a terminal status never preceded by a running one (see training.py).
    grace_seconds: float = 10.0

    # -- engine calls -------------------------------------------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [CheckFailure(prop, reason) for prop, reason in validate_inputs(news)]
        return CheckResult(normalize_inputs(news) if not failures else news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return decide_diff(olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = TrainingInputs.from_props(props)
        return CreateResult(inputs.resource_id, self._train(inputs))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._train(TrainingInputs.from_props(news)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh: the bot language's current training status; every recorded output is kept."""
        inputs = TrainingInputs.from_props(props)
        client = self._client(inputs.host)
        deadline = clock.monotonic() + min(inputs.timeout_seconds, 120.0)
        status = client.training_status(inputs.bot_id, inputs.language, deadline=deadline)
        outs = kept_outputs(props, (*INPUT_KEYS, *OUTPUT_KEYS))
        outs["training_status"] = status.training_status
        return ReadResult(id_, outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        # A training cannot be undone on Kore.ai: the bot keeps its model. Forgetting it is all there is.
        _log(
            f"bot {props.get('bot_id')} ({props.get('language')}): forgetting training "
            f"{props.get('training_id')}; the bot keeps its trained model"
        )

    # -- the work -----------------------------------------------------------------------------------------

    def _train(self, inputs: TrainingInputs) -> dict[str, Any]:
        """Queue a training and (unless told not to) wait for it. Raises unless it finished successfully,
        so a failed or timed-out training is never recorded and the next `pulumi up` tries again."""
        client = self._client(inputs.host)
        describe = f"bot {inputs.bot_id} ({inputs.language})"
        started = clock.monotonic()
        deadline = started + inputs.timeout_seconds
        with _one_training_per_bot(inputs, deadline, describe):
            # A training still running (left by an interrupted `pulumi up`, or started in the builder) would
            # be taken for ours once we queue: let it finish first.
            self._poll(
                client,
                inputs,
                IdleTracker(),
                "started earlier (in the builder, or by an interrupted `pulumi up`)",
                started,
                deadline,
                describe,
                first=0.0,
            )
            try:
                outputs = self._queue_and_wait(client, inputs, deadline, describe)
            except AmbiguousRequestError as lost:
                outputs = self._recover_lost_train(client, inputs, lost, deadline, describe)
        if outputs["training_status"] == FINISHED:
            elapsed = clock.monotonic() - started
            _log(f"{describe}: training {outputs['training_id']} finished after {elapsed:.0f}s")
        return outputs

    def _queue_and_wait(
        self, client: KoreClient, inputs: TrainingInputs, deadline: float, describe: str
    ) -> dict[str, Any]:
        ticket = client.train(inputs.bot_id, inputs.language, deadline=deadline)
        _log(f"{describe}: training {ticket.training_id} queued ({ticket.message or 'no message'})")
        if not inputs.wait_for_completion:
            return inputs.outputs(ticket.training_id, QUEUED, _utc_now())
        tracker = CompletionTracker(grace_seconds=self.grace_seconds)
        verdict = self._poll(
            client, inputs, tracker, ticket.training_id, clock.monotonic(), deadline, describe
        )
        if verdict is Verdict.FAILED:
            raise self._failed(inputs, ticket.training_id, describe)
        return inputs.outputs(ticket.training_id, FINISHED, _utc_now())

    def _recover_lost_train(
        self,
        client: KoreClient,
        inputs: TrainingInputs,
        lost: AmbiguousRequestError,
        deadline: float,
        describe: str,
    ) -> dict[str, Any]:
        """The train POST may or may not have queued a training. Sending it again blindly could train twice,
        so read the status until it tells (training.LostTrainTracker), and send it again only if nothing
        started."""
        _log(
            f"{describe}: the train call got no clear answer ({lost.outcome}); it may have queued a "
            "training, so the training status is read before the call is sent again"
        )
        tracker = LostTrainTracker(grace_seconds=self.grace_seconds)
        verdict = self._poll(
            client, inputs, tracker, "(response lost)", clock.monotonic(), deadline, describe
        )
        if verdict is Verdict.FAILED:
            raise self._failed(inputs, None, describe)
        if verdict is Verdict.FINISHED:
            # The training's id was in the lost response; the status API never reports it.
            _log(
                f"{describe}: a training ran and finished; its id was in the lost response, so training_id "
                f"is recorded as {UNKNOWN_TRAINING_ID!r}"
            )
            return inputs.outputs(UNKNOWN_TRAINING_ID, FINISHED, _utc_now())
        _log(f"{describe}: no training started, so the train call is sent again")
        return self._queue_and_wait(client, inputs, deadline, describe)

    def _failed(self, inputs: TrainingInputs, training_id: str | None, describe: str) -> TrainingFailedError:
        which = f"training {training_id}" if training_id else "the training"
        return TrainingFailedError(
            f"{describe}: Kore.ai reports {which} as {FAILED}. Nothing was recorded, so the next `pulumi up` "
            "trains again; check the bot's ML utterances and training messages in the Kore.ai builder "
            "(Build > Natural Language > Training).",
            bot_id=inputs.bot_id,
            language=inputs.language,
            training_id=training_id,
        )

    def _poll(
        self,
        client: KoreClient,
        inputs: TrainingInputs,
        tracker: Tracker,
        label: str,
        since: float,
        deadline: float,
        describe: str,
        *,
        training_id: str | None = None,
        first: float | None = None,
    ) -> Verdict:
        """Read the training status until `tracker` decides (polling.wait_for). `label` names the training
        in messages; `training_id`, when known, goes into a timeout error."""

        def timed_out(last: TrainingStatus | None) -> Exception:
            return TrainingTimeoutError(
                f"{describe}: training {label} did not finish within timeout_seconds="
                f"{inputs.timeout_seconds:g} (last status: {last.training_status if last else 'none read'}). "
                "Nothing was recorded, so the next `pulumi up` trains again; raise timeout_seconds for large "
                "bots.",
                bot_id=inputs.bot_id,
                language=inputs.language,
                training_id=training_id,
            )

        verdict, _ = wait_for(
            lambda: client.training_status(inputs.bot_id, inputs.language, deadline=deadline),
            tracker.observe,
            clock=clock,
            since=since,
            deadline=deadline,
            timed_out=timed_out,
            progress=lambda status: f"training {label} {_describe_wait(status)}",
            log=lambda message: _log(f"{describe}: {message}"),
            first=first,
        )
        return verdict


def _describe_wait(status: TrainingStatus) -> str:
    if status.is_terminal:
        return f"waiting (the status still describes the previous training: {status.training_status})"
    if status.training_status == IN_PROGRESS:
        return "in progress"
    return f"reported as {status.training_status!r}"
