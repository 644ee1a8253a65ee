"""The sandbox's in-memory model: apps, bots, the per bot+language training state machine and rate limits.

Everything here is pure: no sockets, no threads, no locks, no sleeping. Time comes from injected clocks, so
the state machine can be unit-tested with a fake clock. The HTTP layer (`server.py`) serialises access with
one lock.
"""

from __future__ import annotations

import math
import random
import re
import secrets
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass, field
from typing import Literal

from .persistence import Fields, shifted
from .readings import Readings

Clock = Callable[[], float]

TrainingStatus = Literal["Finished", "Inprogress", "Failed"]
#: What the status may say: the documented words, and `Queued` (reading `queued-training=queued-word`).
StatusWord = Literal["Finished", "Inprogress", "Failed", "Queued"]
TrainingOutcome = Literal["Finished", "Failed"]
TrainingPhase = Literal["queued", "Inprogress", "Finished", "Failed"]
TrainState = Literal["configured", "published"]
TRAIN_STATES: tuple[TrainState, ...] = ("configured", "published")

#: The scope a bot-level app needs for ML Utterances Train / Train Status (docs/kore-api.md §3.2).
SCOPE_TRAIN_ML = "Train ML"

#: The two kinds of JWT app (docs/kore-api.md §3.1): a bot-level app, created in the bot (App Settings >
#: Dev Tools), and an Admin Console app (Security & Control > API Scopes > Manage Apps).
AppKind = Literal["bot", "admin"]
APP_KIND_BOT: AppKind = "bot"
APP_KIND_ADMIN: AppKind = "admin"
#: Endpoints that either kind of app may call with the right scope (train, ML import and export).
ANY_APP_KIND: frozenset[AppKind] = frozenset({APP_KIND_BOT, APP_KIND_ADMIN})

#: "Supported NLU Languages" (docs/kore-api.md §2.6), for documentation: a bot may enable any well-formed
#: code (`is_language_code`), since the train page links `bot-language` to the longer conversation list.
NLU_LANGUAGES: frozenset[str] = frozenset(
    "ar zh_cn zh_tw ca nl en fr fi hi de id it ja ko kk mr nb pl pt pt_pt ru sv sl es tl te ta uk".split()
)
#: A language code: 2-3 letters, optionally `_` or `-` and 2-8 letters or digits (`en`, `fil`, `zh_cn`).
LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})?")
LANGUAGE_CODE_FORM = "2-3 letters, optionally _ or - and 2-8 letters or digits, e.g. en, th, fil, zh_cn"

#: Newer documented rate-limit messages (docs/kore-api.md §5.2).
RATE_LIMIT_MINUTE_MSG = "You've exceeded the per-minute rate limit. Please wait for sometime before retrying."
RATE_LIMIT_HOUR_MSG = "You've exceeded the hourly rate limit. Please wait for sometime before retrying."
#: The older message (D1 rate-limit.md, the D1/D2 api-list note): reading `rate-limit-message=legacy`.
RATE_LIMIT_LEGACY_MSG = "Rate limit for this API has been reached. Please try again after some time."
#: Kore's community article 3638: reading `rate-limit-message=community`.
RATE_LIMIT_COMMUNITY_MSG = "Rate limit for this API has been reached. Please try again later"

#: ASSUMPTION: `trainDetails` is a constant copy of the documented Finished sample.
TRAIN_DETAILS: dict[str, int] = {"nlpVersion": 3, "trainVersion": 3}


def is_language_code(code: object) -> bool:
    """Whether `code` is a well-formed language code (any case)."""
    return isinstance(code, str) and LANGUAGE_CODE.fullmatch(code) is not None


def new_training_id() -> str:
    """A 24-lowercase-hex, ObjectId-like Training_ID."""
    return secrets.token_hex(12)


