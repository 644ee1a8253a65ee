"""The sandbox's app kinds, bot definition import and bot variables (kore-sandbox/kore_sandbox/definitions.py,
variables.py). Real sockets on 127.0.0.1, real JWTs; timing on a fake clock. Nothing from kore_resources
is imported except the sandbox."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from documented import BOT, CREDENTIALS, ISO_MS, OTHER_BOT, SCOPE, VALIDATION, token
from kore_sandbox import (
    APP_KIND_ADMIN,
    APP_KIND_BOT,
    DEMO_ADMIN_APP,
    DEMO_APP,
    DEMO_BOT_APP,
    DEMO_JTI_APP,
    SCOPE_BOT_IMPORT,
    SCOPE_EXPORT_VARIABLES,
    SCOPE_IMPORT_VARIABLES,
    SCOPE_PUBLISH,
    SCOPE_PUBLISH_STATUS,
    SCOPE_TRAIN_ML,
    RateLimit,
    Sandbox,
    SandboxApp,
    SandboxBot,
)
from kore_sandbox.testing import VirtualClock

pytestmark = pytest.mark.sandbox

UNKNOWN_BOT = "st-00000000-0000-4000-8000-00000000beef"
INVALID_STREAM = {"errors": [{"msg": "Invalid StreamId", "code": 400}]}
INVALID_FILE = {"errors": [{"msg": "Invalid file id", "code": 400}]}
INVALID_REQUEST = {"errors": [{"msg": "Invalid request ID", "code": 400}]}
SERVER_ERROR = {"errors": [{"msg": "Internal Server Error", "code": 500}]}

DEFINITION = {
    "_id": "st-source",
    "defaultLanguage": "en",
    "dialogs": [{"name": "Book Flight", "refId": "r1"}, {"lname": "flight status"}, {"refId": "nameless"}],
}
CONFIG = {
    "name": "travel",
    "envVariables": [
        {"key": "host_url", "value": "https://api.example", "variableType": "env", "scope": "prePopulated"},
        {"key": "api_key", "value": "k-123", "variableType": "env", "scope": "hidden"},
    ],
}
FUNCTIONS = "function greet(name) { return 'hello ' + name; }\n"
ENV = {
    "key": "host_url",
    "value": "https://a",
    "hint": "the API",
    "variableType": "env",
    "scope": "prePopulated",
}
LOCALE = {
    "key": "greeting",
    "variableType": "locale",
    "scope": "askOnInstall",
    "localeData": {"en": {"value": "Hello", "hint": ""}, "de": {"value": "Hallo"}},
}
HIDDEN = {"key": "api_key", "value": "s3cret", "variableType": "env", "scope": "hidden", "group": "keys"}


@pytest.fixture
def sb(clock: VirtualClock) -> Iterator[Sandbox]:
    """Definition imports take 3 s, ML imports 5 s, publishes 8 s: all on the fake clock."""
    with Sandbox(definition_import_seconds=3, import_seconds=5, publish_seconds=8, clock=clock) as sandbox:
        yield sandbox


def upload(sb: Sandbox, content: bytes, name: str, extension: str = "json") -> str:
    r = requests.post(
        f"{sb.url}/api/public/uploadfile",
        headers={"auth": token(DEMO_ADMIN_APP)},
        files={"file": (name, content, "application/octet-stream")},
        data={"fileContext": "bulkImport", "fileExtension": extension},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    return str(r.json()["fileId"])


def upload_bot(
    sb: Sandbox,
    definition: object = DEFINITION,
    config: object = CONFIG,
    functions: tuple[bytes, ...] = (FUNCTIONS.encode(),),
) -> dict[str, Any]:
    """Upload a definition, a config and bot functions; the import body that names them."""
    body: dict[str, Any] = {
        "botDefinition": upload(sb, _bytes(definition), "botDefinition.json"),
        "configInfo": upload(sb, _bytes(config), "config.json"),
    }
    if functions:
        body["botFunctions"] = [upload(sb, f, f"functions{i}.js", "js") for i, f in enumerate(functions)]
    return body


def _bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


def bot_import(
    sb: Sandbox, body: Any, bot: str = BOT, app: SandboxApp = DEMO_ADMIN_APP, prefix: str = "/api"
) -> requests.Response:
    return requests.post(
        f"{sb.url}{prefix}/public/bot/{bot}/import", headers={"auth": token(app)}, json=body, timeout=5
    )


def import_status(sb: Sandbox, import_id: str, app: SandboxApp = DEMO_ADMIN_APP) -> requests.Response:
    return requests.get(
        f"{sb.url}/api/public/bot/import/status/{import_id}", headers={"auth": token(app)}, timeout=5
    )


def import_bot(sb: Sandbox, clock: VirtualClock, **kw: Any) -> dict[str, Any]:
    """Run one import to its end; the final status body."""
    options = kw.pop("importOptions", None)
    body = upload_bot(sb, **kw)
    if options is not None:
        body["importOptions"] = options
    started = bot_import(sb, body)
    assert started.status_code == 200, started.text
    clock.advance(3)
    done = import_status(sb, started.json()["_id"])
    assert done.status_code == 200
    return dict(done.json())


def variables_call(
    sb: Sandbox,
    op: str,
    body: Any = None,
    bot: str = BOT,
    app: SandboxApp = DEMO_BOT_APP,
    form: str = "/api/1.1/public/builder/bot",
    raw: bytes | None = None,
) -> requests.Response:
    url = f"{sb.url}{form}/{bot}/variables/{op}"
    headers = {"auth": token(app)}
    if raw is not None:
        return requests.post(url, headers=headers, data=raw, timeout=5)
    if body is None:
        return requests.post(url, headers=headers, timeout=5)
    return requests.post(url, headers=headers, json=body, timeout=5)


def export_variables(sb: Sandbox, bot: str = BOT) -> list[dict[str, Any]]:
    r = variables_call(sb, "export", bot=bot)
    assert r.status_code == 200, r.text
    return list(r.json())


def publish(sb: Sandbox, app: SandboxApp) -> requests.Response:
    return requests.post(
        f"{sb.url}/api/public/bot/{BOT}/publish",
        headers={"auth": token(app)},
        json={"versionComment": "x"},
        timeout=5,
    )


def publish_status(sb: Sandbox, app: SandboxApp) -> requests.Response:
    return requests.get(
        f"{sb.url}/api/public/bot/{BOT}/publish/status", headers={"auth": token(app)}, timeout=5
    )


def in_sync(sb: Sandbox, language: str = "en") -> bool:
    return bool(sb.training_status(BOT, language)["isMlInSyncWithSentences"])


# -- app kinds ---------------------------------------------------------------------------------------------
def test_the_demo_apps_have_fixed_ids_kinds_and_scopes() -> None:
    assert (DEMO_BOT_APP.client_id, DEMO_BOT_APP.kinds) == (
        "cs-5e8a1c3d-7b24-4f90-a6d1-2c9e0b7f4a61",
        frozenset({APP_KIND_BOT}),
    )
    assert (DEMO_ADMIN_APP.client_id, DEMO_ADMIN_APP.kinds) == (
        "cs-a7f3d9e2-1c5b-4d08-b3e6-8f2a4c6d0e19",
        frozenset({APP_KIND_ADMIN}),
    )
    assert DEMO_APP.kinds == DEMO_JTI_APP.kinds == {APP_KIND_BOT, APP_KIND_ADMIN}
    assert {SCOPE_IMPORT_VARIABLES, SCOPE_EXPORT_VARIABLES} <= DEMO_BOT_APP.scopes
    assert SCOPE_BOT_IMPORT not in DEMO_BOT_APP.scopes and SCOPE_PUBLISH not in DEMO_BOT_APP.scopes
    assert {SCOPE_BOT_IMPORT, SCOPE_PUBLISH, SCOPE_PUBLISH_STATUS} <= DEMO_ADMIN_APP.scopes
    assert SCOPE_IMPORT_VARIABLES not in DEMO_ADMIN_APP.scopes
    assert DEMO_APP.scopes == DEMO_JTI_APP.scopes == DEMO_BOT_APP.scopes | DEMO_ADMIN_APP.scopes
    assert SandboxApp("x", "cs-x", "s").kinds == {APP_KIND_BOT}  # the default: a bot-level app
    for kinds in (frozenset(), frozenset({"robot"})):
        with pytest.raises(ValueError, match="kinds"):
            SandboxApp("x", "cs-x", "s", kinds=kinds)  # type: ignore[arg-type]


def test_info_names_each_apps_kinds(sb: Sandbox) -> None:
    apps = {a["name"]: a for a in requests.get(f"{sb.url}/_sandbox/info", timeout=5).json()["apps"]}
    assert apps["demo"]["kinds"] == ["admin", "bot"] and apps["demo-jti"]["kinds"] == ["admin", "bot"]
    assert (apps["demo-bot"]["kinds"], apps["demo-admin"]["kinds"]) == (["bot"], ["admin"])
    assert DEMO_ADMIN_APP.client_secret not in json.dumps(apps)


def test_a_bot_level_app_gets_the_missing_scope_answer_from_admin_console_apis(sb: Sandbox) -> None:
    body = upload_bot(sb)
    for r in (
        bot_import(sb, body, app=DEMO_BOT_APP),
        import_status(sb, "bir-whatever", app=DEMO_BOT_APP),
        publish(sb, DEMO_BOT_APP),
        publish_status(sb, DEMO_BOT_APP),
    ):
        assert (r.status_code, r.json()) == (401, SCOPE)
    assert sb.definitions.imports == [] and sb.pipeline.publishes == []


def test_an_admin_console_app_gets_the_missing_scope_answer_from_bot_variables(sb: Sandbox) -> None:
    for op, body in (("import", [ENV]), ("export", None)):
        r = variables_call(sb, op, body, app=DEMO_ADMIN_APP)
        assert (r.status_code, r.json()) == (401, SCOPE)
    assert sb.variables(BOT) == []
    assert publish(sb, DEMO_ADMIN_APP).status_code == 200
    assert publish_status(sb, DEMO_ADMIN_APP).status_code == 200


def test_the_kind_is_checked_even_when_the_scope_name_is_on_the_app(sb: Sandbox) -> None:
    """An app of the wrong kind holding the scope's name still cannot call the endpoint."""
    everything = frozenset({SCOPE_BOT_IMPORT, SCOPE_PUBLISH, SCOPE_IMPORT_VARIABLES, SCOPE_EXPORT_VARIABLES})
    bot_only = SandboxApp("bot-only", "cs-00000000-0000-4000-8000-0000000000c1", "b" * 40, everything)
    admin_only = SandboxApp(
        "admin-only",
        "cs-00000000-0000-4000-8000-0000000000c2",
        "a" * 40,
        everything,
        kinds=frozenset({"admin"}),
    )
    for app in (bot_only, admin_only):
        sb.add_app(app)
    linked = SandboxBot(
        "both",
        "st-00000000-0000-4000-8000-0000000000c3",
        linked_apps=(bot_only.client_id, admin_only.client_id),
    )
    sb.add_bot(linked)
    body = upload_bot(sb)
    assert bot_import(sb, body, linked.bot_id, bot_only).json() == SCOPE
    assert bot_import(sb, body, linked.bot_id, admin_only).status_code == 200
    assert variables_call(sb, "import", [ENV], linked.bot_id, admin_only).json() == SCOPE
    assert variables_call(sb, "import", [ENV], linked.bot_id, bot_only).status_code == 200
    assert variables_call(sb, "export", None, linked.bot_id, admin_only).json() == SCOPE


