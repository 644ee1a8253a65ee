"""Clocks that let a benchmark run minutes of training in seconds, shared by the sandbox and the provider.

The providers read time only through the runtime's clock seam (`kore_resources.resources.runtime.RUNTIME
.use_clock`); the sandbox takes a `clock=` callable. Give both the same clock object and they agree on what
time it is.

- `VirtualClock` (in one process; `kore_sandbox.testing`, the tests' clock too): with `real_time=True`,
  virtual time is real elapsed time plus everything skipped. A `sleep` does not wait: when every *actor*
  (a thread that drives the work, e.g. the one calling `create`) is asleep, the clock jumps to the
  earliest wake-up. Real work (HTTP, parsing, locks) still takes its real time, so the measured lag
  includes it, unscaled. With `real_time=False` only sleeps move the clock, for checks that must not
  depend on how loaded the machine is (tests/test_bench_smoke.py).
- `ScaledClock` (across processes): virtual time runs `scale` times faster than CLOCK_MONOTONIC, which
  is system-wide on Linux, so the plugin process and the sandbox in the bench process agree without any
  coordination. The price: real overheads are magnified `scale` times in virtual seconds (pessimistic).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kore_resources.resources.polling import Clock

EPOCH_ENV = "BENCH_CLOCK_EPOCH"
SCALE_ENV = "BENCH_CLOCK_SCALE"


class ScaledClock:
    """Virtual time = epoch + (CLOCK_MONOTONIC - epoch) * scale; the same in every process given the same
    epoch and scale (see `env` / `from_env`)."""

    def __init__(self, scale: float, epoch: float | None = None) -> None:
        if scale <= 0:
            raise ValueError("scale must be > 0")
        self.scale = scale
        self.epoch = time.monotonic() if epoch is None else epoch

    def monotonic(self) -> float:
        return self.epoch + (time.monotonic() - self.epoch) * self.scale

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.scale)

    def env(self) -> dict[str, str]:
        """Environment for another process to build the same clock with `from_env`."""
        return {EPOCH_ENV: repr(self.epoch), SCALE_ENV: repr(self.scale)}

    @classmethod
    def from_env(cls) -> ScaledClock | None:
        if SCALE_ENV not in os.environ:
            return None
        return cls(float(os.environ[SCALE_ENV]), float(os.environ[EPOCH_ENV]))


@contextmanager
def provider_clock(clock: Clock) -> Iterator[None]:
    """Make the providers (and the clients they build) read time from `clock`, then restore."""
    from kore_resources.resources.runtime import RUNTIME

    with RUNTIME.use_clock(clock):
        yield
