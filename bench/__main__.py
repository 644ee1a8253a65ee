"""`venv/bin/python -m bench [--quick] [--only SECTIONS] [--out PATH]`: run the benchmarks, print the table,
write the report (docs/performance.md for a full run)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import PROJECT_DIR, Row, Settings, progress
from bench.fleet import run_fleet
from bench.hashing import run_hashing
from bench.lag import run_lag
from bench.noop import run_noop, run_startup
from bench.report import document, table
from bench.scale import run_scale, run_scale_real_check


def _scale(settings: Settings) -> list[Row]:
    rows = run_scale(settings)[0]
    if not settings.quick:
        rows.append(run_scale_real_check())
    return rows


SECTIONS: dict[str, Callable[[Settings], list[Row]]] = {
    "noop": lambda s: run_noop(s)[0],
    "hashing": run_hashing,
    "lag": lambda s: run_lag(s)[0],
    "startup": run_startup,
    "scale": _scale,
    "fleet": lambda s: run_fleet(s)[0],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="reduced sizes: about a minute")
    parser.add_argument("--only", help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument(
        "--out", type=Path, help="where to write the report (default: see docs/performance.md)"
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",")] if args.only else list(SECTIONS)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    settings = Settings.for_run(args.quick)
    default = "bench/results/performance-quick.md" if args.quick or args.only else "docs/performance.md"
    out = args.out or PROJECT_DIR / default

    start = time.perf_counter()
    rows: list[Row] = []
    for name in names:
        rows += SECTIONS[name](settings)
    rows.sort(key=lambda row: row.key)
    seconds = time.perf_counter() - start

    print(table(rows))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document(rows, settings, seconds))
    progress(f"{len(rows)} rows in {seconds:.0f} s; report written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
