"""7. A fleet trains at once: many bots x languages, all changed, through the real `pulumi` CLI.

The shipped program (`__main__.py`, one `kore_resources.Provider` per bot) runs on a copy of the project, as
tests/cli_harness.copy_project makes it, with a generated stack config: N bots on the sandbox, each with its
own utterances folder, no imports, definition, variables or publish, so an `up` after every bot language's
utterances changed is N x L trainings and nothing else. The engine starts one plugin process per provider
resource; the dynamic-provider plugin serves 4 calls at a time; the engine runs at most `--parallel`
resource operations at once, 4 x GOMAXPROCS by default (8 on two cores).

Rows: `pulumi up --parallel 64` on per-bot providers (target: within 1.25x of the floor), and for comparison
the same on the default provider (a bench-only copy of the program whose bots all use the default
provider) and on per-bot providers at the default `--parallel`. The floor is what the sandbox itself needs
(each bot's trainings one after another, all bots at once: L x (queue + training)) plus the same stack's
no-op `up` (the engine's and the plugins' fixed cost), run right after each measured `up`. Memory: the
plugins' peak RSS (VmHWM, read from /proc while the `up` runs), summed over the plugins alive at once,
against the one plugin of the default provider.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import LANGUAGES, PROJECT_DIR, Row, Settings, bench_bots, fmt_mib, fmt_s, progress
from kore_sandbox import DEMO_APP, Call, Sandbox, SandboxBot, TrainingRecord

#: The per-bot providers' run must come within this of the floor.
TARGET = 1.25
#: The parallelism a fleet sets (README, "A fleet of bots"): one slot per bot language, and more.
FLEET_PARALLEL = "64"
#: The engine's default `--parallel`: 4 x GOMAXPROCS (the number of CPUs).
DEFAULT_PARALLEL = 4 * (os.cpu_count() or 1)
#: How often the plugins' memory is read from /proc while an `up` runs.
SAMPLE_SECONDS = 0.2
#: The one line of the shipped program that gives each bot its provider; the default-provider copy drops it.
PER_BOT_PROVIDER = "on_bot = pulumi.ResourceOptions(provider=Provider(bot.name))"
SHARED_PROVIDER = "on_bot = pulumi.ResourceOptions()  # bench: every bot on the default provider"
STACK = "fleet"
#: Trainings of the first `up` (which creates every resource) are not measured: they run this short, not
#: queued, yet still running at the provider's first status read (1 s after the train call): a training
#: already finished then is only taken for this one after the 10 s grace period (docs/reliability.md, rule 3).
WARM_UP_TRAINING_SECONDS = 1.5
TICKS = os.sysconf("SC_CLK_TCK")


def cli_harness() -> Any:
    """tests/cli_harness.py (copy_project, cli_env), importable from bench too."""
    tests = str(PROJECT_DIR / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import cli_harness

    return cli_harness


def pulumi_cli() -> str:
    found = shutil.which("pulumi")
    if found is None:
        raise SystemExit(
            "bench fleet: the pulumi CLI is not on PATH; install it "
            "(https://www.pulumi.com/docs/iac/download-install/), or on a machine that reaches only the Go "
            'module proxy: PATH="$(scripts/pulumi-cli.sh):$PATH" venv/bin/python -m bench'
        )
    return found


# -- the plugin processes ----------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    """pid -> child pids, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _descendants(root: int) -> list[int]:
    tree, found, todo = _children(), [], [root]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _plugin(pid: int) -> tuple[int, float] | None:
    """(VmHWM in bytes, start time on CLOCK_BOOTTIME) of `pid` if it is a dynamic-provider plugin
    (`python -u -m pulumi.dynamic`, the CLI's pulumi-resource-pulumi-python runs it under /bin/sh)."""
    try:
        if b"pulumi.dynamic" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return None
        started = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]) / TICKS
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024, started
    except OSError:
        return None
    return None  # a zombie has no VmHWM any more


