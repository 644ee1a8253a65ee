"""What the emulator's test files share: the virtual clock their sandboxes run on."""

from __future__ import annotations

import pytest

from kore_sandbox.testing import VirtualClock


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()
