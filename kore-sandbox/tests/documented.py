"""What Kore.ai's docs (and Kore's QA) show it answering, which the emulator's tests hold the sandbox to
(docs/kore-api.md §4), tokens made as the docs say (§3), and the demo bots the tests call. Written here,
not taken from kore_sandbox (tokens signed with PyJWT, not the sandbox's own stdlib code): the tests check
the sandbox against the docs, not against itself."""

from __future__ import annotations

import re
import time
import uuid

import jwt

from kore_sandbox import DEMO_APP, DEMO_BOTS, SandboxApp

BOT = DEMO_BOTS[0].bot_id
OTHER_BOT = DEMO_BOTS[1].bot_id

VALIDATION = {"errors": [{"msg": "Validation errors/ Invalid arguments", "code": 412}]}
CREDENTIALS = {"errors": [{"msg": "Invalid SDK credentials", "code": 4002}]}
SCOPE = {"errors": [{"msg": "Permission denied. Scope is incorrect!", "code": 4002}]}
#: The docs' timestamps: ISO 8601 in UTC with milliseconds.
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def token(app: SandboxApp = DEMO_APP, **claims: object) -> str:
    """A JWT for `app`: its `appId`, signed HS256 with its secret, with `claims` added. For an app that
    enforces JTI, also a fresh `jti` and an `exp` five minutes on, as Kore.ai asks of it."""
    payload: dict[str, object] = {"appId": app.client_id}
    if app.enforce_jti:
        payload.update(jti=str(uuid.uuid4()), exp=int(time.time()) + 300)
    payload.update(claims)
    return jwt.encode(payload, app.client_secret, algorithm="HS256")
