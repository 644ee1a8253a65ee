"""scripts/pulumi-cli.sh's cached `pulumi`: a wrapper that runs the engine with the Python of the virtualenv
the project's Pulumi.yaml names (its language host, v3.68.0, does not read that option), so a bare
`pulumi preview` in a project works as with the official CLI; and a cache built before the wrapper is
wrapped in place, without a rebuild. The wrapper is run in front of a stand-in engine that prints the
Python it was given; the demo's test runs a bare `pulumi preview` through the real one."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from cli_harness import COMMAND_TIMEOUT, IN_CI, ROOT

pytestmark = pytest.mark.cli

SCRIPT = ROOT / "scripts" / "pulumi-cli.sh"
PROJECT_YAML = "name: bot\nruntime:\n  name: python\n  options:\n    virtualenv: {venv}\n"


def cached() -> Path:
    """The folder of the CLI scripts/pulumi-cli.sh cached on this machine (CI builds it)."""
    asked = subprocess.run(
        ["bash", str(SCRIPT), "--cached"],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    if asked.returncode != 0:
        if IN_CI:
            pytest.fail(
                f"CI builds the CLI with scripts/pulumi-cli.sh, but --cached finds none: {asked.stderr}"
            )
        pytest.skip("scripts/pulumi-cli.sh has cached no CLI on this machine")
    return Path(asked.stdout.strip())


@pytest.fixture
def wrapper(tmp_path: Path) -> Path:
    """The cached wrapper, beside a stand-in engine that prints the PULUMI_PYTHON_CMD it was run with."""
    folder = tmp_path / "cli"
    folder.mkdir()
    (folder / "pulumi").write_bytes((cached() / "pulumi").read_bytes())
    (folder / "pulumi-engine").write_text(
        '#!/bin/sh\necho "python=${PULUMI_PYTHON_CMD:-}"\n', encoding="utf-8"
    )
    for name in ("pulumi", "pulumi-engine"):
        (folder / name).chmod(0o755)
    return folder / "pulumi"


def project(tmp_path: Path, venv: str = "venv", *, with_venv: bool = True) -> Path:
    folder = tmp_path / "project"
    (folder / "sub").mkdir(parents=True)
    (folder / "Pulumi.yaml").write_text(PROJECT_YAML.format(venv=venv), encoding="utf-8")
    if with_venv:
        python = (folder / venv if not venv.startswith("/") else Path(venv)) / "bin" / "python"
        python.parent.mkdir(parents=True, exist_ok=True)
        python.write_text("#!/bin/sh\n", encoding="utf-8")
        python.chmod(0o755)
    return folder


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "PULUMI_PYTHON_CMD"} | env
    return subprocess.run(
        command,
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


@pytest.mark.parametrize("where", ["project", "sub", "cwd flag"])
def test_the_wrapper_runs_the_engine_with_the_python_of_the_projects_virtualenv(
    wrapper: Path, tmp_path: Path, where: str
) -> None:
    folder = project(tmp_path)
    if where == "cwd flag":
        result = run([str(wrapper), "preview", "-C", str(folder), "--stack", "dev"], cwd=tmp_path)
    else:
        result = run([str(wrapper), "preview"], cwd=folder if where == "project" else folder / "sub")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"python={folder / 'venv' / 'bin' / 'python'}"
    assert result.stderr == ""


def test_the_wrapper_leaves_a_python_the_user_set_and_a_project_without_virtualenv(
    wrapper: Path, tmp_path: Path
) -> None:
    folder = project(tmp_path)
    assert (
        run([str(wrapper), "up"], cwd=folder, PULUMI_PYTHON_CMD="/opt/py").stdout.strip() == "python=/opt/py"
    )
    (folder / "Pulumi.yaml").write_text("name: bot\nruntime: python\n", encoding="utf-8")
    assert run([str(wrapper), "up"], cwd=folder).stdout.strip() == "python="
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert run([str(wrapper), "version"], cwd=outside).stdout.strip() == "python="


def test_a_missing_virtualenv_is_named_with_the_way_to_create_it(wrapper: Path, tmp_path: Path) -> None:
    folder = project(tmp_path, with_venv=False)
    result = run([str(wrapper), "preview"], cwd=folder)
    assert result.stdout.strip() == "python="  # the engine still runs, and fails as it would
    assert (
        f"{folder}/Pulumi.yaml names the virtualenv {folder}/venv, which has no bin/python" in result.stderr
    )
    assert f"python3 -m venv {folder}/venv && {folder}/venv/bin/pip install -r" in result.stderr
    assert "or set PULUMI_PYTHON_CMD" in result.stderr


def test_a_cache_built_before_the_wrapper_is_wrapped_in_place(tmp_path: Path) -> None:
    """The cache of an earlier scripts/pulumi-cli.sh holds the engine binary as `pulumi`: the next call
    wraps it (no Go, no build), and the engine still answers its version."""
    built = cached()
    old = tmp_path / "cache" / built.name
    old.mkdir(parents=True)
    for tool in ("pulumi-language-python", "pulumi-language-python-exec", "pulumi-resource-pulumi-python"):
        (old / tool).symlink_to(built / tool)
    (old / "pulumi").symlink_to(built / "pulumi-engine")  # the engine binary, as `pulumi`
    result = run(["bash", str(SCRIPT), "--cached"], cwd=tmp_path, KORE_PULUMI_CLI_CACHE=str(old.parent))
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == old
    assert (old / "pulumi").read_bytes().startswith(b"#!/usr/bin/env bash")
    assert (old / "pulumi-engine").resolve() == (built / "pulumi-engine").resolve()
    version = run([str(old / "pulumi"), "version"], cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip().startswith("v3."), version.stderr
