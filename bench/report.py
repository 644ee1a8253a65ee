"""The results table (printed) and docs/performance.md (table, how to run, machine, what each row means)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.common import PROJECT_DIR, Row, Settings

#: What each row measures and what stands between it and its floor (whitespace is reflowed).
EXPLANATIONS: dict[str, str] = {
    "1": """
        **No-op plan.** `pulumi preview` with nothing changed: Check then Diff for every resource, sent to a
        real `python -u -m pulumi.dynamic` process over gRPC by tests/plugin_harness.py, one call at a time.
        The floor is the same plugin serving `bench/trivial_provider.py` (accepts the inputs, compares them
        with the state) with identical inputs and state, measured in the same run, the two plugins taking
        turns every 10 resources so that load from other processes hits both alike. Almost all the time is
        the SDK's: protobuf Struct (de)serialization of the properties and a new asyncio event loop per
        Check. BotTraining's own check (validation, host normalization) and diff cost some tens of
        microseconds per resource. `1b` is the size of `__provider` in state and on every call: both
        providers are pickled by reference (module and class name), so it stays about 100 bytes, whatever
        the size of the code.
    """,
    "2": """
        **Hashing.** `hash_utterances` on one generated export (JSON array of `{taskName, sentence, type,
        entities, language}` with NER tags on about 1 in 8 utterances; CSV with the header
        `taskName,sentence,type,language`, RFC 4180 quoting), against the floor of reading the file, parsing
        it with `json.loads` / `csv.reader` (GC paused, as hash_utterances does) and sha256 of its bytes.
        The floor cannot know what the file *means*; hash_utterances must also check every record, normalize
        it, build a canonical line per utterance and sort them (so that order, formatting and file splits do
        not change the hash). Peak memory is tracemalloc's peak of the Python heap during the call; judged
        against twice the floor's peak.
    """,
    "3": """
        **Completion lag.** Time from the moment the sandbox marks a training finished to `create`
        returning. The provider runs in this process against the sandbox, and both read one
        `bench.clock.VirtualClock`: virtual time is real elapsed time plus skipped time, and a `sleep` of
        the only actor skips ahead at once, so HTTP and parsing take their real time while waiting takes
        none (`4a`'s details give the virtual minutes covered and the real seconds they took). The lag
        depends on where the finish falls between two status reads, so each duration runs at several phases
        (training lengths spread over one poll interval) and the worst is shown. The floor is 0; the target
        is max(1 s, 10% of the training). The provider reads the status every 8% of the time waited (at
        least 1 s apart: Kore.ai allows 60 status calls a minute; at most 30 s), which is what bounds it. `3v`
        runs the phase with the largest lag again in real time: the virtual clock must agree within 0.1 s
        and the same number of status reads.
    """,
    "4": """
        **API economy.** `4a`: train POSTs and status GETs per training (mean over the phases of row 3).
        `4b`: API calls made by a no-op `pulumi up` (preview, then Check + Diff again) of the row-1 stack;
        it must be zero. `4c`: TCP connections the sandbox saw for all the in-process trainings of row 3
        plus six more of two bots and three languages, made from one thread: the provider keeps one
        keep-alive session per plugin worker thread, so the floor is 1 (through the plugin, at most 4: see
        row 6).
    """,
    "5": """
        **Start-up.** From starting a fresh plugin process to its first Check answered: interpreter and
        gRPC/Pulumi SDK start-up, Configure, unpickling the provider (which imports `kore_resources`, and
        with it requests and PyJWT) and `configure`. The floor is the same with the trivial provider, which
        imports nothing the plugin has not loaded. Paid once per `pulumi preview`/`up`.
    """,
    "6": """
        **Scale.** 40 bots x 3 languages, all with new utterances, 10 s trainings (plus 1 s queued), as one
        `pulumi up` on the default provider: Check + Diff for all, then every Update sent at once, as the
        engine does with `--parallel` of at least 120. (The engine's `--parallel` is not unbounded: it
        defaults to 4 x GOMAXPROCS, 8 on two cores, and `PULUMI_PARALLEL` sets it too; at the default, at
        most 8 Updates are outstanding at once, row 7c.) The plugin serves 4 calls at a time in arrival
        order and the provider trains one language of a bot at a time. The floor is 30 rounds of 11 s: 4
        trainings at a time, never two of one bot. **Scaled time, not real time:** the plugin process runs
        `bench.scaled_plugin`, which gives the provider a `bench.clock.ScaledClock` (virtual time runs 10x
        faster than CLOCK_MONOTONIC, which all processes share) also used by the sandbox here, so the run
        takes under a minute per order instead of six to eight. The in-process `VirtualClock` cannot be
        used: it needs to see every sleeping thread, and they are in another process. Scaling magnifies
        every real overhead (HTTP, CPU contention on 2 cores) ten times in virtual seconds, so the ratios
        are pessimistic; `6v` checks them by running 4 bots x 3 languages in real time and scaled.
        `bot-major` order sends each bot's languages one after the other (a program looping over bots, then
        languages); `language-major` sends every bot's first language first. `6m` is the plugin process's
        peak RSS (VmHWM) against the trivial provider's plugin after the same calls.
    """,
    "7": """
        **Fleet.** Through the real `pulumi` CLI, no harness: the shipped program (`__main__.py`, a
        `kore_resources.Provider` per bot) on a copy of the project as tests/cli_harness.copy_project makes
        it, with a stack of 20 bots x 3 languages on the sandbox (each bot its own utterances folder;
        `importUtterances: false`, no definition, variables or publish) and every bot language's utterances
        changed, so one `up` is 60 trainings of 4 s (plus 0.5 s queued) and nothing else. The engine starts
        one plugin process (`python -u -m pulumi.dynamic`, 4 calls at a time) per provider resource, and
        runs at most `--parallel` resource operations at once: 4 x GOMAXPROCS by default (8 on two cores;
        `PULUMI_PARALLEL` sets it too). `7a` is `pulumi up --yes --parallel 64`, preview included, as a user
        runs it. Its floor is what the sandbox itself needs, each bot's three trainings one after another
        and all bots at once (3 x 4.5 s), plus the same stack's no-op `pulumi up --yes --parallel 64`, run
        right after each measured `up`: the engine's, the program's and the plugins' fixed cost. `7b` is the
        same `up` on a bench-only copy of the program whose bots all use the default provider (one plugin),
        `7c` the shipped program at the default `--parallel`; both against 7a's floor. `7n` is what a
        plugin per bot adds to every `up`, even a no-op: the per-bot stack's no-op `up` against the
        default-provider stack's. `7m` sums the peak RSS (VmHWM, read from /proc every 0.2 s) of the per-bot
        plugins alive at once during 7a, against the default provider's one plugin after 7b. Where the time
        went comes from the sandbox's call log and /proc: from the CLI's start to the first train call, how
        far apart the bots' first train calls were, how long after the sandbox finished a training the
        provider's status read saw it (the first read comes 1 s after the train call, then every 8% of the
        time waited, at least 1 s apart), from that read to the bot's next train call (the per-bot lock's
        hand-off and the status read before each POST), how many trainings ran at once, and how far apart
        the plugin processes were started. The stacks are created first with short trainings, not measured.
    """,
}

FINDINGS = """\
## Findings