class PluginWatch(threading.Thread):
    """Reads the VmHWM of every plugin process under `root` every `SAMPLE_SECONDS` until stopped: each
    plugin's last reading (its peak, as far as seen), the largest sum over the plugins alive at once, and
    when each was started."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peaks: dict[int, int] = {}
        self.started: dict[int, float] = {}
        self.peak_sum = 0
        self.most_alive = 0
        self._done = threading.Event()

    def run(self) -> None:
        while True:
            self.sample()
            if self._done.wait(SAMPLE_SECONDS):
                return

    def sample(self) -> None:
        alive = {pid: found for pid in _descendants(self.root) if (found := _plugin(pid)) is not None}
        for pid, (hwm, started) in alive.items():
            self.peaks[pid] = hwm
            self.started[pid] = started
        self.peak_sum = max(self.peak_sum, sum(hwm for hwm, _ in alive.values()))
        self.most_alive = max(self.most_alive, len(alive))

    def stop(self) -> None:
        self._done.set()
        self.join()


# -- the projects -------------------------------------------------------------------------------------------


@dataclass
class Up:
    """One timed `pulumi up`, what the sandbox saw of it, and its plugin processes."""

    label: str
    seconds: float
    start: float  # time.monotonic(), the sandbox's clock
    end: float
    trainings: list[TrainingRecord]
    calls: list[Call]
    plugin_peaks: list[int]  # bytes, VmHWM of each plugin process
    peak_sum: int  # bytes: the largest sum of VmHWM over the plugins alive at once
    most_alive: int  # plugin processes alive at once
    launches: list[float]  # seconds from the CLI's start to each plugin process's start, in order


@dataclass
class FleetProject:
    """A copy of the project with a stack of `bots` on the sandbox, in its own file backend. `per_bot`:
    the shipped program (a provider per bot); else a copy whose bots all use the default provider."""

    root: Path
    bots: list[SandboxBot]
    sandbox: Sandbox
    per_bot: bool
    cli: str
    project: Path = field(init=False)
    env: dict[str, str] = field(init=False)
    round: int = 0

    def __post_init__(self) -> None:
        h = cli_harness()
        self.root.mkdir(parents=True)
        self.project = h.copy_project(self.root)
        program = self.project / "__main__.py"
        source = program.read_text(encoding="utf-8")
        if source.count(PER_BOT_PROVIDER) != 1:
            raise RuntimeError(f"bench fleet: the shipped program no longer has {PER_BOT_PROVIDER!r}")
        if not self.per_bot:
            program.write_text(source.replace(PER_BOT_PROVIDER, SHARED_PROVIDER), encoding="utf-8")
        shutil.rmtree(self.project / "utterances")
        state = self.root / "state"
        state.mkdir()
        self.env = h.cli_env(self.project, state)
        self.env["PATH"] = f"{Path(self.cli).parent}{os.pathsep}{self.env.get('PATH', '')}"
        self.write_utterances()
        bots = [
            {
                "name": bot.name,
                "botId": bot.bot_id,
                "languages": list(bot.languages),
                "utterances": f"utterances/{bot.name}",
                "importUtterances": False,
            }
            for bot in self.bots
        ]
        config = {"kore:host": self.sandbox.url, "kore-bots:bots": bots}
        (self.project / f"Pulumi.{STACK}.yaml").write_text(json.dumps({"config": config}), encoding="utf-8")
        self.run("stack", "init")
        self.run("config", "set", "kore:clientId", DEMO_APP.client_id)
        self.run("config", "set", "--secret", "kore:clientSecret", DEMO_APP.client_secret)

    @property
    def label(self) -> str:
        return "a provider per bot" if self.per_bot else "the default provider"

    @property
    def trainings(self) -> int:
        return sum(len(bot.languages) for bot in self.bots)

    def write_utterances(self) -> None:
        """Every bot language's utterances, new ones each round: every training's hash changes."""
        self.round += 1
        for bot in self.bots:
            for language in bot.languages:
                folder = self.project / "utterances" / bot.name / language
                folder.mkdir(parents=True, exist_ok=True)
                records = [
                    {
                        "taskName": "Book Flight",
                        "sentence": f"Book a flight for {bot.name}, round {self.round}",
                        "type": "DialogIntent",
                        "language": language,
                    },
                    {
                        "taskName": "Flight Status",
                        "sentence": "Is my flight on time?",
                        "type": "DialogIntent",
                        "language": language,
                    },
                ]
                (folder / "ml-utterances.json").write_text(json.dumps(records), encoding="utf-8")

    def run(self, *args: str) -> None:
        result = subprocess.run(
            [self.cli, *args, "--stack", STACK, "--non-interactive"],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

    def up(self, label: str, *flags: str, trains: bool = True) -> Up:
        """`pulumi up --yes [flags]`, timed, with the plugins read from /proc while it runs. `trains`: every
        bot language must be trained (and finish), else nothing may be."""
        log = self.root / f"up-{label}.log"
        self.sandbox.clear_calls()
        before = {t.training_id for t in self.sandbox.trainings}
        with log.open("w") as out:
            boot0, start, real0 = (
                time.clock_gettime(time.CLOCK_BOOTTIME),
                time.monotonic(),
                time.perf_counter(),
            )
            process = subprocess.Popen(
                [self.cli, "up", "--yes", *flags, "--stack", STACK, "--non-interactive"],
                cwd=self.project,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            watch = PluginWatch(process.pid)
            watch.start()
            try:
                code = process.wait(timeout=900)
            finally:
                watch.stop()
            seconds, end = time.perf_counter() - real0, time.monotonic()
        if code != 0:
            raise RuntimeError(f"pulumi up {' '.join(flags)} failed ({code}):\n{log.read_text()[-4000:]}")
        trainings = [t for t in self.sandbox.trainings if t.training_id not in before]
        expected = self.trainings if trains else 0
        if len(trainings) != expected or any(t.phase != "Finished" for t in trainings):
            raise RuntimeError(
                f"pulumi up {' '.join(flags)}: {len(trainings)} trainings, {expected} expected, phases "
                f"{sorted({t.phase for t in trainings})}:\n{log.read_text()[-4000:]}"
            )
        return Up(
            label,
            seconds,
            start,
            end,
            trainings,
            self.sandbox.calls,
            sorted(watch.peaks.values()),
            watch.peak_sum,
            watch.most_alive,
            sorted(at - boot0 for at in watch.started.values()),
        )


# -- where the time goes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Breakdown:
    """Where an `up`'s seconds went, from the sandbox's call log and training records (one clock)."""

    before_first_train: float  # CLI start to the first train POST: program, preview, plugins, Check/Diff
    first_trains_spread: float  # first train POST of the first bot to the first train POST of the last bot
    lag: float  # mean: the sandbox finished a training -> the status read that saw it
    gap: float  # mean: that read -> the bot's next train POST (lock hand-off, the read before a POST)
    tail: float  # the last training seen finished -> the CLI exited
    busiest: int  # trainings queued or running at once (until seen finished), at most
    busy: float  # the same, on average from the first train POST to the last training seen finished
    launch_spacing: float  # median seconds between consecutive plugin process starts


def breakdown(up: Up) -> Breakdown:
    gets: dict[tuple[str | None, str | None], list[float]] = {}
    for call in up.calls:
        if call.method == "GET" and call.bot_id is not None:
            gets.setdefault((call.bot_id, call.language), []).append(call.at)
    seen: dict[str, float] = {}
    for t in up.trainings:
        assert t.finished_at is not None
        reads = gets.get((t.bot_id, t.language), [])
        seen[t.training_id] = min((at for at in reads if at >= t.finished_at), default=t.finished_at)
    lags = [seen[t.training_id] - t.finished_at for t in up.trainings if t.finished_at is not None]
    by_bot: dict[str, list[TrainingRecord]] = {}
    for t in sorted(up.trainings, key=lambda t: t.queued_at):
        by_bot.setdefault(t.bot_id, []).append(t)
    gaps = [
        b.queued_at - seen[a.training_id]
        for trainings in by_bot.values()
        for a, b in itertools.pairwise(trainings)
    ]
    first = min(t.queued_at for t in up.trainings)
    last_seen = max(seen.values())
    events = sorted(
        [(t.queued_at, 1) for t in up.trainings] + [(seen[t.training_id], -1) for t in up.trainings]
    )
    running = busiest = 0
    for _, delta in events:
        running += delta
        busiest = max(busiest, running)
    return Breakdown(
        before_first_train=first - up.start,
        first_trains_spread=max(trainings[0].queued_at for trainings in by_bot.values()) - first,
        lag=statistics.mean(lags),
        gap=statistics.mean(gaps) if gaps else 0.0,
        tail=up.end - last_seen,
        busiest=busiest,
        busy=sum(seen[t.training_id] - t.queued_at for t in up.trainings) / (last_seen - first),
        launch_spacing=launch_spacing(up),
    )


def describe(up: Up) -> str:
    b = breakdown(up)
    return (
        f"{fmt_s(up.seconds)}: {fmt_s(b.before_first_train)} from the CLI's start to the first "
        f"train call, every bot's first within {fmt_s(b.first_trains_spread)} of it; a finish seen "
        f"{fmt_s(b.lag)} after the sandbox's (mean), the bot's next train call {fmt_s(b.gap)} after that "
        f"(mean); {fmt_s(b.tail)} from the last seen to the CLI's exit; trainings at once: at most "
        f"{b.busiest}, {b.busy:.1f} on average; {len(up.launches)} plugin processes, started "
        f"{fmt_s(b.launch_spacing)} apart (median)"
    )


def launch_spacing(up: Up) -> float:
    """Median seconds between the starts of consecutive plugin processes."""
    spacing = [b - a for a, b in itertools.pairwise(up.launches)]
    return statistics.median(spacing) if spacing else 0.0


def noop_text(up: Up) -> str:
    return f"{fmt_s(up.seconds)} ({len(up.launches)} plugins started {fmt_s(launch_spacing(up))} apart)"


# -- the section ---------------------------------------------------------------------------------------------


@contextmanager
def fleet_projects(
    sandbox: Sandbox, bots: list[SandboxBot], compare: bool
) -> Iterator[dict[str, FleetProject]]:
    cli = pulumi_cli()
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        projects = {"per-bot": FleetProject(Path(tmp, "per-bot"), bots, sandbox, True, cli)}
        if compare:
            projects["default"] = FleetProject(Path(tmp, "default"), bots, sandbox, False, cli)
        yield projects


@dataclass
class FleetRuns:
    """The timed `up`s of one run of the section."""

    fleet: list[Up] = field(default_factory=list)  # a provider per bot, --parallel 64 (7a)
    noops: list[Up] = field(default_factory=list)  # its no-op `up`, right after each of `fleet`
    shared: list[Up] = field(default_factory=list)  # the default provider, --parallel 64 (7b)
    shared_noops: list[Up] = field(default_factory=list)  # its no-op `up`, right after each of `noops`
    default_parallel: list[Up] = field(default_factory=list)  # a provider per bot, default --parallel (7c)


def measure_fleet(settings: Settings, bots: list[SandboxBot]) -> FleetRuns:
    runs = FleetRuns()
    seconds, queued = settings.fleet_training_seconds, settings.fleet_queue_seconds
    with (
        Sandbox(training_seconds=seconds, queue_seconds=queued, bots=bots) as sandbox,
        fleet_projects(sandbox, bots, settings.fleet_compare) as projects,
    ):
        # The first `up` creates every resource, trainings included: short ones, not measured.
        sandbox.set_training_seconds(WARM_UP_TRAINING_SECONDS)
        sandbox.set_queue_seconds(0)
        for project in projects.values():
            created = project.up("create", "--skip-preview", "--parallel", FLEET_PARALLEL)
            progress(f"fleet: created the stack on {project.label} in {created.seconds:.0f} s (not measured)")
        sandbox.set_training_seconds(seconds)
        sandbox.set_queue_seconds(queued)
        per_bot = projects["per-bot"]
        shared = projects.get("default")

        def changed(project: FleetProject, into: list[Up], label: str, *flags: str) -> None:
            project.write_utterances()
            into.append(project.up(label, *flags))
            command = f"pulumi up {' '.join(flags) or f'(--parallel {DEFAULT_PARALLEL})'}"
            progress(f"fleet: {project.label}, {command}: {into[-1].seconds:.0f} s")

        for i in range(settings.fleet_rounds):
            changed(per_bot, runs.fleet, f"fleet-{i}", "--parallel", FLEET_PARALLEL)
            runs.noops.append(per_bot.up(f"no-op-{i}", "--parallel", FLEET_PARALLEL, trains=False))
            noop = runs.noops[-1].seconds
            progress(f"fleet: {per_bot.label}, no-op pulumi up --parallel {FLEET_PARALLEL}: {noop:.0f} s")
            if shared is not None:
                runs.shared_noops.append(
                    shared.up(f"shared-no-op-{i}", "--parallel", FLEET_PARALLEL, trains=False)
                )
                if i == 0:
                    changed(shared, runs.shared, "shared", "--parallel", FLEET_PARALLEL)
                    changed(per_bot, runs.default_parallel, "default-parallel")
    return runs


def run_fleet(settings: Settings) -> tuple[list[Row], FleetRuns]:
    languages = LANGUAGES[: settings.fleet_languages]
    bots = bench_bots(settings.fleet_bots, languages)
    seconds, queued = settings.fleet_training_seconds, settings.fleet_queue_seconds
    progress(
        f"fleet: {len(bots)} bots x {len(languages)} languages through the pulumi CLI, "
        f"{seconds:g} s trainings (+{queued:g} s queued)"
    )
    runs = measure_fleet(settings, bots)
    return fleet_rows(settings, bots, runs), runs


def fleet_rows(settings: Settings, bots: list[SandboxBot], runs: FleetRuns) -> list[Row]:
    languages = len(bots[0].languages)
    seconds, queued = settings.fleet_training_seconds, settings.fleet_queue_seconds
    sandbox_floor = languages * (seconds + queued)
    noop = statistics.median(u.seconds for u in runs.noops)
    floor = sandbox_floor + noop
    fleet = statistics.median(u.seconds for u in runs.fleet)
    size = (
        f"{len(bots)} bots x {languages} languages changed ({len(bots) * languages} trainings of "
        f"{seconds:g} s)"
    )
    rows = [
        Row(
            "7a",
            f"Fleet: {size}, `pulumi up --parallel {FLEET_PARALLEL}`, a provider per bot",
            fmt_s(fleet),
            fmt_s(floor),
            fleet / floor,
            f"<= {TARGET}x",
            fleet / floor <= TARGET,
            [
                f"floor: {languages} x ({fmt_s(queued)} queued + {fmt_s(seconds)} training) = "
                f"{fmt_s(sandbox_floor)}, what the sandbox needs for each bot's trainings one after another, "
                f"+ {fmt_s(noop)}, the same stack's no-op `up` (median of {len(runs.noops)}, each right "
                f"after a measured `up`: {', '.join(noop_text(u) for u in runs.noops)})",
                f"median of {len(runs.fleet)}: {', '.join(fmt_s(u.seconds) for u in runs.fleet)}",
                *(f"run {i}: {describe(u)}" for i, u in enumerate(runs.fleet, 1)),
            ],
        )
    ]
    for key, ups, figure in (
        ("7b", runs.shared, f"the default provider, `--parallel {FLEET_PARALLEL}`"),
        ("7c", runs.default_parallel, f"a provider per bot, default `--parallel` ({DEFAULT_PARALLEL} here)"),
    ):
        if not ups:
            continue
        (up,) = ups
        rows.append(
            Row(
                key,
                f"Fleet: {size}, {figure}",
                fmt_s(up.seconds),
                fmt_s(floor),
                up.seconds / floor,
                "-",
                None,
                [f"floor as in 7a; {up.seconds / fleet:.2f}x the time of 7a", describe(up)],
            )
        )
    if runs.shared_noops:
        shared = statistics.median(u.seconds for u in runs.shared_noops)
        rows.append(
            Row(
                "7n",
                f"Fleet: no-op `up` of {len(bots)} bots, a provider per bot, against the default provider",
                fmt_s(noop),
                fmt_s(shared),
                noop / shared,
                "-",
                None,
                [
                    "the fixed cost of a plugin per bot, paid by every `up` (preview and update each start "
                    f"the plugins); median of {len(runs.shared_noops)} each, interleaved: a provider per "
                    "bot "
                    f"{', '.join(noop_text(u) for u in runs.noops)}; the default provider "
                    f"{', '.join(noop_text(u) for u in runs.shared_noops)}"
                ],
            )
        )
    per_bot_peaks = [peak for up in runs.fleet for peak in up.plugin_peaks]
    if runs.shared:
        one, one_text = max(runs.shared[0].plugin_peaks), "the default provider's plugin after 7b"
    else:
        one, one_text = max(per_bot_peaks), "the largest of them (no default-provider run in --quick)"
    together = max(up.peak_sum for up in runs.fleet)
    rows.append(
        Row(
            "7m",
            f"Fleet: peak RSS of the {len(bots)} per-bot plugins, summed, against one plugin",
            fmt_mib(together),
            fmt_mib(one),
            together / one,
            "-",
            None,
            [
                f"VmHWM of each `python -u -m pulumi.dynamic` process, read every {SAMPLE_SECONDS:g} s "
                "during 7a, summed over the plugins alive at once (at most "
                f"{max(up.most_alive for up in runs.fleet)}); each: {fmt_mib(min(per_bot_peaks))}.."
                f"{fmt_mib(max(per_bot_peaks))}, "
                f"{fmt_mib(statistics.mean(per_bot_peaks))} on average; floor: {one_text}"
            ],
        )
    )
    return rows
