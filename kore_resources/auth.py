"""Kore.ai credentials and the short-lived JWTs that authenticate public API calls.

Kore.ai's public APIs take `auth: <JWT>` signed with HS256 by the client secret of a JWT app, with the
claim `appId` = client id (exact spelling). We also set `exp` a few minutes ahead (Kore's own BotKit uses
60 s) and a random `jti`, so the token is accepted by apps that have "Enforce JTI" on (which demand a
unique `jti` and `exp` at most one hour away). A fresh token is minted for every operation and never logged.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .errors import ConfigurationError

#: Stack config keys (namespace `kore`) and the environment variables used when config has none.
CLIENT_ID_KEY = "kore:clientId"
CLIENT_SECRET_KEY = "kore:clientSecret"
CLIENT_ID_ENV = "KORE_CLIENT_ID"
CLIENT_SECRET_ENV = "KORE_CLIENT_SECRET"

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


def resolve_credentials(
    config_get: Callable[[str], str | None],
    environ: Mapping[str, str] | None = None,
) -> Credentials:
    """Credentials from stack config (`kore:clientId`, `kore:clientSecret`), else the environment.

    `config_get` looks up a fully namespaced stack config key (the provider's `ConfigureRequest.config.get`).
    Each credential is looked up on its own, so the id can live in plain config and the secret in the
    environment of a CI job. A missing one names both places it could come from.
    """
    env = os.environ if environ is None else environ
    client_id = (config_get(CLIENT_ID_KEY) or env.get(CLIENT_ID_ENV) or "").strip()
    client_secret = config_get(CLIENT_SECRET_KEY) or env.get(CLIENT_SECRET_ENV) or ""
    missing = []
    if not client_id:
        missing.append(
            f"the Kore.ai client id: run `pulumi config set {CLIENT_ID_KEY} cs-...` or set {CLIENT_ID_ENV}"
        )
    if not client_secret:
        missing.append(
            f"the Kore.ai client secret: run `pulumi config set --secret {CLIENT_SECRET_KEY} ...` "
            f"or set {CLIENT_SECRET_ENV}"
        )
    if missing:
        raise ConfigurationError(
            "Missing " + "; and ".join(missing) + ". Both come from a JWT app of the bot "
            "(App Settings > Dev Tools) with the Train ML API scope."
        )
    return Credentials(client_id=client_id, client_secret=client_secret)
