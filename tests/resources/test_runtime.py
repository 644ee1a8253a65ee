"""What the providers share in one plugin process (kore_resources/resources/runtime.py): one rate budget
per bot for concurrent operations, and a flapping status endpoint ridden out."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import pytest

from demo_values import BOT, OTHER_BOT, training_inputs
from kore_resources.api.ratelimit import RateBudget, Window
from kore_resources.resources.runtime import RUNTIME

pytestmark = pytest.mark.sandbox


def test_a_flapping_status_endpoint_does_not_fail_the_training(virtual_sandbox, provider):
    sandbox = virtual_sandbox  # the retries' waits pass on the virtual clock
    sandbox.inject_error(503, method="GET", path_contains="/status", count=5, every=2)
    result = provider.create(training_inputs(sandbox))
    assert result.outs["training_status"] == "Finished"
    statuses = [c.status for c in sandbox.calls if c.method == "GET"]
    assert statuses.count(503) == 5 and statuses.count(200) >= 5


def test_concurrent_operations_share_one_budget_per_bot(sandbox, provider):
    # Fewer calls per window than one bot's two trainings make (each reads the status about once a second)
    window = Window(3, 3.0)
    admitted: dict[tuple[str, ...], list[float]] = defaultdict(list)  # admission times, on the budget's clock
    held_back: list[float] = []

    def wait(seconds: float) -> None:
        held_back.append(seconds)
        time.sleep(seconds)

    budget = RateBudget([window], sleep=wait, observer=lambda key, at: admitted[key].append(at))
    with RUNTIME.use_budget(budget):
        run_concurrently(sandbox, provider)
    assert len(sandbox.trainings) == 4
    for bot in (BOT, OTHER_BOT):
        for kind, method in (("bot", "POST"), ("status", "GET")):
            [times] = [times for key, times in admitted.items() if key[1:] == (bot, kind)]
            # every call of the bot, from both its operations, went through the one budget...
            assert len(times) == len([c for c in sandbox.calls if c.bot_id == bot and c.method == method])
            # ...which admitted no more than 3 of them within any 3 s
            late = zip(times[window.calls :], times, strict=False)  # each call and the 3rd before it
            over = [t for t, earlier in late if t < earlier + window.seconds]
            assert over == [], f"{bot} {kind}: more than {window.calls} calls within {window.seconds}s"
    assert held_back, "the budget never had to hold a call back: the test did not reach the limit"
    assert all(c.status == 200 for c in sandbox.calls)


def run_concurrently(sandbox, provider):
    jobs = [(BOT, "en"), (BOT, "de"), (OTHER_BOT, "en"), (OTHER_BOT, "de")]
    threads = [
        threading.Thread(target=provider.create, args=(training_inputs(sandbox, bot_id=b, language=lang),))
        for b, lang in jobs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
