"""6. Scale: many bots x languages all changed, through the plugin process, as one `pulumi up` would.

Every Update is sent at once, as the engine does with `pulumi up --parallel` at least the number of
resources (its default is 4 x GOMAXPROCS, 8 on two cores, `PULUMI_PARALLEL` sets it too: then at most 8 are
outstanding, see bench/fleet.py, row 7c); the plugin serves 4 calls at a time (its gRPC ThreadPoolExecutor)
in arrival order, and the provider trains one language of a bot at a time (a per-bot lock, held by a worker
thread while it waits). Time: the plugin runs `bench.scaled_plugin`, which gives the provider a
`ScaledClock` shared with the sandbox here, so a 10 s training takes 1 s of real time at scale 10 (see
bench/clock.py for what that costs in accuracy). One small configuration also runs in real time to check the
scaled result.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pulumi.runtime.proto import provider_pb2 as pb

from bench.clock import Clock, ScaledClock
from bench.common import (
    LANGUAGES,
    NEW_HASH,
    OLD_HASH,
    Row,
    Settings,
    bench_bots,
    fmt_mib,
    fmt_s,
    harness,
    peak_rss_bytes,
    progress,
    running_plugin,
    training_news,
)
from bench.lag import QUEUE_SECONDS
from kore_resources.resources.runtime import SystemClock
from kore_sandbox import Sandbox, SandboxBot

WORKERS = 4  # pulumi.dynamic's grpc.server(futures.ThreadPoolExecutor(max_workers=4))

Job = tuple[str, SandboxBot, str]  # resource name, bot, language


def ordered_jobs(bots: list[SandboxBot], order: str) -> list[Job]:
    """`bot-major`: each bot's languages in turn, as a program looping over bots, then languages, registers
    them; `language-major`: every bot's first language, then every bot's second, ..."""
    if order == "bot-major":
        return [(f"{b.name}-{lang}", b, lang) for b in bots for lang in b.languages]
    if order == "language-major":
        return [(f"{b.name}-{lang}", b, lang) for lang in LANGUAGES for b in bots if lang in b.languages]
    raise ValueError(order)


def ideal_floor(jobs: list[Job], seconds: float, workers: int = WORKERS) -> float:
    """The best any schedule can do: `workers` trainings at a time, one per bot at a time."""
    per_bot: dict[str, int] = {}
    for _, bot, _ in jobs:
        per_bot[bot.bot_id] = per_bot.get(bot.bot_id, 0) + 1
    return max(math.ceil(len(jobs) / workers), *per_bot.values()) * seconds


def fifo_floor(jobs: list[Job], seconds: float, workers: int = WORKERS) -> float:
    """Zero-overhead time of this plugin's schedule: calls taken in arrival order by the first free
    worker, which then holds on while it waits for the bot's lock (waiters served in order)."""
    worker_free = [0.0] * workers
    bot_free: dict[str, float] = {}
    for _, bot, _ in jobs:
        w = min(range(workers), key=worker_free.__getitem__)
        start = max(worker_free[w], bot_free.get(bot.bot_id, 0.0))
        worker_free[w] = bot_free[bot.bot_id] = start + seconds
    return max(worker_free)


@dataclass(frozen=True)
class ScaleRun:
    order: str
    jobs: int
    wall: float  # virtual seconds from the first Update sent to the last answered
    real: float
    peak_rss: int
    connections: int
    posts: int
    gets: int


def scale_run(
    sandbox: Sandbox, clock: Clock, jobs: list[Job], order: str, plugin_env: dict[str, str]
) -> ScaleRun:
    h = harness()
    sandbox.reset()
    module = "bench.scaled_plugin" if plugin_env else "pulumi.dynamic"
    with running_plugin("kore", env=plugin_env, module=module) as plugin:
        engine = h.MiniEngine(plugin)
        requests = []
        for name, bot, lang in jobs:  # the preview part of `pulumi up`: Check + Diff, all "update"
            urn = engine.urn(name)
            old_inputs, _ = plugin.check(urn, {}, training_news(bot, lang, sandbox.url, OLD_HASH))
            old_outputs = {**old_inputs, "training_id": "0" * 24, "training_status": "Finished"}
            inputs, failures = plugin.check(urn, old_inputs, training_news(bot, lang, sandbox.url, NEW_HASH))
            assert not failures, failures
            id_ = f"{bot.bot_id}/{lang}"
            diff = plugin.diff(id_, urn, old_outputs, inputs)
            assert diff.changes == pb.DiffResponse.DIFF_SOME and not diff.replaces, diff
            requests.append(
                pb.UpdateRequest(
                    id=id_, urn=urn, olds=h.to_struct(old_outputs), news=h.to_struct(inputs), timeout=3600
                )
            )
        sandbox.clear_calls()
        start, real0 = clock.monotonic(), time.perf_counter()
        futures = [plugin.stub.Update.future(request, timeout=3600) for request in requests]
        outputs = [h.from_struct(f.result().properties) for f in futures]
        wall, real = clock.monotonic() - start, time.perf_counter() - real0
        rss = peak_rss_bytes(plugin.process.pid)
    assert all(o["training_status"] == "Finished" for o in outputs)
    assert len(sandbox.trainings) == len(jobs) and all(t.phase == "Finished" for t in sandbox.trainings)
    calls = sandbox.calls
    return ScaleRun(
        order,
        len(jobs),
        wall,
        real,
        rss,
        len({c.connection_id for c in calls}),
        sum(c.method == "POST" for c in calls),
        sum(c.method == "GET" for c in calls),
    )