def test_the_demo_apps_can_do_everything_with_one_set_of_credentials(
    sb: Sandbox, clock: VirtualClock
) -> None:
    for app in (DEMO_APP, DEMO_JTI_APP):
        started = bot_import(sb, upload_bot(sb), app=app)
        assert started.status_code == 200
        clock.advance(3)
        assert import_status(sb, started.json()["_id"], app=app).json()["status"] == "success"
        assert variables_call(sb, "import", [ENV], app=app).status_code == 200
        assert variables_call(sb, "export", app=app).status_code == 200
        assert publish(sb, app).status_code == 200
        train = requests.post(
            f"{sb.url}/api/public/bot/{BOT}/ml/train", headers={"auth": token(app)}, timeout=5
        )
        assert train.status_code == 200


# -- bot definition import ---------------------------------------------------------------------------------
def test_bot_import_answers_the_documented_pending_object_then_success(
    sb: Sandbox, clock: VirtualClock
) -> None:
    started = bot_import(sb, upload_bot(sb))
    assert started.status_code == 200 and started.headers["Content-Type"] == "application/json"
    body = started.json()
    assert set(body) == {
        "_id",
        "status",
        "streamRefId",
        "statusLogs",
        "createdBy",
        "requestType",
        "createdOn",
        "__v",
    }
    assert re.fullmatch(r"bir-[0-9a-f-]{36}", body["_id"])
    assert (body["status"], body["requestType"], body["__v"]) == ("pending", "Botimport", 0)
    assert body["statusLogs"] == [
        {"taskType": "importRequest", "taskName": "travel-local", "status": "success"}
    ]
    assert re.fullmatch(r"u-[0-9a-f-]{36}", body["createdBy"]) and ISO_MS.fullmatch(body["createdOn"])
    assert body["streamRefId"]

    clock.advance(2.9)
    pending = import_status(sb, body["_id"]).json()
    assert pending == {**body, "streamId": BOT}
    clock.advance(0.2)
    done = import_status(sb, body["_id"]).json()
    assert {**done, "statusLogs": None} == {**pending, "status": "success", "statusLogs": None}
    assert [(e["taskType"], e["taskName"], e["status"]) for e in done["statusLogs"]] == [
        ("importRequest", "travel-local", "success"),
        ("Bot Definition", "travel-local", "success"),
        ("BotFunctions", "functions0.js", "success"),
        ("Dialog", "Book Flight", "success"),
        ("Dialog", "flight status", "success"),
        ("Utterences", "Utterences", "success"),
        ("BotVariables", "BotVariables", "success"),
        ("importBot", "travel-local", "success"),
    ]


