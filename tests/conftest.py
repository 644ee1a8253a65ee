"""Shared fixtures: a real Kore.ai sandbox on 127.0.0.1 and providers configured against it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from bench.clock import VirtualClock, provider_clock
from kore_resources import BotTrainingProvider
from kore_resources import provider as provider_module
from kore_resources.ratelimit import RateBudget
from kore_resources.sandbox import DEMO_APP, DEMO_BOTS, Sandbox

BOT = DEMO_BOTS[0].bot_id
OTHER_BOT = DEMO_BOTS[1].bot_id
SECRET = DEMO_APP.client_secret
CREDENTIALS_CONFIG = {"kore:clientId": DEMO_APP.client_id, "kore:clientSecret": DEMO_APP.client_secret}


@pytest.fixture(autouse=True)
def fresh_provider_state() -> Iterator[None]:
    """Every test gets the plugin process's module-level state (kore_resources.provider) fresh, and must
    leave it as it found it: an empty rate budget (a sandbox may get the port of an earlier test's, and
    with it that test's call history), no bot locks, and the real clock."""
    original = provider_module._budget
    # Built as the module builds it: the lambdas read the clock hook at call time.
    now, sleep = lambda: provider_module.clock.monotonic(), lambda s: provider_module.clock.sleep(s)  # noqa: PLW0108
    fresh = provider_module._budget = RateBudget(clock=now, sleep=sleep)
    provider_module._bot_locks.clear()
    yield
    problems = []
    if provider_module._budget is not fresh:
        problems.append("left kore_resources.provider._budget replaced")
    if vars(provider_module.clock):  # instance attributes shadow the real time.monotonic / time.sleep
        vars(provider_module.clock).clear()
        problems.append("left kore_resources.provider.clock replaced")
    held = [key for key, lock in provider_module._bot_locks.items() if lock.locked()]
    if held:
        problems.append(f"left bot locks held, so an operation outlived the test: {held}")
    provider_module._budget = original
    provider_module._bot_locks.clear()
    assert not problems, "; ".join(problems)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox with short trainings: queued for 0.3 s (status still stale), then 1.2 s in progress."""
    with Sandbox(training_seconds=1.2, queue_seconds=0.3) as sb:
        yield sb


class RecordingClock(VirtualClock):
    """bench's `VirtualClock` (one actor), recording every sleep asked of it. When the one thread that
    drives the work sleeps, the sleep returns at once and virtual time has moved on by that much; real
    work (HTTP, parsing) still takes its real time."""

    def __init__(self) -> None:
        super().__init__(actors=1)
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        super().sleep(seconds)


@pytest.fixture
def virtual_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingClock]:
    """The providers read time from a `RecordingClock` (and their rate budget with them) for one test.
    For tests where one thread drives the providers: durations become assertions on virtual time or on
    the sleeps requested, and a minute of training takes no real time."""
    clock = RecordingClock()
    monkeypatch.setattr(provider_module, "_budget", RateBudget(clock=clock.monotonic, sleep=clock.sleep))
    with provider_clock(clock):
        yield clock


@pytest.fixture
def virtual_sandbox(virtual_clock: RecordingClock) -> Iterator[Sandbox]:
    """A sandbox on the providers' virtual clock: trainings queued for 5 s (status still stale), then 20 s
    in progress: long enough that every phase is seen however slow the machine is, and free."""
    with Sandbox(training_seconds=20, queue_seconds=5, clock=virtual_clock.monotonic) as sb:
        yield sb


#: Two utterances of an ML utterance export (the JSON shape), for tests that write export files.
SAMPLE_UTTERANCES = [
    {
        "taskName": "Book Flight",
        "sentence": "Book a flight to Lisbon",
        "type": "DialogIntent",
        "language": "en",
    },
    {
        "taskName": "Flight Status",
        "sentence": "Is my flight on time?",
        "type": "DialogIntent",
        "language": "en",
    },
]


class FakeClock:
    """A clock the sandbox reads (`Sandbox(clock=...)`); tests move it with `advance`. Code that sleeps on
    it (`KoreClient(sleep=clock.sleep, clock=clock)`) moves it on at once; `sleeps` records each sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))


#: How long an event-driven wait may take before the test calls it a hang. Generous on purpose: it only
#: fires when something is really stuck, never because the machine is slow.
HANG_SECONDS = 120.0


def wait_until(condition: Callable[[], object], what: str, timeout: float = HANG_SECONDS) -> None:
    """Wait for an event (a training visible in the sandbox, a call made), not for a guessed duration."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout:g}s for {what}: something hangs")
        time.sleep(0.02)


def make_provider(config: dict[str, Any] | None = None) -> BotTrainingProvider:
    provider = BotTrainingProvider()
    provider.configure(ConfigureRequest(Config(dict(config or {}), "kore-bots")))
    return provider


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> BotTrainingProvider:
    for name in ("KORE_CLIENT_ID", "KORE_CLIENT_SECRET", "KORE_HOST"):
        monkeypatch.delenv(name, raising=False)
    return make_provider(CREDENTIALS_CONFIG)


def training_inputs(sandbox: Sandbox, **changes: Any) -> dict[str, Any]:
    """Inputs as they arrive from the engine after Check (numbers are floats on the wire)."""
    return {
        "bot_id": BOT,
        "utterances_hash": "sha256:" + "1" * 64,
        "language": "en",
        "host": sandbox.url,
        "wait_for_completion": True,
        "timeout_seconds": 60.0,
        **changes,
    }
