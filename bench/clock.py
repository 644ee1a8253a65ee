"""Clocks that let a benchmark run minutes of training in seconds, shared by the sandbox and the provider.

The providers read time only through the runtime's clock seam (`kore_resources.resources.runtime.RUNTIME
.use_clock`); the sandbox takes a `clock=` callable. Give both the same clock object and they agree on what
time it is.

- `VirtualClock` (in one process): virtual time is real elapsed time plus everything skipped. A `sleep`
  does not wait: when every *actor* (a thread that drives the work, e.g. the one calling `create`) is
  asleep, the clock jumps to the earliest wake-up. Real work (HTTP, parsing, locks) still takes its real
  time, so the measured lag includes it, unscaled. With `real_time=False` it does not: only sleeps move
  the clock, for checks that must not depend on how loaded the machine is (tests/test_bench_smoke.py).
- `ScaledClock` (across processes): virtual time runs `scale` times faster than CLOCK_MONOTONIC, which
  is system-wide on Linux, so the plugin process and the sandbox in the bench process agree without any
  coordination. The price: real overheads are magnified `scale` times in virtual seconds (pessimistic).
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

EPOCH_ENV = "BENCH_CLOCK_EPOCH"
SCALE_ENV = "BENCH_CLOCK_SCALE"


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class VirtualClock:
    """Thread-safe virtual time for one process. `actors`: how many threads drive the work; time jumps
    only when all of them sleep (with one actor, every sleep returns at once, having advanced time).
    `real_time=False`: real time does not count either, so only sleeps move the clock (a discrete-event
    clock): what the code schedules is measured exactly, and nothing of how fast the machine is."""

    def __init__(self, actors: int = 1, start: float = 1000.0, *, real_time: bool = True) -> None:
        if actors < 1:
            raise ValueError("actors must be >= 1")
        self._actors = actors
        self._real_time = real_time
        self._real0 = time.monotonic()
        self._start = start
        self._skipped = 0.0
        self._cond = threading.Condition()
        self._sleepers: list[tuple[float, int]] = []  # heap of (wake time, ticket)
        self._tickets = itertools.count()
        self.jumps = 0

    def _now(self) -> float:  # caller holds the lock
        real = time.monotonic() - self._real0 if self._real_time else 0.0
        return self._start + real + self._skipped

    def monotonic(self) -> float:
        with self._cond:
            return self._now()

    def retire(self) -> None:
        """The calling actor is done: the others no longer wait for it to sleep."""
        with self._cond:
            self._actors -= 1
            self._cond.notify_all()

    def skipped(self) -> float:
        """Virtual seconds that passed without real time passing."""
        with self._cond:
            return self._skipped

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._cond:
            wake = self._now() + seconds
            entry = (wake, next(self._tickets))
            heapq.heappush(self._sleepers, entry)
            try:
                while self._now() < wake:
                    # Every actor sleeps: skip ahead to the first wake-up.
                    if len(self._sleepers) >= max(1, self._actors):
                        gap = self._sleepers[0][0] - self._now()
                        if gap > 0:
                            self._skipped += gap
                            self.jumps += 1
                            self._cond.notify_all()
                        if self._now() >= wake:
                            break
                    # Wait (lock released) for another actor to sleep or leave, or for real time to pass.
                    self._cond.wait(timeout=max(0.0, wake - self._now()))
            finally:
                self._sleepers.remove(entry)
                heapq.heapify(self._sleepers)
                self._cond.notify_all()


class ScaledClock:
    """Virtual time = epoch + (CLOCK_MONOTONIC - epoch) * scale; the same in every process given the same
    epoch and scale (see `env` / `from_env`)."""

    def __init__(self, scale: float, epoch: float | None = None) -> None:
        if scale <= 0:
            raise ValueError("scale must be > 0")
        self.scale = scale
        self.epoch = time.monotonic() if epoch is None else epoch

    def monotonic(self) -> float:
        return self.epoch + (time.monotonic() - self.epoch) * self.scale

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.scale)

    def env(self) -> dict[str, str]:
        """Environment for another process to build the same clock with `from_env`."""
        return {EPOCH_ENV: repr(self.epoch), SCALE_ENV: repr(self.scale)}

    @classmethod
    def from_env(cls) -> ScaledClock | None:
        if SCALE_ENV not in os.environ:
            return None
        return cls(float(os.environ[SCALE_ENV]), float(os.environ[EPOCH_ENV]))


@contextmanager
def provider_clock(clock: Clock) -> Iterator[None]:
    """Make the providers (and the clients they build) read time from `clock`, then restore."""
    from kore_resources.resources.runtime import RUNTIME

    with RUNTIME.use_clock(clock):
        yield
