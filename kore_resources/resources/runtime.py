"""What the providers share inside one plugin process: the clock, Kore.ai's rate budget, one lock per bot,
the HTTP sessions, and the log.

The Pulumi engine runs every dynamic resource of a stack in one plugin process (`python -u -m
pulumi.dynamic`, at most four operations at once), and a fresh process for each pass (preview, update,
refresh, destroy). The providers themselves are pickled into the state by reference and carry no state of
their own, so everything that must be shared lives here, at module level of the plugin process.

The clock and the rate budget are *seams*: tests and benchmarks swap them for the duration of a `with`
block (`RUNTIME.use_clock(virtual_clock)`, `RUNTIME.use_budget(budget)`), never by overwriting module
globals.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar, cast

from ..api.ratelimit import RateBudget
from .polling import Clock

T = TypeVar("T")

if TYPE_CHECKING:  # imported on first use below: see Runtime.session()
    import requests

    from ..api.client import Reachability


class SystemClock:
    """Real time."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class Runtime:
    """The plugin process's shared state. There is one, `RUNTIME`."""

    def __init__(self) -> None:
        self.clock: Clock = SystemClock()
        #: One rate budget for the whole process: its (up to four) concurrent operations share Kore.ai's
        #: per-bot limits. It reads the clock seam at call time.
        self.budget = RateBudget(clock=self._monotonic, sleep=self._sleep)
        self._reachability: Reachability | None = None
        self._memo: dict[tuple[str, ...], _Memo] = {}
        self._locks_guard = threading.Lock()
        self._bot_locks: dict[tuple[str, str], threading.Lock] = {}
        self._sessions = threading.local()

    def _monotonic(self) -> float:
        return self.clock.monotonic()

    def _sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)

    # -- seams ----------------------------------------------------------------------------------------

    @contextmanager
    def use_clock(self, clock: Clock) -> Iterator[None]:
        """Time as the providers (and the clients they make) see it, for the `with` block: benchmarks and
        tests run minutes of training in no time on a virtual clock shared with the sandbox."""
        previous, self.clock = self.clock, clock
        try:
            yield
        finally:
            self.clock = previous

    @contextmanager
    def use_budget(self, budget: RateBudget) -> Iterator[None]:
        """Another rate budget for the `with` block (tests: a small window, to see it enforced)."""
        previous, self.budget = self.budget, budget
        try:
            yield
        finally:
            self.budget = previous

    def reset(self) -> None:
        """Forget what this process has learnt: a fresh rate budget, no host known to have answered, no
        per-bot locks. Each pass of the engine is a new process anyway; tests that share one process call
        this between tests, so none depends on what another left behind."""
        with self._locks_guard:
            self.budget = RateBudget(clock=self._monotonic, sleep=self._sleep)
            self._reachability = None
            self._bot_locks.clear()
            self._memo.clear()

    def held_bot_locks(self) -> list[tuple[str, str]]:
        """The (host, bot) whose lock is held now: an operation under way (tests check none outlives them)."""
        with self._locks_guard:
            return [key for key, lock in self._bot_locks.items() if lock.locked()]

    def memo(self, key: tuple[str, ...], compute: Callable[[], T]) -> T:
        """`compute()` once per `key` in this process (one pass of the engine), for reads that several
        resources share: a refresh exports a bot language's utterances once for all its files. Concurrent
        callers of one key wait for the first; a failed compute is not kept."""
        with self._locks_guard:
            entry = self._memo.setdefault(key, _Memo())
        with entry.lock:
            if not entry.done:
                entry.value = compute()
                entry.done = True
            return cast(T, entry.value)

    # -- per-bot serialization ------------------------------------------------------------------------

    @contextmanager
    def one_job_per_bot(
        self, host: str, bot_id: str, deadline: float, timed_out: Callable[[], Exception]
    ) -> Iterator[None]:
        """Trainings, imports and publishes of one bot run one after another in this process (a training
        must not run while an import is replacing the bot's utterances, a publish should snapshot a bot
        that is not half-way through either); other bots proceed in parallel. `timed_out` makes the error
        to raise when the turn does not come by `deadline`."""
        with self._locks_guard:
            lock = self._bot_locks.setdefault((host, bot_id), threading.Lock())
        if not lock.acquire(timeout=max(0.0, deadline - self.clock.monotonic())):
            raise timed_out()
        try:
            yield
        finally:
            lock.release()

    # -- HTTP ---------------------------------------------------------------------------------------------

    def reachability(self) -> Reachability:
        """Which hosts have answered in this process (made on first use, with the HTTP stack)."""
        from ..api.client import Reachability

        with self._locks_guard:
            if self._reachability is None:
                self._reachability = Reachability()
            return self._reachability

    def session(self) -> requests.Session:
        """One keep-alive session per plugin worker thread: connections are reused across resources, and no
        session is shared between threads. requests (and the client built on it) is imported on first use:
        a no-op preview (check and diff only) makes no HTTP call, and the import is most of what this
        package adds to the plugin's start-up (docs/performance.md, start-up)."""
        import requests

        session: requests.Session | None = getattr(self._sessions, "session", None)
        if session is None:
            session = requests.Session()
            self._sessions.session = session
        return session


class _Memo:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = False
        self.value: object = None


RUNTIME = Runtime()


def log(message: str) -> None:
    """A progress line for the user. The plugin has no connection to the engine; the CLI shows each line
    of the plugin's stderr as an info diagnostic on the stack's row. One write per line: the plugin's
    worker threads log concurrently, and print()'s separate write of the newline let the real engine show
    two messages glued on one line."""
    sys.stderr.write(f"kore: {message}\n")
    sys.stderr.flush()


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
