"""The README's main command, `scripts/demo.sh`, from a fresh checkout with the real `pulumi` CLI: every claim
of the README's "The two commands" section, in the order a user tries them. As a newcomer runs it: no
`pulumi` on PATH (the demo finds the CLI that scripts/pulumi-cli.sh cached) and no Go (it cannot build one),
a sandbox that keeps its state across `stop`, and a second port that changes nothing git tracks."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cli_harness import COMMAND_TIMEOUT, IN_CI, PULUMI, REQUIRES_PULUMI, ROOT, free_port, fresh_checkout

pytestmark = [pytest.mark.cli, *REQUIRES_PULUMI]

DEMO_PASSPHRASE = "local-demo"  # scripts/demo.sh's default
CALLS = re.compile(r"The sandbox logged (\d+) API calls during this run")
SECURED_VALUE = "local-sandbox-key"
README = (Path(__file__).resolve().parents[2] / "README.md").read_text(
    encoding="utf-8"
)  # Pulumi.local.yaml's secret (encrypted there)


#: What a newcomer's PATH lacks: the demo must find the cached CLI, and cannot build one.
MISSING_TOOLS = ("pulumi", "go", "gofmt")


def path_without(tools: tuple[str, ...], shims: Path) -> str:
    """PATH without `tools`: a folder that holds one of them is replaced by `shims`, which links every
    other program of that folder (python3, git, ps stay reachable)."""
    shims.mkdir(exist_ok=True)
    folders: list[str] = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        place = Path(folder)
        if not folder or not place.is_dir():
            continue
        if not any((place / tool).exists() for tool in tools):
            folders.append(folder)
            continue
        for program in place.iterdir():
            link = shims / program.name
            if program.name not in tools and not link.exists() and os.access(program, os.X_OK):
                link.symlink_to(program)
        if str(shims) not in folders:
            folders.append(str(shims))
    return os.pathsep.join(folders)


def cached_cli(cache: Path) -> Path | None:
    """A cache like the one scripts/pulumi-cli.sh keeps, at `cache` (for KORE_PULUMI_CLI_CACHE), holding
    the CLI it cached on this machine (linked); None when it has cached none."""
    asked = subprocess.run(
        ["bash", str(ROOT / "scripts" / "pulumi-cli.sh"), "--cached"],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    if asked.returncode != 0:
        return None
    built = Path(asked.stdout.strip())
    (cache / built.name).symlink_to(built, target_is_directory=True)
    return cache


class Demo:
    def __init__(self, checkout: Path, tmp_path: Path) -> None:
        self.checkout = checkout
        self.port = free_port()
        self.stack = f"local-port-{self.port}"  # another port than 8089: a stack of its own
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("KORE_", "PULUMI_"))}
        self.env.update(
            {
                "KORE_SANDBOX_PORT": str(self.port),
                "PULUMI_SKIP_UPDATE_CHECK": "true",
                "TMPDIR": str(tmp_path),  # the sandbox's log lands with the test
            }
        )
        cache = tmp_path / "cli-cache"
        cache.mkdir()
        #: Whether the demo runs as a newcomer's would: no pulumi and no Go on PATH, a CLI in the cache.
        self.newcomer = cached_cli(cache) is not None
        if self.newcomer:
            self.env["PATH"] = path_without(MISSING_TOOLS, tmp_path / "shims")
            self.env["KORE_PULUMI_CLI_CACHE"] = str(cache)
        elif IN_CI:
            pytest.fail(
                "CI builds the CLI with scripts/pulumi-cli.sh: `scripts/pulumi-cli.sh --cached` finds none"
            )

    def __call__(self, *args: str, port: str | None = None, expect: int = 0) -> str:
        """Run scripts/demo.sh (with KORE_SANDBOX_PORT=`port` instead of the demo's); its output."""
        env = self.env if port is None else {**self.env, "KORE_SANDBOX_PORT": port}
        result = subprocess.run(
            ["bash", "scripts/demo.sh", *args],
            cwd=self.checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        output = result.stdout + result.stderr
        assert result.returncode == expect, (
            f"scripts/demo.sh {' '.join(args)}: exit {result.returncode}\n{output}"
        )
        return output

    def shell(self, script: str) -> str:
        """`script` run by bash in the checkout, as a user types it; its output."""
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=self.checkout,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        assert result.returncode == 0, f"{script}: exit {result.returncode}\n{result.stdout}{result.stderr}"
        return result.stdout + result.stderr

    def pulumi(self, *args: str) -> str:
        """The CLI on the demo's own backend, to read what it recorded."""
        env = {
            **self.env,
            "PULUMI_BACKEND_URL": f"file://{self.checkout / '.pulumi-state'}",
            "PULUMI_CONFIG_PASSPHRASE": DEMO_PASSPHRASE,
        }
        return subprocess.run(
            [PULUMI or "pulumi", *args, "--stack", self.stack, "--non-interactive"],
            cwd=self.checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=True,
        ).stdout

    def resources(self) -> dict[str, dict]:
        """Every resource's recorded outputs, secrets decrypted (their ciphertext changes on every write)."""
        deployment = json.loads(self.pulumi("stack", "export", "--show-secrets"))["deployment"]
        return {r["urn"].rsplit("::", 1)[1]: r.get("outputs", {}) for r in deployment.get("resources", [])}


def api_calls(output: str) -> int:
    match = CALLS.search(output)
    assert match, f"the demo did not report the sandbox's API calls:\n{output}"
    return int(match.group(1))


def planned(output: str) -> dict[str, str]:
    """resource name -> step ("update", "create", "replace", "delete", ...) of every kore resource that a
    `preview --diff` shows, read from its `~ pulumi-python:dynamic/kore:X: (update)` / `[urn=...]` lines."""
    steps: dict[str, str] = {}
    step: str | None = None
    for line in output.splitlines():
        header = re.match(r"\s*[-+~<>]+ pulumi-python:dynamic/kore:\w+: \(([\w-]+)\)", line)
        if header:
            step = header.group(1)
        elif step and (urn := re.match(r"\s*\[urn=urn:pulumi:[^\]]*::([^\]]+)\]", line)):
            steps[urn.group(1)] = step
            step = None
    return steps


def git(checkout: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Newcomer", "-c", "user.email=newcomer@example.com", *args],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=True,
    ).stdout


def answers(port: int) -> bool:
    """Whether a sandbox answers on `port`."""
    try:
        return requests.get(f"http://127.0.0.1:{port}/_sandbox/info", timeout=30).ok
    except requests.ConnectionError:
        return False


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    checkout = fresh_checkout(tmp_path)
    git(checkout, "init", "--quiet")  # a clone: `git status` tells what the demo changed
    git(checkout, "add", "--all")
    git(checkout, "commit", "--quiet", "--message", "clone")
    demo = Demo(checkout, tmp_path)
    yield demo
    demo("stop")  # the sandbox outlives each run, like a platform


def test_the_demo_does_what_the_readme_says(demo: Demo) -> None:
    # A busy port, or no port at all: one line that says how to pick another, and that way works (below).
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = str(busy.getsockname()[1])
        refused = demo(port=taken, expect=1)
    assert f"Port {taken} is busy (another program is listening there)" in refused
    assert "pick another port: KORE_SANDBOX_PORT=8090 scripts/demo.sh" in refused
    assert "KORE_SANDBOX_PORT=80a is not a port number; use e.g. KORE_SANDBOX_PORT=8090" in demo(
        port="80a", expect=2
    )
    assert "use a port from 1 to 65535, e.g. KORE_SANDBOX_PORT=8090" in demo(port="70000", expect=2)

    # First run: creates ./venv, starts the sandbox (empty: no state file yet), imports the definition and
    # the variables, then the utterances, trains both languages, publishes.
    first = demo()
    if demo.newcomer:
        assert shutil.which("pulumi", path=demo.env["PATH"]) is None
        assert shutil.which("go", path=demo.env["PATH"]) is None
        assert "pulumi is not on PATH: using the Pulumi CLI that scripts/pulumi-cli.sh built" in first
    state_file = f".pulumi-state/sandbox-state-{demo.port}.json"
    assert (
        f"state: no state file at {state_file} yet: starting empty; saved there after every change" in first
    )
    assert (demo.checkout / "venv" / "bin" / "python").exists()
    assert re.search(r"definition definitions/travel/botDefinition.json: import \S+ finished", first)
    assert "variables: new: flightApi, flightApiKey" in first
    assert SECURED_VALUE not in first
    for language, file in (("en", "ml-utterances.json"), ("de", "ml-utterances.csv")):
        imported = rf"\({language}\), file utterances/travel/{language}/{file}: import \S+ finished"
        assert re.search(imported, first)
        assert re.search(rf"\({language}\): training \w+ finished after", first)
    assert re.search(r"publish \S+ successful", first)
    assert api_calls(first) > 0
    recorded = demo.resources()
    assert recorded["travel-definition"]["import_status"] == "success"
    assert SECURED_VALUE not in demo.pulumi("stack", "export")  # a secured variable: encrypted in state
    assert recorded["travel-en"]["training_status"] == recorded["travel-de"]["training_status"] == "Finished"
    assert recorded["travel-publish"]["publish_status"] == "successful"

    # Run it again: no changes, and the sandbox logs no API call.
    again = demo()
    assert re.search(r"Resources:\s+\d+ unchanged", again) and "to update" not in again
    assert api_calls(again) == 0

    # A bare pulumi command, with the demo's settings in the shell (README): no PULUMI_PYTHON_CMD needed,
    # the CLI runs the program in Pulumi.yaml's virtualenv (the cached CLI's `pulumi` wrapper sees to it).
    bare = demo.shell(
        'eval "$(scripts/demo.sh env)" && unset PULUMI_PYTHON_CMD && '
        f"pulumi preview --expect-no-changes --stack {demo.stack}"
    )
    assert re.search(r"Resources:\s+9 unchanged", bare), bare

    # Another port is another sandbox with a stack of its own: nothing git tracks changes, the first
    # stack stays as it is, and `stop` stops both sandboxes.
    second = free_port()
    other = demo("preview", port=str(second))
    assert f"A stack for the sandbox on port {second}: local-port-{second}" in other
    assert re.search(r"Resources:\s+\+ 9 to create", other), other
    assert git(demo.checkout, "status", "--porcelain") == ""
    assert answers(demo.port) and answers(second)
    stopped = demo("stop")
    for port in (demo.port, second):
        assert f"Stopped the demo's sandbox on port {port} (pid " in stopped
        assert not answers(port)
    assert demo("stop").strip() == "No sandbox of this demo is running."

    # The stopped sandbox starts again with what its bots held (as after a reboot): a refresh finds
    # every import, variable, training and publish as the stack recorded them.
    reloaded = demo("refresh", "--yes")
    assert f"state: loaded from {state_file} (saved " in reloaded
    assert re.search(r"Resources:\s+9 unchanged", reloaded), reloaded
    assert "no longer knows" not in reloaded and "deleted" not in reloaded
    assert planned(demo("preview", "--diff")) == {}

    # Drift, as the README shows it: its curl's edit "in the builder", then refresh, preview, up.
    edit = json.loads(re.search(r"-d '(\{\"edit_utterance\".*?)'", README, re.S).group(1))  # type: ignore[union-attr]
    answer = requests.post(f"http://127.0.0.1:{demo.port}/_sandbox/faults", json=edit, timeout=30)
    assert answer.status_code == 200, answer.text
    refreshed = demo("refresh", "--yes")
    assert "differ from what this file imported (changed in the builder?)" in refreshed
    drifted = demo("preview", "--diff")
    assert planned(drifted) == {
        "travel-en-ml-utterances.json": "update",
        "travel-en": "update",
        "travel-publish": "update",
    }
    assert "(en): to be trained again" in drifted
    restored = demo()
    assert re.search(r"\(en\): training \w+ finished after", restored) and "(de), file" not in restored
    demo("refresh", "--yes")
    assert planned(demo("preview", "--diff")) == {}
    recorded = demo.resources()

    # Change one English utterance: the preview shows only the English import, travel-en and the publish.
    export = demo.checkout / "utterances" / "travel" / "en" / "ml-utterances.json"
    records = json.loads(export.read_text(encoding="utf-8"))
    records[0] = {**records[0], "sentence": records[0]["sentence"] + " please"}
    export.write_text(json.dumps(records, indent=2), encoding="utf-8")
    preview = demo("preview", "--diff")
    assert planned(preview) == {
        "travel-en-ml-utterances.json": "update",
        "travel-en": "update",
        "travel-publish": "update",
    }
    assert api_calls(preview) == 0  # a preview is free

    # ... and `up` imports and retrains only English, then publishes again.
    changed = demo()
    assert re.search(r"\(en\): training \w+ queued", changed)
    assert not re.search(r"\(de\): training \w+ queued", changed) and "(de), file" not in changed
    after = demo.resources()
    assert after["travel-de"]["training_id"] == recorded["travel-de"]["training_id"]
    assert after["travel-en"]["training_id"] != recorded["travel-en"]["training_id"]
    assert after["travel-publish"]["triggers"] != recorded["travel-publish"]["triggers"]

    # refresh keeps every recorded output; destroy makes no API call.
    demo("refresh", "--yes")
    assert demo.resources() == after
    gone = demo("destroy", "--yes")
    assert api_calls(gone) == 0
    assert set(demo.resources()) <= {"kore-bots-local"}  # only the stack itself is left, or nothing
