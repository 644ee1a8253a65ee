"""What the sandbox's asynchronous jobs share: ML import and publish (`pipeline.py`), bot definition import
(`definitions.py`) and ML export (`export.py`).

Every such job starts on the injected clocks and runs for a duration taken when it starts: until then its
status is the endpoint's "running" word (`pending`, `inprogress`, `IN_PROGRESS`), afterwards the outcome
decided when it started. The job models are pure, like `state.TrainingModel`: no I/O, no locks, no
sleeping; `JobControls` is the base of their thread-safe handles, and `LockedModel` / `LockedSetting` what
every such handle (`Sandbox`'s training knobs too) uses to reach its model under the sandbox's lock.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, Never, Protocol, Self, TypeVar, overload

from .persistence import Fields
from .state import Clock


def iso_time(wall: float) -> str:
    """`2019-06-27T12:03:30.748Z`, the documented timestamp format."""
    milliseconds = int(wall * 1000) % 1000
    return datetime.fromtimestamp(wall, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{milliseconds:03d}Z"


def user_id(client_id: str) -> str:
    """ASSUMPTION: `createdBy` is a stable `u-<uuid>` per app (the sandbox has no users)."""
    return f"u-{uuid.uuid5(uuid.NAMESPACE_URL, 'kore-sandbox/user/' + client_id)}"


@dataclass(frozen=True)
class JobTimes:
    """When a job started and when it ends, on the sandbox clock (`*_at`) and the wall clock (`*_wall`)."""

    started_at: float
    started_wall: float
    done_at: float
    done_wall: float

    def running(self, now: float) -> bool:
        return now < self.done_at

    def dump_state(self) -> dict[str, float]:
        return {
            "started_at": self.started_at,
            "started_wall": self.started_wall,
            "done_at": self.done_at,
            "done_wall": self.done_wall,
        }

    @classmethod
    def load_state(cls, state: Fields, shift: float) -> JobTimes:
        """What `dump_state` wrote, the sandbox-clock times moved by `shift` (persistence.py)."""
        return cls(
            started_at=state.number("started_at") + shift,
            started_wall=state.number("started_wall"),
            done_at=state.number("done_at") + shift,
            done_wall=state.number("done_wall"),
        )

    def percentage(self, now: float, succeeded: bool) -> int:
        """`percentageComplete`. ASSUMPTION: progress grows linearly; a failed job stops short of 100."""
        if succeeded:
            return 100
        duration = self.done_at - self.started_at
        done = 1.0 if duration <= 0 else min(1.0, (now - self.started_at) / duration)
        return math.floor(done * 99)


class _Settled(Protocol):
    times: JobTimes
    applied: bool


SettledJob = TypeVar("SettledJob", bound=_Settled)


class JobClocks:
    """The injected clocks of a job model, and how a job's times are taken from them."""

    def __init__(self, clock: Clock, wall_clock: Clock) -> None:
        self.clock = clock
        self.wall_clock = wall_clock

    def start(self, seconds: float) -> JobTimes:
        """The times of a job starting now that runs for `seconds`."""
        now, wall = self.clock(), self.wall_clock()
        return JobTimes(now, wall, now + seconds, wall + seconds)

    def modified_wall(self, times: JobTimes, now: float) -> float:
        """When the job last changed, as of `now`: now while it runs, else when it ended (`lMod`,
        `lastModifiedOn`)."""
        return self.wall_clock() if times.running(now) else times.done_wall

    def newly_finished(self, jobs: Iterable[SettledJob]) -> list[SettledJob]:
        """The jobs that have finished by now and whose effect is not applied yet, in completion order,
        marked applied: a model's `settle()` applies each import's effect exactly once."""
        now = self.clock()
        done = sorted(
            (j for j in jobs if not j.applied and not j.times.running(now)), key=lambda j: j.times.done_at
        )
        for job in done:
            job.applied = True
        return done


ModelT = TypeVar("ModelT")
T = TypeVar("T")
R = TypeVar("R")


class LockedModel(Generic[ModelT]):
    """A thread-safe handle on one pure model. The sandbox's HTTP threads and the test (or admin API)
    thread share the models, and a model never locks, so every read and change through a handle holds the
    sandbox's lock: `LockedSetting` for a knob's value, `_set` to change it, `_locked` for anything else."""

    _lock: threading.RLock
    _model: ModelT

    def _set(self, name: str, value: object) -> None:
        """Set the model's knob `name` (the model checks the value)."""
        with self._lock:
            if not hasattr(self._model, name):  # a misspelt name would otherwise add an attribute
                raise AttributeError(f"{type(self._model).__name__} has no knob {name!r}")
            setattr(self._model, name, value)

    def _locked(self, use: Callable[[ModelT], R]) -> R:
        """`use(model)`, under the lock: `self._locked(lambda m: m.fail_next_export(bot_id, count))`."""
        with self._lock:
            return use(self._model)


class _Guarded(Protocol):
    """What `LockedSetting` reads through (a `LockedModel` of any model)."""

    @property
    def _lock(self) -> threading.RLock: ...

    @property
    def _model(self) -> object: ...


class LockedSetting(Generic[T]):
    """A read-only knob of a `LockedModel`: `import_seconds = LockedSetting[float]()` reads the model's
    attribute of the same name under the lock. It is changed only through the handle's `set_*` method."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, handle: None, owner: type) -> Self: ...

    @overload
    def __get__(self, handle: _Guarded, owner: type | None = None) -> T: ...

    def __get__(self, handle: _Guarded | None, owner: type | None = None) -> T | Self:
        if handle is None:
            return self
        with handle._lock:
            value: T = getattr(handle._model, self._name)
        return value

    def __set__(self, handle: _Guarded, value: Never) -> None:
        # Read-only like the property it stands for (`Never`: mypy rejects an assignment too).
        raise AttributeError(f"{self._name} is read-only: use set_{self._name}()")


class JobControls(LockedModel[ModelT]):
    """Base of `Sandbox.pipeline`, `Sandbox.definitions` and `Sandbox.ml_export`: knobs, fault rules and
    views of one job model, each under the sandbox's lock."""

    def __init__(self, lock: threading.RLock, model: ModelT) -> None:
        self._lock = lock
        self._model = model
