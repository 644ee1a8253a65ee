"""scripts/compare-recording.py: a recording of the suite's lifecycle against the sandbox compares clean
with another sandbox's, and the same recording altered lists exactly what was altered; on small recordings,
its exit status, its listing, `--check`, a file it cannot read, and a sandbox run it cannot make."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest

from acceptance_target import ROOT, SANDBOX
from kore_sandbox.recording import Exchange, Recording
from kore_sandbox.testing import wait_until
from test_acceptance import run_recorded

pytestmark = [pytest.mark.acceptance, pytest.mark.cli]

COMPARE = ROOT / "scripts" / "compare-recording.py"
BOT = "/api/public/bot/{bot_id}"
#: Long enough for a lifecycle on a busy machine; only a hang reaches it.
RUN_SECONDS = 600


def script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The script as a user runs it (no pytest-xdist worker's variables)."""
    environ = {k: v for k, v in (env or os.environ).items() if not k.startswith("PYTEST_XDIST")}
    return subprocess.run(
        [sys.executable, str(COMPARE), *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def script_module() -> ModuleType:
    """The script's functions (its name has a dash: loaded from its file)."""
    spec = importlib.util.spec_from_file_location("compare_recording", COMPARE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def differences(output: str) -> list[str]:
    return [line.removeprefix("  - ") for line in output.splitlines() if line.startswith("  - ")]


@pytest.mark.e2e
@pytest.mark.usefixtures("pulumi_cli")
def test_a_recording_from_the_sandbox_compares_clean_and_an_altered_one_lists_exactly_its_changes(
    tmp_path: Path,
) -> None:
    # The script records a fresh sandbox's run of the lifecycle (its own pytest of it), while this test
    # records one through the suite's proxy: the two runs overlap.
    recorded, fresh = tmp_path / "sandbox-recording.json", tmp_path / "fresh-sandbox-recording.json"
    outcome: list[str | None] = []
    other = threading.Thread(target=lambda: outcome.append(script_module().record_sandbox_run(fresh)))
    other.start()
    try:
        run_recorded(SANDBOX, tmp_path / "run", recorded)
    finally:
        wait_until(lambda: not other.is_alive(), "the script's run of the lifecycle", timeout=RUN_SECONDS)
    assert outcome == [None]

    clean = script(str(recorded), "--sandbox-recording", str(fresh))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no differences" in clean.stdout

    # The recording edited as a tenant's might differ: another status, an extra key, a missing key.
    data = json.loads(recorded.read_text(encoding="utf-8"))
    exchanges = data["exchanges"]
    train = next(e for e in exchanges if e["method"] == "POST" and e["path"] == f"{BOT}/ml/train")
    train["status"] = 202
    status = next(e for e in exchanges if e["path"] == f"{BOT}/ml/train/status")
    status["answer"]["modelVersion"] = "str"
    for exchange in exchanges:  # missing from every answer of the endpoint, not just one
        if exchange["path"] == f"{BOT}/publish/status":
            del exchange["answer"]["percentageComplete"]
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(data), encoding="utf-8")

    result = script(str(altered), "--sandbox-recording", str(fresh))
    assert result.returncode == 1, result.stdout + result.stderr
    assert differences(result.stdout) == [
        f"GET {BOT}/ml/train/status (200): $.modelVersion (str) is in the recording, missing from the "
        "sandbox",
        f"GET {BOT}/publish/status (200): $.percentageComplete (number) is extra in the sandbox, not in the "
        "recording",
        f"POST {BOT}/ml/train: status 200, 202 in the recording, 200 from the sandbox",
    ]


def test_without_the_pulumi_cli_it_cannot_record_the_sandbox_and_says_so(tmp_path: Path) -> None:
    recording = write(tmp_path / "tenant.json", ("/a", 200, {"x": "str"}))
    no_cli = tmp_path / "bin"
    no_cli.mkdir()
    result = script(str(recording), env={**os.environ, "PATH": str(no_cli)})
    assert result.returncode == 2
    assert "the pulumi CLI is not on PATH" in result.stderr and "--sandbox-recording" in result.stderr


def write(path: Path, *answers: tuple[str, int, object]) -> Path:
    exchanges = tuple(
        Exchange(
            step="up",
            method="GET",
            path=endpoint,
            query={"language": "en"},
            language=None,
            status=status,
            answer=answer,  # type: ignore[arg-type]
            headers=("content-type",),
        )
        for endpoint, status, answer in answers
    )
    path.write_text(
        Recording("tenant" if "tenant" in path.name else "sandbox", exchanges).dumps(), encoding="utf-8"
    )
    return path


def test_the_same_answers_compare_clean(tmp_path: Path) -> None:
    answer = ("/api/public/bot/{bot_id}/publish/status", 200, {"status": "str"})
    result = script(
        str(write(tmp_path / "tenant.json", answer)),
        "--sandbox-recording",
        str(write(tmp_path / "s.json", answer)),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"Compared {tmp_path / 'tenant.json'} (tenant, 1 exchanges) with the sandbox's answers (1 exchanges, "
        "1 endpoints): no differences\n"
    )


def test_differences_are_listed_one_a_line_and_exit_1(tmp_path: Path) -> None:
    tenant = write(
        tmp_path / "tenant.json", ("/a", 200, {"x": "str", "y": ["number"]}), ("/b", 202, "<empty>")
    )
    sandbox = write(tmp_path / "sandbox.json", ("/a", 200, {"x": "null"}), ("/b", 200, "<empty>"))
    result = script(str(tenant), "--sandbox-recording", str(sandbox))
    assert result.returncode == 1
    assert result.stdout.splitlines()[1:] == [
        "  - GET /a (200): $.x is str in the recording, null from the sandbox",
        "  - GET /a (200): $.y (array) is in the recording, missing from the sandbox",
        "  - GET /b: status 202 in the recording, 200 from the sandbox",
    ]
    assert result.stdout.splitlines()[0].endswith("3 differences")


def test_check_lists_every_string_of_a_recording(tmp_path: Path) -> None:
    recording = write(
        tmp_path / "tenant.json", ("/api/public/bot/{bot_id}/ml/train/status", 200, {"trainingStatus": "str"})
    )
    result = script("--check", str(recording))
    assert result.returncode == 0
    assert result.stdout.splitlines()[1:] == [
        "  GET /api/public/bot/{bot_id}/ml/train/status",
        "  content-type",
        "  language=en",
        "  tenant",
        "  trainingStatus",
        "  up",
    ]


def test_a_file_that_is_not_a_recording_exits_2_naming_it(tmp_path: Path) -> None:
    recording = write(tmp_path / "tenant.json", ("/a", 200, {"x": "str"}))
    leaky = tmp_path / "leaky.json"
    leaky.write_text(
        recording.read_text(encoding="utf-8").replace('"x": "str"', '"x": "a secret"'), encoding="utf-8"
    )
    for args in (["--check", str(leaky)], [str(leaky), "--sandbox-recording", str(recording)]):
        result = script(*args)
        assert result.returncode == 2
        assert f"{leaky}: exchanges[0]: answer: $.x holds a value, not one of" in result.stderr
        assert "a secret" not in result.stderr
    missing = script(str(tmp_path / "none.json"), "--sandbox-recording", str(recording))
    assert missing.returncode == 2 and "cannot be read" in missing.stderr
