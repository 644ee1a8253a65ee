"""What the CLI end-to-end tests share: a disposable copy of the project and a `pulumi` runner with a local
file backend and a passphrase, so a test never touches the developer's stacks or state."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PULUMI = shutil.which("pulumi")

#: Marks for a module of CLI tests: skipped, with the reason, where the CLI is not on PATH.
REQUIRES_PULUMI = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        PULUMI is None, reason="the pulumi CLI is not on PATH (install: https://get.pulumi.com)"
    ),
]

Run = Callable[..., subprocess.CompletedProcess[str]]


def copy_project(tmp_path: Path) -> Path:
    """A copy of the project with its own utterances, so a test can edit them; the venv is shared."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "requirements.txt"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(
        ROOT / "kore_resources", project / "kore_resources", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "utterances", project / "utterances")
    (project / "venv").symlink_to(ROOT / "venv")
    return project


def pulumi_runner(project: Path, tmp_path: Path, extra_env: Mapping[str, str] | None = None) -> Run:
    """`run("up", "--yes")` runs the CLI in `project` against a fresh file backend under `tmp_path`; it
    fails the test on a non-zero exit unless `check=False`."""
    state = tmp_path / "state"
    state.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORE_", "PULUMI_"))}
    env.update(
        {
            "PULUMI_BACKEND_URL": f"file://{state}",
            "PULUMI_CONFIG_PASSPHRASE": "e2e-test",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            **(extra_env or {}),
        }
    )

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [PULUMI or "pulumi", *args, "--non-interactive"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(f"pulumi {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    return run
