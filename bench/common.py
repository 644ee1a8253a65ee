"""What every benchmark shares: settings, result rows, timing helpers, and the plugin harness."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kore_sandbox import DEMO_APP, SandboxBot

if TYPE_CHECKING:
    from plugin_harness import Plugin

PROJECT_DIR = Path(__file__).resolve().parent.parent
CREDENTIALS_CONFIG = {"kore:clientId": DEMO_APP.client_id, "kore:clientSecret": DEMO_APP.client_secret}
LANGUAGES = ("en", "de", "fr")
OLD_HASH = "sha256:" + "1" * 64
NEW_HASH = "sha256:" + "2" * 64

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """Sizes of one run. `quick` shrinks everything that is not needed to show the suite works."""

    quick: bool = False
    noop_resources: int = 300
    noop_rounds: int = 7
    utterances: int = 200_000
    hash_rounds: int = 3
    lag_durations: tuple[float, ...] = (2.0, 30.0, 300.0)
    lag_phases: int = 16
    real_lag_check: bool = True
    startup_rounds: int = 5
    scale_bots: int = 40
    scale_training_seconds: float = 10.0
    scale_time_factor: float = 10.0
    scale_orders: tuple[str, ...] = ("bot-major", "language-major")
    fleet_bots: int = 20
    fleet_languages: int = 3
    fleet_training_seconds: float = 4.0
    fleet_queue_seconds: float = 0.5
    fleet_rounds: int = 2
    fleet_compare: bool = True

    @classmethod
    def for_run(cls, quick: bool) -> Settings:
        if not quick:
            return cls()
        return cls(
            quick=True,
            noop_rounds=2,
            utterances=50_000,
            hash_rounds=1,
            lag_phases=2,
            startup_rounds=2,
            scale_bots=8,
            scale_orders=("bot-major",),
            fleet_bots=6,
            fleet_languages=2,
            fleet_training_seconds=2.0,
            fleet_rounds=1,
            fleet_compare=False,
        )


@dataclass
class Row:
    """One line of the results table. `ratio` is measured / floor (None when the floor is zero)."""

    key: str
    figure: str
    measured: str
    floor: str
    ratio: float | None
    target: str
    met: bool | None  # None: no target, reported for information
    details: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return {True: "yes", False: "**no**", None: "-"}[self.met]


# -- timing -----------------------------------------------------------------------------------------------


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def alternate(cases: Mapping[str, Sequence[Callable[[], object]]], rounds: int) -> dict[str, list[float]]:
    """Per round, the total time of each case's steps. The cases' steps are interleaved finely (step i of
    every case, in a rotating order, then step i + 1) so that load from other processes on this shared
    machine hits every case alike; the floor is measured in the same seconds as what it bounds."""
    names = list(cases)
    counts = {len(steps) for steps in cases.values()}
    if len(counts) != 1:
        raise ValueError("every case needs the same number of steps")
    count = counts.pop()
    samples: dict[str, list[float]] = {name: [] for name in names}
    turn = 0
    for _ in range(rounds):
        totals = dict.fromkeys(names, 0.0)
        for i in range(count):
            order = names[turn % len(names) :] + names[: turn % len(names)]
            turn += 1
            for name in order:
                totals[name] += timed(cases[name][i])[0]
        for name in names:
            samples[name].append(totals[name])
    return samples


def median(values: list[float]) -> float:
    return statistics.median(values)


def ratio(measured: float, floor: float) -> float | None:
    return measured / floor if floor > 0 else None


def fmt_s(seconds: float) -> str:
    if seconds >= 100:
        return f"{seconds:.0f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms"


def fmt_mib(num_bytes: float) -> str:
    return f"{num_bytes / 2**20:.1f} MiB"


# -- sandbox and plugin ------------------------------------------------------------------------------------


def bench_bots(count: int, languages: tuple[str, ...] = LANGUAGES) -> list[SandboxBot]:
    """`count` sandbox bots with valid Kore.ai ids, each with `languages`, linked to the demo app."""
    return [
        SandboxBot(
            f"bench-{i:03d}",
            f"st-00000000-0000-4000-8000-{i:012x}",
            languages,
            languages[0],
            (DEMO_APP.client_id,),
        )
        for i in range(count)
    ]


def training_news(bot: SandboxBot, language: str, host: str, utterances_hash: str) -> dict[str, Any]:
    """BotTraining inputs as the program sends them (None-valued outputs are not sent)."""
    return {
        "bot_id": bot.bot_id,
        "utterances_hash": utterances_hash,
        "language": language,
        "host": host,
        "wait_for_completion": True,
        "timeout_seconds": 3600,
    }


def harness() -> Any:
    """tests/plugin_harness.py (the gRPC driver of the plugin process), importable from bench too."""
    tests = str(PROJECT_DIR / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import plugin_harness

    return plugin_harness


def start_plugin(
    kind: str, *, env: Mapping[str, str] | None = None, module: str = "pulumi.dynamic"
) -> Plugin:
    """A fresh plugin process serving `kind` = "kore" (BotTrainingProvider) or "trivial" (the floor)."""
    from pulumi.dynamic.dynamic import serialize_provider

    from bench.trivial_provider import TrivialProvider

    plugin: Plugin = harness().Plugin(config=CREDENTIALS_CONFIG, env=env, module=module)
    if kind == "trivial":
        plugin.provider = serialize_provider(TrivialProvider())
    elif kind != "kore":
        raise ValueError(kind)
    return plugin


@contextmanager
def running_plugin(kind: str, **kwargs: Any) -> Iterator[Plugin]:
    plugin = start_plugin(kind, **kwargs)
    try:
        yield plugin
    finally:
        plugin.close()


def peak_rss_bytes(pid: int) -> int:
    """VmHWM (peak resident set size) of a live process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)
