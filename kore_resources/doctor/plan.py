"""What a deploy would use, resolved from settings exactly as the program and the provider resolve them
(`kore_resources.settings`): the host and the two apps, and the bots given on the command line. A setting
that is missing or unusable becomes one problem line naming its config key and environment variable."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from .. import settings
from ..api.errors import ConfigurationError
from ..api.validation import host_problem
from .model import ALL_USES, PROBLEM, App, BotPlan, Check, Plan

ConfigGet = Callable[[str], str | None]


def config_problem(seen: str, fix: str) -> Check:
    return Check(status=PROBLEM, family="config", seen=seen, fix=fix)


def resolve_host(config_get: ConfigGet, environ: Mapping[str, str]) -> tuple[str | None, list[Check]]:
    """`kore:host`, else `KORE_HOST`, and checked as the client checks it."""
    try:
        host = settings.resolve_host(config_get, environ)
    except ConfigurationError as error:
        return None, [
            config_problem(
                f"no Kore.ai host: neither {settings.HOST.key} nor {settings.HOST.env}", str(error)
            )
        ]
    problem = host_problem(host)
    if problem:
        return None, [
            config_problem(
                f"{settings.HOST.key} (or {settings.HOST.env}): {problem}",
                f"Set {settings.HOST.key} (or {settings.HOST.env}, --host) to the platform's base URL.",
            )
        ]
    return host.strip().rstrip("/"), []


def resolve_apps(
    config_get: ConfigGet, environ: Mapping[str, str]
) -> tuple[App | None, App | None, list[Check]]:
    """The bot-level app (`kore:clientId`...) and the Admin Console app (`kore:adminClientId`..., else the
    same app, `shared`), each as `settings.resolve_credentials` resolves it."""
    problems: list[Check] = []
    bot_app: App | None = None
    try:
        bot_app = App("bot-level", settings.resolve_credentials(config_get, environ))
    except ConfigurationError as error:
        problems.append(config_problem("no credentials for the bot-level app", str(error)))
    admin_keys = (settings.ADMIN_CLIENT_ID, settings.ADMIN_CLIENT_SECRET)
    if not any((setting.lookup(config_get, environ) or "").strip() for setting in admin_keys):
        admin_app = replace(bot_app, role="admin", shared=True) if bot_app is not None else None
        return bot_app, admin_app, problems
    try:
        admin_app = App("admin", settings.resolve_credentials(config_get, environ, admin=True))
    except ConfigurationError as error:
        problems.append(config_problem("half of the Admin Console app's credentials", str(error)))
        admin_app = None
    return bot_app, admin_app, problems


def plan_from_arguments(
    host: str | None, bot_ids: Sequence[str], languages: Sequence[str], environ: Mapping[str, str]
) -> Plan:
    """Without a stack: the bots given with --bot, every API family, credentials from the environment."""

    def config_get(key: str) -> str | None:
        return host if key == settings.HOST.key else None

    resolved_host, host_problems = resolve_host(config_get, environ)
    bot_app, admin_app, app_problems = resolve_apps(config_get, environ)
    unique_languages = tuple(dict.fromkeys(languages))
    bots = tuple(
        BotPlan(bot_id=bot_id, languages=unique_languages, uses=ALL_USES) for bot_id in dict.fromkeys(bot_ids)
    )
    return Plan(
        source=f"{len(bots)} bot{'s' if len(bots) != 1 else ''} given on the command line, every API family",
        host=resolved_host,
        bot_app=bot_app,
        admin_app=admin_app,
        bots=bots,
        problems=(*host_problems, *app_problems),
    )