@dataclass(frozen=True)
class Snapshot:
    """Base of the records the sandbox hands to tests and shows in the admin API (trainings, calls, jobs,
    downloads): frozen, and `to_json` is every field, in order, as JSON-able values."""

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class SandboxApp:
    """A JWT app (client id + secret) as created in App Settings > Dev Tools or the Admin Console.

    `kinds` says which of the two it is (docs/kore-api.md §3.1): `{"bot"}` (the default, a bot-level app),
    `{"admin"}` (an Admin Console app) or both. ASSUMPTION: an app with both kinds stands for two real apps
    that share one set of credentials (the demo apps, so the demo needs one client id). An endpoint that
    needs the other kind answers as for a missing scope.
    """

    name: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: frozenset[str] = frozenset({SCOPE_TRAIN_ML})
    enforce_jti: bool = False
    kinds: frozenset[AppKind] = frozenset({APP_KIND_BOT})

    def __post_init__(self) -> None:
        if not self.kinds or not self.kinds <= ANY_APP_KIND:
            raise ValueError(f"app {self.name}: kinds must be a non-empty subset of {sorted(ANY_APP_KIND)}")

    def describe(self) -> dict[str, object]:
        """JSON-able description WITHOUT the secret."""
        return {
            "name": self.name,
            "client_id": self.client_id,
            "scopes": sorted(self.scopes),
            "enforce_jti": self.enforce_jti,
            "kinds": sorted(self.kinds),
        }


@dataclass(frozen=True)
class SandboxBot:
    """A bot (stream) with its enabled languages and the client ids of the apps linked to it.

    Any well-formed language code may be enabled (`th`, `fil`, `zh_cn`), kept in lower case: requests name
    languages case-insensitively.
    """

    name: str
    bot_id: str
    languages: tuple[str, ...] = ("en", "de")
    default_language: str = "en"
    linked_apps: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        malformed = [lang for lang in (*self.languages, self.default_language) if not is_language_code(lang)]
        if malformed:
            raise ValueError(f"bot {self.name}: {malformed} are not language codes ({LANGUAGE_CODE_FORM})")
        # Frozen: the lower-case codes replace the given ones once, here.
        object.__setattr__(self, "languages", tuple(lang.lower() for lang in self.languages))
        object.__setattr__(self, "default_language", self.default_language.lower())
        if self.default_language not in self.languages:
            raise ValueError(f"bot {self.name}: default language {self.default_language!r} is not enabled")

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "bot_id": self.bot_id,
            "languages": list(self.languages),
            "default_language": self.default_language,
            "linked_apps": list(self.linked_apps),
        }


def check_seconds(name: str, seconds: float) -> float:
    if not (isinstance(seconds, (int, float)) and 0 <= seconds < math.inf):
        raise ValueError(f"{name} must be a finite number >= 0, got {seconds!r}")
    return float(seconds)


