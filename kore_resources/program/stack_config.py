"""Checks of the stack config as a whole, before any resource is declared (pure: the program passes in
what it read), and the one place where the program's own errors become clean Pulumi errors."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from .. import settings
from ..errors import ConfigurationError, InputFileError, PromotionRefusedError

#: The errors a user causes with the stack config or the files (as opposed to bugs): shown as one line.
USER_ERRORS = (ConfigurationError, InputFileError, PromotionRefusedError)


@contextmanager
def user_errors_as_pulumi_errors() -> Iterator[None]:
    """Show a mistake in the stack config or in a file as one clean `error:` line: Pulumi prints any other
    exception as "Program failed with an unhandled exception" with a stack trace before the line that
    matters. `pulumi.RunError` is the Python SDK's way to fail without that."""
    import pulumi

    try:
        yield
    except USER_ERRORS as error:
        raise pulumi.RunError(str(error)) from None


def plaintext_variables_problem(
    secured: Iterable[tuple[int, str]], *, key: str, is_secret: bool, stack: str
) -> str | None:
    """Secured bot variables (`secured: true`, given as (bot index, variable key)) whose value sits in plain
    text in the stack config: the engine would record the config, values included, in plain text in the
    state. With any value of the key set with `--secret`, the whole key is stored encrypted."""
    plain = [] if is_secret else list(secured)
    if not plain:
        return None
    index, name = plain[0]
    path = f"{key}[{index}].variables.{name}.value"
    more = f" ({len(plain) - 1} more secured variables are set in plain text too)" if len(plain) > 1 else ""
    return (
        f"{key}[{index}].variables.{name} is secured, but its value is set in plain text in "
        f"Pulumi.{stack}.yaml, so Pulumi would record it in plain text in the stack's state{more}. Store it "
        "encrypted: "
        f"`pulumi config set --secret --path '{path}' <value> --stack {stack}`."
    )


def known_keys(project: str) -> list[str]:
    return sorted({s.key for s in settings.KORE_SETTINGS} | {f"{project}:{settings.BOTS_KEY_NAME}"})


def unknown_keys_problem(config_keys: Iterable[str], *, project: str) -> str | None:
    """Keys in the namespaces the program reads (`kore`, and the project's own) that it does not know. A
    typo there would be ignored without a word: a misspelled `kore:promoteFrom` switches the promotion
    guard off."""
    known = known_keys(project)
    unknown = sorted(
        key
        for key in set(config_keys)
        if key.split(":", 1)[0] in (settings.NAMESPACE, project) and key not in known
    )
    if not unknown:
        return None
    listed = ", ".join(unknown)
    return (
        f"Unknown stack config key{'s' if len(unknown) > 1 else ''} {listed}: this program reads only "
        f"{', '.join(known)} in these namespaces. Fix the name (a typo is otherwise ignored), or remove it: "
        f"`pulumi config rm {unknown[0]}`."
    )


def plaintext_secret_problem(key: str, *, is_secret: bool, is_set: bool, stack: str) -> str | None:
    """Why a credential set without `--secret` must not be deployed, or None.

    The engine stores the whole stack config as the inputs of the default `pulumi-python` provider in the
    stack's state, so a value set without `--secret` would be recorded there in plain text (and it already
    sits in plain text in `Pulumi.<stack>.yaml`). The program refuses it before any resource is declared,
    so nothing is recorded; the message names the command that fixes it and never the value."""
    if not is_set or is_secret:
        return None
    return (
        f"{key} is set in plain text in Pulumi.{stack}.yaml, so Pulumi would also record it in plain text in "
        f"the stack's state. Store it encrypted: `pulumi config set --secret {key} <value> --stack {stack}` "
        "(or drop it from the stack config and set its environment variable instead)."
    )


def all_config_keys() -> set[str]:
    """Every stack-config key the engine gave the program."""
    import pulumi.runtime.config as runtime_config

    return set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())


def check_stack_config() -> None:
    """What must hold of the stack config before the program declares anything: no unknown key in the
    namespaces it reads, and no client secret in plain text."""
    import pulumi
    import pulumi.runtime.config as runtime_config

    problems = [unknown_keys_problem(all_config_keys(), project=pulumi.get_project())]
    problems += [
        plaintext_secret_problem(
            setting.key,
            is_secret=runtime_config.is_config_secret(setting.key),
            is_set=runtime_config.get_config(setting.key) is not None,
            stack=pulumi.get_stack(),
        )
        for setting in settings.SECRET_SETTINGS
    ]
    found = [problem for problem in problems if problem]
    if found:
        raise ConfigurationError(" ".join(found))


def bots_key() -> str:
    import pulumi

    return f"{pulumi.get_project()}:{settings.BOTS_KEY_NAME}"


def bots_config_is_secret() -> bool:
    """Whether any value of the bots key was set with `--secret` (then the engine marks the whole key)."""
    import pulumi.runtime.config as runtime_config

    return bool(runtime_config.is_config_secret(bots_key()))


def bots_config() -> object:
    """The program's `<project>:bots` value, parsed from its JSON; a missing or malformed one is a
    ConfigurationError naming the key and where to set it. Read raw (not with `Config.require_object`,
    which warns when the key holds a secret): the program keeps every variable value secret then."""
    import pulumi
    import pulumi.runtime.config as runtime_config

    key = bots_key()
    raw = runtime_config.get_config(key)
    if raw is None:
        raise ConfigurationError(
            f"Missing required stack config {key}: the bots this stack deploys (README, \"The program's "
            f'stack config"); set it in Pulumi.{pulumi.get_stack()}.yaml'
        )
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"{key} is not valid JSON: {error}") from None
