"""The sandbox keeps its bots' state across restarts, like a platform (`Sandbox(state_file=...)`,
`kore-sandbox --state-file PATH`): a training, utterances, variables and the ids a later refresh asks about
survive a stop and a start; a file that cannot be loaded stops the start with an error naming it; the
banner says whether it starts empty or loaded the file. Real sockets and JWTs; time on virtual clocks."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from documented import BOT, token
from kore_sandbox import Sandbox, StateFileError, persistence
from kore_sandbox.persistence import FORMAT, write_state_file
from kore_sandbox.testing import HANG_SECONDS, VirtualClock, wait_until
from sandbox_process import SandboxProcess

pytestmark = pytest.mark.sandbox

REPOSITORY = Path(__file__).resolve().parents[2]
SAMPLE = REPOSITORY / "utterances" / "travel" / "en" / "ml-utterances.json"
DEFINITION = REPOSITORY / "definitions" / "travel"
SECRET_VALUE = "flight-api-key-1"


class Wall:
    """A wall clock the test moves: what passes while a sandbox is stopped."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall() -> Wall:
    return Wall()


def sandbox(state_file: Path, wall: Wall) -> Sandbox:
    """A sandbox on a fresh virtual clock (a new process's monotonic clock) and the test's wall clock:
    trainings 10 s after 1 s queued, imports 1 s, publishes 2 s."""
    return Sandbox(
        training_seconds=10,
        queue_seconds=1,
        import_seconds=1,
        publish_seconds=2,
        clock=VirtualClock(start=500.0),
        wall_clock=wall,
        state_file=state_file,
    ).start()


def auth() -> dict[str, str]:
    return {"auth": token()}


def call(sb: Sandbox, method: str, path: str, **kw: Any) -> Any:
    answer = requests.request(method, f"{sb.url}{path}", headers={**auth(), **kw.pop("headers", {})}, **kw)
    assert answer.status_code == 200, f"{method} {path}: {answer.status_code} {answer.text}"
    return answer.json()


def upload(sb: Sandbox, path: Path, extension: str) -> str:
    return str(
        call(
            sb,
            "POST",
            "/api/public/uploadfile",
            files={"file": (path.name, path.read_bytes())},
            data={"fileContext": "bulkImport", "fileExtension": extension},
            timeout=30,
        )["fileId"]
    )


def clock_of(sb: Sandbox) -> VirtualClock:
    clock = sb._clock
    assert isinstance(clock, VirtualClock)
    return clock


def deploy(sb: Sandbox) -> dict[str, str]:
    """What the demo's `pulumi up` does to the bot: definition, variables, ML import, a training, a publish.
    The ids a refresh asks about later."""
    clock = clock_of(sb)
    definition = call(
        sb,
        "POST",
        f"/api/public/bot/{BOT}/import",
        json={
            "botDefinition": upload(sb, DEFINITION / "botDefinition.json", "json"),
            "configInfo": upload(sb, DEFINITION / "config.json", "json"),
            "botFunctions": [upload(sb, DEFINITION / "flightStatus.js", "js")],
        },
        timeout=30,
    )["_id"]
    call(
        sb,
        "POST",
        f"/api/1.1/public/builder/bot/{BOT}/variables/import",
        json=[
            {"key": "flightApi", "value": "http://flights", "variableType": "env", "scope": "prePopulated"},
            {
                "key": "flightApiKey",
                "value": SECRET_VALUE,
                "variableType": "env",
                "scope": "hidden",
                "isSecured": True,
            },
        ],
        timeout=30,
    )
    ml_import = call(
        sb,
        "POST",
        f"/api/public/bot/{BOT}/mlimport",
        headers={"bot-language": "en"},
        json={"fileName": SAMPLE.name, "fileId": upload(sb, SAMPLE, "json")},
        timeout=30,
    )["_id"]
    clock.advance(1)
    training = call(sb, "POST", f"/api/public/bot/{BOT}/ml/train", headers={"bot-language": "en"}, timeout=30)
    clock.advance(11)
    publish = call(sb, "POST", f"/api/public/bot/{BOT}/publish", json={"versionComment": "v1"}, timeout=30)
    assert publish[0]["status"] == "SUCCESS"
    clock.advance(2)
    return {"definition": definition, "ml_import": ml_import, "training": training[0]["Training_ID"]}


