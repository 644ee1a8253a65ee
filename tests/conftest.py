"""Shared fixtures: a real Kore.ai sandbox on 127.0.0.1 and providers configured against it."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator

import pytest

from bench.clock import provider_clock
from demo_values import CREDENTIALS_CONFIG, make_provider
from http_stub import FINISHED, Recorder, json_answer
from kore_resources import BotTrainingProvider
from kore_resources.api.ratelimit import RateBudget
from kore_resources.resources.runtime import RUNTIME
from kore_sandbox import Sandbox
from kore_sandbox.testing import VirtualClock


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


TIERS = ("unit", "sandbox", "plugin", "cli")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test is in exactly one tier (its module's `pytestmark`): `scripts/test.sh --fast` runs the
    unit tier, and a test in none would never run there, nor be known for what it needs."""
    wrong = [
        f"{item.nodeid}: {names or 'no tier'}"
        for item in items
        if len(names := [m.name for m in item.iter_markers() if m.name in TIERS]) != 1
    ]
    if wrong:
        raise pytest.UsageError(
            f"each test needs exactly one tier mark of {', '.join(TIERS)} (pytestmark in its module): "
            + "; ".join(wrong)
        )


class SocketInUnitTest(AssertionError):
    pass


@pytest.fixture(autouse=True)
def no_sockets_in_the_unit_tier(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit test opens no socket (the tier's promise: fast, and no server to wait for): connecting or
    binding fails it, naming the tier to move it to."""
    if request.node.get_closest_marker("unit") is None:
        return

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise SocketInUnitTest(
            f"{request.node.nodeid} is in the unit tier but opened a socket: mark its module "
            "pytest.mark.sandbox (or plugin, cli) instead"
        )

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "bind", refuse)


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


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox with short trainings: queued for 0.3 s (status still stale), then 1.2 s in progress."""
    with Sandbox(training_seconds=1.2, queue_seconds=0.3) as sb:
        yield sb


@pytest.fixture
def virtual_clock() -> Iterator[VirtualClock]:
    """The providers read time from a `VirtualClock` (and their rate budget with them) for one test: one
    thread drives the providers, so each sleep returns at once having moved time on, and real work
    (HTTP, parsing) still takes its real time. Durations become assertions on virtual time or on the sleeps
    requested (`clock.sleeps`), and a minute of training takes no real time."""
    clock = VirtualClock(real_time=True)
    with provider_clock(clock), RUNTIME.use_budget(RateBudget(clock=clock.monotonic, sleep=clock.sleep)):
        yield clock


@pytest.fixture
def virtual_sandbox(virtual_clock: VirtualClock) -> Iterator[Sandbox]:
    """A sandbox on the providers' virtual clock: trainings queued for 5 s (status still stale), then 20 s
    in progress: long enough that every phase is seen however slow the machine is, and free."""
    with Sandbox(training_seconds=20, queue_seconds=5, clock=virtual_clock.monotonic) as sb:
        yield sb


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> BotTrainingProvider:
    for name in ("KORE_CLIENT_ID", "KORE_CLIENT_SECRET", "KORE_HOST"):
        monkeypatch.delenv(name, raising=False)
    return make_provider(CREDENTIALS_CONFIG)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """A stub server that answers every request as a finished training (tests/http_stub.py)."""
    server = Recorder(json_answer(200, FINISHED))
    yield server
    server.shutdown()


@pytest.fixture
def pipeline_sandbox(virtual_clock: VirtualClock) -> Iterator[Sandbox]:
    """On the providers' virtual clock: imports take 5 s, publishes 8 s, trainings 20 s after 5 s queued."""
    with Sandbox(
        training_seconds=20,
        queue_seconds=5,
        import_seconds=5,
        publish_seconds=8,
        clock=virtual_clock.monotonic,
    ) as sb:
        yield sb