def trivial_rss(jobs: list[Job], host: str) -> int:
    """Peak RSS of a plugin serving the trivial provider the same Check + Update calls (the floor)."""
    h = harness()
    with running_plugin("trivial") as plugin:
        engine = h.MiniEngine(plugin)

        def one(job: Job) -> None:
            name, bot, lang = job
            inputs, _ = plugin.check(engine.urn(name), {}, training_news(bot, lang, host, NEW_HASH))
            plugin.update(f"{bot.bot_id}/{lang}", engine.urn(name), inputs, inputs)

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(one, jobs))
        return peak_rss_bytes(plugin.process.pid)


def run_scale(settings: Settings) -> tuple[list[Row], dict[str, Any]]:
    bots = bench_bots(settings.scale_bots)
    seconds = settings.scale_training_seconds
    per_training = seconds + QUEUE_SECONDS
    clock = ScaledClock(settings.scale_time_factor)
    rows: list[Row] = []
    runs: list[ScaleRun] = []
    with Sandbox(
        training_seconds=seconds, queue_seconds=QUEUE_SECONDS, clock=clock.monotonic, bots=bots
    ) as sb:
        for order in settings.scale_orders:
            jobs = ordered_jobs(bots, order)
            expected = fifo_floor(jobs, per_training) / clock.scale
            progress(
                f"scale: {len(bots)} bots x {len(LANGUAGES)} languages, {seconds:g} s trainings, "
                f"{order} order, time x{clock.scale:g} (about {expected:.0f} s)"
            )
            runs.append(scale_run(sb, clock, jobs, order, clock.env()))
        floor_rss = trivial_rss(ordered_jobs(bots, "bot-major"), sb.url)
    for run in runs:
        jobs = ordered_jobs(bots, run.order)
        ideal, fifo = ideal_floor(jobs, per_training), fifo_floor(jobs, per_training)
        rows.append(
            Row(
                f"6{'abcd'[len(rows)]}",
                f"Scale: {len(bots)} bots x {len(LANGUAGES)} languages changed, {seconds:g} s trainings, "
                f"{run.order} order (scaled time x{clock.scale:g})",
                fmt_s(run.wall),
                fmt_s(ideal),
                run.wall / ideal,
                "-",
                None,
                [
                    f"floor: {WORKERS} workers, one training per bot at a time, {per_training:g} s each "
                    f"(incl. {QUEUE_SECONDS:g} s queued) = {ideal / per_training:.0f} rounds; this plugin's "
                    f"in-order schedule cannot beat {fmt_s(fifo)} ({run.wall / fifo:.2f}x of that)",
                    f"{run.real:.1f} s real; {run.posts} POSTs, {run.gets} GETs "
                    f"({run.gets / run.jobs:.1f} per training), {run.connections} HTTP connections",
                ],
            )
        )
    peak = max(run.peak_rss for run in runs)
    rows.append(
        Row(
            "6m",
            "Scale: peak RSS of the plugin process",
            fmt_mib(peak),
            fmt_mib(floor_rss),
            peak / floor_rss,
            "-",
            None,
            ["floor: the trivial provider's plugin after the same Check + Update calls"],
        )
    )
    return rows, {"scale_runs": runs}


def run_scale_real_check(bots_count: int = 4, seconds: float = 10.0, factor: float = 10.0) -> Row:
    """A small scale run twice, in real time and scaled, to check what the scaled clock reports."""
    bots = bench_bots(bots_count)
    jobs = ordered_jobs(bots, "bot-major")
    per_training = seconds + QUEUE_SECONDS
    results = {}
    scaled = ScaledClock(factor)
    for label, clock, plugin_env in (("scaled", scaled, scaled.env()), ("real", SystemClock(), {})):
        progress(f"scale check: {bots_count} bots x {len(LANGUAGES)} languages in {label} time")
        with Sandbox(
            training_seconds=seconds, queue_seconds=QUEUE_SECONDS, clock=clock.monotonic, bots=bots
        ) as sb:
            results[label] = scale_run(sb, clock, jobs, "bot-major", plugin_env)
    fifo = fifo_floor(jobs, per_training)
    real, fast = results["real"].wall, results["scaled"].wall
    return Row(
        "6v",
        f"Scale check: {bots_count} bots x {len(LANGUAGES)} languages, bot-major order, real vs scaled time",
        fmt_s(real),
        fmt_s(fast),
        real / fast,
        "-",
        None,
        [f"in-order floor {fmt_s(fifo)}: real {real / fifo:.2f}x, scaled {fast / fifo:.2f}x"],
    )
