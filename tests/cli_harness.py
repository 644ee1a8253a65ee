"""What the CLI end-to-end tests share: disposable copies of the project, a `pulumi` runner with a local file
backend and a passphrase (a test never touches the developer's stacks or state), and the rules for when
these tests run.

They need the real `pulumi` CLI on PATH. On a developer's machine without one they skip, with the reason.
In CI (`CI=true`) they are required: `.ci/run` puts the CLI built by `scripts/pulumi-cli.sh` on PATH, and a
missing CLI fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PULUMI = shutil.which("pulumi")
IN_CI = os.environ.get("CI", "").lower() == "true"
PASSPHRASE = "e2e-test"
COMMAND_TIMEOUT = 600  # seconds: only a hung CLI ever reaches it

Run = Callable[..., subprocess.CompletedProcess[str]]


#: Marks for a module of CLI tests.
REQUIRES_PULUMI = [pytest.mark.e2e, pytest.mark.usefixtures("pulumi_cli")]


def copy_project(tmp_path: Path) -> Path:
    """A copy of the program with its own utterances and bot definitions, so a test can edit them; the venv
    is shared."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "requirements.txt"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(
        ROOT / "kore_resources", project / "kore_resources", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "utterances", project / "utterances")
    shutil.copytree(ROOT / "definitions", project / "definitions")
    (project / "venv").symlink_to(ROOT / "venv")
    return project


def repository_files() -> list[str]:
    """The files a clone of the working tree holds: every tracked one and every new one git does not ignore
    (no venv, no state, no caches), relative to the repository."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name]


def fresh_checkout(tmp_path: Path) -> Path:
    """What `git clone` of the working tree gives (`repository_files`), copied to `tmp_path`."""
    checkout = tmp_path / "checkout"
    for name in repository_files():
        source = ROOT / name
        if source.is_file():  # a deleted but still-indexed file is not in a clone of the working tree
            target = checkout / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return checkout


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a process the test starts later by port number (the demo's
    sandbox). Taken below the kernel's ephemeral range, so no outgoing connection can grab it meanwhile."""
    rng = random.SystemRandom()
    for _ in range(100):
        port = rng.randrange(20000, 32000)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 32000 on 127.0.0.1")


def cli_env(project: Path, state: Path, extra_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every CLI call: a file backend in `state`, passphrase secrets, no update check,
    no KORE_* or PULUMI_* leaking in from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORE_", "PULUMI_"))}
    env.update(
        {
            "PULUMI_BACKEND_URL": f"file://{state}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            # The official CLI runs the program in Pulumi.yaml's virtualenv; the one scripts/pulumi-cli.sh
            # builds is told which Python to use (harmless for the official one).
            "PULUMI_PYTHON_CMD": str(project / "venv" / "bin" / "python"),
            **(extra_env or {}),
        }
    )
    return env


class Cli:
    """`cli("up", "--yes")` runs the CLI in `project` against a fresh file backend under `tmp_path`; it fails
    the test on a non-zero exit unless `check=False`. Everything the CLI printed is kept in `printed`."""

    def __init__(self, project: Path, tmp_path: Path, extra_env: Mapping[str, str] | None = None) -> None:
        self.project = project
        self.state = tmp_path / "state"
        self.state.mkdir(exist_ok=True)
        self.env = cli_env(project, self.state, extra_env)
        self.printed: list[str] = []

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [PULUMI or "pulumi", *args, "--non-interactive"],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        self.printed.append(result.stdout + result.stderr)
        if check and result.returncode != 0:
            pytest.fail(f"pulumi {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def start(self, *args: str) -> Background:
        """A CLI call in the background (to interrupt it), in its own session like a terminal's job."""
        return Background(
            subprocess.Popen(
                [PULUMI or "pulumi", *args, "--non-interactive"],
                cwd=self.project,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            ),
            self.printed,
        )

    def state_files(self) -> str:
        """Everything the file backend holds (stacks, history, backups), as text."""
        files = [path for path in self.state.rglob("*") if path.is_file()]
        return "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in files)


class Background:
    """A running CLI call whose output is collected as it comes, so a test can wait for a line."""

    def __init__(self, process: subprocess.Popen[str], printed: list[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._printed = printed
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def interrupt(self) -> None:
        """What Ctrl-C in a terminal sends to `pulumi`: SIGINT."""
        self.process.send_signal(signal.SIGINT)

    def finish(self) -> int:
        """Wait for the CLI to exit; its exit code."""
        code = self.process.wait(timeout=COMMAND_TIMEOUT)
        self._reader.join(timeout=COMMAND_TIMEOUT)
        self._printed.append(self.output)
        return code


def pulumi_runner(project: Path, tmp_path: Path, extra_env: Mapping[str, str] | None = None) -> Cli:
    return Cli(project, tmp_path, extra_env)