def test_a_full_import_keeps_what_was_imported_and_sets_config_variables(
    sb: Sandbox, clock: VirtualClock
) -> None:
    body = upload_bot(sb, functions=(FUNCTIONS.encode(), b"var x = 1;"))
    import_id = bot_import(sb, body).json()["_id"]
    assert sb.definitions.imported(BOT) is None, "nothing is applied while pending"
    assert sb.variables(BOT) == [] and in_sync(sb)
    clock.advance(3)
    imported = sb.definitions.imported(BOT)
    assert imported is not None
    assert (imported.import_id, imported.definition, imported.config) == (import_id, DEFINITION, CONFIG)
    assert [(f.file_name, f.text) for f in imported.functions] == [
        ("functions0.js", FUNCTIONS),
        ("functions1.js", "var x = 1;"),
    ]
    assert imported.import_options is None and imported.full_import
    assert [(v["key"], v["value"]) for v in sb.variables(BOT)] == [
        ("host_url", "https://api.example"),
        ("api_key", "k-123"),
    ]
    assert not in_sync(sb, "en") and not in_sync(sb, "de"), "a full import brings utterances"
    assert sb.definitions.imported(OTHER_BOT) is None

    view = requests.get(f"{sb.url}/_sandbox/definitions", timeout=5).json()
    [shown] = view["definitions"]
    assert (shown["bot_id"], shown["definition"], shown["config"], shown["full_import"]) == (
        BOT,
        DEFINITION,
        CONFIG,
        True,
    )
    assert [f["text"] for f in shown["functions"]] == [FUNCTIONS, "var x = 1;"]
    [job] = view["imports"]
    assert (job["import_id"], job["status"], job["function_file_ids"]) == (
        import_id,
        "success",
        body["botFunctions"],
    )
    assert job["status_logs"][-1]["taskType"] == "importBot"


def test_an_incremental_import_covers_only_what_its_options_name(sb: Sandbox, clock: VirtualClock) -> None:
    sb.set_variable(BOT, "api_key", "kept")
    options = {
        "tasks": ["knowledgeGraph"],
        "nlpData": ["patterns"],
        "settings": ["botSettings"],
        "options": {"utterances": {"append": True, "replace": False}},
    }
    done = import_bot(sb, clock, importOptions=options, functions=())
    assert [e["taskType"] for e in done["statusLogs"]] == ["importRequest", "Bot Definition", "importBot"]
    assert [(v["key"], v["value"]) for v in sb.variables(BOT)] == [("api_key", "kept")]
    assert in_sync(sb)
    imported = sb.definitions.imported(BOT)
    assert imported is not None and imported.import_options == options and not imported.full_import


