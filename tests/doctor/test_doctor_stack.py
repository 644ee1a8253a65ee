"""kore-doctor in a Pulumi project: the stack's config read through the real `pulumi` CLI (a file backend
and a passphrase, as a user's CI has), resolved as the program resolves it, checked against a sandbox."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_harness import REQUIRES_PULUMI, Cli
from demo_values import BOT
from doctor_helpers import assert_nothing_changed, assert_secrets_not_shown, doctor, use_apps
from kore_sandbox import DEMO_ADMIN_APP, DEMO_BOT_APP, Sandbox

pytestmark = [pytest.mark.cli, *REQUIRES_PULUMI]

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "doctor-bots"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def project_with_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str) -> tuple[Path, Cli]:
    """A project with a `dev` stack whose Pulumi.dev.yaml holds `config`; the process's environment is a
    user's: the backend and passphrase of that stack, no KORE_* variable."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime:\n  name: python\n")
    shutil.copytree(ROOT / "definitions" / "travel", project / "definitions" / "travel")
    cli = Cli(project, tmp_path)
    cli("stack", "init", "dev")
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + config)  # after the passphrase's encryptionsalt
    use_apps(monkeypatch, None)
    for name, value in cli.env.items():
        if name.startswith("PULUMI_"):
            monkeypatch.setenv(name, value)
    return project, cli


def test_a_stack_is_checked_as_the_program_would_deploy_it(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project, cli = project_with_stack(
        tmp_path,
        monkeypatch,
        f"""config:
  kore:host: {sandbox.url}
  kore:clientId: {DEMO_BOT_APP.client_id}
  kore:adminClientId: {DEMO_ADMIN_APP.client_id}
  kore:promoteForm: organization/{PROJECT}/dev
  {PROJECT}:bots:
    - name: travel
      botId: {BOT}
      languages: [en, th]
      utterances: utterances/travel
      importUtterances: true
      definition: {{folder: definitions/travel, fullImport: true}}
      variables:
        flightApi: http://127.0.0.1/flights
      publish:
        versionComment: checked by kore-doctor
""",
    )
    cli("config", "set", "--secret", "kore:clientSecret", DEMO_BOT_APP.client_secret)
    cli("config", "set", "--secret", "kore:adminClientSecret", DEMO_ADMIN_APP.client_secret)

    report = doctor(capsys, "-C", str(project), "-s", "dev")

    assert report.code == 1
    assert {(c["family"], c["language"]) for c in report.problems} == {("config", None), ("language", "th")}
    typo = report.one(family="config")
    assert "kore:promoteForm" in str(typo["seen"]) and "pulumi config rm kore:promoteForm" in str(typo["fix"])
    language = report.one(family="language", language="th")
    assert f"{PROJECT}:bots[0].languages" in str(language["fix"]) and language["bot_name"] == "travel"
    # Every family the stack's bot uses is checked, each with the app the deploy would use for it.
    ok = {(c["family"], c["app"]) for c in report.where(status="ok", bot=BOT)}
    bot_level, admin = DEMO_BOT_APP.client_id, DEMO_ADMIN_APP.client_id
    assert ok >= {
        ("reach", bot_level),
        ("train", bot_level),
        ("language", bot_level),
        ("ml-import", bot_level),
        ("ml-export", bot_level),
        ("variables-export", bot_level),
        ("reach", admin),
        ("publish-status", admin),
    }
    assert report.one(family="bot-import")["app"] == admin
    assert {c["status"] for c in report.where(family="token")} == {"ok"}
    assert_secrets_not_shown(report.output, [DEMO_BOT_APP.client_secret, DEMO_ADMIN_APP.client_secret])
    assert_nothing_changed(sandbox)


def test_a_stack_made_from_the_template_is_checked_from_its_bot_id_and_languages(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project, cli = project_with_stack(
        tmp_path,
        monkeypatch,
        f"""config:
  kore:host: {sandbox.url}
  kore:clientId: {DEMO_BOT_APP.client_id}
  {PROJECT}:botId: {BOT}
  {PROJECT}:languages: '["en", "de"]'
""",
    )
    cli("config", "set", "--secret", "kore:clientSecret", DEMO_BOT_APP.client_secret)
    report = doctor(capsys, "-C", str(project))  # the selected stack, named in the report
    assert report.code == 0, report.output
    assert report.source == f"stack dev of project {PROJECT}"
    # The template's program only trains: nothing else is asked.
    assert {c["family"] for c in report.checks} == {
        "resolve",
        "tls",
        "answers",
        "token",
        "reach",
        "train",
        "language",
    }
    assert {c["language"] for c in report.where(family="language", status="ok")} == {"en", "de"}
    assert_nothing_changed(sandbox)


def test_a_stack_that_cannot_be_read_is_one_problem_naming_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project, _ = project_with_stack(tmp_path, monkeypatch, "")
    report = doctor(capsys, "-C", str(project), "-s", "prod")  # never created
    assert report.code == 1
    [problem] = report.checks
    assert problem["family"] == "config"
    seen = str(problem["seen"])
    assert "`pulumi config --json --show-secrets --stack prod` failed" in seen and "prod" in seen
    assert str(problem["fix"]).startswith("select or create the stack (pulumi stack ls)")
