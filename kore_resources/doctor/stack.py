"""A stack's config, read through the `pulumi` CLI the user already has, and what it would deploy.

Why the CLI: only Pulumi knows the stack's backend and decrypts its secrets (`pulumi config --json
--show-secrets`, run in the project directory). The values stay in memory; none is ever printed. The
bots come from `<project>:bots`, parsed by the shipped program's own parser (`parse_bots`), or from the
`pulumi new` template's `<project>:botId` and `<project>:languages`.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import settings
from ..api.languages import language_problem
from ..api.validation import bot_id_problem
from ..errors import ConfigurationError, InputFileError
from ..program.bots_config import BotSpec, parse_bots
from ..program.stack_config import (
    plaintext_secret_problem,
    plaintext_variables_problem,
    unknown_keys_problem,
)
from .model import BotPlan, Check, Plan, Use
from .plan import config_problem, resolve_apps, resolve_host

PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")
#: Long enough for a cloud backend; `pulumi config` on a file backend takes a fraction of a second.
PULUMI_CONFIG_TIMEOUT_SECONDS = 60
INSTALL_PULUMI = "https://www.pulumi.com/docs/iac/download-install/"
OWN_PROGRAM = "for a program of your own, run kore-doctor --host URL --bot BOT_ID [--language CODE]"

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


class StackError(Exception):
    """The stack's config could not be read: what happened, and what to do."""

    def __init__(self, seen: str, fix: str) -> None:
        super().__init__(f"{seen}: {fix}")
        self.seen = seen
        self.fix = fix


@dataclass(frozen=True)
class ConfigValue:
    """One stack config value as `pulumi config --json --show-secrets` gives it."""

    value: str | None
    object_value: Any
    secret: bool


@dataclass(frozen=True, kw_only=True)
class StackConfig:
    directory: Path
    project: str
    stack: str
    values: Mapping[str, ConfigValue]

    def get(self, key: str) -> str | None:
        entry = self.values.get(key)
        return entry.value if entry is not None else None

    def object(self, key: str) -> Any:
        """A structured value (`<project>:bots`): its object, else its JSON text parsed."""
        entry = self.values[key]
        if entry.object_value is not None:
            return entry.object_value
        try:
            return json.loads(entry.value) if entry.value is not None else None
        except json.JSONDecodeError:
            return entry.value

    @property
    def name(self) -> str:
        return f"stack {self.stack} of project {self.project}"


def find_project(directory: Path) -> Path | None:
    return next((directory / name for name in PROJECT_FILES if (directory / name).is_file()), None)


def project_name(project_file: Path) -> str:
    """The project's `name:` (the namespace of its own config keys). Read without a YAML parser: it is a
    top-level scalar."""
    match = re.search(r"^name:\s*(['\"]?)([^'\"#\s]+)\1\s*(?:#.*)?$", project_file.read_text(), re.M)
    if not match:
        raise StackError(
            f"{project_file} has no top-level `name:`", "name the project there, as `pulumi new` writes it"
        )
    return match.group(2)


def read_stack_config(
    directory: Path, stack: str | None, *, pulumi: str = "pulumi", run: Runner = subprocess.run
) -> StackConfig:
    """`pulumi config --json --show-secrets --stack STACK` in `directory` (without STACK: the stack
    `pulumi stack --show-name` says is selected, so that the report names it)."""
    project_file = find_project(directory)
    if project_file is None:
        raise StackError(
            f"{directory} has no Pulumi.yaml", f"run kore-doctor in the project (or -C DIR); {OWN_PROGRAM}"
        )
    project = project_name(project_file)
    if stack is None:
        selected = _pulumi(pulumi, ["stack", "--show-name"], directory, run)
        stack = selected.stdout.strip()
        if selected.returncode != 0 or not stack:
            raise StackError(
                f"no stack is selected in {directory} ({_said(selected)})",
                "name one with -s STACK, or select it (pulumi stack select)",
            )
    arguments = ["config", "--json", "--show-secrets", "--stack", stack]
    result = _pulumi(pulumi, arguments, directory, run)
    if result.returncode != 0:
        raise StackError(
            f"`pulumi {' '.join(arguments)}` failed ({_said(result)})",
            "select or create the stack (pulumi stack ls), log in to its backend (pulumi login), and set "
            "PULUMI_CONFIG_PASSPHRASE for a passphrase-encrypted stack",
        )
    try:
        raw = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise StackError(f"`pulumi {' '.join(arguments)}` printed no JSON", "run it to see why") from None
    values = {
        key: ConfigValue(
            value=entry.get("value"), object_value=entry.get("objectValue"), secret=bool(entry.get("secret"))
        )
        for key, entry in (raw.items() if isinstance(raw, dict) else ())
        if isinstance(entry, dict)
    }
    return StackConfig(directory=directory, project=project, stack=stack, values=values)


