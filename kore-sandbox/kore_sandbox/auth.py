"""JWT verification for the sandbox, following docs/kore-api.md §3.3, §3.4 and §4.

Signature checking is done with the stdlib (`hmac`), so the checks and their order are explicit:

1. no / empty `auth` header                      -> 401 `Invalid SDK credentials` / 4002
2. not a JWT (3 base64url parts, JSON objects)   -> 401 `Invalid JWT token` / 4002
3. `alg` other than HS256                        -> 401 `Invalid SDK credentials` / 4002
4. no `appId` claim (exact spelling), unknown app -> 401 `Invalid SDK credentials` / 4002
5. wrong signature                               -> 401 `Invalid SDK credentials` / 4002
6. `exp` in the past / `nbf` in the future        -> 401 `Invalid SDK credentials` / 4002 (ASSUMPTION)
7. apps with "Enforce JTI": `jti`/`kore_jti` required, `exp` <= 1 hour, no replays (code 401)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping

from .state import AppKind, Clock, SandboxApp

MSG_INVALID_CREDENTIALS = "Invalid SDK credentials"
MSG_INVALID_JWT = "Invalid JWT token"
MSG_SCOPE = "Permission denied. Scope is incorrect!"
MSG_JTI_EXP = 'error verifying the jwt: if "jti" claim "exp" must be <= 1 hour(s)'
MSG_JTI_REPLAY = "error verifying the jwt: possibly a replay"
# ASSUMPTION: the message for a missing jti on a JTI-enforced app is not documented.
MSG_JTI_MISSING = 'error verifying the jwt: "jti" claim is required'
CODE_AUTH = 4002
JTI_MAX_LIFETIME = 3600.0


class ApiError(Exception):
    """An error answered with the documented envelope `{"errors":[{"msg":…,"code":…}]}`."""

    def __init__(
        self, status: int, msg: str, code: int | None = None, headers: Mapping[str, str] | None = None
    ):
        super().__init__(f"{status} {msg}")
        self.status = status
        self.msg = msg
        self.code = status if code is None else code
        self.headers: dict[str, str] = dict(headers or {})

    def body(self) -> dict[str, object]:
        return error_body(self.msg, self.code)


def error_body(msg: str, code: int) -> dict[str, object]:
    return {"errors": [{"msg": msg, "code": code}]}


def _credentials_error() -> ApiError:
    return ApiError(401, MSG_INVALID_CREDENTIALS, CODE_AUTH)


def _b64url_decode(part: str) -> bytes:
    if not part:
        raise ValueError("empty segment")
    padded = part.replace("-", "+").replace("_", "/") + "=" * (-len(part) % 4)
    return binascii.a2b_base64(padded.encode("ascii"), strict_mode=True)


def _json_object(part: str) -> dict[str, object]:
    value = json.loads(_b64url_decode(part))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class JtiCache:
    """Seen `jti` values per app, kept until the token they came with expires."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}

    def seen(self, client_id: str, jti: str, now: float) -> bool:
        self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
        return (client_id, jti) in self._seen

    def remember(self, client_id: str, jti: str, expires: float) -> None:
        self._seen[(client_id, jti)] = expires

    def clear(self) -> None:
        self._seen.clear()


def authenticate(
    token: str | None, apps: Mapping[str, SandboxApp], wall_clock: Clock, jti_cache: JtiCache
) -> SandboxApp:
    """Return the app the token belongs to, or raise `ApiError` (always 401)."""
    if token is None or not token.strip():
        raise _credentials_error()
    token = token.strip()
    try:
        parts = token.split(".")
        if len(parts) != 3:
            raise ValueError("not three segments")
        header = _json_object(parts[0])
        claims = _json_object(parts[1])
    except (ValueError, UnicodeError, binascii.Error):
        raise ApiError(401, MSG_INVALID_JWT, CODE_AUTH) from None
    # ASSUMPTION: only HS256 is accepted on public APIs (RS256/HS512/none -> invalid credentials).
    if header.get("alg") != "HS256":
        raise _credentials_error()
    client_id = claims.get("appId")
    if not isinstance(client_id, str) or client_id not in apps:
        raise _credentials_error()
    app = apps[client_id]
    digest = hmac.new(
        app.client_secret.encode("utf-8"), f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256
    ).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    # The signature is compared as text (like jws libraries do): a token with extra characters appended
    # is a wrong signature (Invalid SDK credentials, as Kore's QA observed), not a malformed token.
    if not hmac.compare_digest(expected.encode("ascii"), parts[2].encode("utf-8")):
        raise _credentials_error()

    now = wall_clock()
    exp = claims.get("exp")
    exp_value = _number(exp)
    if exp is not None and exp_value is None:
        raise _credentials_error()
    # ASSUMPTION (§10.5): tokens without `exp` are accepted (except by JTI apps); no maximum lifetime.
    # ASSUMPTION: an expired token gets `Invalid SDK credentials`/4002 (real text unknown, §10.5), no leeway.
    if exp_value is not None and exp_value <= now:
        raise _credentials_error()
    nbf = _number(claims.get("nbf"))
    if nbf is not None and nbf > now:
        raise _credentials_error()

    if app.enforce_jti:
        jti = claims.get("jti", claims.get("kore_jti"))
        if not isinstance(jti, str) or not jti:
            raise ApiError(401, MSG_JTI_MISSING, 401)
        # ASSUMPTION: with jti, a missing exp counts as "more than 1 hour"; the hour is measured from
        # `iat` when present and from now as well.
        iat = _number(claims.get("iat"))
        if (
            exp_value is None
            or exp_value - now > JTI_MAX_LIFETIME
            or (iat is not None and exp_value - iat > JTI_MAX_LIFETIME)
        ):
            raise ApiError(401, MSG_JTI_EXP, 401)
        if jti_cache.seen(client_id, jti, now):
            raise ApiError(401, MSG_JTI_REPLAY, 401)
        jti_cache.remember(client_id, jti, exp_value)
    return app


def require_scope(app: SandboxApp, scope: str, kinds: frozenset[AppKind]) -> None:
    """401 `Permission denied. Scope is incorrect!`/4002 unless the app is of one of `kinds` and holds
    `scope`. ASSUMPTION: an app of the wrong kind (a bot-level app calling an Admin Console API, or the
    reverse) gets the documented missing-scope answer: the scope cannot be mapped to such an app."""
    if not (app.kinds & kinds) or scope not in app.scopes:
        raise ApiError(401, MSG_SCOPE, CODE_AUTH)