class SecondsKnob:
    """A duration setting of a model (`training_seconds`, `import_seconds`, ...): setting it refuses
    anything but a finite number >= 0, naming the knob as the user knows it (`name`), so every model
    validates its durations the same way. The value lives in the instance as `_<attribute>`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._attribute = ""

    def __set_name__(self, owner: type, attribute: str) -> None:
        self._attribute = "_" + attribute

    def __get__(self, instance: object, owner: type | None = None) -> float:
        value = getattr(instance, self._attribute)
        assert isinstance(value, float)
        return value

    def __set__(self, instance: object, seconds: float) -> None:
        setattr(instance, self._attribute, check_seconds(self.name, seconds))


def _finite(value: float) -> float | None:
    return None if math.isinf(value) else value


@dataclass(frozen=True)
class TrainingRecord(Snapshot):
    """A snapshot of one training. Times `*_at` are on the sandbox clock; `*_wall` are `time.time()`.

    `started_at`/`finished_at` are None while not known (behind or being a hung training).
    `finished_wall` is set once the training has finished (success or failure).
    """

    training_id: str
    bot_id: str
    language: str
    phase: TrainingPhase
    outcome: TrainingOutcome
    queued_at: float
    started_at: float | None
    finished_at: float | None
    queued_wall: float
    finished_wall: float | None
    hung: bool
    #: The training of the same bot language that was queued or running when this one was queued (this one
    #: waited behind it), or None: what tells whether a client ever queued two trainings at once.
    queued_behind: str | None = None
    #: True when `fail_training` turned this finished training into a failed one afterwards.
    failed_later: bool = False


@dataclass
class _Training:
    training_id: str
    bot_id: str
    language: str
    seq: int
    queued_at: float
    queued_wall: float
    queue_seconds: float
    training_seconds: float
    outcome: TrainingOutcome
    hung: bool = False
    released_at: float | None = None
    held: bool = False
    unheld_at: float | None = None
    queued_behind: str | None = None
    started_at: float = 0.0  # math.inf while held, or waiting behind a hung or held training
    finished_at: float = 0.0  # math.inf while hung
    finished_wall: float | None = None
    failed_later: bool = False


@dataclass
class FailureRule:
    """`fail_next_training`: the next `remaining` matching trainings end `Failed`."""

    bot_id: str | None
    language: str | None
    remaining: int

    def matches(self, bot_id: str, language: str) -> bool:
        return (self.bot_id is None or self.bot_id == bot_id) and (
            self.language is None or self.language == language
        )

    def to_json(self) -> dict[str, object]:
        return {"bot_id": self.bot_id, "language": self.language, "count": self.remaining}


class FailureRules:
    """The rules of one `fail_next_*` knob (trainings, ML imports, publishes, definition imports, exports,
    blank download URLs): each job that matches the oldest matching rule uses one of its `count`."""

    def __init__(self) -> None:
        self._rules: list[FailureRule] = []

    def add(self, bot_id: str | None, language: str | None = None, count: int = 1) -> None:
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        self._rules.append(FailureRule(bot_id, language, count))

    def take(self, bot_id: str, language: str = "") -> bool:
        """True (and one use gone) if a rule matches this job. Rules without a language match any."""
        for rule in self._rules:
            if rule.matches(bot_id, language):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._rules.remove(rule)
                return True
        return False

    def clear(self) -> None:
        self._rules.clear()

    def pending(self) -> list[FailureRule]:
        """Copies: a caller cannot use up a rule by changing what it got."""
        return [FailureRule(r.bot_id, r.language, r.remaining) for r in self._rules]

    def to_json(self) -> list[dict[str, object]]:
        return [r.to_json() for r in self._rules]

    def to_json_by_bot(self) -> list[dict[str, object]]:
        """For the knobs that take no language (the settings views leave the key out)."""
        return [{"bot_id": r.bot_id, "count": r.remaining} for r in self._rules]


def status_body(status: StatusWord, sentences_in_sync: bool, *, flags: bool = True) -> dict[str, object]:
    """The ML Utterance Train Status body (docs/kore-api.md §6.2); `flags=False` (reading `sync-flags=none`):
    `trainingStatus` alone."""
    if not flags:
        return {"trainingStatus": status}
    body: dict[str, object] = {
        "trainingStatus": status,
        "isMlInSyncWithSentences": sentences_in_sync,
        "isMlInSyncWithSynonyms": True,
        "isMlInSyncWithMlparams": True,
        "isMlInSyncWithTraits": True,
        "isMlInSyncWithSmallTalk": True,
        "isMlInSyncWithUBTraining": True,
    }
    if status == "Finished":
        body.update(
            {
                "isMlInSyncWithEntityNode": True,
                "isMlInSyncWithIntentNode": True,
                "isMlInSyncWithPatterns": True,
                "isMlInSyncWithBTUtterances": True,
                "trainDetails": dict(TRAIN_DETAILS),
            }
        )
    return body


class TrainingModel:
    """Per bot+language training queues driven by an injectable clock.

    ASSUMPTION (the docs show no queued state, §10.4): a bot language starts with one completed earlier
    training (Finished, in sync). A queued training starts `queue_seconds` after it was queued and finishes
    `training_seconds` later; until it starts, the status still reports the previous training (so a stale
    `Finished` right after "Training Queued."). The durations are captured when a training is queued.
    ASSUMPTION (§10.2): a train POST while one is queued/running queues another one that starts when the
    previous one ends (or after its own queue time, whichever is later), with its own Training_ID.
    ASSUMPTION: flags other than `isMlInSyncWithSentences` are always true; that one is false after
    `mark_sentences_changed` until a training queued after the change finishes successfully.
    Readings (`readings.py`) play the other answers: `untrained-language` (no earlier training: `status`
    answers None until a training shows), `queued-training` (a queued training shows at once) and
    `sync-flags`.
    """

    def __init__(
        self,
        *,
        training_seconds: float = 5.0,
        queue_seconds: float = 1.0,
        fail_rate: float = 0.0,
        clock: Clock,
        wall_clock: Clock,
        rng: random.Random | None = None,
        id_factory: Callable[[], str] = new_training_id,
        readings: Readings | None = None,
    ) -> None:
        self._clock = clock
        self._readings = readings if readings is not None else Readings()
        self._wall_clock = wall_clock
        self._rng = rng if rng is not None else random.Random()
        self._id_factory = id_factory
        self.training_seconds = training_seconds
        self.queue_seconds = queue_seconds
        self.fail_rate = fail_rate
        self._chains: dict[tuple[str, str], list[_Training]] = {}
        self._order: list[_Training] = []
        self._failures = FailureRules()
        self._sentences_changed: dict[tuple[str, str], int] = {}
        self._seq = 0
        self._hang = False
        self._hold = False

    # -- knobs --------------------------------------------------------------------------------------
    training_seconds = SecondsKnob("training_seconds")
    queue_seconds = SecondsKnob("queue_seconds")

    @property
    def fail_rate(self) -> float:
        return self._fail_rate

    @fail_rate.setter
    def fail_rate(self, rate: float) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fail_rate must be between 0 and 1, got {rate}")
        self._fail_rate = float(rate)

    @property
    def hanging(self) -> bool:
        return self._hang

    def fail_next_training(
        self, bot_id: str | None = None, language: str | None = None, count: int = 1
    ) -> None:
        self._failures.add(bot_id, language, count)

    @property
    def pending_failures(self) -> list[FailureRule]:
        return self._failures.pending()

    def hang_trainings(self, hang: bool = True) -> None:
        """Hang: every unfinished (and every new) training stays Inprogress. Release: they finish at
        their normal time or now, whichever is later."""
        now = self._refresh_now()
        self._hang = hang
        for t in self._order:
            if hang and t.finished_at > now:
                t.hung = True
            elif not hang and t.hung:
                t.hung = False
                t.released_at = now
        self._reschedule_all()

    @property
    def holding(self) -> bool:
        return self._hold

    def hold_queue(self, hold: bool = True) -> None:
        """Hold: every training that has not started yet (and every new one) stays queued, so the status
        keeps describing the previous training (or, per reading `queued-training`, the queued one). Release:
        they start at their normal time or now, whichever is later. Lets a test stop time at "queued"
        without racing a clock."""
        now = self._refresh_now()
        self._hold = hold
        for t in self._order:
            if hold and t.started_at > now:
                t.held = True
            elif not hold and t.held:
                t.held = False
                t.unheld_at = now
        self._reschedule_all()

    def mark_sentences_changed(self, bot_id: str, language: str) -> None:
        """`isMlInSyncWithSentences` is false until a training queued after this finishes successfully."""
        self._seq += 1
        self._sentences_changed[(bot_id, language)] = self._seq

    def fail_training(self, training_id: str) -> tuple[TrainingRecord, bool]:
        """A training that finished successfully reads `Failed` from now on (drift: "it failed later"); the
        training, and whether this changed it (False: it had failed already).

        ASSUMPTION: the train status then reports `Failed` (out of sync with the sentences) for that bot
        language until a newer training starts (`Inprogress`) and finishes. Only the latest started
        training of its bot language can be failed this way: the status describes no other one.
        """
        training = self._failable(training_id)
        changed = training.outcome == "Finished"
        if changed:
            training.outcome = "Failed"
            training.failed_later = True
        return self._snapshot(training, self._clock()), changed

    def check_fail_training(self, training_id: str) -> tuple[TrainingRecord, bool]:
        """Raise ValueError if `fail_training(training_id)` would (and change nothing); else what it would
        return."""
        training = self._failable(training_id)
        return self._snapshot(training, self._clock()), training.outcome == "Finished"

    def _failable(self, training_id: str) -> _Training:
        now = self._refresh_now()
        training = next((t for t in self._order if t.training_id == training_id), None)
        if training is None:
            raise ValueError(f"unknown training {training_id!r}")
        if training.finished_at > now:
            raise ValueError(
                f"training {training_id} has not finished yet; use fail_next_training for one that "
                "has not finished"
            )
        chain = self._chains[(training.bot_id, training.language)]
        newer = [t for t in chain if t.seq > training.seq and t.started_at <= now]
        if newer:
            raise ValueError(
                f"training {training_id} is no longer the latest of {training.bot_id} ({training.language}): "
                f"the status describes {newer[-1].training_id}"
            )
        return training

    def clear_failures(self) -> None:
        self._failures.clear()

    def reset(self) -> None:
        self._chains.clear()
        self._order.clear()
        self.clear_failures()
        self._sentences_changed.clear()
        self._hang = False
        self._hold = False

    # -- the state file (persistence.py) ---------------------------------------------------------------
    def dump_state(self) -> dict[str, object]:
        """Every training and the sentence changes, JSON-able; times on this model's clock."""
        return {
            "seq": self._seq,
            "sentences_changed": [
                {"bot_id": bot, "language": language, "seq": seq}
                for (bot, language), seq in self._sentences_changed.items()
            ],
            "trainings": [
                {
                    "training_id": t.training_id,
                    "bot_id": t.bot_id,
                    "language": t.language,
                    "seq": t.seq,
                    "queued_at": t.queued_at,
                    "queued_wall": t.queued_wall,
                    "queue_seconds": t.queue_seconds,
                    "training_seconds": t.training_seconds,
                    "outcome": t.outcome,
                    "hung": t.hung,
                    "released_at": t.released_at,
                    "held": t.held,
                    "unheld_at": t.unheld_at,
                    "queued_behind": t.queued_behind,
                    "finished_wall": t.finished_wall,
                    "failed_later": t.failed_later,
                }
                for t in self._order
            ],
        }

    def load_state(self, state: Fields, shift: float) -> None:
        """What `dump_state` wrote, its times moved by `shift` onto this clock. A hung or held training is
        released now: the knobs that hung or held it are configuration, and a restart resets them."""
        now = self._clock()
        self._seq = state.integer("seq")
        for changed in state.objects("sentences_changed"):
            key = (changed.text("bot_id"), changed.text("language"))
            self._sentences_changed[key] = changed.integer("seq")
        for item in state.objects("trainings"):
            hung, held = item.flag("hung"), item.flag("held")
            training = _Training(
                training_id=item.text("training_id"),
                bot_id=item.text("bot_id"),
                language=item.text("language"),
                seq=item.integer("seq"),
                queued_at=item.number("queued_at") + shift,
                queued_wall=item.number("queued_wall"),
                queue_seconds=check_seconds("queue_seconds", item.number("queue_seconds")),
                training_seconds=check_seconds("training_seconds", item.number("training_seconds")),
                outcome=item.choice("outcome", ("Finished", "Failed")),
                hung=False,
                released_at=now if hung else shifted(item.optional_number("released_at"), shift),
                held=False,
                unheld_at=now if held else shifted(item.optional_number("unheld_at"), shift),
                queued_behind=item.optional_text("queued_behind"),
                finished_wall=item.optional_number("finished_wall"),
                failed_later=item.flag("failed_later"),
            )
            self._chains.setdefault((training.bot_id, training.language), []).append(training)
            self._order.append(training)
        self._reschedule_all()
        self._refresh(now)

    # -- API operations -----------------------------------------------------------------------------
    def queue_training(self, bot_id: str, language: str) -> TrainingRecord:
        now = self._refresh_now()
        self._seq += 1
        key = (bot_id, language)
        pending = [t for t in self._chains.get(key, []) if t.finished_at > now]
        training = _Training(
            training_id=self._id_factory(),
            bot_id=bot_id,
            language=language,
            seq=self._seq,
            queued_at=now,
            queued_wall=self._wall_clock(),
            queue_seconds=self.queue_seconds,
            training_seconds=self.training_seconds,
            outcome=self._decide_outcome(bot_id, language),
            hung=self._hang,
            held=self._hold,
            queued_behind=pending[-1].training_id if pending else None,
        )
        self._chains.setdefault(key, []).append(training)
        self._order.append(training)
        self._reschedule(key)
        self._refresh(now)
        return self._snapshot(training, now)

    def status(
        self, bot_id: str, language: str, state: TrainState = "configured"
    ) -> dict[str, object] | None:
        """The train status body for one bot+language+state at the current clock time; None when the bot
        language has no training to describe (reading `untrained-language` other than `trained`, until
        its first training shows): the API answers that as the reading says."""
        now = self._refresh_now()
        flags = self._readings["sync-flags"] == "all"
        if state == "published":
            # ASSUMPTION: the sandbox has no publish flow; the published version keeps its initial,
            # completed training, so `state=published` always reports Finished / in sync.
            return status_body("Finished", True, flags=flags)
        chain = self._chains.get((bot_id, language), [])
        queued_word = self._readings["queued-training"]
        current = _described_training(chain, now, queued_shows=queued_word != "stale")
        trained_before = self._readings["untrained-language"] == "trained"
        sentences_in_sync = self._last_success_seq(chain, now, trained_before) > self._sentences_changed.get(
            (bot_id, language), -1
        )
        if current is None:
            return status_body("Finished", sentences_in_sync, flags=flags) if trained_before else None
        if now < current.started_at:
            word: StatusWord = "Queued" if queued_word == "queued-word" else "Inprogress"
            return status_body(word, sentences_in_sync, flags=flags)
        if now < current.finished_at:
            return status_body("Inprogress", sentences_in_sync, flags=flags)
        if current.outcome == "Failed":
            # ASSUMPTION: after a failed training the ML model is reported out of sync with the sentences.
            return status_body("Failed", False, flags=flags)
        return status_body("Finished", sentences_in_sync, flags=flags)

    def records(self) -> list[TrainingRecord]:
        now = self._refresh_now()
        return [self._snapshot(t, now) for t in self._order]

    # -- internals ----------------------------------------------------------------------------------
    def _decide_outcome(self, bot_id: str, language: str) -> TrainingOutcome:
        if self._failures.take(bot_id, language):
            return "Failed"
        if self._fail_rate > 0 and self._rng.random() < self._fail_rate:
            return "Failed"
        return "Finished"

    def _reschedule_all(self) -> None:
        """After a hang or hold changed: every chain's start and finish times follow the new flags."""
        for key in self._chains:
            self._reschedule(key)

    def _reschedule(self, key: tuple[str, str]) -> None:
        previous_finish = -math.inf
        for t in self._chains.get(key, []):
            if t.held:
                t.started_at = t.finished_at = previous_finish = math.inf
                continue
            unheld = -math.inf if t.unheld_at is None else t.unheld_at
            t.started_at = max(t.queued_at + t.queue_seconds, previous_finish, unheld)
            nominal = t.started_at + t.training_seconds
            if t.hung:
                t.finished_at = math.inf
            elif t.released_at is not None:
                t.finished_at = max(nominal, t.released_at)
            else:
                t.finished_at = nominal
            previous_finish = t.finished_at

    def _refresh_now(self) -> float:
        """The clock's time, with every training finished by then stamped: how each operation starts."""
        now = self._clock()
        self._refresh(now)
        return now

    def _refresh(self, now: float) -> None:
        """Stamp the wall-clock finish time of every training that has finished by `now`."""
        wall_now: float | None = None
        for t in self._order:
            if t.finished_wall is None and t.finished_at <= now:
                if wall_now is None:
                    wall_now = self._wall_clock()
                t.finished_wall = wall_now - (now - t.finished_at)

    @staticmethod
    def _last_success_seq(chain: list[_Training], now: float, trained_before: bool) -> int:
        """The sequence number of the latest successful training by `now`: 0 for the initial, earlier one,
        or -1 when there is none (`untrained-language` other than `trained`): out of sync until one
        succeeds."""
        best = 0 if trained_before else -1
        for t in chain:
            if t.outcome == "Finished" and t.finished_at <= now:
                best = max(best, t.seq)
        return best

    @staticmethod
    def _phase(t: _Training, now: float) -> TrainingPhase:
        if now < t.started_at:
            return "queued"
        if now < t.finished_at:
            return "Inprogress"
        return t.outcome

    def _snapshot(self, t: _Training, now: float) -> TrainingRecord:
        return TrainingRecord(
            training_id=t.training_id,
            bot_id=t.bot_id,
            language=t.language,
            phase=self._phase(t, now),
            outcome=t.outcome,
            queued_at=t.queued_at,
            started_at=_finite(t.started_at),
            finished_at=_finite(t.finished_at),
            queued_wall=t.queued_wall,
            finished_wall=t.finished_wall,
            hung=t.hung,
            queued_behind=t.queued_behind,
            failed_later=t.failed_later,
        )