def _pulumi(
    pulumi: str, arguments: list[str], directory: Path, run: Runner
) -> subprocess.CompletedProcess[str]:
    try:
        return run(
            [pulumi, *arguments],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=PULUMI_CONFIG_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise StackError(
            "the pulumi CLI is not on PATH, so the stack's config cannot be read",
            f"install it ({INSTALL_PULUMI}); {OWN_PROGRAM}",
        ) from None
    except subprocess.TimeoutExpired:
        raise StackError(
            f"`pulumi {' '.join(arguments)}` did not finish within {PULUMI_CONFIG_TIMEOUT_SECONDS} s",
            "check that the stack's backend is reachable (pulumi whoami)",
        ) from None


def _said(result: subprocess.CompletedProcess[str]) -> str:
    """The end of what the CLI wrote to stderr (never stdout: `--show-secrets` prints the secrets there)."""
    return " ".join(result.stderr.strip().splitlines()[-2:])[:300] or f"exit {result.returncode}"


def stack_problem(error: StackError, stack: str | None) -> Plan:
    return Plan(
        source=f"stack {stack or '(the selected one)'}",
        host=None,
        bot_app=None,
        admin_app=None,
        bots=(),
        problems=(config_problem(error.seen, error.fix),),
    )


def plan_from_stack(config: StackConfig, environ: Mapping[str, str]) -> Plan:
    """What the stack would deploy: the settings resolved as the program resolves them, its bots, and the
    program's own checks of its config (unknown keys, secrets in plain text)."""
    host, host_problems = resolve_host(config.get, environ)
    bot_app, admin_app, app_problems = resolve_apps(config.get, environ)
    bots, bot_problems = _bots(config)
    return Plan(
        source=config.name,
        host=host,
        bot_app=bot_app,
        admin_app=admin_app,
        bots=bots,
        problems=(*host_problems, *app_problems, *bot_problems),
    )


def _bots(config: StackConfig) -> tuple[tuple[BotPlan, ...], list[Check]]:
    bots_key = f"{config.project}:{settings.BOTS_KEY_NAME}"
    if bots_key in config.values:
        return _shipped_program_bots(config, bots_key)
    template_key = f"{config.project}:botId"
    if template_key in config.values:
        return _template_bot(config, template_key)
    return (), [
        config_problem(
            f"{config.name} sets neither {bots_key} (the shipped program) nor {template_key} (the template's "
            "program): no bot to check",
            f"Set {bots_key} in Pulumi.{config.stack}.yaml (README, \"The program's stack "
            f'config"); {OWN_PROGRAM}.',
        )
    ]


def _shipped_program_bots(config: StackConfig, key: str) -> tuple[tuple[BotPlan, ...], list[Check]]:
    stack = config.stack
    problems = [
        unknown_keys_problem(config.values, project=config.project),
        *(
            plaintext_secret_problem(
                setting.key,
                is_secret=config.values[setting.key].secret,
                is_set=True,
                stack=stack,
            )
            for setting in settings.SECRET_SETTINGS
            if setting.key in config.values
        ),
    ]
    checks = [_program_problem(p) for p in problems if p]
    try:
        specs = parse_bots(config.object(key), key=key, base_dir=config.directory)
    except (ConfigurationError, InputFileError) as error:
        return (), [
            *checks,
            config_problem(str(error), f"Fix {key} in Pulumi.{stack}.yaml: the program refuses it too."),
        ]
    secured = [(i, v.key) for i, spec in enumerate(specs) for v in spec.variables if v.secured]
    plain = plaintext_variables_problem(secured, key=key, is_secret=config.values[key].secret, stack=stack)
    if plain:
        checks.append(_program_problem(plain))
    return tuple(_bot_plan(spec, key, index) for index, spec in enumerate(specs)), checks


def _program_problem(message: str) -> Check:
    """One of the program's own refusals of its config (`program.stack_config`), as seen and fix."""
    for marker in (" Fix the name", " Store it encrypted"):
        seen, found, fix = message.partition(marker)
        if found:
            return config_problem(seen, (found + fix).strip())
    return config_problem(message, message)


def _bot_plan(spec: BotSpec, key: str, index: int) -> BotPlan:
    uses = {
        Use.DEFINITION: spec.definition is not None,
        Use.VARIABLES: bool(spec.variables),
        Use.IMPORT_UTTERANCES: spec.import_utterances,
        Use.PUBLISH: spec.publish is not None,
    }
    return BotPlan(
        bot_id=spec.bot_id,
        languages=spec.languages,
        uses=frozenset(use for use, used in uses.items() if used),
        name=spec.name,
        id_setting=f"{key}[{index}].botId",
        languages_setting=f"{key}[{index}].languages",
    )


def _template_bot(config: StackConfig, key: str) -> tuple[tuple[BotPlan, ...], list[Check]]:
    """The template's program: `botId` and `languages` (a JSON list, default [en]); it only trains."""
    bot_id = config.get(key) or ""
    languages_key = f"{config.project}:languages"
    raw = config.object(languages_key) if languages_key in config.values else [settings.DEFAULT_LANGUAGE]
    languages: Sequence[Any] = raw if isinstance(raw, list) and raw else [raw]
    problems = [
        config_problem(f"{key}: {p}", f"Set it: pulumi config set {key.split(':', 1)[1]} st-...")
        for p in [bot_id_problem(bot_id)]
        if p
    ]
    problems += [
        config_problem(
            f"{languages_key}: {p}", f"Set it: pulumi config set {languages_key.split(':', 1)[1]} '[\"en\"]'"
        )
        for p in map(language_problem, languages)
        if p
    ]
    if problems:
        return (), problems
    plan = BotPlan(
        bot_id=bot_id,
        languages=tuple(str(language) for language in languages),
        uses=frozenset(),
        id_setting=key,
        languages_setting=languages_key,
    )
    return (plan,), []
