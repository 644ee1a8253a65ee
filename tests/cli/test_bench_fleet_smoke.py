"""The bench's fleet section (bench/fleet.py) at its smallest, through the real CLI, for correctness only,
never for timing (tests/test_bench_smoke.py has the other sections)."""

from __future__ import annotations

import itertools

import pytest

from bench.common import Settings, bench_bots
from bench.fleet import run_fleet
from bench.report import document, table
from cli_harness import REQUIRES_PULUMI

pytestmark = [pytest.mark.cli, *REQUIRES_PULUMI]

#: The fleet section at its smallest: 3 bots x 2 languages through the real CLI, one `up` of each kind.
FLEET_SMOKE = Settings(
    quick=True,
    fleet_bots=3,
    fleet_languages=2,
    fleet_training_seconds=1.5,
    fleet_queue_seconds=0.0,
    fleet_rounds=1,
    fleet_compare=False,
)


def test_the_fleet_through_the_cli_trains_every_bot_language_each_bot_one_at_a_time() -> None:
    # run_fleet fails unless each `up` trained every bot language to Finished (and the no-op trained none).
    rows, runs = run_fleet(FLEET_SMOKE)
    assert [row.key for row in rows] == ["7a", "7m"]
    assert all(row.ratio is not None and row.ratio > 0 for row in rows)
    assert "| 7a |" in table(rows) and "## Results" in document(rows, FLEET_SMOKE, 1.0)
    (up,) = runs.fleet
    bots = bench_bots(3, ("en", "de"))
    assert sorted((t.bot_id, t.language) for t in up.trainings) == sorted(
        (bot.bot_id, language) for bot in bots for language in bot.languages
    )
    by_bot: dict[str, list[float]] = {}
    for training in sorted(up.trainings, key=lambda t: t.queued_at):
        assert training.finished_at is not None
        by_bot.setdefault(training.bot_id, []).extend([training.queued_at, training.finished_at])
    for times in by_bot.values():  # one bot's trainings one after another: its provider's per-bot lock
        assert all(a <= b for a, b in itertools.pairwise(times)), times
    assert up.most_alive >= len(bots)  # a plugin per bot, all alive while they train
    assert runs.noops[0].trainings == [] and runs.noops[0].calls == []
