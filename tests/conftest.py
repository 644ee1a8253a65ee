"""Shared fixtures: a real Kore.ai sandbox on 127.0.0.1 and providers configured against it."""

from __future__ import annotations

import heapq
import os
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from bench.clock import VirtualClock, provider_clock
from kore_resources import BotTrainingProvider
from kore_resources.api.ratelimit import RateBudget
from kore_resources.resources.runtime import RUNTIME
from kore_resources.sandbox import DEMO_APP, DEMO_BOTS, Sandbox

BOT = DEMO_BOTS[0].bot_id
OTHER_BOT = DEMO_BOTS[1].bot_id
SECRET = DEMO_APP.client_secret
CREDENTIALS_CONFIG = {"kore:clientId": DEMO_APP.client_id, "kore:clientSecret": DEMO_APP.client_secret}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (`CI=true`) no test may skip: a skipped end-to-end test there would hide that the real engine
    was never run. Elsewhere a skip (no `pulumi` on PATH) is reported with its reason, as usual."""
    if not in_ci():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        if reporter is not None:
            reporter.write_line(f"CI=true: {len(skipped)} test(s) skipped; CI runs every test, so this fails")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def pulumi_cli() -> str:
    """The `pulumi` on PATH; skips without one, except in CI, where these tests are required."""
    if shutil.which("pulumi") is None:
        if in_ci():
            pytest.fail(
                "the pulumi CLI is not on PATH, and CI requires the end-to-end tests: .ci/run puts the CLI "
                "that scripts/pulumi-cli.sh builds on PATH"
            )
        pytest.skip(
            "the pulumi CLI is not on PATH (install: https://www.pulumi.com/docs/iac/download-install/)"
        )
    return str(shutil.which("pulumi"))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(autouse=True)
def fresh_plugin_process_state() -> Iterator[None]:
    """Each test starts as a fresh plugin process would (no rate budget used, no host known to answer, no
    bot locks), and must leave the process as it found it: the real clock, the process's budget, no bot
    lock held (an operation that outlived its test)."""
    RUNTIME.reset()
    clock, budget = RUNTIME.clock, RUNTIME.budget
    yield
    problems = []
    if RUNTIME.clock is not clock:
        problems.append("left RUNTIME.clock replaced")
    if RUNTIME.budget is not budget:
        problems.append("left RUNTIME.budget replaced")
    held = RUNTIME.held_bot_locks()
    if held:
        problems.append(f"left bot locks held, so an operation outlived the test: {held}")
    RUNTIME.clock = clock
    RUNTIME.reset()
    assert not problems, "; ".join(problems)


class ScriptedTime:
    """Time for the providers (`RUNTIME.use_clock(time)`) and the sandbox (`Sandbox(clock=time)`), for one
    thread: every sleep returns at once, having moved time on, and `at(delay, action)` runs `action` once
    time reaches it (stop the sandbox at t=5, start it again at t=20). What happens when is then decided by
    the script, never by how fast the machine is."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._events: list[tuple[float, int, Callable[[], object]]] = []

    def __call__(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.now += seconds
        while self._events and self._events[0][0] <= self.now:
            _, _, action = heapq.heappop(self._events)
            action()

    def at(self, delay: float, action: Callable[[], object]) -> None:
        heapq.heappush(self._events, (self.now + delay, len(self._events), action))


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
def virtual_clock() -> Iterator[RecordingClock]:
    """The providers read time from a `RecordingClock` (and their rate budget with them) for one test.
    For tests where one thread drives the providers: durations become assertions on virtual time or on
    the sleeps requested, and a minute of training takes no real time."""
    clock = RecordingClock()
    with provider_clock(clock), RUNTIME.use_budget(RateBudget(clock=clock.monotonic, sleep=clock.sleep)):
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
        "triggers": [],
        **changes,
    }