def test_bot_variables_in_the_import_skip_the_ignored_keys(sb: Sandbox, clock: VirtualClock) -> None:
    sb.set_variable(BOT, "api_key", "kept")
    options = {
        "tasks": ["botTask"],
        "nlpData": ["utterances"],
        "settings": ["botVariables"],
        "options": {"botVariables": {"ignore": ["api_key"]}},
    }
    done = import_bot(sb, clock, importOptions=options, functions=())
    assert [e["taskType"] for e in done["statusLogs"]] == [
        "importRequest",
        "Bot Definition",
        "Dialog",
        "Dialog",
        "Utterences",
        "BotVariables",
        "importBot",
    ]
    assert {v["key"]: v["value"] for v in sb.variables(BOT)} == {
        "api_key": "kept",
        "host_url": "https://api.example",
    }
    assert not in_sync(sb)


def test_every_documented_import_option_is_accepted(sb: Sandbox) -> None:
    options = {
        "tasks": ["botTask", "knowledgeGraph", "smallTalk", "forms"],
        "nlpData": [
            "nlpSettings",
            "utterances",
            "patterns",
            "synonyms",
            "concepts",
            "standardResponses",
            "training_data",
            "bot_synonyms",
            "defaultDialog",
        ],
        "settings": ["botSettings", "botVariables", "ivrSettings", "genAIandLLMSettings"],
        "botComponents": ["linkedBots", "smallTalk"],
        "customDashboard": True,
        "storyBoardScenes": {"includeComments": True},
        "AgentAssist": ["rules", "playbooks"],
        "qualityAI": ["taxonomy", "connectors", "autoQA"],
        "options": {
            "utterances": {"append": False, "replace": True},
            "patterns": {"append": True, "replace": False},
            "botVariables": {"ignore": ["a", "b"]},
        },
    }
    r = bot_import(sb, {**upload_bot(sb), "importOptions": options})
    assert r.status_code == 200, r.text
    assert sb.definitions.imports[0].import_options == options


def test_bot_functions_upload_as_js_with_or_without_the_dot(sb: Sandbox) -> None:
    for extension in ("js", ".js", "JS"):
        upload(sb, FUNCTIONS.encode(), "functions.js", extension)
    assert [f.extension for f in sb.pipeline.files] == ["js", "js", "js"]


@pytest.mark.parametrize(
    "change",
    [
        {"botDefinition": None},
        {"configInfo": None},
        {"botDefinition": 7},
        {"configInfo": ""},
        {"botFunctions": "abc"},
        {"botFunctions": [7]},
        {"importOptions": []},
        {"importOptions": {"everything": True}},
        {"importOptions": {"tasks": ["botTasks"]}},
        {"importOptions": {"tasks": "botTask"}},
        {"importOptions": {"nlpData": ["utterance"]}},
        {"importOptions": {"settings": ["variables"]}},
        {"importOptions": {"botComponents": ["bots"]}},
        {"importOptions": {"AgentAssist": ["rule"]}},
        {"importOptions": {"qualityAI": ["qa"]}},
        {"importOptions": {"customDashboard": "yes"}},
        {"importOptions": {"storyBoardScenes": {"includeComments": 1}}},
        {"importOptions": {"storyBoardScenes": {"comments": True}}},
        {"importOptions": {"options": {"utterances": {"merge": True}}}},
        {"importOptions": {"options": {"patterns": {"append": "yes"}}}},
        {"importOptions": {"options": {"botVariables": {"ignore": "api_key"}}}},
        {"importOptions": {"options": {"synonyms": {}}}},
    ],
    ids=json.dumps,
)
def test_bot_import_with_a_bad_body_is_412(sb: Sandbox, change: dict[str, Any]) -> None:
    body = {**upload_bot(sb), **change}
    body = {k: v for k, v in body.items() if v is not None}
    r = bot_import(sb, body)
    assert (r.status_code, r.json()) == (412, VALIDATION)
    assert sb.definitions.imports == []


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"[]", b'"x"'], ids=["empty", "not-json", "array", "string"]
)
def test_bot_import_whose_body_is_not_an_object_is_412(sb: Sandbox, raw: bytes) -> None:
    r = requests.post(
        f"{sb.url}/api/public/bot/{BOT}/import", headers={"auth": token(DEMO_ADMIN_APP)}, data=raw, timeout=5
    )
    assert (r.status_code, r.json()) == (412, VALIDATION)


@pytest.mark.parametrize("field", ["botDefinition", "configInfo", "botFunctions"])
def test_bot_import_of_an_unknown_file_id_is_400(sb: Sandbox, field: str) -> None:
    body = upload_bot(sb)
    body[field] = ["0" * 24] if field == "botFunctions" else "0" * 24
    r = bot_import(sb, body)
    assert (r.status_code, r.json()) == (400, INVALID_FILE)


def test_bot_import_into_an_unknown_bot(sb: Sandbox) -> None:
    body = upload_bot(sb)
    lonely = SandboxBot(
        "lonely", "st-00000000-0000-4000-8000-0000000000d1", linked_apps=(DEMO_BOT_APP.client_id,)
    )
    sb.add_bot(lonely)
    for bot in (UNKNOWN_BOT, lonely.bot_id):  # unknown, and outside the admin app's account
        r = bot_import(sb, body, bot)
        assert (r.status_code, r.json()) == (400, INVALID_STREAM)
    r = bot_import(sb, body, UNKNOWN_BOT, app=DEMO_BOT_APP)  # a bot-level app: the bot-level answer
    assert (r.status_code, r.json()) == (401, CREDENTIALS)
    r = requests.post(f"{sb.url}/api/public/bot/{BOT}/import", json=body, timeout=5)
    assert (r.status_code, r.json()) == (401, CREDENTIALS)


