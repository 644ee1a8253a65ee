"""`python -u -m bench.scaled_plugin`: the dynamic-provider plugin (`python -u -m pulumi.dynamic`) with
kore_resources' clock replaced by the `ScaledClock` described in the environment (see bench/clock.py), so
the plugin and the sandbox in the bench process share one fast-running virtual time."""

from __future__ import annotations

import runpy

from bench.clock import ScaledClock
from kore_resources.resources.runtime import RUNTIME


def main() -> None:
    clock = ScaledClock.from_env()
    if clock is None:
        raise SystemExit("bench.scaled_plugin needs BENCH_CLOCK_SCALE and BENCH_CLOCK_EPOCH")
    with RUNTIME.use_clock(clock):  # for the plugin's whole life
        runpy.run_module("pulumi.dynamic", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