def _described_training(chain: list[_Training], now: float, *, queued_shows: bool) -> _Training | None:
    """The training a status read describes: the latest one that has started by `now`, or, when a queued
    training shows (reading `queued-training` other than `stale`), the latest one queued."""
    if queued_shows:
        return chain[-1] if chain else None
    started = [t for t in chain if t.started_at <= now]
    return started[-1] if started else None


# -- rate limits ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RateLimit:
    """Requests allowed per rolling 60-second and 3600-second window (docs/kore-api.md §5.1)."""

    per_minute: int = 60
    per_hour: int = 1800

    def __post_init__(self) -> None:
        if self.per_minute < 1 or self.per_hour < 1:
            raise ValueError(f"rate limits must be >= 1, got {self}")

    def to_json(self) -> dict[str, int]:
        return {"per_minute": self.per_minute, "per_hour": self.per_hour}


@dataclass(frozen=True)
class RateLimited:
    window: Literal["minute", "hour"]
    message: str
    retry_after: int  # whole seconds until the window has room again (>= 1)


class RateLimiter:
    """Rolling-window limiter. Only admitted requests are counted (ASSUMPTION: rejected ones are not).
    `limit=None` disables limiting."""

    def __init__(self, limit: RateLimit | None, clock: Clock) -> None:
        self.limit = limit
        self._clock = clock
        self._hits: dict[Hashable, deque[float]] = {}

    def hit(self, key: Hashable) -> RateLimited | None:
        """Admit (and count) one request for `key`, or say why it is refused."""
        if self.limit is None:
            return None
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - 3600.0:
            hits.popleft()
        # The hourly budget is checked first: once it is gone, the minute window does not matter.
        if len(hits) >= self.limit.per_hour:
            oldest = hits[len(hits) - self.limit.per_hour]
            return RateLimited("hour", RATE_LIMIT_HOUR_MSG, _ceil_seconds(oldest + 3600.0 - now))
        in_minute = [t for t in hits if t > now - 60.0]
        if len(in_minute) >= self.limit.per_minute:
            oldest = in_minute[len(in_minute) - self.limit.per_minute]
            return RateLimited("minute", RATE_LIMIT_MINUTE_MSG, _ceil_seconds(oldest + 60.0 - now))
        hits.append(now)
        return None

    def reset(self) -> None:
        self._hits.clear()


def _ceil_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds - 1e-9))