def what_a_refresh_reads(sb: Sandbox, ids: dict[str, str]) -> dict[str, Any]:
    """Every answer `pulumi refresh` of the demo stack asks for, with what changes per call left out."""
    status = call(
        sb, "GET", f"/api/public/bot/{BOT}/ml/train/status?language=en&state=configured", timeout=30
    )
    ml_import = call(sb, "GET", f"/api/public/bot/{BOT}/mlimport/status/{ids['ml_import']}", timeout=30)
    definition = call(sb, "GET", f"/api/public/bot/import/status/{ids['definition']}", timeout=30)
    publish = call(sb, "GET", f"/api/public/bot/{BOT}/publish/status", timeout=30)
    variables = call(sb, "POST", f"/api/1.1/public/builder/bot/{BOT}/variables/export", timeout=30)
    return {
        "training": status,
        "ml_import": ml_import,
        "definition": definition,
        "publish": {k: v for k, v in publish.items() if k != "lastModifiedOn"},
        "variables": variables,
        "utterances": sb.utterances(BOT, "en"),
        "real variables": sb.variables(BOT),
        "trainings": [(t.training_id, t.phase, t.outcome) for t in sb.trainings],
    }


def test_the_bots_state_survives_a_stop_and_a_start(tmp_path: Path, wall: Wall) -> None:
    state_file = tmp_path / "sandbox-state.json"
    first = sandbox(state_file, wall)
    try:
        ids = deploy(first)
        first.add_utterance(BOT, "en", "Book Flight", "Fly me to Rome")  # a drift knob's change too
        before = what_a_refresh_reads(first, ids)
    finally:
        first.stop()
    assert json.loads(state_file.read_text(encoding="utf-8"))["format"] == FORMAT
    assert SECRET_VALUE in state_file.read_text(encoding="utf-8"), "the platform keeps the secured value"
    assert state_file.stat().st_mode & 0o077 == 0, "readable by its owner only: it holds secured values"

    wall.now += 3600  # an hour, or a reboot, later
    second = sandbox(state_file, wall)
    try:
        after = what_a_refresh_reads(second, ids)
        assert after == before
        assert after["training"]["trainingStatus"] == "Finished"
        assert after["training"]["isMlInSyncWithSentences"] is False, "the drift edit is still pending"
        assert after["ml_import"]["status"] == "success" and after["definition"]["status"] == "success"
        assert after["publish"]["status"] == "successful"
        assert {v["key"]: v["value"] for v in after["variables"]} == {
            "flightApi": "http://flights",
            "flightApiKey": "",
        }
        assert "Fly me to Rome" in [u["sentence"] for u in after["utterances"]]
        assert second.definitions.imported(BOT) is not None
        assert second.state_line.startswith(f"state: loaded from {state_file} (saved ")
        assert "1 trainings, 1 ML imports, 1 definition imports, 1 publishes, 4 uploaded files" in (
            second.state_line
        )
        # The platform goes on from there: a new training of the language, a later restart keeps it too.
        call(second, "POST", f"/api/public/bot/{BOT}/ml/train", headers={"bot-language": "en"}, timeout=30)
        clock_of(second).advance(11)
        assert second.training_status(BOT)["isMlInSyncWithSentences"] is True
    finally:
        second.stop()
    third = sandbox(state_file, wall)
    try:
        assert len(third.trainings) == 2 and third.training_status(BOT)["isMlInSyncWithSentences"] is True
    finally:
        third.stop()


def test_a_training_running_at_the_stop_has_finished_when_time_has_passed(tmp_path: Path, wall: Wall) -> None:
    state_file = tmp_path / "state.json"
    first = sandbox(state_file, wall)
    try:
        queued = call(
            first, "POST", f"/api/public/bot/{BOT}/ml/train", headers={"bot-language": "de"}, timeout=30
        )
        clock_of(first).advance(3)  # queued 1 s, then 3 s of 10 trained: 8 s left
        wall.now += 3  # the two clocks of a real process move together
        assert first.training_status(BOT, "de")["trainingStatus"] == "Inprogress"
    finally:
        first.stop()
    wall.now += 2  # started again before the 8 s are up: 6 s left
    second = sandbox(state_file, wall)
    try:
        assert second.training_status(BOT, "de")["trainingStatus"] == "Inprogress"
        clock_of(second).advance(5)
        assert second.training_status(BOT, "de")["trainingStatus"] == "Inprogress"
        clock_of(second).advance(1)
        assert second.training_status(BOT, "de")["trainingStatus"] == "Finished"
        assert second.trainings[0].training_id == queued[0]["Training_ID"]
    finally:
        second.stop()


