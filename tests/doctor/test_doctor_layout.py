"""kore-doctor's place in the layout: it stands on the HTTP layer, the settings and the program's config
parser, never on the resources, Pulumi's SDK or the sandbox; and its decisions are pure."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from test_layout import imports_of

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOCTOR = ROOT / "kore_resources" / "doctor"
#: What the doctor may import from the package (besides itself).
ALLOWED = ("kore_resources.api", "kore_resources.settings", "kore_resources.errors", "kore_resources.program")
#: Of the program, only its config parsing and checks, which import no Pulumi at module level.
PROGRAM_MODULES = ("kore_resources.program.bots_config", "kore_resources.program.stack_config")


def allowed(module: str) -> bool:
    top = module.split(".", maxsplit=1)[0]
    if top in sys.stdlib_module_names or top in ("__future__", "requests"):
        return True
    if module.startswith("kore_resources.doctor") or module == "kore_resources":
        return True
    if module.startswith("kore_resources.program"):
        return module in PROGRAM_MODULES or module.startswith(tuple(f"{name}." for name in PROGRAM_MODULES))
    return module.startswith(ALLOWED)


def test_the_doctor_imports_the_http_layer_settings_and_program_config_only() -> None:
    outside = [
        f"{path.name} imports {module}"
        for path in sorted(DOCTOR.glob("*.py"))
        for module in sorted(imports_of(path))
        if not allowed(module)
    ]
    assert outside == []


def test_the_decisions_make_no_call() -> None:
    """checks.py turns answers into lines: no HTTP, sockets, processes or clock in it."""
    names = imports_of(DOCTOR / "checks.py")
    assert not names & {"requests", "socket", "subprocess", "time", "threading"}
