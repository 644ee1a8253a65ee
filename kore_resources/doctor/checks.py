"""What an answer means: pure decisions that turn what one read-only call saw (`Answer`) into a line of the
report (`Check`): ok, problem or not checkable, what was seen, and the fix.

Why not the provider's error classes: they decide what a *deploy* does next (retry, fail, record); here
each answer is evidence about one setting, and the same HTTP 401 means different fixes on different calls.
How each call's answers are read, and how well the docs back that reading, is docs/kore-api.md §3, §4 and
the Bot Import Status / ML import status rows of §4.2 (made-up ids).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass

from ..api.retry import rate_limit_refusal
from .model import NOT_CHECKABLE, OK, PROBLEM, Answer, App, Basis, BotPlan, Check, Status


class Kind(enum.Enum):
    """What kind of answer a call got, before any family reads it."""

    NO_ANSWER = "no answer"
    REDIRECT = "a redirect"
    RATE_LIMITED = "Kore.ai's rate limit"
    SERVER = "a server error"
    NOT_KORE = "not Kore.ai's answer"
    SUCCESS = "success"
    SCOPE = "a scope refusal"
    CREDENTIALS = "a credentials refusal"
    UNKNOWN_STREAM = "an unknown bot (Admin Console)"
    REFUSED = "a refusal of the request"


def classify(answer: Answer) -> Kind:
    status = answer.status
    if status is None:
        return Kind.NO_ANSWER
    if 300 <= status < 400:
        return Kind.REDIRECT
    if rate_limit_refusal(status, answer.message) is not None:
        return Kind.RATE_LIMITED
    if status >= 500:
        return Kind.SERVER
    if 200 <= status < 300:
        return Kind.SUCCESS if answer.is_json else Kind.NOT_KORE
    if not answer.envelope:
        return Kind.NOT_KORE
    message = (answer.message or "").lower()
    if "scope" in message:
        return Kind.SCOPE  # "Permission denied. Scope is incorrect!" (401/4002, observed)
    if status == 401 or answer.code == 4002:
        return Kind.CREDENTIALS  # "Invalid SDK credentials", "Invalid JWT token", the jti messages
    if "streamid" in message.replace(" ", ""):
        return Kind.UNKNOWN_STREAM  # "Invalid StreamId" (400, observed for Admin Console apps)
    return Kind.REFUSED


# -- the API families, as Kore.ai's UI names their scopes (docs/kore-api.md §3.2) ---------------------------


@dataclass(frozen=True, kw_only=True)
class Family:
    """An API family a deploy uses, and the scope an app needs for it in each kind of app (None: that kind
    of app cannot have it, "Not Applicable" in the docs)."""

    key: str
    what: str
    bot_scope: str | None
    admin_scope: str | None


TRAIN = Family(
    key="train",
    what="ML training and its status",
    bot_scope="Train ML",
    admin_scope="Test and Train > Train ML",
)
ML_IMPORT = Family(
    key="ml-import",
    what="the ML utterances import (importUtterances)",
    bot_scope="Utterances Import",
    admin_scope="Test and Train > Utterances Import",
)
ML_EXPORT = Family(
    key="ml-export",
    what="the ML utterances export (refresh of importUtterances)",
    bot_scope="Utterances Export",
    admin_scope="Test > Utterances Export and Train",
)
BOT_IMPORT = Family(
    key="bot-import",
    what="the bot definition import (definition)",
    bot_scope=None,
    admin_scope="Bot Definition > Bot Import",
)
VARIABLES = Family(
    key="variables-export",
    what="the bot variables (variables)",
    bot_scope="Export Variables and Import Variables",
    admin_scope=None,
)
PUBLISH_STATUS = Family(
    key="publish-status",
    what="reading the publish status (publish)",
    bot_scope=None,
    # D1's page; D2's API list names Bot Publish > Publish for it (docs/kore-api.md §3.2).
    admin_scope="Bot Publish > Publish Status",
)

REDIRECT_FIX = (
    "Set kore:host (or KORE_HOST) to the host it redirects to: the provider never follows a redirect, so "
    "that the auth token stays on kore:host."
)
BOT_LEVEL_PAGE = "in the bot, App Settings > Dev Tools > API Scopes"
ADMIN_PAGE = "Admin Console > Security & Control > API Scopes"
PUBLISH_MAPPING = "then publish the scope mapping (it takes effect once published)"


def scope_fix(family: Family, app: App) -> str:
    """What to do when `app` lacks the scope of `family`: the scope as the UI names it, the page, and the
    other kind of app when this kind cannot have it."""
    who = f"app {app.client_id}"
    if family.bot_scope and family.admin_scope:
        return (
            f"Give {who} the API scope for {family.what}: {family.bot_scope} for a bot-level app "
            f"({BOT_LEVEL_PAGE}) or {family.admin_scope} for an Admin Console app ({ADMIN_PAGE}), "
            f"{PUBLISH_MAPPING}."
        )
    if family.admin_scope:
        only = (
            f"{family.what.capitalize()} takes an Admin Console app with the scope {family.admin_scope}, "
            f"set in {ADMIN_PAGE} > Manage Apps; a bot-level app cannot have it. "
        )
        if app.shared:
            return only + (
                f"kore:adminClientId is not set, so kore:clientId's {who} makes these calls: set "
                "kore:adminClientId and kore:adminClientSecret (KORE_ADMIN_CLIENT_ID / "
                f"KORE_ADMIN_CLIENT_SECRET) to such an app, or, if {who} is an Admin Console app, give it "
                f"the scope, {PUBLISH_MAPPING}."
            )
        return only + f"Give {who} ({app.settings}) the scope, {PUBLISH_MAPPING}."
    return (
        f"{family.what.capitalize()} take a bot-level app with {family.bot_scope}: {BOT_LEVEL_PAGE}, add "
        f"them to {who}, {PUBLISH_MAPPING}. An Admin Console app cannot have them (Not Applicable): if "
        f"{who} is one, set kore:clientId and kore:clientSecret (KORE_CLIENT_ID / KORE_CLIENT_SECRET) to a "
        "bot-level app of the bot, and the Admin Console app in kore:adminClientId / kore:adminClientSecret."
    )


# -- who a line is about -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """The host, app, bot and language a line is about; builds its `Check`."""

    host: str
    _: KW_ONLY
    app: App | None = None
    bot: BotPlan | None = None
    language: str | None = None

    def check(self, status: Status, family: str, seen: str, fix: str = "", basis: Basis = "") -> Check:
        return Check(
            status=status,
            family=family,
            seen=seen,
            fix=fix,
            host=self.host,
            app=self.app.client_id if self.app else None,
            role=self.app.role if self.app else None,
            bot=self.bot.bot_id if self.bot else None,
            bot_name=self.bot.name if self.bot else None,
            language=self.language,
            basis=basis,
        )

    def blocked(self, family: str, reason: str) -> Check:
        """A check not run because an earlier one already failed: that line says what to fix."""
        return self.check(NOT_CHECKABLE, family, f"not checked: {reason}")

    def needs_a_write(self, family: str, seen: str, basis: Basis = "") -> Check:
        return self.check(NOT_CHECKABLE, family, f"{seen}: not checkable without a write", basis=basis)


def credentials_fix(subject: Subject, *, token_accepted: bool) -> str:
    """The fix for HTTP 401 'Invalid SDK credentials' on a call naming a bot: Kore.ai answers it both for
    wrong credentials and for a bot the app does not reach (observed, docs/kore-api.md §4.2)."""
    app, bot = subject.app, subject.bot
    assert app is not None
    who = f"app {app.client_id}"
    if bot is None:
        return (
            f"Check {app.settings}: the Client ID and the Client Secret of one JWT app; a secret of another "
            "app, or one with a typo, signs every token wrong."
        )
    link = (
        f"that {who} was created in that bot (App Settings > Dev Tools)"
        if app.role == "bot-level"
        else f"that the bot is in the account of the Admin Console {who}"
    )
    bot_fix = f"check that {bot.id_setting} ({bot.bot_id}) names this environment's bot, and {link}"
    if token_accepted:
        return (
            f"Kore.ai accepted this app's token elsewhere, so it does not know bot {bot.bot_id} for this "
            f"app: {bot_fix}."
        )
    return (
        "Kore.ai answers this both for wrong credentials and for a bot the app does not reach (observed; "
        f"never 404). Either check {app.settings} (the Client ID and Secret of one JWT app), or {bot_fix}."
    )


def settled(answer: Answer, subject: Subject, family: str, *, token_accepted: bool = False) -> Check | None:
    """The line for an answer that means the same on every call (no answer, a redirect, a rate limit, a
    server error, another server, refused credentials), or None for the family to read it."""
    seen = answer.seen
    kind = classify(answer)
    if kind is Kind.NO_ANSWER:
        return subject.check(
            PROBLEM,
            family,
            f"{answer.call}: {answer.describe()}",
            "The host answered the first check but not this call: run kore-doctor again; if it persists, "
            "the platform or a proxy in front of it fails this call, and the deploy would too.",
        )
    if kind is Kind.REDIRECT:
        return subject.check(
            PROBLEM,
            family,
            f"{seen}, a redirect to {answer.location or '?'}",
            REDIRECT_FIX,
        )
    if kind is Kind.RATE_LIMITED:
        return subject.check(
            PROBLEM,
            family,
            f"{seen}: Kore.ai's rate limit, so this could not be checked",
            "Everything that calls the bot shares its budget (60 calls a minute, 1,800 an hour): run "
            "kore-doctor again in a minute.",
            "documented",
        )
    if kind is Kind.SERVER:
        return subject.check(
            PROBLEM,
            family,
            f"{seen}: the platform failed the call",
            "Run kore-doctor again; if it persists, ask Kore.ai support: the deploy makes this call too.",
        )
    if kind is Kind.NOT_KORE:
        return subject.check(
            PROBLEM,
            family,
            f"{seen} with {body_kind(answer)}, not Kore.ai's error envelope",
            "Something other than Kore.ai's API answered this path (a proxy, a login page): check kore:host.",
        )
    if kind is Kind.CREDENTIALS:
        return subject.check(
            PROBLEM, family, seen, credentials_fix(subject, token_accepted=token_accepted), "observed"
        )
    return None


def body_kind(answer: Answer) -> str:
    if "html" in answer.content_type.lower():
        return "an HTML page"
    if answer.is_json:
        return "JSON"
    return f"a {answer.content_type or 'non-JSON'} body"


# -- the host --------------------------------------------------------------------------------------------


def resolve_check(host: str, hostname: str, addresses: Sequence[str], error: str | None) -> Check:
    subject = Subject(host)
    if error is not None:
        return subject.check(
            PROBLEM,
            "resolve",
            f"the host name {hostname} does not resolve ({error})",
            "Check kore:host (or KORE_HOST, --host): the platform's host name, e.g. "
            "https://platform.kore.ai, https://bots.kore.ai or your dedicated host; from here its name must "
            "resolve (DNS, VPN, proxy).",
        )
    if list(addresses) == [hostname]:
        return subject.check(OK, "resolve", f"{hostname} is an IP address: nothing to resolve")
    shown = ", ".join(addresses[:3]) + (" …" if len(addresses) > 3 else "")
    return subject.check(OK, "resolve", f"{hostname} resolves to {shown}")


def tls_check(host: str, scheme: str, answer: Answer) -> Check | None:
    """TLS of the first call: verified, refused, or plain http:// to loopback. None when no connection was
    made at all (the `answers` line says why)."""
    subject = Subject(host)
    if scheme == "http":
        return subject.check(
            OK,
            "tls",
            "plain http:// to a loopback address (such as the local sandbox): no TLS, which the provider "
            "accepts only for loopback",
        )
    if answer.failure_kind == "plain-http":
        return subject.check(
            PROBLEM,
            "tls",
            f"{answer.call}: the host answered the https:// connection in plain HTTP",
            "Kore.ai platforms use https://; a host that speaks plain HTTP (such as the local sandbox) needs "
            "an http:// URL in kore:host, accepted for loopback addresses only.",
        )
    if answer.failure_kind == "tls":
        return subject.check(
            PROBLEM,
            "tls",
            f"TLS verification failed: {answer.failure}",
            "If the host uses a private CA, point REQUESTS_CA_BUNDLE at its CA bundle (verification cannot "
            "be turned off); otherwise check that kore:host names the platform's own host name.",
        )
    if answer.status is None:
        return None
    return subject.check(OK, "tls", "the certificate verifies (TLS on, as for every call)")


def answers_check(host: str, answer: Answer) -> Check | None:
    """Whether the host answers an API path like Kore.ai: an unsigned call gets Kore.ai's JSON error
    envelope (docs/kore-api.md §4.1). None for a TLS failure (the `tls` line says it)."""
    subject = Subject(host)
    if answer.status is None:
        if answer.failure_kind in ("tls", "plain-http"):
            return None
        if answer.failure_kind == "timeout":
            fix = (
                "The host accepts connections but does not answer HTTP: check kore:host's port; a platform "
                "that hangs, or a firewall that swallows requests, looks like this."
            )
        else:
            fix = (
                "Check kore:host (or KORE_HOST, --host): the host name, the port, and that it is reachable "
                "from here; for the local sandbox, that it is running on that port."
            )
        return subject.check(PROBLEM, "answers", f"{answer.call}: {answer.describe()} (one attempt)", fix)
    if classify(answer) is Kind.REDIRECT:
        return subject.check(
            PROBLEM,
            "answers",
            f"{answer.seen}, a redirect to {answer.location or '?'}",
            REDIRECT_FIX,
        )
    if answer.envelope:
        return subject.check(
            OK,
            "answers",
            f"an unsigned {answer.call} answered {answer.describe()}: Kore.ai's JSON error envelope",
            basis="documented",
        )
    return subject.check(
        PROBLEM,
        "answers",
        f"an unsigned {answer.call} answered HTTP {answer.status} with {body_kind(answer)}, not Kore.ai's "
        'JSON error envelope {"errors": [{"msg", "code"}]}',
        "kore:host (or KORE_HOST, --host) points at a server that is not Kore.ai's API (a web page, a "
        "proxy, a login page or another service): set it to the platform's base URL, e.g. "
        "https://platform.kore.ai, without a path.",
    )


# -- the apps --------------------------------------------------------------------------------------------

#: What the token probe's answers mean: Kore.ai read and accepted the token (a scope or id refusal comes
#: after the token check, observed in Kore's QA on Bot Import Status).
TOKEN_READ = frozenset({Kind.SUCCESS, Kind.SCOPE, Kind.REFUSED, Kind.UNKNOWN_STREAM})


def token_accepted(answers: Sequence[Answer]) -> Answer | None:
    """The first answer that shows Kore.ai accepted the token, if any."""
    return next((a for a in answers if classify(a) in TOKEN_READ), None)


def token_check(host: str, app: App, answers: Sequence[Answer]) -> Check:
    """Whether Kore.ai accepts the app's token, from every answer its calls got (the bot-less probe first).

    Why not one call: Kore.ai has no "who am I" call (docs/kore-api.md §3), and a refused token and a bot
    the app does not reach both answer 401 'Invalid SDK credentials'. Any answer that got past the token
    (a success, a scope or id refusal) proves it good; only refusals everywhere make it the likely fault."""
    subject = Subject(host, app=app)
    accepted = token_accepted(answers)
    if accepted is not None:
        return subject.check(OK, "token", f"accepted: {accepted.seen}", basis="observed")
    refused = [a for a in answers if classify(a) is Kind.CREDENTIALS]
    if refused and len(refused) == len(answers):
        return subject.check(
            PROBLEM,
            "token",
            f"every call with this app was refused: {refused[0].describe()}",
            credentials_fix(subject, token_accepted=False)
            + " If they are right, no checked bot is linked to this app (see the bots' lines).",
            "observed",
        )
    told = "; ".join(f"{a.call}: {a.describe()}" for a in answers) or "no call was made"
    return subject.check(NOT_CHECKABLE, "token", f"no answer tells whether the token is good ({told})")


def bot_import_check(host: str, app: App, answer: Answer, *, accepted_elsewhere: bool) -> Check:
    """The Bot Import scope, by Bot Import Status with a made-up id: 400 'Invalid request ID' when the app
    holds it, 401 'Permission denied. Scope is incorrect!' when not (observed in Kore's QA: the scope is
    checked before the id). The path names no bot, so this says nothing about which bots the app reaches."""
    subject = Subject(host, app=app)
    kind = classify(answer)
    seen = answer.seen
    if kind in (Kind.REFUSED, Kind.SUCCESS):
        return subject.check(
            OK,
            BOT_IMPORT.key,
            f"{seen}: past the scope check to the made-up id, so the app holds Bot Import (observed in "
            "Kore's QA, not documented)",
            basis="observed",
        )
    if kind is Kind.CREDENTIALS and not accepted_elsewhere:
        return subject.blocked(BOT_IMPORT.key, "Kore.ai refused this app's token (see token)")
    if kind is Kind.CREDENTIALS:
        # The token is good, yet this Admin Console call refuses it: the app is most likely bot-level.
        return subject.check(
            PROBLEM,
            BOT_IMPORT.key,
            f"{seen}, though the token was accepted on the bots' calls",
            scope_fix(BOT_IMPORT, app),
            "undocumented",
        )
    return otherwise(answer, subject, BOT_IMPORT, scope_basis="observed")


def upload_check(host: str, app: App) -> Check:
    return Subject(host, app=app).needs_a_write(
        "upload",
        "Upload File needs no API scope (documented: any app created by the account administrator), and only "
        "an upload shows whether this app may upload",
        "documented",
    )


# -- the bots --------------------------------------------------------------------------------------------


def reach_check(subject: Subject, answer: Answer, *, token_accepted: bool) -> Check:
    """Whether the bot is reachable with the app that will call it, from the first call naming the bot."""
    kind = classify(answer)
    seen = answer.seen
    if kind is Kind.SUCCESS:
        return subject.check(OK, "reach", f"{seen}: the bot answers this app", basis="documented")
    if kind in (Kind.SCOPE, Kind.REFUSED):
        return subject.check(
            OK,
            "reach",
            f"{seen}: Kore.ai got past the bot to a later check, so the bot is known to this app",
            basis="undocumented",
        )
    if kind is Kind.UNKNOWN_STREAM:
        assert subject.bot is not None and subject.app is not None
        return subject.check(
            PROBLEM,
            "reach",
            seen,
            f"Kore.ai does not know bot {subject.bot.bot_id} in the account of app {subject.app.client_id} "
            f"(observed: an Admin Console app gets 400 'Invalid StreamId'): check {subject.bot.id_setting}, "
            f"and that {subject.app.settings} is an Admin Console app of the bot's account.",
            "observed",
        )
    return settled(answer, subject, "reach", token_accepted=token_accepted) or unexpected(
        answer, subject, "reach"
    )


def train_check(subject: Subject, answers: Sequence[Answer]) -> Check:
    """Train ML, from the training status of every language (train and its status share the scope)."""
    for answer in answers:
        if classify(answer) is Kind.SUCCESS:
            seen = f"{answer.seen}: the app may train"
            return subject.check(OK, TRAIN.key, seen, basis="documented")
    for answer in answers:
        if classify(answer) is Kind.SCOPE:
            seen = answer.seen
            return subject.check(PROBLEM, TRAIN.key, seen, scope_fix(TRAIN, _app(subject)), "documented")
    first = answers[0]
    if classify(first) is Kind.REFUSED:
        return subject.check(
            OK,
            TRAIN.key,
            f"{first.seen}: past the scope check, so the app may train",
            basis="undocumented",
        )
    return settled(first, subject, TRAIN.key) or unexpected(first, subject, TRAIN.key)


def language_check(subject: Subject, answer: Answer) -> Check:
    """Whether a bot language is enabled, by its training status (`language=X`). The docs name no error
    for a language the bot has not enabled (docs/kore-api.md §2.6): a 400 naming the language is read as
    that refusal, and an answer about "no training" cannot be told from it without training."""
    assert subject.language is not None and subject.bot is not None
    language, bot = subject.language, subject.bot
    kind = classify(answer)
    seen = answer.seen
    if kind is Kind.SUCCESS:
        status = answer.body.get("trainingStatus") if isinstance(answer.body, dict) else None
        if isinstance(status, str) and status:
            return subject.check(
                OK, "language", f"enabled: its training status is {status}", basis="documented"
            )
        return subject.check(
            OK,
            "language",
            f"{seen} without a training status: enabled, never trained (the docs do not show this answer)",
            basis="undocumented",
        )
    if kind is Kind.REFUSED:
        message = (answer.message or "").lower()
        if "train" in message:
            return subject.check(
                NOT_CHECKABLE,
                "language",
                f"{seen}: the docs do not say what the training status answers for a language never trained "
                "or one the bot has not enabled, and this answer may mean either; only the first training "
                "tells: not checkable without a write",
                "If the language is not enabled, the deploy's train call fails naming it.",
                "undocumented",
            )
        if "lang" in message or language.lower() in message:
            return subject.check(
                PROBLEM,
                "language",
                seen,
                f"Enable {language} on bot {bot.bot_id} (the builder's Languages page, then publish the "
                f"bot), or remove it from {bot.languages_setting}. (The docs name no error for this; this "
                "answer names the language.)",
                "undocumented",
            )
        return subject.check(
            PROBLEM,
            "language",
            seen,
            "The deploy makes this same call while it trains: fix what Kore.ai's message says.",
        )
    if kind is Kind.SCOPE:
        return subject.blocked("language", f"the training status call needs {TRAIN.bot_scope} (see train)")
    return settled(answer, subject, "language") or unexpected(answer, subject, "language")


def ml_import_check(subject: Subject, answer: Answer) -> Check:
    """Utterances Import, by ML import status with a made-up id: 400 'Invalid request ID' past the scope
    check (as Kore's QA observed on Bot Import Status; not documented for this call), 401 scope without."""
    kind = classify(answer)
    seen = answer.seen
    if kind in (Kind.REFUSED, Kind.SUCCESS):
        return subject.check(
            OK,
            ML_IMPORT.key,
            f"{seen}: past the scope check to the made-up id, so the app may import ML utterances (observed "
            "in Kore's QA, not documented)",
            basis="observed",
        )
    return otherwise(answer, subject, ML_IMPORT, scope_basis="observed")


def ml_export_check(subject: Subject, answer: Answer) -> Check:
    """Utterances Export, by the export status (no id): 200, or 400 'no export yet' (undocumented)."""
    kind = classify(answer)
    seen = answer.seen
    if kind is Kind.SUCCESS:
        status = answer.body.get("status") if isinstance(answer.body, dict) else None
        latest = f"the latest export is {status}" if isinstance(status, str) else "answered"
        return subject.check(OK, ML_EXPORT.key, f"{latest}: the app may export", basis="documented")
    if kind is Kind.REFUSED and answer.status == 400:
        return subject.check(
            OK,
            ML_EXPORT.key,
            f"{seen}: past the scope check; the bot has no export yet (the docs do not show this answer)",
            basis="undocumented",
        )
    return otherwise(answer, subject, ML_EXPORT, scope_basis="observed")


def variables_export_check(subject: Subject, answer: Answer) -> Check:
    """Export Variables, by the variables export: a POST that only reads. Its values are never shown."""
    kind = classify(answer)
    seen = answer.seen
    if kind is Kind.SUCCESS:
        count = len(answer.body) if isinstance(answer.body, list) else None
        listed = f"{count} variable{'s' if count != 1 else ''}" if count is not None else "the variables"
        return subject.check(
            OK,
            VARIABLES.key,
            f"the export lists {listed} (values not shown): the app may export",
            basis="documented",
        )
    if kind is Kind.REFUSED:
        return subject.check(
            PROBLEM,
            VARIABLES.key,
            seen,
            "The refresh of the variables makes this call: fix what Kore.ai says.",
        )
    return otherwise(answer, subject, VARIABLES, scope_basis="documented")


def publish_status_check(subject: Subject, answer: Answer, *, reached_for_training: bool = False) -> Check:
    """Bot Publish > Publish Status, by the bot's publish status (no id). `reached_for_training`: the same
    app (no `kore:adminClientId`) reaches the bot for training, so a refusal of it here is about the kind
    of app, not the bot."""
    kind = classify(answer)
    seen = answer.seen
    if reached_for_training and kind in (Kind.CREDENTIALS, Kind.UNKNOWN_STREAM):
        return subject.check(
            PROBLEM,
            PUBLISH_STATUS.key,
            f"{seen}, though this app reaches the bot for training: most likely it is a bot-level app",
            scope_fix(PUBLISH_STATUS, _app(subject)),
            "undocumented",
        )
    if kind is Kind.SUCCESS:
        status = answer.body.get("status") if isinstance(answer.body, dict) else None
        latest = f"the latest publish is {status}" if isinstance(status, str) else "answered"
        return subject.check(OK, PUBLISH_STATUS.key, f"{latest}: the app may read it", basis="documented")
    return otherwise(answer, subject, PUBLISH_STATUS, scope_basis="observed")


def variables_import_check(subject: Subject) -> Check:
    return subject.needs_a_write(
        "variables-import",
        f"only an import shows whether app {_app(subject).client_id} holds Import Variables (the export "
        "checks Export Variables; the deploy needs both)",
        "documented",
    )


def publish_check(subject: Subject) -> Check:
    return subject.needs_a_write(
        "publish",
        f"only a publish shows whether app {_app(subject).client_id} holds Bot Publish > Publish (the status "
        "call checks Publish Status)",
        "documented",
    )


def admin_reach_unknown(subject: Subject) -> Check:
    return subject.needs_a_write(
        "reach",
        "Bot Import Status names no bot, so only an import shows whether this bot is in the Admin Console "
        "app's account",
        "documented",
    )


def otherwise(answer: Answer, subject: Subject, family: Family, *, scope_basis: Basis) -> Check:
    """What every family reads the same way once its own answers are read: its scope refused (the fix names
    the scope for the kind of app; `scope_basis` says how we know the answer means that), an answer
    `settled` reads, or one the docs do not explain."""
    if classify(answer) is Kind.SCOPE:
        seen = answer.seen
        return subject.check(PROBLEM, family.key, seen, scope_fix(family, _app(subject)), scope_basis)
    return settled(answer, subject, family.key) or unexpected(answer, subject, family.key)


def unexpected(answer: Answer, subject: Subject, family: str) -> Check:
    return subject.check(
        PROBLEM,
        family,
        f"{answer.seen}, which the docs do not explain for this call",
        "The deploy makes a call of this family too: fix what Kore.ai's message says, or check kore:host.",
        "undocumented",
    )


def _app(subject: Subject) -> App:
    assert subject.app is not None
    return subject.app
