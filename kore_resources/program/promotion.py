"""The promotion guard: a stack that promotes from another deploys only what that stack trained.

A stack with `kore:promoteFrom: organization/project/stack` reads that stack's exported `utterancesHashes`
(`{bot name: {language: hash}}`, the hashes its trainings recorded when they finished successfully) and
refuses -- before anything is imported, trained or published, so already at `pulumi preview` -- every bot
language whose planned utterances hash differs from the upstream one, or that upstream has not trained.

Pure functions: the program (`__main__.py`) does the I/O (`pulumi.StackReference`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigurationError, PromotionRefusedError
from ..settings import PROMOTE_FROM

PROMOTE_FROM_KEY = PROMOTE_FROM.key
#: The stack output the guard reads, written by the program of the upstream stack.
HASHES_OUTPUT = "utterancesHashes"

_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
STACK_NAME_PATTERN = re.compile(rf"{_SEGMENT}/{_SEGMENT}/{_SEGMENT}")


def parse_promote_from(value: str | None, *, project: str, stack: str) -> str | None:
    """The fully qualified upstream stack name, or None when the stack promotes from nowhere."""
    if value is None or not value.strip():
        return None
    name = value.strip()
    if not STACK_NAME_PATTERN.fullmatch(name):
        raise ConfigurationError(
            f"{PROMOTE_FROM_KEY} {value!r} must name the stack to promote from as "
            f"organization/project/stack, e.g. organization/{project}/staging (with a self-managed backend "
            "the organization is literally `organization`)"
        )
    _organization, upstream_project, upstream_stack = name.split("/")
    if upstream_project == project and upstream_stack == stack:
        raise ConfigurationError(
            f"{PROMOTE_FROM_KEY} {value!r} names this stack itself; name the stack whose trained utterances "
            "this one deploys (prod promotes from staging, staging from dev), or remove the key"
        )
    return name


#: The part of a bot a refusal names when it is the definition, not a language.
DEFINITION = "definition"
#: The stack output with the definitions a stack imported successfully: {bot name: content hash}.
DEFINITIONS_OUTPUT = "definitionHashes"


@dataclass(frozen=True)
class Refusal:
    """A part of a bot (a language's utterances, or its definition) this stack may not deploy: what it
    plans, what upstream deployed successfully (None: nothing)."""

    bot: str
    language: str  # or DEFINITION
    planned: str
    upstream: str | None

    def describe(self, upstream_stack: str) -> str:
        planned = f"bot {self.bot} ({self.language}): this stack would deploy {self.planned}"
        done, what = (
            ("imported", "this definition")
            if self.language == DEFINITION
            else ("trained", "this bot language")
        )
        if self.upstream is None:
            return f"{planned}, but {upstream_stack} has not {done} {what} successfully"
        return f"{planned}, but {upstream_stack} last {done} {self.upstream} successfully"


def find_refusals(planned: Mapping[str, Mapping[str, str]], upstream: Any) -> list[Refusal]:
    """Every planned bot language whose hash the upstream `utterancesHashes` output does not hold.

    `upstream` is the output as read (`{bot: {language: hash or null}}`, or None when upstream exports no
    such output); anything malformed counts as "not trained"."""
    refusals: list[Refusal] = []
    for bot, languages in planned.items():
        trained = upstream.get(bot) if isinstance(upstream, Mapping) else None
        refusals += _compare(bot, languages, trained)
    return refusals


def find_definition_refusals(planned: Mapping[str, str], upstream: Any) -> list[Refusal]:
    """Every planned bot definition whose content hash the upstream `definitionHashes` output does not hold
    (`{bot: hash or null}`; None or malformed: nothing imported)."""
    imported = upstream if isinstance(upstream, Mapping) else None
    return [
        r
        for bot, planned_hash in planned.items()
        for r in _compare(bot, {DEFINITION: planned_hash}, imported, bot)
    ]


def _compare(bot: str, planned: Mapping[str, str], upstream: Any, key: str | None = None) -> list[Refusal]:
    refusals = []
    for part, planned_hash in planned.items():
        found = upstream.get(key if key is not None else part) if isinstance(upstream, Mapping) else None
        if found != planned_hash:
            refusals.append(
                Refusal(bot, part, planned_hash, found if isinstance(found, str) and found else None)
            )
    return refusals


def check_promotion(
    planned: Mapping[str, Mapping[str, str]],
    upstream: Any,
    upstream_stack: str,
    *,
    planned_definitions: Mapping[str, str] | None = None,
    upstream_definitions: Any = None,
) -> None:
    """Raise `PromotionRefusedError` naming every refused bot language and definition, both hashes and what
    to do."""
    refusals = find_refusals(planned, upstream)
    if planned_definitions:
        refusals += find_definition_refusals(planned_definitions, upstream_definitions)
    if not refusals:
        return
    stack = upstream_stack.rsplit("/", 1)[-1]
    lines = "\n".join(f"  - {refusal.describe(upstream_stack)}" for refusal in refusals)
    raise PromotionRefusedError(
        f"Refusing to deploy what {upstream_stack} ({PROMOTE_FROM_KEY}) has not deployed successfully; "
        f"nothing was imported, trained or published:\n{lines}\n"
        f"Deploy it to {stack} first (`pulumi up -s {stack}`) and let its imports and trainings finish, "
        f"or check out the commit {stack} was deployed from."
    )