def test_a_hung_training_is_released_by_a_restart(tmp_path: Path, wall: Wall) -> None:
    state_file = tmp_path / "state.json"
    first = sandbox(state_file, wall)
    try:
        first.hang_trainings()
        call(first, "POST", f"/api/public/bot/{BOT}/ml/train", headers={"bot-language": "en"}, timeout=30)
        clock_of(first).advance(60)
        assert first.training_status(BOT)["trainingStatus"] == "Inprogress"
    finally:
        first.stop()
    second = sandbox(state_file, wall)
    try:
        assert second.training_status(BOT)["trainingStatus"] == "Finished", "knobs are configuration"
        assert not second.settings()["hang_trainings"]
    finally:
        second.stop()


def test_each_change_is_on_disk_before_its_answer_and_nothing_else_rewrites_the_file(
    tmp_path: Path, wall: Wall
) -> None:
    state_file = tmp_path / "state.json"
    sb = sandbox(state_file, wall)
    try:
        variable = {"key": "greeting", "value": "hi", "variableType": "env", "scope": "prePopulated"}
        call(sb, "POST", f"/api/1.1/public/builder/bot/{BOT}/variables/import", json=[variable], timeout=30)
        stored = json.loads(state_file.read_text(encoding="utf-8"))
        assert [v["key"] for v in stored["state"]["variables"]["variables"][BOT]] == ["greeting"]
        written = state_file.stat().st_ino
        for _ in range(3):  # reads change nothing: the file is not written again
            call(sb, "GET", f"/api/public/bot/{BOT}/ml/train/status?language=en", timeout=30)
            call(sb, "POST", f"/api/1.1/public/builder/bot/{BOT}/variables/export", timeout=30)
            requests.get(f"{sb.url}/_sandbox/info", timeout=30)
        assert state_file.stat().st_ino == written
        answer = requests.post(
            f"{sb.url}/_sandbox/faults",
            json={"delete_variable": {"bot_id": BOT, "key": "greeting"}},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert (
            json.loads(state_file.read_text(encoding="utf-8"))["state"]["variables"]["variables"][BOT] == []
        )
        requests.post(f"{sb.url}/_sandbox/reset", timeout=30)
        assert json.loads(state_file.read_text(encoding="utf-8"))["state"]["variables"]["variables"] == {}
        assert [p.name for p in tmp_path.iterdir()] == ["state.json"], "no temporary file is left"
    finally:
        sb.stop()


def test_a_write_that_fails_leaves_the_old_file_whole(
    tmp_path: Path, wall: Wall, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    state_file = tmp_path / "state.json"
    sb = sandbox(state_file, wall)
    try:
        call(sb, "POST", f"/api/public/bot/{BOT}/ml/train", headers={"bot-language": "en"}, timeout=30)
        old = state_file.read_text(encoding="utf-8")

        def disk_full(fd: int) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(persistence.os, "fsync", disk_full)
        for _ in range(2):  # still served; the failure reported once
            call(sb, "POST", f"/api/public/bot/{BOT}/ml/train", headers={"bot-language": "de"}, timeout=30)
        assert state_file.read_text(encoding="utf-8") == old
        assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
        reported = capfd.readouterr().err
        assert reported.count(f"kore-sandbox: could not save the state to {state_file}: ") == 1, reported
        monkeypatch.undo()
        call(sb, "GET", f"/api/public/bot/{BOT}/ml/train/status?language=en", timeout=30)
        assert len(json.loads(state_file.read_text(encoding="utf-8"))["state"]["trainings"]["trainings"]) == 3
    finally:
        sb.stop()


def test_writes_taken_in_order_never_put_an_older_state_over_a_newer_one(tmp_path: Path, wall: Wall) -> None:
    state_file = tmp_path / "state.json"
    sb = sandbox(state_file, wall)
    try:
        errors: list[BaseException] = []

        def add(worker: int) -> None:
            try:
                for i in range(10):
                    sb.set_variable(BOT, f"w{worker}-{i}", "v")
            except BaseException as err:  # noqa: BLE001 - reported by the assertion below
                errors.append(err)

        threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=HANG_SECONDS)
        assert errors == []
        stored = json.loads(state_file.read_text(encoding="utf-8"))["state"]["variables"]["variables"][BOT]
        assert len(stored) == 40
    finally:
        sb.stop()


# -- a file that cannot be loaded ------------------------------------------------------------------------
def valid_state(tmp_path: Path, wall: Wall) -> str:
    path = tmp_path / "valid.json"
    sb = sandbox(path, wall)
    try:
        call(sb, "POST", f"/api/public/bot/{BOT}/ml/train", headers={"bot-language": "en"}, timeout=30)
    finally:
        sb.stop()
    return path.read_text(encoding="utf-8")


def broken(text: str, change: Callable[[dict[str, Any]], None]) -> str:
    document = json.loads(text)
    change(document)
    return json.dumps(document)


CORRUPT: dict[str, tuple[Callable[[str], str | bytes], str]] = {
    "cut short": (lambda valid: valid[: len(valid) // 2], "is not JSON"),
    "empty": (lambda valid: "", "is not JSON"),
    "not UTF-8": (lambda valid: b"\xff\xfe\x00{", "cannot read the sandbox state file"),
    "another program's JSON": (lambda valid: '{"hello": 1}', "is not a kore-sandbox state file"),
    "another version": (
        lambda valid: broken(valid, lambda d: d.update(format="kore-sandbox-state/99")),
        "format 'kore-sandbox-state/99'",
    ),
    "a field missing": (
        lambda valid: broken(valid, lambda d: d["state"]["trainings"]["trainings"][0].pop("outcome")),
        "trainings.trainings[0].outcome is missing",
    ),
    "a field of the wrong type": (
        lambda valid: broken(valid, lambda d: d["state"]["pipeline"].update(files="none")),
        "pipeline.files is not a list",
    ),
}


@pytest.mark.parametrize("kind", list(CORRUPT))
def test_a_corrupt_state_file_stops_the_start_naming_the_file(tmp_path: Path, wall: Wall, kind: str) -> None:
    damage, said = CORRUPT[kind]
    content = damage(valid_state(tmp_path, wall))
    path = tmp_path / "sandbox-state.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(StateFileError) as raised:
        Sandbox(state_file=path, clock=VirtualClock(), wall_clock=wall)
    message = str(raised.value)
    assert str(path) in message and said in message, message
    assert "move it away to start with an empty sandbox" in message
    assert path.read_bytes() == (content if isinstance(content, bytes) else content.encode()), "left as it is"


def test_a_state_path_that_is_a_folder_or_in_no_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match=f"cannot read the sandbox state file {tmp_path}"):
        Sandbox(state_file=tmp_path)
    missing = tmp_path / "no-such-folder" / "state.json"
    with pytest.raises(StateFileError, match=f"the folder {missing.parent} does not exist"):
        Sandbox(state_file=missing)


def test_write_state_file_replaces_the_file_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.json"
    write_state_file(path, "old")

    def interrupted(source: object, target: object) -> None:
        raise KeyboardInterrupt  # the process stopped between writing the new file and renaming it

    monkeypatch.setattr(persistence.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_state_file(path, "new")
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


# -- the command line ------------------------------------------------------------------------------------
def test_the_banner_says_whether_the_sandbox_starts_empty_or_loads_its_state(
    tmp_path: Path, sandbox_process: Callable[..., SandboxProcess]
) -> None:
    path = tmp_path / "sandbox-state.json"
    memory = sandbox_process()
    assert (
        memory.banner[1] == "state: in memory only, lost when the sandbox stops (--state-file PATH keeps it)"
    )
    memory.stop()

    empty = sandbox_process("--state-file", str(path))
    assert empty.banner[0].startswith("Kore.ai sandbox listening on http://127.0.0.1:")
    assert (
        empty.banner[1]
        == f"state: no state file at {path} yet: starting empty; saved there after every change"
    )
    knob = {"set_variable": {"bot_id": BOT, "key": "greeting", "value": "hi"}}
    assert requests.post(f"{empty.url}/_sandbox/faults", json=knob, timeout=30).status_code == 200
    assert requests.get(f"{empty.url}/_sandbox/info", timeout=30).json()["state_file"] == str(path)
    assert "Kore.ai sandbox stopped" in empty.stop()

    loaded = sandbox_process("--state-file", str(path))
    assert loaded.banner[1].startswith(f"state: loaded from {path} (saved ")
    assert loaded.banner[1].endswith("): 1 bots with variables; saved there after every change")
    wait_until(lambda: requests.get(f"{loaded.url}/_sandbox/variables", timeout=30).ok, "the admin API")
    variables = requests.get(f"{loaded.url}/_sandbox/variables", timeout=30).json()["variables"]
    assert [v["key"] for v in variables[BOT]] == ["greeting"]


def test_the_command_line_refuses_a_corrupt_state_file_and_leaves_it(tmp_path: Path) -> None:
    path = tmp_path / "sandbox-state.json"
    path.write_text('{"format": "kore-sandbox-state/1", "saved', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "kore_sandbox", "--port", "0", "--state-file", str(path)],
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: the sandbox state file {path} is not JSON (")
    assert "listening" not in result.stdout
    assert path.read_text(encoding="utf-8") == '{"format": "kore-sandbox-state/1", "saved'
