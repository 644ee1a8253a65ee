"""The sandbox's app kinds (kore_resources/sandbox/state.py `SandboxApp.kinds`): bot-level and Admin
Console apps, and the scope rules that follow. Real sockets on 127.0.0.1, real JWTs."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import jwt
import pytest
import requests

from kore_resources.sandbox import (
    APP_KIND_ADMIN,
    APP_KIND_BOT,
    DEMO_ADMIN_APP,
    DEMO_APP,
    DEMO_BOT_APP,
    DEMO_BOTS,
    DEMO_JTI_APP,
    SCOPE_PUBLISH,
    SCOPE_PUBLISH_STATUS,
    SCOPE_TRAIN_ML,
    Sandbox,
    SandboxApp,
    SandboxBot,
)

BOT = DEMO_BOTS[0].bot_id
SCOPE = {"errors": [{"msg": "Permission denied. Scope is incorrect!", "code": 4002}]}


def token(app: SandboxApp = DEMO_APP) -> str:
    claims: dict[str, object] = {"appId": app.client_id}
    if app.enforce_jti:
        claims.update(jti=str(uuid.uuid4()), exp=int(time.time()) + 300)
    return jwt.encode(claims, app.client_secret, algorithm="HS256")


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def publish(sb: Sandbox, app: SandboxApp, bot: str = BOT) -> requests.Response:
    return requests.post(
        f"{sb.url}/api/public/bot/{bot}/publish",
        headers={"auth": token(app)},
        json={"versionComment": "x"},
        timeout=5,
    )


def publish_status(sb: Sandbox, app: SandboxApp, bot: str = BOT) -> requests.Response:
    return requests.get(
        f"{sb.url}/api/public/bot/{bot}/publish/status", headers={"auth": token(app)}, timeout=5
    )


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
    assert SCOPE_PUBLISH not in DEMO_BOT_APP.scopes
    assert {SCOPE_PUBLISH, SCOPE_PUBLISH_STATUS} <= DEMO_ADMIN_APP.scopes
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


def test_a_bot_level_app_gets_the_missing_scope_answer_from_publish(sb: Sandbox) -> None:
    for r in (publish(sb, DEMO_BOT_APP), publish_status(sb, DEMO_BOT_APP)):
        assert (r.status_code, r.json()) == (401, SCOPE)
    assert sb.pipeline.publishes == []
    assert publish(sb, DEMO_ADMIN_APP).status_code == 200
    assert publish_status(sb, DEMO_ADMIN_APP).status_code == 200


def test_the_kind_is_checked_even_when_the_scope_name_is_on_the_app(sb: Sandbox) -> None:
    scopes = frozenset({SCOPE_PUBLISH, SCOPE_PUBLISH_STATUS})
    bot_only = SandboxApp("bot-only", "cs-00000000-0000-4000-8000-0000000000c1", "b" * 40, scopes)
    sb.add_app(bot_only)
    bot = SandboxBot("both", "st-00000000-0000-4000-8000-0000000000c3", linked_apps=(bot_only.client_id,))
    sb.add_bot(bot)
    assert publish(sb, bot_only, bot.bot_id).json() == SCOPE
    assert publish_status(sb, bot_only, bot.bot_id).json() == SCOPE


def test_the_demo_apps_train_and_publish_with_one_set_of_credentials(sb: Sandbox) -> None:
    for app in (DEMO_APP, DEMO_JTI_APP):
        assert publish(sb, app).status_code == 200
        train = requests.post(
            f"{sb.url}/api/public/bot/{BOT}/ml/train", headers={"auth": token(app)}, timeout=5
        )
        assert train.status_code == 200
    for app in (DEMO_BOT_APP, DEMO_ADMIN_APP):  # ML training is documented for both kinds
        assert SCOPE_TRAIN_ML in app.scopes
        train = requests.post(
            f"{sb.url}/api/public/bot/{BOT}/ml/train", headers={"auth": token(app)}, timeout=5
        )
        assert train.status_code == 200
