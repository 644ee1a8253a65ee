"""1. No-op plan and 5. start-up: what BotTraining adds to the dynamic-provider plugin when nothing changed.

Both providers run in their own real `python -u -m pulumi.dynamic` process with the same inputs and state;
the trivial one (bench/trivial_provider.py) is the floor. A sandbox serves as the host so any API call a
no-op makes would show up in its call log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.common import (
    LANGUAGES,
    OLD_HASH,
    Row,
    Settings,
    alternate,
    bench_bots,
    fmt_s,
    harness,
    median,
    progress,
    ratio,
    running_plugin,
    start_plugin,
    training_news,
)
from kore_sandbox import Sandbox

Resources = dict[str, dict[str, Any]]
#: Resources planned per timed step; the two plugins take turns every step (see `alternate`).
CHUNK = 10


def noop_resources(count: int, host: str) -> Resources:
    bots = bench_bots((count + len(LANGUAGES) - 1) // len(LANGUAGES))
    resources = {
        f"{bot.name}-{language}": training_news(bot, language, host, OLD_HASH)
        for bot in bots
        for language in LANGUAGES
    }
    return dict(list(resources.items())[:count])


def recorded_engine(plugin: Any, resources: Resources) -> Any:
    """A MiniEngine whose state says every resource was trained with its current inputs (as after an up)."""
    h = harness()
    engine = h.MiniEngine(plugin)
    for name, news in resources.items():
        urn = engine.urn(name)
        inputs, failures = plugin.check(urn, {}, news)
        assert not failures, failures
        outputs = {**inputs, "training_id": "0" * 24, "training_status": "Finished", "trained_at": "now"}
        engine.state[urn] = h.Recorded(f"{news['bot_id']}/{news['language']}", inputs, outputs)
    return engine


def run_noop(settings: Settings) -> tuple[list[Row], dict[str, Any]]:
    """Rows for the no-op plan and `__provider` size; also returns facts other sections report."""
    progress(f"no-op plan: {settings.noop_resources} resources x {settings.noop_rounds} rounds")
    with (
        Sandbox(training_seconds=1, queue_seconds=0) as sandbox,
        running_plugin("kore") as kore,
        running_plugin("trivial") as trivial,
    ):
        resources = noop_resources(settings.noop_resources, sandbox.url)
        engines = {"kore": recorded_engine(kore, resources), "trivial": recorded_engine(trivial, resources)}
        for engine in engines.values():  # warm-up, and proof that the plan is a no-op
            assert set(engine.plan(resources).values()) == {"same"}
        sandbox.clear_calls()
        chunks = [dict(list(resources.items())[i : i + CHUNK]) for i in range(0, len(resources), CHUNK)]
        steps = {name: [_planner(engine, chunk) for chunk in chunks] for name, engine in engines.items()}
        samples = alternate(steps, settings.noop_rounds)
        plan_calls = len(sandbox.calls)
        engines["kore"].up(resources)  # a no-op `pulumi up`: preview, then Check + Diff again
        up_calls = len(sandbox.calls) - plan_calls
        sizes = {"kore": len(kore.provider), "trivial": len(trivial.provider)}
    measured, floor = median(samples["kore"]), median(samples["trivial"])
    per_resource = (measured - floor) / settings.noop_resources
    rows = [
        Row(
            "1",
            f"No-op plan: Check+Diff of {settings.noop_resources} unchanged resources via the plugin",
            fmt_s(measured),
            fmt_s(floor),
            ratio(measured, floor),
            "<= 1.2x",
            (ratio(measured, floor) or 0) <= 1.2,
            [
                f"median of {settings.noop_rounds} interleaved rounds; kore {_spread(samples['kore'])}, "
                f"trivial {_spread(samples['trivial'])}",
                f"BotTraining's own cost: {per_resource * 1e6:+.0f} us per resource (Check+Diff)",
                f"API calls made by the {settings.noop_rounds} plans: {plan_calls}",
            ],
        ),
        Row(
            "1b",
            "Serialized provider (`__provider`, base64 of the dill pickle)",
            f"{sizes['kore']} B",
            f"{sizes['trivial']} B",
            ratio(sizes["kore"], sizes["trivial"]),
            "-",
            None,
            ["both pickled by reference (module + class name), so the size does not grow with the code"],
        ),
    ]
    rows.append(
        Row(
            "4b",
            f"API calls of a no-op `pulumi up` ({settings.noop_resources} unchanged resources)",
            str(up_calls),
            "0",
            None,
            "0",
            up_calls == 0 and plan_calls == 0,
            ["preview + up: Check and Diff for every resource, twice; the sandbox's call log stays empty"],
        )
    )
    return rows, {"noop_plan_calls": plan_calls, "noop_up_calls": up_calls}


def _planner(engine: Any, chunk: Resources) -> Callable[[], object]:
    def plan() -> object:
        steps = engine.plan(chunk)  # resources outside the chunk are listed as "delete": no call is made
        assert {steps[name] for name in chunk} == {"same"}, steps
        return steps

    return plan


def _spread(values: list[float]) -> str:
    return f"{fmt_s(min(values))}..{fmt_s(max(values))}"


def first_check_seconds(kind: str, resources: Resources) -> tuple[float, float]:
    """(process start to first Check answered, one later Check) for a fresh plugin serving `kind`."""
    h = harness()
    name, news = next(iter(resources.items()))
    urn = h.MiniEngine(None).urn(name)
    start = time.perf_counter()
    plugin = start_plugin(kind)
    try:
        plugin.check(urn, {}, news)
        cold = time.perf_counter() - start
        warm_start = time.perf_counter()
        plugin.check(urn, {}, news)
        return cold, time.perf_counter() - warm_start
    finally:
        plugin.close()


def run_startup(settings: Settings) -> list[Row]:
    progress(f"start-up: {settings.startup_rounds} fresh plugins per provider")
    resources = noop_resources(1, "http://127.0.0.1:9")
    colds: dict[str, list[float]] = {"kore": [], "trivial": []}
    warms: dict[str, list[float]] = {"kore": [], "trivial": []}
    for _ in range(settings.startup_rounds):
        for kind in ("kore", "trivial"):
            cold, warm = first_check_seconds(kind, resources)
            colds[kind].append(cold)
            warms[kind].append(warm)
    measured, floor = median(colds["kore"]), median(colds["trivial"])
    extra = (measured - median(warms["kore"])) - (floor - median(warms["trivial"]))
    return [
        Row(
            "5",
            "Start-up: fresh plugin to first Check answered (cold start + unpickle + imports)",
            fmt_s(measured),
            fmt_s(floor),
            ratio(measured, floor),
            "-",
            None,
            [
                f"median of {settings.startup_rounds} fresh processes each; kore {_spread(colds['kore'])}, "
                f"trivial {_spread(colds['trivial'])}",
                f"what kore_resources adds to the first call (imports, unpickle, configure): {fmt_s(extra)}",
            ],
        )
    ]
