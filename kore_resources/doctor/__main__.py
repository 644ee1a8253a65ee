"""The `kore-doctor` command (also `python -m kore_resources.doctor`)."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from .. import settings
from ..api.languages import language_problem
from ..api.validation import bot_id_problem
from .model import Plan
from .plan import plan_from_arguments
from .probe import DEFAULT_TIMEOUT_SECONDS
from .report import exit_code, render_json, render_text
from .run import examine
from .stack import StackError, find_project, plan_from_stack, read_stack_config, stack_problem

DESCRIPTION = """\
Check every setting a deploy of Kore.ai bots needs, against the platform, in seconds: the host (its name
resolves, TLS verifies, it answers like Kore.ai), each app's token, each bot (reachable with the app that
will call it, each language enabled) and each API family the deploy uses (the app holds its scope). Only
calls that change nothing are made: GETs, status calls and the bot variables export, which only reads.
What no such call can tell is reported as "not checkable without a write"."""

EPILOG = f"""\
modes:
  In a Pulumi project (Pulumi.yaml here, or -C DIR): checks what the stack would deploy, reading its
  config through `pulumi config --json --show-secrets` as the program reads it: kore:host (else
  KORE_HOST), kore:clientId / kore:clientSecret (else KORE_CLIENT_ID / KORE_CLIENT_SECRET),
  kore:adminClientId / kore:adminClientSecret (else KORE_ADMIN_CLIENT_*, else the same app), and the
  bots of <project>:bots (or the template's <project>:botId and <project>:languages).

  For a program of your own: --host URL (else KORE_HOST) and --bot BOT_ID for each bot, with
  credentials from KORE_CLIENT_ID / KORE_CLIENT_SECRET (and KORE_ADMIN_CLIENT_*); every API family is
  checked.

output:
  One line per check: ok, problem or not checkable, what was seen (the HTTP status and Kore.ai's
  message; never a secret or a token) and, for a problem, the fix. --json prints one JSON document.

exit status:
  0 without a problem ("not checkable" is not one), 1 with a problem, 2 for a usage error.

examples:
  kore-doctor -s staging
  kore-doctor --host https://platform.kore.ai --bot st-... --language en --language de --json

The default language is {settings.DEFAULT_LANGUAGE}; one attempt per call, --timeout seconds each."""


def bot_id(value: str) -> str:
    problem = bot_id_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def language(value: str) -> str:
    problem = language_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 < number <= 120:
        raise argparse.ArgumentTypeError(f"{value!r}: expected more than 0 and at most 120 seconds")
    return number


def parser() -> argparse.ArgumentParser:
    commands = argparse.ArgumentParser(
        prog="kore-doctor",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    stack = commands.add_argument_group("in a Pulumi project")
    stack.add_argument("-s", "--stack", help="the stack to check (default: the selected stack)")
    stack.add_argument(
        "-C", "--cwd", type=Path, metavar="DIR", help="the project directory (default: the current one)"
    )
    own = commands.add_argument_group("without a stack")
    own.add_argument(
        "--host",
        metavar="URL",
        help="the platform's base URL, e.g. https://platform.kore.ai (default: KORE_HOST)",
    )
    own.add_argument(
        "--bot",
        dest="bots",
        action="append",
        type=bot_id,
        default=[],
        metavar="BOT_ID",
        help="a bot (repeatable)",
    )
    own.add_argument(
        "--language",
        dest="languages",
        action="append",
        type=language,
        default=[],
        metavar="CODE",
        help=f"a bot language of every bot (repeatable; default {settings.DEFAULT_LANGUAGE})",
    )
    commands.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    commands.add_argument(
        "--timeout",
        type=seconds,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help=f"connect and read timeout of each call (default {DEFAULT_TIMEOUT_SECONDS:g})",
    )
    return commands


def make_plan(
    args: argparse.Namespace, commands: argparse.ArgumentParser, environ: Mapping[str, str]
) -> Plan:
    if args.bots:
        if args.stack or args.cwd:
            commands.error("--bot checks without a stack: leave out -s/--stack and -C/--cwd")
        return plan_from_arguments(
            args.host, args.bots, args.languages or [settings.DEFAULT_LANGUAGE], environ
        )
    if args.host or args.languages:
        commands.error(
            "--host and --language go with --bot (without a stack); a stack's config names its own"
        )
    directory = (args.cwd or Path.cwd()).resolve()
    if find_project(directory) is None:
        commands.error(
            f"{directory} has no Pulumi.yaml: run kore-doctor in a Pulumi project (or with -C DIR), or give "
            "--bot BOT_ID (and --host URL) to check a program of your own"
        )
    try:
        return plan_from_stack(read_stack_config(directory, args.stack), environ)
    except StackError as error:
        return stack_problem(error, args.stack)


def main(
    argv: Sequence[str] | None = None, *, environ: Mapping[str, str] | None = None, out: TextIO | None = None
) -> int:
    commands = parser()
    args = commands.parse_args(argv)
    # PyJWT warns of a short secret on every token; the token line says what a wrong secret does.
    warnings.filterwarnings("ignore", message="The HMAC key is")
    plan = make_plan(args, commands, os.environ if environ is None else environ)
    checks = examine(plan, timeout=args.timeout)
    stream = sys.stdout if out is None else out
    stream.write(render_json(plan, checks) if args.json else render_text(plan, checks))
    stream.flush()
    return exit_code(checks)


if __name__ == "__main__":
    sys.exit(main())
