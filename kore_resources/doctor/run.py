"""The order of the checks: the host first (nothing else is worth asking a host that does not answer like
Kore.ai), then one token probe per app, then every bot at once (a thread pool), then each app's token line
from everything its calls saw. Every call is read-only (`probe.READ_ONLY`)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from . import checks
from .checks import Subject
from .model import OK, Answer, App, BotPlan, Check, Plan, Use
from .probe import DEFAULT_TIMEOUT_SECONDS, Caller, resolve

#: Bots checked at once; each makes a handful of calls, one after another.
MAX_PARALLEL_BOTS = 8

Resolver = Callable[[str, int, float], tuple[tuple[str, ...], str | None]]


@dataclass
class BotResult:
    checks: list[Check] = field(default_factory=list)
    #: Every answer, by the client id of the app that signed the call: evidence for its token line.
    answers: dict[str, list[Answer]] = field(default_factory=dict)

    def saw(self, app: App, answer: Answer) -> Answer:
        self.answers.setdefault(app.client_id, []).append(answer)
        return answer


def examine(
    plan: Plan, *, timeout: float = DEFAULT_TIMEOUT_SECONDS, resolver: Resolver = resolve
) -> list[Check]:
    """Every check of `plan`, in report order."""
    found = list(plan.problems)
    if plan.host is None:
        return found
    host_checks, answered = check_host(plan.host, timeout, resolver)
    found += host_checks
    apps = plan.apps()
    if not answered:
        if apps or plan.bots:
            found.append(Subject(plan.host).blocked("apps and bots", "the host does not answer like Kore.ai"))
        return found
    if not apps:
        return found
    with Caller(plan.host, timeout) as caller:
        probes = {app.client_id: caller.bot_import_status(app) for app in apps}
    accepted = {cid: checks.token_accepted([answer]) is not None for cid, answer in probes.items()}
    workers = max(1, min(MAX_PARALLEL_BOTS, len(plan.bots)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kore-doctor") as pool:
        results = list(pool.map(lambda bot: check_bot(plan, bot, timeout, accepted), plan.bots))
    evidence = {cid: [answer] for cid, answer in probes.items()}
    for result in results:
        for cid, answers in result.answers.items():
            evidence[cid] += answers
    for app in apps:
        found.append(checks.token_check(plan.host, app, evidence[app.client_id]))
    admin = plan.admin_app
    if admin is not None and plan.uses(Use.DEFINITION):
        later = evidence[admin.client_id][1:]
        found.append(
            checks.bot_import_check(
                plan.host,
                admin,
                probes[admin.client_id],
                accepted_elsewhere=checks.token_accepted(later) is not None,
            )
        )
    uploaders = [plan.bot_app] if plan.uses(Use.IMPORT_UTTERANCES) else []
    uploaders += [admin] if plan.uses(Use.DEFINITION) else []
    distinct: dict[str, App] = {}
    for uploader in uploaders:
        if uploader is not None:
            distinct.setdefault(uploader.client_id, uploader)
    found += [checks.upload_check(plan.host, uploader) for uploader in distinct.values()]
    return found + [check for result in results for check in result.checks]


def check_host(host: str, timeout: float, resolver: Resolver) -> tuple[list[Check], bool]:
    """The host's lines, and whether it answers like Kore.ai (the rest is worth checking)."""
    parts = urlsplit(host)
    hostname = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses, error = resolver(hostname, port, timeout)
    found = [checks.resolve_check(host, hostname, addresses, error)]
    if error is not None:
        return found, False
    with Caller(host, timeout) as caller:
        answer = caller.unsigned_probe()
    found += [
        c for c in (checks.tls_check(host, parts.scheme, answer), checks.answers_check(host, answer)) if c
    ]
    return found, all(c.status == OK for c in found)


