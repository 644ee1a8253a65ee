"""The benchmark suite (bench/, `venv/bin/python -m bench`) still runs: its quickest slices, checked for
correctness, never for timing (CI machines are too noisy for that)."""

from __future__ import annotations

import threading
import time

import pytest

from bench.common import Settings, bench_bots
from bench.lag import run_lag
from bench.noop import run_noop
from bench.report import document, table
from bench.scale import fifo_floor, ideal_floor, ordered_jobs
from kore_sandbox.testing import HANG_SECONDS, VirtualClock

pytestmark = pytest.mark.sandbox

SMOKE = Settings(
    quick=True,
    noop_resources=12,
    noop_rounds=1,
    lag_durations=(30.0,),
    lag_phases=1,
    real_lag_check=False,
)


def test_virtual_clock_skips_sleeps_and_orders_actors() -> None:
    real_start = time.monotonic()
    clock = VirtualClock(actors=2)
    start = clock.monotonic()
    woke: list[tuple[str, float]] = []

    def actor(name: str, period: float) -> None:
        for _ in range(3):
            clock.sleep(period)
            woke.append((name, clock.monotonic() - start))
        clock.retire()

    threads = [threading.Thread(target=actor, args=args) for args in (("a", 100.0), ("b", 250.0))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=HANG_SECONDS)
    assert not any(thread.is_alive() for thread in threads)  # 750 s of sleeps did not take 750 s
    real = time.monotonic() - real_start
    assert [name for name, _ in woke] == ["a", "a", "b", "a", "b", "b"]
    # Virtual time is real time plus what was skipped: every wake-up is on time, late by no more than the
    # real time that passed (however slow the machine), and the rest of the 750 s was skipped.
    for (_, at), due in zip(woke, (100, 200, 250, 300, 500, 750), strict=True):
        assert due <= at <= due + real
    assert clock.skipped() >= 750 - real


def test_a_virtual_clock_without_real_time_moves_only_when_slept() -> None:
    clock = VirtualClock(real_time=False)
    start = clock.monotonic()
    time.sleep(0.01)  # real time passes: this clock does not see it
    assert clock.monotonic() == start
    clock.sleep(30)
    assert clock.monotonic() == start + 30 and clock.skipped() == 30


def test_noop_plan_through_the_plugin_makes_no_api_calls() -> None:
    rows, facts = run_noop(SMOKE)
    assert facts == {"noop_plan_calls": 0, "noop_up_calls": 0}
    by_key = {row.key: row for row in rows}
    assert by_key["1"].ratio is not None and by_key["1"].ratio > 0
    assert by_key["4b"].met is True
    assert "| 1 |" in table(rows) and "## Results" in document(rows, SMOKE, 1.0)


def test_completion_lag_on_the_virtual_clock() -> None:
    # On a clock that real time does not move, the lag is what the poll schedule makes it, whatever the
    # load on the machine (the benchmark itself counts real time in, see bench/clock.py).
    rows, facts = run_lag(SMOKE, VirtualClock(real_time=False))
    by_key = {row.key: row for row in rows}
    (run,) = facts["virtual_runs"][30.0]
    assert 0 <= run.lag <= run.target  # the sandbox's finish, seen within 10% of a 30 s training
    assert run.total >= 31  # queued 1 s + trained 30 s, in virtual seconds
    assert run.posts == 1 and run.gets >= 2
    assert by_key["4c"].measured == "1"  # every training reused one keep-alive connection


def test_scale_floors() -> None:
    jobs = ordered_jobs(bench_bots(40), "bot-major")
    assert ideal_floor(jobs, 11) == 330  # 120 trainings, 4 at a time
    assert fifo_floor(jobs, 11) > 330  # workers blocked on a bot's lock are lost to the other bots
    assert fifo_floor(ordered_jobs(bench_bots(40), "language-major"), 11) == 330