Profiles and numbers below are from the runs made while writing the suite (cProfile in process; `-X
importtime` for imports); the table above is the latest run.

- **The sandbox stalled keep-alive requests by 40 ms (fixed).** It wrote response headers and body in two
  writes with Nagle's algorithm on, so a client that sent its next request straight away (the virtual
  clock's polls; a plugin worker moving to its next resource) waited for a delayed ACK: 45 ms per status
  call instead of 4, which also made the virtual-clock lags 0.1 s worse than the real-time ones. One line
  in `kore-sandbox/kore_sandbox/transport.py` (`disable_nagle_algorithm = True`). Real Kore.ai is not
  affected.
- **Completion lag (fixed).** The provider used to read the status every 10% of the time since the train
  call, counted from when the previous read *returned*. That bounded the lag by 10% of *queue + training*
  plus one response time, not 10% of the training alone: with the sandbox's 1 s queue the worst phase of
  a 30 s training was seen 3.13 s after it ended (target 3.06 s), and a distant host (`3r`, 150 ms
  answers) paid its response time twice. Now reads come every 8% of the time waited
  (`training.POLL_FRACTION`), scheduled from when the previous read was *sent* (still at most one a
  second: Kore.ai allows 60 status calls a minute). That costs about a quarter more status reads per long
  training and keeps every lag row within target. For short trainings the floor is that rate limit:
  reads are at least 1 s apart, so a 2 s training can finish just after a read and be seen up to 1 s
  later. Every training also starts with one status read before its POST (is a training of this bot
  language still running, e.g. from an interrupted `up`?), which `4a` counts.
- **The rate limit showed up in the lag rows (fixed in the bench).** Row 3 runs 16 trainings of one bot
  language back to back in virtual time: well over 60 status reads a virtual minute. The sandbox then
  answered 429 and the provider's own budget held reads back, both as they should, and one phase showed a
  10 s lag. The lag rows now run with the sandbox's limits off and a fresh provider budget per training;
  `tests/api/test_client.py` covers the limits themselves.
