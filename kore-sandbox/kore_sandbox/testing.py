"""What tests (and benchmarks) that drive the sandbox need: time they control, and waits for events.

`VirtualClock` is the one virtual clock: give the same object to the sandbox (`Sandbox(clock=clock)`, which
calls it) and to the code under test (kore_resources: `RUNTIME.use_clock(clock)`; anything that takes a
`monotonic()`/`sleep()` pair), and both agree on what time it is while minutes of training take none.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

#: How long an event-driven wait may take before a test calls it a hang. Generous on purpose: it fires
#: only when something is really stuck, never because the machine is slow.
HANG_SECONDS = 120.0


class VirtualClock:
    """Thread-safe virtual time: `clock()` / `clock.monotonic()` read it, `clock.sleep(s)` waits on it,
    `clock.advance(s)` moves it, `clock.at(delay, action)` runs `action` once it gets there.

    A `sleep` does not wait in real time. With one *actor* (the thread that drives the work, the default)
    every sleep returns at once, having moved time on; with `actors=n`, time jumps only when all n sleep,
    to the earliest wake-up, so n threads see one consistent timeline. `real_time=False` (the default):
    only sleeps and `advance` move the clock, so what happens when is decided by the test, never by how
    fast the machine is. `real_time=True`: real elapsed time counts too, so real work (HTTP, parsing)
    takes its real time on the clock (benchmarks measure lag that way). `sleeps` records every sleep
    asked of it."""

    def __init__(self, start: float = 1000.0, *, actors: int = 1, real_time: bool = False) -> None:
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
        self._events: list[tuple[float, int, Callable[[], object]]] = []
        #: Every sleep asked of the clock, in seconds, in the order asked.
        self.sleeps: list[float] = []
        #: How many times time jumped ahead because every actor slept.
        self.jumps = 0

    def _now(self) -> float:  # the caller holds the lock
        real = time.monotonic() - self._real0 if self._real_time else 0.0
        return self._start + real + self._skipped

    def __call__(self) -> float:
        return self.monotonic()

    def monotonic(self) -> float:
        with self._cond:
            return self._now()

    @property
    def now(self) -> float:
        return self.monotonic()

    def skipped(self) -> float:
        """Virtual seconds that passed without real time passing."""
        with self._cond:
            return self._skipped

    def advance(self, seconds: float) -> None:
        """Move time on by `seconds` (a test's "later"), running the events that fall due."""
        with self._cond:
            self._skipped += max(0.0, seconds)
            self._cond.notify_all()
        self._run_due_events()

    def at(self, delay: float, action: Callable[[], object]) -> None:
        """Run `action` (stop the sandbox, start it again) once time reaches now + `delay`, in the thread
        whose sleep or `advance` gets there."""
        with self._cond:
            heapq.heappush(self._events, (self._now() + delay, next(self._tickets), action))

    def retire(self) -> None:
        """The calling actor is done: the others no longer wait for it to sleep."""
        with self._cond:
            self._actors -= 1
            self._cond.notify_all()

    def sleep(self, seconds: float) -> None:
        with self._cond:
            self.sleeps.append(seconds)
        if seconds > 0:
            self._sleep(seconds)
        self._run_due_events()

    def _sleep(self, seconds: float) -> None:
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
                    self._cond.wait(timeout=max(0.0, wake - self._now()) if self._real_time else None)
            finally:
                self._sleepers.remove(entry)
                heapq.heapify(self._sleepers)
                self._cond.notify_all()

    def _run_due_events(self) -> None:
        while True:
            with self._cond:
                if not self._events or self._events[0][0] > self._now():
                    return
                _, _, action = heapq.heappop(self._events)
            action()  # outside the lock: it may read the clock, or sleep on it


def wait_until(condition: Callable[[], object], what: str, timeout: float = HANG_SECONDS) -> None:
    """Wait (in real time) for an event, such as a training visible in the sandbox or a call made, not for
    a guessed duration. Fails naming `what` only when nothing happened for `timeout` seconds: a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout:g}s for {what}: something hangs")
        time.sleep(0.02)