@pytest.mark.parametrize(
    ("kw", "failed", "message"),
    [
        (
            {"definition": b"{not json"},
            ("Bot Definition", "travel-local"),
            "botDefinition: botDefinition.json is not a JSON file",
        ),
        (
            {"definition": [1, 2]},
            ("Bot Definition", "travel-local"),
            "botDefinition: botDefinition.json is not a JSON object",
        ),
        (
            {"config": b"\xff\xfe"},
            ("Bot Definition", "travel-local"),
            "configInfo: config.json is not a JSON file",
        ),
        (
            {"functions": (b"\xff\xfe\x00",)},
            ("BotFunctions", "functions0.js"),
            "functions0.js is not UTF-8 text",
        ),
        (
            {
                "config": {
                    "envVariables": [{"key": "x", "variableType": "env", "scope": "onInstall", "value": ""}]
                }
            },
            ("BotVariables", "BotVariables"),
            "config.json envVariables: variable x: 'scope' must be one of "
            "['prePopulated', 'askOnInstall', 'hidden']",
        ),
        (
            {"config": {"envVariables": "x"}},
            ("BotVariables", "BotVariables"),
            "config.json envVariables: envVariables must be a list",
        ),
    ],
    ids=[
        "definition-not-json",
        "definition-array",
        "config-not-utf8",
        "functions-not-utf8",
        "bad-variable",
        "variables-not-list",
    ],
)
def test_a_bad_file_ends_the_import_in_failure_at_its_step(
    sb: Sandbox, clock: VirtualClock, kw: dict[str, Any], failed: tuple[str, str], message: str
) -> None:
    started = bot_import(sb, upload_bot(sb, **kw))
    assert started.json()["status"] == "pending"  # the files are read asynchronously
    clock.advance(3)
    done = import_status(sb, started.json()["_id"]).json()
    assert done["status"] == "failure"
    *before, last = done["statusLogs"]
    assert all(e["status"] == "success" for e in before) and before[0]["taskType"] == "importRequest"
    assert (last["taskType"], last["taskName"], last["status"], last["message"]) == (
        *failed,
        "failed",
        message,
    )
    assert sb.definitions.imported(BOT) is None and sb.variables(BOT) == [] and in_sync(sb)


def test_fail_next_definition_import_fails_the_final_step(sb: Sandbox, clock: VirtualClock) -> None:
    sb.definitions.fail_next_import(BOT)
    other = bot_import(sb, upload_bot(sb), OTHER_BOT).json()["_id"]
    failed = bot_import(sb, upload_bot(sb)).json()["_id"]
    again = bot_import(sb, upload_bot(sb)).json()["_id"]
    clock.advance(3)
    assert [import_status(sb, i).json()["status"] for i in (other, failed, again)] == [
        "success",
        "failure",
        "success",
    ]
    logs = import_status(sb, failed).json()["statusLogs"]
    assert [e["status"] for e in logs] == ["success"] * (len(logs) - 1) + ["failed"]
    assert logs[-1]["taskType"] == "importBot" and "fail_next_definition_import" in logs[-1]["message"]
    imported = sb.definitions.imported(BOT)
    assert imported is not None and imported.import_id == again


def test_import_status_of_an_unknown_or_unreachable_id_is_400(sb: Sandbox, clock: VirtualClock) -> None:
    stranger = SandboxApp(
        "stranger",
        "cs-00000000-0000-4000-8000-0000000000d2",
        "z" * 40,
        frozenset({SCOPE_BOT_IMPORT}),
        kinds=frozenset({"admin"}),
    )
    sb.add_app(stranger)
    started = bot_import(sb, upload_bot(sb)).json()["_id"]
    ml_file = upload(sb, b'[{"taskName": "a", "sentence": "b"}]', "ml.json")
    ml_import = requests.post(
        f"{sb.url}/api/public/bot/{BOT}/mlimport",
        headers={"auth": token()},
        json={"fileName": "ml.json", "fileId": ml_file},
        timeout=5,
    ).json()["_id"]
    for import_id, app in (
        ("bir-00000000-0000-4000-8000-000000000000", DEMO_ADMIN_APP),
        (ml_import, DEMO_ADMIN_APP),
        (started, stranger),
    ):
        r = import_status(sb, import_id, app)
        assert (r.status_code, r.json()) == (400, INVALID_REQUEST), import_id
    r = requests.get(f"{sb.url}/api/public/bot/import/status/{started}", timeout=5)
    assert (r.status_code, r.json()) == (401, CREDENTIALS)


def test_bot_import_methods_prefixes_and_the_call_log(sb: Sandbox) -> None:
    for method, path in (
        ("GET", f"/api/public/bot/{BOT}/import"),
        ("POST", "/api/public/bot/import/status/bir-1"),
    ):
        r = requests.request(method, sb.url + path, timeout=5)
        assert (r.status_code, r.json()) == (405, {"errors": [{"msg": "Method Not Allowed", "code": 405}]})
        assert r.headers["Allow"] == ("POST" if method == "GET" else "GET")
    started = bot_import(sb, upload_bot(sb), prefix="/api/1.1").json()["_id"]
    r = requests.get(
        f"{sb.url}/api/1.1/public/bot/import/status/{started}/",
        headers={"auth": token(DEMO_ADMIN_APP)},
        timeout=5,
    )
    assert r.status_code == 200
    *_, post, status = sb.calls
    assert (post.path, post.bot_id, post.status) == (f"/api/1.1/public/bot/{BOT}/import", BOT, 200)
    assert (status.bot_id, status.status) == (BOT, 200), "the status call is logged with the import's bot"


def test_bot_import_rate_limits_per_bot_and_per_request_id(sb: Sandbox, clock: VirtualClock) -> None:
    body = upload_bot(sb)
    sb.set_rate_limits(
        train=RateLimit(per_minute=2, per_hour=100), status=RateLimit(per_minute=2, per_hour=100)
    )
    first, second = (bot_import(sb, body).json()["_id"] for _ in range(2))
    limited = bot_import(sb, body)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["errors"][0]["code"] == 429
    assert bot_import(sb, body, OTHER_BOT).status_code == 200  # per bot
    assert publish(sb, DEMO_ADMIN_APP).status_code == 200  # publish has its own budget
    assert [import_status(sb, first).status_code for _ in range(3)] == [200, 200, 429]
    assert import_status(sb, second).status_code == 200  # per request id
    clock.advance(61)
    assert bot_import(sb, body).status_code == 200