- **Scale: a worker waiting for a bot's lock is lost to the other bots.** The plugin has 4 worker threads
  and the provider trains one language of a bot at a time; a worker that picks up a second language of a
  bot whose first is training blocks until that one ends. When one bot's languages reach the plugin one
  after another (`bot-major`), even a zero-overhead run of that schedule takes 14 rounds instead of 10 for
  40 bots x 3 languages (462 s against 330 s; `6a` reaches about 1.1x of the 462). Sending every bot's
  first language before any bot's second (`language-major`, `6b`) reaches the floor. The order is not
  the provider's to choose: the engine dispatches resources as they are registered, and the Python SDK
  registers them asynchronously, so even a program that loops over languages outside bots gets no fixed
  order (tried: the registration order under `set_mocks` varied from run to run). The provider cannot
  give the worker back while it waits (the plugin's gRPC servicer is synchronous, four threads).
- **Fleet: with a provider per bot and `--parallel 64`, 60 trainings take about 1.1x the floor; most of the
  floor is the engine's fixed cost, which a plugin per bot makes larger.** Three runs of the section while
  writing it (one on a loaded machine): `7a` 1.07x to 1.11x, the default provider (`7b`) 2.8x to 4.4x, a
  provider per bot at the default `--parallel` (`7c`) 2.6x to 3.3x. Where 7a's 30-33 s went (from the
  sandbox's call log, on the sandbox's clock): 11.5-13 s from the CLI's start to the first train call (the
  language host's dependency check, the program run twice, the preview's and the update's 20 plugin
  processes each, Check and Diff of 80 resources), every bot's first train call within 1.6-2.5 s of it (the
  engine's Check and Diff, then each plugin's first call: importing requests, minting a JWT; 20 processes on
  2 cores), 13.5 s that the sandbox needs, 3 x 0.5 s of polling lag, 3 x 5-10 ms from one of a bot's
  trainings seen finished to its next train call, and 1.2-2.6 s from the last training seen to the CLI's
  exit. The no-op `up` that the floor counts takes 13-19 s (once 32 s, on the loaded machine), about what
  the measured `up` spends before its first train call and after its last training, so what 7a pays over the
  floor is the polling lag and the spread of the bots' first train calls. *Polling:* the provider reads the
  status 1 s after the train call and then every 8% of the time waited, at least 1 s apart, so a training of
  4.5 s (queue included) is seen at 5 s: 0.5 s late, 1.5 s for a bot's three, 5% of 7a. Reading sooner would
  break the 60 status calls a minute that Kore.ai allows, and for trainings of minutes the lag is under 8%
  of the training (row 3), so the provider is left as it is. A training that finishes before the first read
  is accepted only after the 10 s grace period (docs/reliability.md, rule 3): with 0.2 s trainings, creating
  the default-provider stack took 212 s instead of 42 s, which is why the bench creates its stacks with 1.5
  s trainings; real trainings are never that short. *The per-bot lock* costs nothing beyond keeping a bot's
  trainings in turn (which the floor counts): a bot's three Updates wait in its own plugin (3 of its 4
  workers) and the next one starts within 10 ms. On the default provider the same lock holds the one
  plugin's workers: 2.6 to 3 trainings at once on average out of 4, so 60 trainings take 70-90 s more than
  7a. *`--parallel`:* the engine runs at most 8 operations at once by default (4 x GOMAXPROCS on two cores)
  and hands them out in about the order the program registers them, a bot's languages together; the slots of
  a bot's languages waiting for its lock are idle, so `7c` trains 4 at once on average (at most 5) and takes
  2.3x to 3x as long as 7a: a fleet needs `--parallel` of at least its bots x languages. *Plugin start-up*
  is what the per-bot providers cost every `up`, even a no-op (`7n`, 5x to 6.3x against 2.6-4.7 s): the
  engine started the 20 plugins of the preview and the 20 of the update one after another, 0.17-0.37 s
  apart, and each unpickles the provider (importing kore_resources) for its first Check. Memory (`7m`):
  54-63 MiB per plugin, about 1.2 GiB for the 20 at once, against about 61 MiB for the default provider's
  one plugin after all 60 trainings.
- **Start-up: `import requests` was most of what kore_resources added (fixed).** Of the ~0.15-0.2 s
  that the first Check cost over the trivial provider, `requests` (urllib3, charset_normalizer,
  http.cookiejar) was about 0.09 s and PyJWT 0.01 s, yet a `pulumi preview` with nothing changed never
  makes an HTTP call or signs a token. Both are now imported on first use (`provider._session`,
  `KoreProvider._client`, `auth.mint_jwt`); `tests/test_docs.py` checks that importing the package
  loads neither. The rest is kore_resources' own modules (including the pipeline providers, imported by
  `kore_resources/__init__.py`).
