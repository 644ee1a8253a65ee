"""Every setting in one place: the stack-config keys and environment variables kore_resources reads, their
defaults, and how a host and credentials are resolved from them.

No Pulumi here: lookups are passed in (`pulumi.Config` in the program, `ConfigureRequest.config` in the
provider plugin), so the rules are the same on both sides and testable without an engine.

| stack config key     | environment variable | used by                                      |
|----------------------|----------------------|----------------------------------------------|
| `kore:host`          | `KORE_HOST`          | every resource whose `host` argument is None |
| `kore:clientId`      | `KORE_CLIENT_ID`     | the provider plugin, for every call          |
| `kore:clientSecret`  | `KORE_CLIENT_SECRET` | the provider plugin (set with `--secret`)    |
| `kore:adminClientId` | `KORE_ADMIN_CLIENT_ID` | calls that need an Admin Console app: bot  |
| `kore:adminClientSecret` | `KORE_ADMIN_CLIENT_SECRET` | import and publish (default: the above) |
| `kore:promoteFrom`   | (none)               | the shipped program's promotion guard        |
| `<project>:bots`     | (none)               | the shipped program (`kore-bots:bots`)       |

Stack config wins over the environment; each credential is looked up on its own, so the id can live in
plain config and the secret in the environment of a CI job.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .api.auth import Credentials
from .api.errors import ConfigurationError

NAMESPACE = "kore"


@dataclass(frozen=True)
class Setting:
    """One stack-config key (fully namespaced) and the environment variable used when config has none."""

    key: str
    env: str | None = None
    secret: bool = False

    @property
    def name(self) -> str:
        """The key without its namespace (`host` for `kore:host`), as `pulumi.Config("kore").get` takes it."""
        return self.key.split(":", 1)[1]

    def lookup(self, config_get: Callable[[str], str | None], environ: Mapping[str, str]) -> str | None:
        value = config_get(self.key)
        if value is None and self.env is not None:
            value = environ.get(self.env)
        return value


HOST = Setting("kore:host", "KORE_HOST")
CLIENT_ID = Setting("kore:clientId", "KORE_CLIENT_ID")
CLIENT_SECRET = Setting("kore:clientSecret", "KORE_CLIENT_SECRET", secret=True)
ADMIN_CLIENT_ID = Setting("kore:adminClientId", "KORE_ADMIN_CLIENT_ID")
ADMIN_CLIENT_SECRET = Setting("kore:adminClientSecret", "KORE_ADMIN_CLIENT_SECRET", secret=True)
PROMOTE_FROM = Setting("kore:promoteFrom")

#: Every key of the `kore` namespace: anything else there is a typo (a silently ignored
#: `kore:promoteForm` would switch the promotion guard off).
KORE_SETTINGS = (HOST, CLIENT_ID, CLIENT_SECRET, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, PROMOTE_FROM)
#: Stack config keys whose values must be set with `--secret`.
SECRET_SETTINGS = tuple(s for s in KORE_SETTINGS if s.secret)
#: The shipped program's own key, in its project's namespace: `<project>:bots`.
BOTS_KEY_NAME = "bots"

# -- defaults ----------------------------------------------------------------------------------------------

DEFAULT_LANGUAGE = "en"
#: Deadlines of the whole operation (calls, retries and waiting), per resource.
DEFAULT_TRAINING_TIMEOUT_SECONDS = 1800
DEFAULT_IMPORT_TIMEOUT_SECONDS = 600
DEFAULT_PUBLISH_TIMEOUT_SECONDS = 900
DEFAULT_DEFINITION_TIMEOUT_SECONDS = 1800
DEFAULT_VARIABLES_TIMEOUT_SECONDS = 600
#: More than any Kore.ai job takes: a `timeout_seconds` above it is a unit mistake (milliseconds), not a wish.
MAX_TIMEOUT_SECONDS = 7 * 24 * 3600
#: What a refresh may spend on one status read.
REFRESH_READ_SECONDS = 120.0
#: How long a terminal status that may still describe the previous job is distrusted (see
#: resources/bot_training.py, rule 3).
GRACE_SECONDS = 10.0


def timeout_problem(value: object) -> str | None:
    """Why `value` is not a `timeout_seconds` (a resource's argument, a bot's `timeoutSeconds`), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        return f"{value!r} is not a positive number of seconds"
    if value > MAX_TIMEOUT_SECONDS:
        return (
            f"{value!r} seconds is more than 7 days, longer than any Kore.ai job takes: the timeout is in "
            "seconds, not milliseconds (e.g. 1800 for 30 minutes)"
        )
    return None


# -- resolution --------------------------------------------------------------------------------------------


def resolve_host(config_get: Callable[[str], str | None], environ: Mapping[str, str] | None = None) -> str:
    """The Kore.ai host from `kore:host`, else `KORE_HOST` (used when a resource's `host` is None)."""
    host = HOST.lookup(config_get, os.environ if environ is None else environ)
    if not host:
        raise ConfigurationError(
            f"No Kore.ai host: run `pulumi config set {HOST.key} https://platform.kore.ai` (or your "
            f"region's or dedicated host), or set {HOST.env}."
        )
    return host


def resolve_credentials(
    config_get: Callable[[str], str | None], environ: Mapping[str, str] | None = None, *, admin: bool = False
) -> Credentials:
    """Credentials from stack config (`kore:clientId`, `kore:clientSecret`), else the environment. A missing
    one names both places it could come from.

    `admin`: for the calls that only an Admin Console app may make (bot import, publish; docs/kore-api.md
    §3): `kore:adminClientId` / `kore:adminClientSecret` (or their environment variables) when both are
    set, else the same app as every other call (one app can hold both kinds of scopes on some platforms,
    and the sandbox's demo app does)."""
    env = os.environ if environ is None else environ
    if admin:
        admin_id = (ADMIN_CLIENT_ID.lookup(config_get, env) or "").strip()
        admin_secret = (ADMIN_CLIENT_SECRET.lookup(config_get, env) or "").strip()
        if admin_id and admin_secret:
            return Credentials(client_id=admin_id, client_secret=admin_secret)
        if admin_id or admin_secret:
            unset = ADMIN_CLIENT_SECRET if admin_id else ADMIN_CLIENT_ID
            raise ConfigurationError(
                f"Only half of the Admin Console app's credentials is set: set {unset.key} (or "
                f"{unset.env}) too, or neither to use kore:clientId / kore:clientSecret for every call."
            )
    client_id = (CLIENT_ID.lookup(config_get, env) or "").strip()
    # Stripped like the id: a secret pasted from a file or a terminal often ends in a newline, which would
    # sign every token with the wrong key; Kore.ai's client secrets never start or end with whitespace.
    client_secret = (CLIENT_SECRET.lookup(config_get, env) or "").strip()
    missing = []
    if not client_id:
        missing.append(
            f"the Kore.ai client id: run `pulumi config set {CLIENT_ID.key} cs-...` or set {CLIENT_ID.env}"
        )
    if not client_secret:
        missing.append(
            f"the Kore.ai client secret: run `pulumi config set --secret {CLIENT_SECRET.key} ...` "
            f"or set {CLIENT_SECRET.env}"
        )
    if missing:
        raise ConfigurationError(
            "Missing " + "; and ".join(missing) + ". Both come from a JWT app of the bot "
            "(App Settings > Dev Tools) with the Train ML API scope."
        )
    return Credentials(client_id=client_id, client_secret=client_secret)