# -- bot variables -----------------------------------------------------------------------------------------
def test_variables_import_then_export_in_the_documented_shapes(sb: Sandbox) -> None:
    r = variables_call(sb, "import", [ENV, LOCALE, HIDDEN])
    assert (r.status_code, r.json()) == (200, {"message": "3 Variables imported/updated successfully."})
    exported = export_variables(sb)
    namespace = exported[0]["vNameSpace"]
    assert namespace == [{"name": "default", "refId": namespace[0]["refId"]}]
    assert exported == [
        {
            "key": "host_url",
            "value": "https://a",
            "hint": "the API",
            "audioTag": "",
            "variableType": "env",
            "scope": "prePopulated",
            "group": "",
            "propagateValue": False,
            "vNameSpace": namespace,
            "isSecured": False,
        },
        {
            "key": "greeting",
            "audioTag": "",
            "variableType": "locale",
            "scope": "askOnInstall",
            "group": "",
            "propagateValue": False,
            "vNameSpace": namespace,
            "isSecured": False,
            "localeData": {
                "en": {"value": "Hello", "hint": "", "audioTag": ""},
                "de": {"value": "Hallo", "hint": "", "audioTag": ""},
            },
        },
        {
            "key": "api_key",
            "value": "s3cret",
            "hint": "",
            "audioTag": "",
            "variableType": "env",
            "scope": "hidden",
            "group": "keys",
            "propagateValue": False,
            "vNameSpace": namespace,
            "isSecured": False,
        },
    ]
    assert export_variables(sb, OTHER_BOT) == []
    assert sb.variables(BOT) == exported


@pytest.mark.parametrize(
    "form",
    [
        "/api/1.1/public/builder/bot",
        "/api/public/builder/bot",
        "/api/1.1/public/builder/stream",
        "/api/public/builder/stream",
    ],
)
def test_every_documented_and_observed_path_form(sb: Sandbox, form: str) -> None:
    assert variables_call(sb, "import", [ENV], form=form).status_code == 200
    r = variables_call(sb, "export", form=form)
    assert r.status_code == 200 and [v["key"] for v in r.json()] == ["host_url"]


def test_an_import_upserts_by_key_and_keeps_the_others(sb: Sandbox) -> None:
    variables_call(sb, "import", [ENV, HIDDEN])
    changed = {"key": "host_url", "value": "https://b", "variableType": "env", "scope": "hidden"}
    r = variables_call(sb, "import", [changed, LOCALE])
    assert r.json() == {"message": "2 Variables imported/updated successfully."}
    exported = {v["key"]: v for v in export_variables(sb)}
    assert list(exported) == ["host_url", "api_key", "greeting"]
    assert (exported["host_url"]["value"], exported["host_url"]["scope"], exported["host_url"]["hint"]) == (
        "https://b",
        "hidden",
        "",
    ), "the whole variable is replaced"
    assert exported["api_key"]["value"] == "s3cret"


def test_a_key_twice_in_one_import_keeps_the_later_and_counts_both(sb: Sandbox) -> None:
    r = variables_call(sb, "import", [ENV, {**ENV, "value": "https://later"}])
    assert r.json() == {"message": "2 Variables imported/updated successfully."}
    assert [(v["key"], v["value"]) for v in export_variables(sb)] == [("host_url", "https://later")]


def test_form_two_with_collections_is_accepted(sb: Sandbox) -> None:
    body = {
        "botVariables": [ENV],
        "botCollections": [
            {"name": "Default", "description": "Default Collection", "refId": "c-1"},
            {"name": "Staging", "refId": "c-2"},
        ],
        "botCollectionVariables": [
            {"key": "host_url", "value": "https://staging", "audioTag": "", "refId": "c-2"}
        ],
    }
    r = variables_call(sb, "import", body)
    assert (r.status_code, r.json()) == (200, {"message": "1 Variables imported/updated successfully."})
    assert [v["value"] for v in export_variables(sb)] == ["https://a"]
    assert sb.variable_collections(BOT) == {
        "botCollections": body["botCollections"],
        "botCollectionVariables": body["botCollectionVariables"],
    }
    assert variables_call(sb, "import", {"botVariables": [HIDDEN]}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        "x",
        [ENV, "x"],
        [{**ENV, "key": ""}],
        [{k: v for k, v in ENV.items() if k != "key"}],
        [{**ENV, "variableType": "global"}],
        [{k: v for k, v in ENV.items() if k != "variableType"}],
        [{**ENV, "scope": "onInstall"}],
        [{k: v for k, v in ENV.items() if k != "scope"}],
        [{k: v for k, v in ENV.items() if k != "value"}],
        [{**ENV, "value": 3}],
        [{**ENV, "hint": None, "colour": "red"}],
        [{**ENV, "propagateValue": "no"}],
        [{**ENV, "isSecured": "yes"}],
        [{**ENV, "vNameSpace": {"name": "default"}}],
        [{**ENV, "localeData": {"en": {"value": "x"}}}],
        [{k: v for k, v in LOCALE.items() if k != "localeData"}],
        [{**LOCALE, "localeData": {}}],
        [{**LOCALE, "localeData": {"en": {"hint": "no value"}}}],
        [{**LOCALE, "localeData": {"en": {"value": "x", "tone": "warm"}}}],
        {"botVariables": "x"},
        {"botVariables": [ENV], "extra": []},
        {"botVariables": [ENV], "botCollections": [{"name": "Default"}]},
        {"botVariables": [ENV], "botCollectionVariables": [{"key": "other", "value": "v", "refId": "c-1"}]},
    ],
    ids=lambda body: json.dumps(body)[:60],
)
def test_variables_import_with_a_bad_body_is_500(sb: Sandbox, body: Any) -> None:
    r = variables_call(sb, "import", body)
    assert (r.status_code, r.json()) == (500, SERVER_ERROR)
    assert sb.variables(BOT) == []


