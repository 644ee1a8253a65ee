"""The shared rate-limit budget (pure decision + thread-safe bookkeeping, on a virtual clock)."""

import threading

import pytest

from kore_resources.api.ratelimit import KORE_LIMITS, RateBudget, Window, next_allowed
from kore_resources.errors import RateLimitedError
from kore_sandbox.testing import VirtualClock

pytestmark = pytest.mark.unit


def test_next_allowed_is_now_below_the_limit():
    assert next_allowed([1.0, 2.0], 3.0) == 3.0


def test_minute_window_full_waits_for_the_oldest_call_to_leave():
    history = [100.0 + i for i in range(60)]
    assert next_allowed(history, 170.0) == 170.0  # 100.0 + 60 <= 170: already out of the window
    assert next_allowed(history, 150.0) == 160.0


def test_hour_window_is_checked_too():
    history = [float(i * 2) for i in range(1800)]  # 30 per minute: the minute window is fine
    assert next_allowed(history, 3599.0) == 3600.0


def test_budget_spaces_calls_to_the_documented_limits():
    fake = VirtualClock()
    budget = RateBudget(clock=fake, sleep=fake.sleep)
    key = ("https://platform.kore.ai", "st-1", "train")
    start = fake.now
    for _ in range(61):
        budget.acquire(key, deadline=start + 600, describe="x")
    assert fake.now == start + 60.0  # the 61st call waited for the first to leave the minute window
    assert budget.calls_in_window(key, 60.5) == 61  # 60 at the start, one 60 s later


def test_budgets_are_per_key():
    fake = VirtualClock()
    budget = RateBudget([Window(1, 60.0)], clock=fake, sleep=fake.sleep)
    budget.acquire(("h", "bot-a", "train"), deadline=2000, describe="a")
    budget.acquire(("h", "bot-b", "train"), deadline=2000, describe="b")
    assert fake.now == 1000.0


def test_no_room_before_the_deadline_is_a_clear_error():
    fake = VirtualClock()
    budget = RateBudget([Window(1, 60.0)], clock=fake, sleep=fake.sleep)
    budget.acquire(("h", "bot", "status"), deadline=1100, describe="bot st-1 (en)")
    with pytest.raises(RateLimitedError, match=r"bot st-1 \(en\).*timeout_seconds"):
        budget.acquire(("h", "bot", "status"), deadline=1030, describe="bot st-1 (en)")


def test_a_429_blocks_every_caller_of_the_key():
    fake = VirtualClock()
    budget = RateBudget(clock=fake, sleep=fake.sleep)
    budget.block(("h", "bot", "train"), 30.0)
    budget.acquire(("h", "bot", "train"), deadline=2000, describe="x")
    assert fake.now == 1030.0


def test_concurrent_callers_never_exceed_the_window():
    # Four threads race for the budget; they sleep on a virtual clock (time jumps when all four sleep).
    # What the budget guarantees is its own admissions, in the order and at the times (on its clock) it
    # made them: the observer sees them under the budget's lock, so a preempted thread cannot skew them.
    clock = VirtualClock(actors=4)
    admitted: list[tuple[tuple[str, ...], float]] = []
    budget = RateBudget(
        [Window(5, 0.5)],
        clock=clock.monotonic,
        sleep=clock.sleep,
        observer=lambda key, at: admitted.append((key, at)),
    )
    key = ("h", "bot", "status")

    def worker():
        try:
            for _ in range(5):
                budget.acquire(key, deadline=clock.monotonic() + 30, describe="x")
        finally:
            clock.retire()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    times = [at for k, at in admitted if k == key]
    assert len(times) == len(admitted) == 20
    assert times == sorted(times)
    for earlier, later in zip(times, times[5:], strict=False):
        assert later >= earlier + 0.5  # never 6 calls inside one 0.5 s window


def test_documented_limits():
    assert (60, 60.0) in [(w.calls, w.seconds) for w in KORE_LIMITS]
    assert (1800, 3600.0) in [(w.calls, w.seconds) for w in KORE_LIMITS]
