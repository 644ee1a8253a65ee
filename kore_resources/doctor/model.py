"""The doctor's records: what a deploy would use (`Plan`, `BotPlan`, `App`), what one call saw (`Answer`),
and what the doctor concludes (`Check`). Data only."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Literal

from ..api.auth import Credentials

Status = Literal["ok", "problem", "not checkable"]
OK: Status = "ok"
PROBLEM: Status = "problem"
NOT_CHECKABLE: Status = "not checkable"
STATUSES: tuple[Status, ...] = (OK, PROBLEM, NOT_CHECKABLE)

#: How well the docs back the reading of an answer: documented (a D1/D2 page), observed (Kore's own QA
#: suite or public code, docs/kore-api.md §1.2), undocumented (no source: the doctor says what it assumes).
Basis = Literal["documented", "observed", "undocumented", ""]


class Use(enum.Enum):
    """What a bot's deploy does beyond training (train and its status are always used)."""

    DEFINITION = "definition"  # upload + bot import, with the Admin Console app
    VARIABLES = "variables"  # variables import (and export, on refresh), with the bot-level app
    IMPORT_UTTERANCES = "importUtterances"  # upload + ML import, and ML export on refresh
    PUBLISH = "publish"  # publish, with the Admin Console app


ALL_USES = frozenset(Use)

Role = Literal["bot-level", "admin"]
BOT_LEVEL_SETTINGS = "kore:clientId / kore:clientSecret (KORE_CLIENT_ID / KORE_CLIENT_SECRET)"
ADMIN_SETTINGS = (
    "kore:adminClientId / kore:adminClientSecret (KORE_ADMIN_CLIENT_ID / KORE_ADMIN_CLIENT_SECRET)"
)


@dataclass(frozen=True)
class App:
    """One JWT app a deploy signs calls with, and the settings it comes from (for messages)."""

    role: Role
    credentials: Credentials
    #: The admin calls are made with the bot-level app (no `kore:adminClientId`): one app for everything.
    shared: bool = False

    @property
    def client_id(self) -> str:
        return self.credentials.client_id

    @property
    def settings(self) -> str:
        if self.role == "admin" and not self.shared:
            return ADMIN_SETTINGS
        return BOT_LEVEL_SETTINGS

    @property
    def label(self) -> str:
        """`app cs-… (kore:clientId)`, as lines name it."""
        key = "kore:adminClientId" if self.role == "admin" and not self.shared else "kore:clientId"
        return f"app {self.client_id} ({key})"


@dataclass(frozen=True, kw_only=True)
class BotPlan:
    """One bot as the deploy would touch it."""

    bot_id: str
    languages: tuple[str, ...]
    uses: frozenset[Use]
    #: The logical name of the stack config (`travel`), or None for a bot given with --bot.
    name: str | None = None
    #: Where its id is set, for the fix of an unknown bot: `kore-bots:bots[0].botId` or `--bot`.
    id_setting: str = "--bot"
    #: Where its languages are set, for the fix of a language the bot has not enabled.
    languages_setting: str = "--language"


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Everything the doctor checks: the host, the two apps, the bots, and the settings problems found while
    reading them (a missing host or credential: the checks that need it are not run)."""

    source: str
    host: str | None
    bot_app: App | None
    admin_app: App | None
    bots: tuple[BotPlan, ...]
    problems: tuple[Check, ...] = ()

    def uses(self, use: Use) -> bool:
        return any(use in bot.uses for bot in self.bots)

    def apps(self) -> tuple[App, ...]:
        """The distinct apps (by client id), the bot-level one first."""
        found: dict[str, App] = {}
        for app in (self.bot_app, self.admin_app):
            if app is not None and app.client_id not in found:
                found[app.client_id] = app
        return tuple(found.values())


FailureKind = Literal["connect", "tls", "plain-http", "timeout", "dropped"]


@dataclass(frozen=True, kw_only=True)
class Answer:
    """What one call saw: an HTTP answer (status, Kore.ai's message and code, the body as JSON) or why
    there was none. `call` names the request for messages (method and path, never a token)."""

    call: str
    status: int | None = None
    message: str | None = None
    code: int | None = None
    #: The body is Kore.ai's error envelope `{"errors": [{"msg", "code"}]}`.
    envelope: bool = False
    is_json: bool = False
    #: The parsed JSON body; never shown (a variables export holds the variables' values).
    body: Any = field(default=None, repr=False)
    content_type: str = ""
    #: A redirect's target, scheme and host only.
    location: str | None = None
    failure: str | None = None
    failure_kind: FailureKind | None = None

    def describe(self) -> str:
        """`HTTP 401 'Invalid SDK credentials' (code 4002)`, or the failure."""
        if self.status is None:
            return self.failure or "no answer"
        text = f"HTTP {self.status}"
        if self.message:
            text += f" {self.message!r}"
        if self.code is not None:
            text += f" (code {self.code})"
        return text

    @property
    def seen(self) -> str:
        """`the train call answered HTTP 401 ...`: how a report line starts."""
        return f"{self.call} answered {self.describe()}"


@dataclass(frozen=True, kw_only=True)
class Check:
    """One line of the report."""

    status: Status
    family: str
    seen: str
    fix: str = ""
    host: str | None = None
    #: The app's client id (never its secret), and which of the deploy's apps it is.
    app: str | None = None
    role: Role | None = None
    bot: str | None = None
    bot_name: str | None = None
    language: str | None = None
    basis: Basis = ""

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "family": self.family,
            "host": self.host,
            "app": self.app,
            "role": self.role,
            "bot": self.bot,
            "bot_name": self.bot_name,
            "language": self.language,
            "seen": self.seen,
            "fix": self.fix,
            "basis": self.basis,
        }