def check_bot(plan: Plan, bot: BotPlan, timeout: float, accepted: dict[str, bool]) -> BotResult:
    """One bot's lines: with the bot-level app (reach, train, languages, ML import and export, variables),
    then with the Admin Console app (reach, publish). A bot the app does not reach is not asked more."""
    assert plan.host is not None
    result = BotResult()
    reached = True
    with Caller(plan.host, timeout) as caller:
        if plan.bot_app is not None:
            reached = _with_bot_level_app(
                caller, Subject(plan.host, app=plan.bot_app, bot=bot), accepted, result
            )
        admin = plan.admin_app
        if admin is not None and bot.uses & {Use.DEFINITION, Use.PUBLISH}:
            subject = Subject(plan.host, app=admin, bot=bot)
            if admin.shared and not reached:
                result.checks += _blocked(subject, _admin_families(bot))
            else:
                _with_admin_app(caller, subject, accepted, result)
    return result


UNREACHED = "the bot does not answer this app (see reach)"


def _blocked(subject: Subject, families: list[str]) -> list[Check]:
    """The lines of the checks not run because the bot does not answer the app."""
    assert subject.bot is not None
    lines = []
    for family in families:
        if family == "language":
            lines += [
                replace(subject, language=lang).blocked(family, UNREACHED) for lang in subject.bot.languages
            ]
        else:
            lines.append(subject.blocked(family, UNREACHED))
    return lines


def _bot_level_families(bot: BotPlan) -> list[str]:
    families = ["train", "language"]
    if Use.IMPORT_UTTERANCES in bot.uses:
        families += [checks.ML_IMPORT.key, checks.ML_EXPORT.key]
    if Use.VARIABLES in bot.uses:
        families += [checks.VARIABLES.key, "variables-import"]
    return families


def _admin_families(bot: BotPlan) -> list[str]:
    return [checks.PUBLISH_STATUS.key, "publish"] if Use.PUBLISH in bot.uses else []


def _with_bot_level_app(
    caller: Caller, subject: Subject, accepted: dict[str, bool], result: BotResult
) -> bool:
    """The bot-level app's lines; whether the bot answers it."""
    app, bot = subject.app, subject.bot
    assert app is not None and bot is not None
    statuses = [result.saw(app, caller.train_status(app, bot.bot_id, lang)) for lang in bot.languages]
    reach = checks.reach_check(subject, statuses[0], token_accepted=accepted[app.client_id])
    result.checks.append(reach)
    if reach.status != OK:
        result.checks += _blocked(subject, _bot_level_families(bot))
        return False
    result.checks.append(checks.train_check(subject, statuses))
    result.checks += [
        checks.language_check(replace(subject, language=lang), answer)
        for lang, answer in zip(bot.languages, statuses, strict=True)
    ]
    if Use.IMPORT_UTTERANCES in bot.uses:
        imported = result.saw(app, caller.ml_import_status(app, bot.bot_id))
        exported = result.saw(app, caller.ml_export_status(app, bot.bot_id))
        result.checks += [
            checks.ml_import_check(subject, imported),
            checks.ml_export_check(subject, exported),
        ]
    if Use.VARIABLES in bot.uses:
        answer = result.saw(app, caller.variables_export(app, bot.bot_id))
        result.checks += [
            checks.variables_export_check(subject, answer),
            checks.variables_import_check(subject),
        ]
    return True


def _with_admin_app(caller: Caller, subject: Subject, accepted: dict[str, bool], result: BotResult) -> None:
    """Publish status is the one read that names the bot for an Admin Console app; a bot that only imports
    a definition cannot be checked for this app without importing. With one app for everything (`shared`)
    the bot-level lines already say whether the bot answers it."""
    app, bot = subject.app, subject.bot
    assert app is not None and bot is not None
    if Use.PUBLISH not in bot.uses:
        if not app.shared:
            result.checks.append(checks.admin_reach_unknown(subject))
        return
    answer = result.saw(app, caller.publish_status(app, bot.bot_id))
    if app.shared:
        status = checks.publish_status_check(subject, answer, reached_for_training=True)
        result.checks += [status, checks.publish_check(subject)]
        return
    reach = checks.reach_check(subject, answer, token_accepted=accepted[app.client_id])
    result.checks.append(reach)
    if reach.status != OK:
        result.checks += _blocked(subject, _admin_families(bot))
        return
    result.checks += [checks.publish_status_check(subject, answer), checks.publish_check(subject)]