@pytest.mark.parametrize("raw", [b"", b"{not json", b"null"], ids=["empty", "not-json", "null"])
def test_variables_import_without_a_json_body_is_500(sb: Sandbox, raw: bytes) -> None:
    r = variables_call(sb, "import", raw=raw)
    assert (r.status_code, r.json()) == (500, SERVER_ERROR)


def test_a_secured_variable_exports_an_empty_value(sb: Sandbox) -> None:
    variables_call(sb, "import", [ENV, LOCALE, HIDDEN])
    sb.secure_variable(BOT, "api_key")
    sb.secure_variable(BOT, "greeting")
    exported = {v["key"]: v for v in export_variables(sb)}
    assert (exported["api_key"]["value"], exported["api_key"]["isSecured"]) == ("", True)
    assert {lang: e["value"] for lang, e in exported["greeting"]["localeData"].items()} == {
        "en": "",
        "de": "",
    }
    assert exported["host_url"]["isSecured"] is False
    real = {v["key"]: v for v in sb.variables(BOT)}
    assert real["api_key"]["value"] == "s3cret" and real["api_key"]["isSecured"] is True

    variables_call(sb, "import", [{**HIDDEN, "value": "rotated"}])  # no isSecured: it stays secured
    assert sb.variables(BOT)[2]["value"] == "rotated" and export_variables(sb)[2]["value"] == ""
    sb.secure_variable(BOT, "api_key", False)
    assert export_variables(sb)[2]["value"] == "rotated"
    with pytest.raises(ValueError, match="no variable"):
        sb.secure_variable(BOT, "missing")


def test_an_import_can_secure_a_variable_and_a_reimported_export_blanks_the_secret(sb: Sandbox) -> None:
    variables_call(sb, "import", [{**HIDDEN, "isSecured": True}])
    exported = export_variables(sb)
    assert (exported[0]["value"], exported[0]["isSecured"]) == ("", True)
    assert variables_call(sb, "import", exported).status_code == 200  # the documented risk (§9.3)
    assert sb.variables(BOT)[0]["value"] == "" and sb.variables(BOT)[0]["isSecured"] is True
    variables_call(sb, "import", [{**HIDDEN, "isSecured": False}])
    assert export_variables(sb)[0] == {**exported[0], "value": "s3cret", "isSecured": False}


def test_set_variable_is_a_change_made_in_the_builder(sb: Sandbox) -> None:
    variables_call(sb, "import", [ENV, LOCALE])
    sb.set_variable(BOT, "host_url", "https://changed")
    sb.set_variable(BOT, "greeting", "Servus", language="de")
    sb.set_variable(BOT, "greeting", "Bonjour", language="fr")
    sb.set_variable(BOT, "new_one", "v")
    exported = {v["key"]: v for v in export_variables(sb)}
    assert exported["host_url"]["value"] == "https://changed"
    assert {k: e["value"] for k, e in exported["greeting"]["localeData"].items()} == {
        "en": "Hello",
        "de": "Servus",
        "fr": "Bonjour",
    }
    assert (
        exported["new_one"]["variableType"],
        exported["new_one"]["scope"],
        exported["new_one"]["value"],
    ) == (
        "env",
        "prePopulated",
        "v",
    )
    for args, kwargs, match in (
        (("greeting", "x"), {}, "name the language"),
        (("host_url", "x"), {"language": "de"}, "env variable"),
        (("missing", "x"), {"language": "de"}, "does not exist"),
        (("host_url", 3), {}, "must be a string"),
        (("", "x"), {}, "non-empty"),
    ):
        with pytest.raises(ValueError, match=match):
            sb.set_variable(BOT, *args, **kwargs)
    with pytest.raises(ValueError, match="unknown bot"):
        sb.set_variable(UNKNOWN_BOT, "k", "v")


def test_delete_variable_is_a_deletion_made_in_the_builder(sb: Sandbox) -> None:
    variables_call(sb, "import", [ENV, LOCALE, {**HIDDEN, "isSecured": True}])
    sb.delete_variable(BOT, "greeting")
    sb.delete_variable(BOT, "api_key")  # secured: gone all the same
    assert [v["key"] for v in export_variables(sb)] == ["host_url"]
    with pytest.raises(ValueError, match="no variable"):
        sb.delete_variable(BOT, "greeting")
    r = requests.post(
        f"{sb.url}/_sandbox/faults", json={"delete_variable": {"bot_id": BOT, "key": "x"}}, timeout=5
    )
    assert r.status_code == 400 and [v["key"] for v in export_variables(sb)] == ["host_url"]
    r = requests.post(
        f"{sb.url}/_sandbox/faults", json={"delete_variable": {"bot_id": BOT, "key": "host_url"}}, timeout=5
    )
    assert r.status_code == 200, r.text
    assert export_variables(sb) == []


