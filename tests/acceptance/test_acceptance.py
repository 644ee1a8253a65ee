"""The acceptance suite: the whole lifecycle of one bot through the real `pulumi` CLI, with the suite's own
program (tests/acceptance/program), against the sandbox (by default, started here) or a tenant's scratch bot
(`KORE_ACCEPTANCE_HOST` and the rest: README, "Testing against your own tenant").

`up` creates everything; a second `up` changes nothing and calls nothing; one edited utterance updates that
file's import, that language's training and the publish, nothing else; `refresh` finds no drift;
`destroy` calls nothing. Every exchange goes through a recording proxy and lands, redacted, in a recording
(`KORE_ACCEPTANCE_RECORDING`), which scripts/compare-recording.py compares with the sandbox's answers
(test_compare_recording.py).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from acceptance_target import (
    API_URL,
    BOT_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    HOST,
    ROOT,
    STACK,
    AcceptanceRun,
    Target,
    TargetError,
    announcement,
    ids_in,
    leaks,
    plan_of,
    recording_path,
    target_from_environment,
    target_host,
)
from cli_harness import REQUIRES_PULUMI
from kore_resources.api.models import FINISHED, IMPORT_SUCCESS, PUBLISH_SUCCESS
from kore_sandbox import Sandbox
from kore_sandbox.recording import Recording
from kore_sandbox.recording_proxy import RecordingProxy

pytestmark = [pytest.mark.acceptance, pytest.mark.cli, *REQUIRES_PULUMI]

BOT = "/api/public/bot/{bot_id}"


@pytest.fixture
def target() -> Target:
    """The target the environment names: a misconfigured one is an error naming the variable, not a skip."""
    try:
        return target_from_environment(os.environ)
    except TargetError as err:
        problem = str(err)
    pytest.fail(problem, pytrace=False)


def test_the_whole_lifecycle_against_the_target(
    target: Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = recording_path(os.environ, target, tmp_path)
    with capsys.disabled():  # before anything changes, and on the terminal: not captured
        print("\n" + announcement(target, plan_of(target.languages), recording), flush=True)
    named = run_recorded(target, tmp_path, recording)
    with capsys.disabled():
        print(f"\nkore-resources acceptance suite: the redacted recording is {recording}", flush=True)
    text = recording.read_text(encoding="utf-8")
    Recording.loads(text)  # shapes only: every leaf a type name
    assert leaks(text, named) == []


def run_recorded(target: Target, scratch: Path, recording: Path) -> dict[str, str]:
    """The lifecycle against `target` through a recording proxy, its recording written to `recording` (also
    when the run fails). What must not be in the recording, by name."""
    api_key = secrets.token_hex(16)  # never starts with "-", which the CLI would take for a flag
    named = {
        **target.secrets(),
        "the secured variable's value": api_key,
        "the plain variable's value": API_URL,
    }
    ca_file = os.environ.get("REQUESTS_CA_BUNDLE")
    with (
        target_host(target) as (host, sandbox),
        RecordingProxy(host, label=target.kind, ca_file=ca_file) as proxy,
    ):
        try:
            run = AcceptanceRun(target, scratch, proxy, api_key)
            named |= lifecycle(run, sandbox)
        finally:
            recording.parent.mkdir(parents=True, exist_ok=True)
            recording.write_text(proxy.recording().dumps(), encoding="utf-8")
    return named


def posted(exchanges: list) -> list[str]:
    """The paths of the successful POSTs, in order."""
    return [e.path for e in exchanges if e.method == "POST" and e.status is not None and e.status < 300]


def lifecycle(run: AcceptanceRun, sandbox: Sandbox | None) -> dict[str, str]:
    """up, a no-op up, a change, refresh, destroy; the ids the run made, by name (none may be recorded)."""
    target, languages = run.target, run.target.languages
    files = {
        language: sorted(p.name for p in (run.project / "utterances" / language).iterdir())
        for language in languages
    }
    imports = {f"utterances-{language}-{name}" for language in languages for name in files[language]}
    trainings = {f"training-{language}" for language in languages}

    # A preview is free.
    assert run.during("preview", "preview")[1] == []

    # up: everything is created, each job finished.
    _, calls = run.during("up", "up", "--yes", "--skip-preview")
    created = run.resources()
    assert set(created) == {"definition", "variables", "publish", *imports, *trainings}
    assert created["definition"]["import_status"] == IMPORT_SUCCESS
    assert created["definition"]["full_import"] is True
    assert all(created[name]["import_status"] == IMPORT_SUCCESS for name in imports)
    assert all(created[name]["training_status"] == FINISHED for name in trainings)
    assert created["publish"]["publish_status"] == PUBLISH_SUCCESS
    assert set(created["variables"]["variables"]) == {"koreAcceptanceApi", "koreAcceptanceKey"}
    done = posted(calls)
    assert done.count(f"{BOT}/import") == 1 and done.count(f"{BOT}/publish") == 1
    assert done.count(f"{BOT}/mlimport") == len(imports) and done.count(f"{BOT}/ml/train") == len(trainings)
    assert done.count("/api/1.1/public/builder/bot/{bot_id}/variables/import") == 1
    if sandbox is not None:
        assert [d.bot_id for d in sandbox.definitions.imports] == [target.bot_id]
        assert sandbox.definitions.imports[0].import_options is None  # a full import sends none
        values = {v["key"]: v["value"] for v in sandbox.variables(target.bot_id)}
        assert values == {"koreAcceptanceApi": API_URL, "koreAcceptanceKey": run.api_key}
        assert {(t.bot_id, t.language) for t in sandbox.trainings} == {
            (target.bot_id, lang) for lang in languages
        }
        assert [p.bot_id for p in sandbox.pipeline.publishes] == [target.bot_id]

    # A second up: no change, and no call at all.
    if sandbox is not None:
        sandbox.clear_calls()
    assert run.during("no-op up", "up", "--yes", "--expect-no-changes")[1] == []
    if sandbox is not None:
        assert sandbox.calls == []

    # One utterance edited: that file's import, that language's training and the publish update.
    edited_file, intent, sentence = run.edit_an_utterance()
    language = languages[0]
    changed = {f"utterances-{language}-{edited_file}", f"training-{language}", "publish"}
    assert run.planned_steps() == dict.fromkeys(changed, "update")
    _, calls = run.during("change", "up", "--yes", "--skip-preview")
    assert posted(calls) == ["/api/public/uploadfile", f"{BOT}/mlimport", f"{BOT}/ml/train", f"{BOT}/publish"]
    after = run.resources()
    assert {name for name in after if after[name] != created[name]} == changed
    assert after[f"training-{language}"]["training_id"] != created[f"training-{language}"]["training_id"]
    if sandbox is not None:
        assert (intent, sentence) in {
            (u["taskName"], u["sentence"]) for u in sandbox.utterances(target.bot_id, language)
        }

    # refresh reads everything back: no drift (a drift would change what it records, and fail this).
    run.during("refresh", "refresh", "--yes", "--expect-no-changes")

    # destroy: Kore.ai has no API to undo an import, a training or a publish, so nothing is called.
    assert run.during("destroy", "destroy", "--yes")[1] == []
    assert run.resources() == {}
    run.cli("stack", "rm", "--yes", "--stack", STACK)
    return ids_in(after) | ids_in(created)


def test_a_misconfigured_tenant_is_a_pytest_error_not_a_skip() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORE_ACCEPTANCE_", "PYTEST_XDIST"))}
    env |= {HOST: "https://platform.kore.ai", CLIENT_ID: "cs-x", CLIENT_SECRET: "never-printed"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/acceptance/test_acceptance.py::test_the_whole_lifecycle_against_the_target",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "1 error" in output and "skipped" not in output
    assert f"{BOT_ID} is not set" in output
    assert "never-printed" not in output
