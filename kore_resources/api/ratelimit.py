"""Kore.ai's documented rate limits, kept on our side so a `pulumi up` never runs into them.

Kore.ai allows 60 calls per minute and 1,800 per hour (rolling windows, both checked) per bot for the NLP
training APIs (train, ML import, upload, publish), and the same per request for status APIs. The plugin
process serves up to four provider operations at once, so the budget is shared by every operation in the
process: one `RateBudget` per process, keyed by host, bot and kind of call.

`next_allowed` is the pure decision; `RateBudget` is the thread-safe bookkeeping around it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .errors import RateLimitedError


@dataclass(frozen=True)
class Window:
    calls: int
    seconds: float


#: Kore.ai's documented limits: 60 per minute and 1,800 per hour.
KORE_LIMITS = (Window(60, 60.0), Window(1800, 3600.0))


def next_allowed(history: Sequence[float], now: float, limits: Sequence[Window] = KORE_LIMITS) -> float:
    """The earliest time (>= now) at which one more call fits every window, given the times of earlier
    calls in `history` (ascending)."""
    allowed = now
    for window in limits:
        if len(history) >= window.calls:
            # The call that must leave the window before one more fits.
            allowed = max(allowed, history[len(history) - window.calls] + window.seconds)
    return allowed


class RateBudget:
    """Sliding-window call budgets per key, shared by the threads of one process.

    `observer(key, at)`, if given, is told of every call the budget admits, with the admission time on the
    budget's clock, in admission order (it runs under the budget's lock: keep it quick). Tests use it to
    check what the budget guarantees, which no receive time on the server can show."""

    def __init__(
        self,
        limits: Sequence[Window] = KORE_LIMITS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        observer: Callable[[tuple[str, ...], float], None] | None = None,
    ) -> None:
        self.limits = tuple(limits)
        self._horizon = max(w.seconds for w in self.limits)
        self._clock = clock
        self._sleep = sleep
        self._observer = observer
        self._lock = threading.Lock()
        self._history: dict[tuple[str, ...], deque[float]] = {}
        self._blocked_until: dict[tuple[str, ...], float] = {}

    def acquire(self, key: tuple[str, ...], deadline: float, describe: str) -> None:
        """Wait until one more call under `key` fits the budget, then count it. Raises RateLimitedError if
        that would be after `deadline`."""
        while True:
            with self._lock:
                now = self._clock()
                history = self._history.setdefault(key, deque())
                while history and history[0] <= now - self._horizon:
                    history.popleft()
                at = max(next_allowed(history, now, self.limits), self._blocked_until.get(key, now))
                if at <= now:
                    history.append(now)
                    if self._observer is not None:
                        self._observer(key, now)
                    return
            if at > deadline:
                raise RateLimitedError(
                    f"{describe}: Kore.ai's rate limit (60 calls per minute, 1,800 per hour per bot) leaves "
                    f"no room before the deadline ({at - now:.0f}s to wait). Raise timeout_seconds, or ask "
                    "Kore.ai support for a higher limit."
                )
            self._sleep(at - now)

    def block(self, key: tuple[str, ...], seconds: float) -> None:
        """Kore.ai said 429 (with Retry-After `seconds`): hold every caller of `key` back that long."""
        with self._lock:
            until = self._clock() + seconds
            self._blocked_until[key] = max(until, self._blocked_until.get(key, until))

    def calls_in_window(self, key: tuple[str, ...], seconds: float) -> int:
        with self._lock:
            now = self._clock()
            return sum(1 for t in self._history.get(key, ()) if t > now - seconds)
