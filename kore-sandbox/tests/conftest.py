"""What the emulator's test files share: the virtual clock their sandboxes run on, and sandboxes started
as processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from kore_sandbox.testing import VirtualClock
from sandbox_process import SandboxProcess


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def sandbox_process() -> Iterator[Callable[..., SandboxProcess]]:
    """Starts `python -m kore_sandbox` with the given arguments; kills what is still running at the end."""
    started: list[SandboxProcess] = []

    def start(*args: str) -> SandboxProcess:
        started.append(SandboxProcess(*args))
        return started[-1]

    yield start
    for process in started:
        process.kill()
