"""kore-doctor without a stack (`--host`, `--bot`, credentials from the environment), in-process against a
real sandbox on 127.0.0.1: a healthy setup is all ok, and each misconfiguration the sandbox can play is a
problem line that names its fix. Every test also proves, from the sandbox's call log, that nothing was
changed on the platform."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from demo_values import BOT, OTHER_BOT
from doctor_helpers import (
    assert_nothing_changed,
    assert_secrets_not_shown,
    doctor,
    doctor_text,
    html_server,
    use_apps,
)
from kore_resources.doctor import checks
from kore_resources.doctor.__main__ import main
from kore_resources.doctor.model import Answer
from kore_sandbox import (
    DEMO_ADMIN_APP,
    DEMO_APP,
    DEMO_BOT_APP,
    SCOPE_BOT_IMPORT,
    SCOPE_EXPORT_VARIABLES,
    SCOPE_ML_EXPORT,
    SCOPE_ML_IMPORT,
    SCOPE_PUBLISH_STATUS,
    SCOPE_TRAIN_ML,
    Sandbox,
    SandboxApp,
    SandboxBot,
)

pytestmark = pytest.mark.sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def bot_args(sandbox: Sandbox, *bots: str, languages: tuple[str, ...] = ("en", "de")) -> list[str]:
    args = ["--host", sandbox.url]
    for bot in bots or (BOT,):
        args += ["--bot", bot]
    for language in languages:
        args += ["--language", language]
    return args


def test_a_healthy_setup_is_all_ok_and_exits_0(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_apps(monkeypatch, DEMO_BOT_APP, admin=DEMO_ADMIN_APP)
    report = doctor(capsys, *bot_args(sandbox, BOT, OTHER_BOT))
    assert report.code == 0, report.output
    assert report.problems == []
    assert report.families("ok") >= {
        "resolve",
        "tls",
        "answers",
        "token",
        "bot-import",
        "reach",
        "train",
        "language",
        "ml-import",
        "ml-export",
        "variables-export",
        "publish-status",
    }
    for bot in (BOT, OTHER_BOT):
        assert {c["language"] for c in report.where(bot=bot, family="language", status="ok")} == {"en", "de"}
    # What only a write would tell is said, not guessed; it is no problem.
    assert report.families("not checkable") == {"upload", "variables-import", "publish"}
    admin_reach = report.where(family="reach", role="admin")
    assert {c["status"] for c in admin_reach} == {"ok"}  # publish status names the bot for the admin app
    assert {c["app"] for c in report.where(family="token")} == {
        DEMO_BOT_APP.client_id,
        DEMO_ADMIN_APP.client_id,
    }
    assert_secrets_not_shown(report.output, [DEMO_BOT_APP.client_secret, DEMO_ADMIN_APP.client_secret])
    assert_nothing_changed(sandbox)

    code, text = doctor_text(capsys, *bot_args(sandbox))
    assert code == 0
    assert text.splitlines()[-1].startswith("0 problems, ")
    assert "nothing was changed on the platform" in text


def test_the_json_document_lists_every_check_with_its_fields(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_apps(monkeypatch, DEMO_APP)
    code, out = doctor_text(capsys, *bot_args(sandbox, languages=("en", "th")), "--json")
    assert code == 1
    document = json.loads(out)
    assert document["ok"] is False and document["host"] == sandbox.url
    assert document["summary"]["problem"] == 1
    for check in document["checks"]:
        assert set(check) == {
            "status",
            "family",
            "host",
            "app",
            "role",
            "bot",
            "bot_name",
            "language",
            "seen",
            "fix",
            "basis",
        }
        assert check["status"] in ("ok", "problem", "not checkable")
        assert check["host"] == sandbox.url
        if check["status"] == "problem":
            assert check["fix"]
    [problem] = [c for c in document["checks"] if c["status"] == "problem"]
    assert (problem["bot"], problem["language"], problem["family"]) == (BOT, "th", "language")
    assert problem["app"] == DEMO_APP.client_id and problem["role"] == "bot-level"
    assert_nothing_changed(sandbox)


def test_a_wrong_secret_names_the_client_secret(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_apps(monkeypatch, DEMO_BOT_APP, secret="not-the-secret-of-this-app", admin=DEMO_ADMIN_APP)
    report = doctor(capsys, *bot_args(sandbox))
    assert report.code == 1
    token = report.one(family="token", app=DEMO_BOT_APP.client_id)
    assert token["status"] == "problem"
    assert "Invalid SDK credentials" in str(token["seen"])
    assert "kore:clientSecret" in str(token["fix"]) and "KORE_CLIENT_SECRET" in str(token["fix"])
    # The bot's answer is the same for a wrong secret and an unlinked bot: both fixes are named.
    reach = report.one(family="reach", role="bot-level")
    assert reach["status"] == "problem"
    assert "kore:clientSecret" in str(reach["fix"]) and "App Settings > Dev Tools" in str(reach["fix"])
    # What needs that app is not asked again; the Admin Console app, whose secret is right, is checked.
    assert {c["status"] for c in report.where(role="bot-level", bot=BOT) if c["family"] != "reach"} == {
        "not checkable"
    }
    assert report.one(family="token", app=DEMO_ADMIN_APP.client_id)["status"] == "ok"
    assert report.one(family="publish-status")["status"] == "ok"
    assert_secrets_not_shown(report.output, ["not-the-secret-of-this-app", DEMO_ADMIN_APP.client_secret])
    assert_nothing_changed(sandbox)


@pytest.mark.parametrize(
    ("scope", "family", "named"),
    [
        (SCOPE_TRAIN_ML, "train", "Train ML"),
        (SCOPE_ML_IMPORT, "ml-import", "Utterances Import"),
        (SCOPE_ML_EXPORT, "ml-export", "Utterances Export"),
        (SCOPE_EXPORT_VARIABLES, "variables-export", "Export Variables"),
        (SCOPE_BOT_IMPORT, "bot-import", "Bot Definition > Bot Import"),
        (SCOPE_PUBLISH_STATUS, "publish-status", "Bot Publish > Publish Status"),
    ],
)
def test_an_app_without_a_scope_names_the_scope_and_where_to_add_it(
    scope: str, family: str, named: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app = SandboxApp(
        "short-of-one",
        "cs-00000000-0000-4000-8000-00000000d0c1",
        "short-of-one-secret",
        scopes=DEMO_APP.scopes - {scope},
        kinds=DEMO_APP.kinds,
    )
    bot = SandboxBot(
        "scoped", "st-00000000-0000-4000-8000-00000000d0c1", ("en",), linked_apps=(app.client_id,)
    )
    with Sandbox(apps=[app], bots=[bot], demo_data=False) as sandbox:
        use_apps(monkeypatch, app)
        report = doctor(capsys, *bot_args(sandbox, bot.bot_id, languages=("en",)))
        assert_nothing_changed(sandbox)
    assert report.code == 1
    [problem] = report.problems
    assert problem["family"] == family
    assert "Permission denied. Scope is incorrect!" in str(problem["seen"])
    assert named in str(problem["fix"]) and "API Scopes" in str(problem["fix"])
    assert "publish the scope mapping" in str(problem["fix"])
    assert report.one(family="token")["status"] == "ok"


def test_a_bot_level_app_used_for_bot_import_and_publish_names_the_admin_console_app(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_apps(monkeypatch, DEMO_BOT_APP)  # no kore:adminClientId: this app makes the Admin Console calls too
    report = doctor(capsys, *bot_args(sandbox))
    assert report.code == 1
    assert {c["family"] for c in report.problems} == {"bot-import", "publish-status"}
    for problem in report.problems:
        fix = str(problem["fix"])
        assert "Admin Console app" in fix and "a bot-level app cannot have it" in fix
        assert "kore:adminClientId" in fix and "KORE_ADMIN_CLIENT_SECRET" in fix
    assert "Bot Definition > Bot Import" in str(report.one(family="bot-import")["fix"])
    assert "Bot Publish > Publish Status" in str(report.one(family="publish-status")["fix"])
    assert report.one(family="train")["status"] == "ok"  # what a bot-level app may do, it does
    assert_nothing_changed(sandbox)


def test_an_admin_console_app_used_for_variables_names_a_bot_level_app(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_apps(monkeypatch, DEMO_ADMIN_APP)
    report = doctor(capsys, *bot_args(sandbox))
    assert report.code == 1
    [problem] = report.problems
    assert problem["family"] == "variables-export"
    fix = str(problem["fix"])
    assert "bot-level app" in fix and "An Admin Console app cannot have them" in fix
    assert "kore:clientId" in fix and "Export Variables and Import Variables" in fix
    assert report.one(family="variables-import")["status"] == "not checkable"
    assert_nothing_changed(sandbox)


def test_a_bot_not_linked_to_the_app_names_the_bot_id_and_the_link(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lonely = SandboxBot(
        "lonely", "st-00000000-0000-4000-8000-00000000d0c2", ("en",), linked_apps=(DEMO_ADMIN_APP.client_id,)
    )
    with Sandbox(bots=[lonely]) as sandbox:
        use_apps(monkeypatch, DEMO_BOT_APP, admin=DEMO_ADMIN_APP)
        report = doctor(capsys, *bot_args(sandbox, lonely.bot_id, languages=("en",)))
        assert_nothing_changed(sandbox)
    assert report.code == 1
    [problem] = report.problems
    assert (problem["family"], problem["role"]) == ("reach", "bot-level")
    fix = str(problem["fix"])
    # The token was accepted (the bot-less probe got past it), so the fix is the bot, not the secret.
    assert "accepted this app's token" in fix and "kore:clientSecret" not in fix
    assert "--bot" in fix and lonely.bot_id in fix and "App Settings > Dev Tools" in fix
    assert report.one(family="token", app=DEMO_BOT_APP.client_id)["status"] == "ok"
    assert report.one(family="reach", role="admin")["status"] == "ok"


def test_a_language_the_bot_has_not_enabled_names_the_languages_page(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_apps(monkeypatch, DEMO_APP)
    report = doctor(capsys, *bot_args(sandbox, languages=("en", "th", "de")))
    assert report.code == 1
    [problem] = report.problems
    assert (problem["family"], problem["language"]) == ("language", "th")
    assert "'th' is not enabled" in str(problem["seen"])
    assert "Languages page" in str(problem["fix"]) and "--language" in str(problem["fix"])
    assert problem["basis"] == "undocumented"
    assert {c["language"] for c in report.where(family="language", status="ok")} == {"en", "de"}
    assert_nothing_changed(sandbox)


@pytest.mark.parametrize("reading", ["400", "404", "empty", "null"])
def test_a_language_never_trained_is_no_problem_under_every_reading(
    reading: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The docs do not say what train status answers for a language never trained (docs/kore-api.md §12):
    an answer about "no training" is not checkable without training, never a problem."""
    with Sandbox(readings={"untrained-language": reading}) as sandbox:
        use_apps(monkeypatch, DEMO_APP)
        report = doctor(capsys, *bot_args(sandbox))
        assert_nothing_changed(sandbox)
    assert report.code == 0, report.output
    statuses = {c["status"] for c in report.where(family="language")}
    assert statuses == ({"not checkable"} if reading in ("400", "404") else {"ok"})
    assert report.one(family="train")["status"] == "ok"


