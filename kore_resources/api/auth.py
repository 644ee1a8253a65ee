"""Kore.ai credentials and the short-lived JWTs that authenticate public API calls.

Kore.ai's public APIs take `auth: <JWT>` signed with HS256 by the client secret of a JWT app, with the
claim `appId` = client id (exact spelling). We also set `exp` a few minutes ahead (Kore's own BotKit uses
60 s) and a random `jti`, so the token is accepted by apps that have "Enforce JTI" on (which demand a
unique `jti` and `exp` at most one hour away). A fresh token is minted for every call and never logged.
Where the credentials come from (stack config or environment) is `kore_resources.settings`' business.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

#: Long enough for one HTTP call plus retries, short enough that a leaked token is soon useless.
TOKEN_LIFETIME_SECONDS = 300


@dataclass(frozen=True)
class Credentials:
    """A Kore.ai JWT app's client id and secret. The secret never appears in repr() or str()."""

    client_id: str
    client_secret: str = field(repr=False)


def mint_jwt(
    credentials: Credentials, *, now: float | None = None, lifetime: int = TOKEN_LIFETIME_SECONDS
) -> str:
    """Return an HS256 JWT for the `auth` header: only the claims Kore.ai needs."""
    import jwt  # on first use, like requests (provider._session): a no-op preview signs nothing

    issued_at = int(time.time() if now is None else now)
    claims = {
        "appId": credentials.client_id,
        "sub": "kore-resources",  # the docs' sample payload carries a `sub`; any value is accepted
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, credentials.client_secret, algorithm="HS256")