def test_variables_endpoints_check_token_bot_and_scope(sb: Sandbox) -> None:
    no_import = SandboxApp(
        "export-only",
        "cs-00000000-0000-4000-8000-0000000000d3",
        "e" * 40,
        frozenset({SCOPE_EXPORT_VARIABLES}),
    )
    no_export = SandboxApp(
        "import-only",
        "cs-00000000-0000-4000-8000-0000000000d4",
        "i" * 40,
        frozenset({SCOPE_IMPORT_VARIABLES, SCOPE_TRAIN_ML}),
    )
    bot = SandboxBot(
        "scoped",
        "st-00000000-0000-4000-8000-0000000000d5",
        linked_apps=(no_import.client_id, no_export.client_id),
    )
    for app in (no_import, no_export):
        sb.add_app(app)
    sb.add_bot(bot)
    assert variables_call(sb, "import", [ENV], bot.bot_id, no_import).json() == SCOPE
    assert variables_call(sb, "export", None, bot.bot_id, no_export).json() == SCOPE
    assert variables_call(sb, "import", [ENV], bot.bot_id, no_export).status_code == 200
    assert variables_call(sb, "export", None, bot.bot_id, no_import).status_code == 200
    for r in (
        variables_call(sb, "import", [ENV], UNKNOWN_BOT),
        variables_call(sb, "export", None, bot.bot_id, DEMO_BOT_APP),  # not linked
        requests.post(f"{sb.url}/api/1.1/public/builder/bot/{BOT}/variables/export", timeout=5),
    ):
        assert (r.status_code, r.json()) == (401, CREDENTIALS)
    for op in ("import", "export"):
        r = requests.get(f"{sb.url}/api/1.1/public/builder/bot/{BOT}/variables/{op}", timeout=5)
        assert (r.status_code, r.headers["Allow"]) == (405, "POST")


def test_variables_rate_limits_each_endpoint_per_bot(sb: Sandbox, clock: VirtualClock) -> None:
    sb.set_rate_limits(
        train=RateLimit(per_minute=2, per_hour=100), status=RateLimit(per_minute=2, per_hour=100)
    )
    assert [variables_call(sb, "import", [ENV]).status_code for _ in range(3)] == [200, 200, 429]
    assert variables_call(sb, "import", [ENV], OTHER_BOT).status_code == 200
    assert [variables_call(sb, "export").status_code for _ in range(3)] == [200, 200, 429]
    limited = variables_call(sb, "export")
    assert limited.json()["errors"][0]["code"] == 429 and int(limited.headers["Retry-After"]) >= 1
    clock.advance(61)
    assert variables_call(sb, "export").status_code == 200


# -- admin API and reset -----------------------------------------------------------------------------------
def test_admin_api_drives_the_definition_and_variable_knobs(sb: Sandbox, clock: VirtualClock) -> None:
    admin = f"{sb.url}/_sandbox"
    variables_call(sb, "import", [ENV, LOCALE])
    settings = requests.post(
        f"{admin}/faults",
        json={
            "definition_import_seconds": 1,
            "fail_next_definition_import": [{"bot_id": BOT}, {"count": 2}],
            "set_variable": [
                {"bot_id": BOT, "key": "host_url", "value": "https://admin"},
                {"bot_id": BOT, "key": "greeting", "value": "Moin", "language": "de"},
            ],
            "secure_variable": {"bot_id": BOT, "key": "host_url"},
        },
        timeout=5,
    )
    assert settings.status_code == 200, settings.text
    assert settings.json()["definition_import_seconds"] == 1
    assert settings.json()["pending_definition_import_failures"] == [
        {"bot_id": BOT, "count": 1},
        {"bot_id": None, "count": 2},
    ]
    real = {v["key"]: v for v in sb.variables(BOT)}
    assert (real["host_url"]["value"], real["host_url"]["isSecured"]) == ("https://admin", True)
    assert real["greeting"]["localeData"]["de"]["value"] == "Moin"
    view = requests.get(f"{admin}/variables", timeout=5).json()
    assert [v["key"] for v in view["variables"][BOT]] == ["host_url", "greeting"] and view[
        "collections"
    ] == {}

    started = bot_import(sb, upload_bot(sb)).json()["_id"]
    clock.advance(1)
    assert import_status(sb, started).json()["status"] == "failure"

    for bad in (
        {"definition_import_seconds": -1},
        {"fail_next_definition_import": {"language": "en"}},
        {"fail_next_definition_import": {"count": 0}},
        {
            "set_variable": {"bot_id": BOT, "key": "greeting", "value": "x"}
        },  # a locale variable needs a language
        {"set_variable": {"bot_id": BOT, "key": "k"}},
        {"set_variable": {"bot_id": UNKNOWN_BOT, "key": "k", "value": "v"}},
        {"secure_variable": {"bot_id": BOT, "key": "missing"}},
        {"secure_variable": {"bot_id": BOT, "key": "host_url", "secured": "no"}},
    ):
        r = requests.post(
            f"{admin}/faults",
            json={"set_variable": {"bot_id": BOT, "key": "host_url", "value": "never"}, **bad},
            timeout=5,
        )
        assert r.status_code == 400, bad
        assert r.json()["errors"][0]["code"] == 400
    assert sb.variables(BOT)[0]["value"] == "https://admin", "all or nothing"
    requests.delete(f"{admin}/faults", timeout=5)
    assert sb.settings()["pending_definition_import_failures"] == []


def test_reset_forgets_definitions_and_variables(sb: Sandbox, clock: VirtualClock) -> None:
    sb.definitions.set_import_seconds(9)
    sb.definitions.fail_next_import()
    import_bot(sb, clock)
    variables_call(sb, "import", {"botVariables": [ENV], "botCollections": [{"name": "D", "refId": "c"}]})
    assert requests.post(f"{sb.url}/_sandbox/reset", timeout=5).json() == {"ok": True}
    assert sb.definitions.imports == [] and sb.definitions.all_imported == {}
    assert sb.variables(BOT) == [] and sb.variable_collections(BOT) is None
    assert sb.definitions.import_seconds == 3 and sb.settings()["pending_definition_import_failures"] == []
    assert requests.get(f"{sb.url}/_sandbox/definitions", timeout=5).json() == {
        "definitions": [],
        "imports": [],
    }