def test_a_refused_host_fails_at_once_naming_kore_host(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens there once it is closed
    use_apps(monkeypatch, DEMO_APP)
    report = doctor(capsys, "--host", f"http://127.0.0.1:{port}", "--bot", BOT)
    assert report.code == 1
    [problem] = report.problems
    assert problem["family"] == "answers" and "connection refused" in str(problem["seen"])
    assert "one attempt" in str(problem["seen"])
    assert "kore:host" in str(problem["fix"]) and "port" in str(problem["fix"])
    # Nothing else is asked of a host that does not answer.
    assert report.one(family="apps and bots")["status"] == "not checkable"
    assert sandbox.calls == []


def test_a_silent_host_fails_within_the_timeout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        use_apps(monkeypatch, DEMO_APP)
        host = f"http://127.0.0.1:{silent.getsockname()[1]}"
        report = doctor(capsys, "--host", host, "--bot", BOT, "--timeout", "1")
    [problem] = report.problems
    assert problem["family"] == "answers" and "no answer within 1 s" in str(problem["seen"])
    assert "port" in str(problem["fix"])


def test_a_server_that_is_not_kore_ai_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_apps(monkeypatch, DEMO_APP)
    with html_server() as (url, seen):
        report = doctor(capsys, "--host", url, "--bot", BOT)
    assert report.code == 1
    [problem] = report.problems
    assert problem["family"] == "answers"
    assert "HTML page" in str(problem["seen"]) and "not Kore.ai's JSON error envelope" in str(problem["seen"])
    assert "not Kore.ai's API" in str(problem["fix"]) and "https://platform.kore.ai" in str(problem["fix"])
    assert [method for method, _ in seen] == ["GET"]  # one read, then nothing more


def test_https_to_a_plain_http_host_names_tls(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_apps(monkeypatch, DEMO_APP)
    report = doctor(capsys, "--host", sandbox.url.replace("http://", "https://"), "--bot", BOT)
    [problem] = report.problems
    assert problem["family"] == "tls" and "plain HTTP" in str(problem["seen"])
    assert "http://" in str(problem["fix"])
    assert_nothing_changed(sandbox)


def test_a_host_name_that_does_not_resolve_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_such_name(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)  # no DNS in the test: loopback only
    use_apps(monkeypatch, DEMO_APP)
    report = doctor(capsys, "--host", "https://kore.invalid", "--bot", BOT)
    [problem] = report.problems
    assert problem["family"] == "resolve" and "does not resolve" in str(problem["seen"])
    assert "kore:host" in str(problem["fix"])


def test_a_missing_credential_names_its_config_key_and_environment_variable(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_apps(monkeypatch, None)
    monkeypatch.setenv("KORE_CLIENT_ID", DEMO_APP.client_id)
    report = doctor(capsys, *bot_args(sandbox))
    assert report.code == 1
    [problem] = report.problems
    assert problem["family"] == "config"
    assert "kore:clientSecret" in str(problem["fix"]) and "KORE_CLIENT_SECRET" in str(problem["fix"])
    assert report.one(family="answers")["status"] == "ok"  # the host is still checked
    assert_nothing_changed(sandbox)


def test_half_of_the_admin_credentials_names_the_other_half(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_apps(monkeypatch, DEMO_BOT_APP)
    monkeypatch.setenv("KORE_ADMIN_CLIENT_ID", DEMO_ADMIN_APP.client_id)
    report = doctor(capsys, *bot_args(sandbox))
    [problem] = report.problems
    assert problem["family"] == "config"
    assert "kore:adminClientSecret" in str(problem["fix"]) and "KORE_ADMIN_CLIENT_SECRET" in str(
        problem["fix"]
    )
    assert_nothing_changed(sandbox)


def test_the_host_comes_from_kore_host_when_not_given(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_apps(monkeypatch, DEMO_APP)
    monkeypatch.setenv("KORE_HOST", sandbox.url)
    report = doctor(capsys, "--bot", BOT)
    assert report.code == 0 and {c["host"] for c in report.checks} == {sandbox.url}
    monkeypatch.delenv("KORE_HOST")
    report = doctor(capsys, "--bot", BOT)
    [problem] = report.problems
    assert "kore:host" in str(problem["fix"]) and "KORE_HOST" in str(problem["fix"])
    assert_nothing_changed(sandbox)


def test_the_help_names_both_modes_and_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: kore-doctor")
    for words in ("-s STACK", "--bot BOT_ID", "--json", "not checkable without a write", "exit status"):
        assert words in text


def test_a_malformed_bot_id_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--host", "http://127.0.0.1:1", "--bot", "travel"])
    assert exited.value.code == 2
    assert "is not a Kore.ai bot id" in capsys.readouterr().err


# -- the decisions, on answers the sandbox does not give -----------------------------------------------------


def answer(status: int, message: str, code: int | None = None) -> Answer:
    return Answer(call="GET /x", status=status, message=message, code=code, envelope=True, is_json=True)


@pytest.mark.parametrize(
    ("seen", "kind"),
    [
        (answer(429, "You've exceeded the per-minute rate limit."), checks.Kind.RATE_LIMITED),
        (
            answer(400, "Rate limit for this API has been reached. Please try again later"),
            checks.Kind.RATE_LIMITED,
        ),
        (answer(401, "error verifying the jwt: possibly a replay", 401), checks.Kind.CREDENTIALS),
        (answer(401, "Permission denied. Scope is incorrect!", 4002), checks.Kind.SCOPE),
        (answer(400, "Invalid StreamId", 400), checks.Kind.UNKNOWN_STREAM),
        (answer(503, "Service Unavailable"), checks.Kind.SERVER),
        (replace(answer(404, ""), envelope=False, is_json=False), checks.Kind.NOT_KORE),
        (Answer(call="GET /x", failure="connection refused", failure_kind="connect"), checks.Kind.NO_ANSWER),
    ],
)
def test_each_answer_is_read_as_its_kind(seen: Answer, kind: checks.Kind) -> None:
    assert checks.classify(seen) is kind


def test_a_project_without_the_pulumi_cli_names_the_install_and_the_stackless_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: kore-bots\nruntime: python\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no pulumi there
    report = doctor(capsys, "-C", str(tmp_path), "-s", "dev")
    assert report.code == 1
    [problem] = report.checks
    assert "pulumi CLI is not on PATH" in str(problem["seen"])
    assert "download-install" in str(problem["fix"]) and "--bot BOT_ID" in str(problem["fix"])