- **Hashing: the per-record work after the parse is what costs.** `json.loads` / `csv.reader` are C;
  `hash_utterances` must then check and normalize every record, build one canonical line per utterance
  and sort the lines, most of it with C-level `map` over whole columns already. In a cProfile of 200,000
  utterances: the JSON parse 0.5 s (the floor's own), pulling and checking the columns 0.25 s,
  normalization 0.2 s, records with NER tags 0.3 s (validation and sorting of each tag list, in Python,
  for 1 in 8 records), canonical lines 0.2 s, sorting 200,000 lines 0.15 s. The sort alone is a third of
  the CSV floor. The parse, building the lines, sorting them and hashing them (all needed for a hash that
  ignores order, formatting and quoting) already come to about 2x the floor, which leaves almost nothing
  for checking and normalizing the records; closing the gap needs less per-record Python (the tagged
  records) and fewer passes over the columns. `utterances.py` was optimized against this row (the JSON
  ratio went from 3.5x to about 2.5x: column-wise C-level passes, the garbage collector paused while
  parsing); the rest is the work itself. Dropping the validation (offsets, required fields, types) would
  get closer to 2x, but a malformed export must fail with its file and line before anything is deployed,
  so that is not traded. Run-to-run noise on this shared machine moves the ratio by about 0.5x (2.5x to
  3.1x across the runs made today). Peak memory stays at the floor's: the parsed records dominate.
"""


def table(rows: list[Row]) -> str:
    lines = [
        "| # | figure | measured | floor | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        shown = "-" if row.ratio is None else f"{row.ratio:.2f}x"
        cells = (row.key, row.figure, row.measured, row.floor, shown, row.target, row.verdict)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = ""
    if Path("/proc/meminfo").exists():
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 2**20:.0f} GiB RAM"
    versions = ", ".join(f"{name} {_version(name)}" for name in ("pulumi", "grpcio", "dill", "requests"))
    versions += f", pulumi CLI {_cli_version()}"
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; {versions}. A shared machine: other work ran alongside, which "
        "is why every figure is a ratio against a floor measured in the same run, interleaved with it."
    )


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def _cli_version() -> str:
    cli = shutil.which("pulumi")
    if cli is None:
        return "not on PATH"
    try:
        return subprocess.run([cli, "version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "kore_resources"],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return out.stdout.strip() + (" with uncommitted changes to kore_resources" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def document(rows: list[Row], settings: Settings, seconds: float) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    kind = "quick (reduced) run" if settings.quick else "full run"
    details = []
    for row in rows:
        if row.details:
            details.append(f"- `{row.key}`: " + "; ".join(row.details))
    sections = [" ".join(text.split()) for text in EXPLANATIONS.values()]
    missed = [row for row in rows if row.met is False]
    missed_text = (
        "Every figure with a target met it."
        if not missed
        else "Missed: "
        + ", ".join(f"`{row.key}` ({row.measured} against {row.target})" for row in missed)
        + ". Why, and what stands in the way, is under Findings."
    )
    return f"""# Performance

What `BotTraining` costs on top of the floor that Pulumi's dynamic-provider machinery and the Kore.ai API
impose. Every figure is a ratio against a floor measured in the same run (absolute times on a shared
2-core machine are noisy; the ratios are not). Generated by `bench/` ({kind}, {when}, {seconds:.0f} s,
commit {_commit()}); do not edit by hand.

## How to run

    venv/bin/python -m bench                 # full suite, about ten minutes: rewrites docs/performance.md
    venv/bin/python -m bench --quick         # reduced sizes, about a minute
    venv/bin/python -m bench --only noop,lag # sections: noop, hashing, lag, startup, scale, fleet

`--quick` and `--only` write to bench/results/performance-quick.md (not committed) unless given `--out`.

Nothing to install beyond requirements-dev.txt and, for the fleet section (row 7), the `pulumi` CLI on
PATH (`PATH="$(scripts/pulumi-cli.sh):$PATH"` builds one where Pulumi's downloads are out of reach): the
suite starts the Kore.ai sandbox, the plugin processes and the CLI itself, on 127.0.0.1.
`tests/test_bench_smoke.py` runs a small slice in CI (correctness only, no timing assertions).

## Machine

{machine()}

## Results

{table(rows)}

{missed_text}

Per-row details from this run:

{chr(10).join(details)}

## What each row measures

{chr(10).join(f"{text}{chr(10)}" for text in sections)}
{FINDINGS}"""
