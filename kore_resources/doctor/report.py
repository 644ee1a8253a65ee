"""The report: one line per check for people, one JSON document for pipelines, and the exit status."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .model import PROBLEM, STATUSES, Check, Plan

HEADER = "kore-doctor: {source}; host {host}; read-only calls only"


def exit_code(checks: Sequence[Check]) -> int:
    """0 without a problem (a check that is not checkable without a write is not one), else 1."""
    return 1 if any(check.status == PROBLEM for check in checks) else 0


def counts(checks: Sequence[Check]) -> dict[str, int]:
    return {status: sum(1 for check in checks if check.status == status) for status in STATUSES}


def subject(check: Check) -> str:
    if check.bot is not None:
        named = f"bot {check.bot_name} {check.bot}" if check.bot_name else f"bot {check.bot}"
        return named + (f" {check.language}" if check.language else "")
    if check.app is not None:
        return f"app {check.app}" + (" (Admin Console)" if check.role == "admin" else "")
    if check.host is not None:
        return f"host {check.host}"
    return "config"


def family(check: Check) -> str:
    if check.family == "reach" and check.role == "admin":
        return "reach (Admin Console app)"
    return check.family


def line(check: Check) -> str:
    text = f"{check.status:<13}  {subject(check)}  {family(check)}: {check.seen}"
    return text + (f"  fix: {check.fix}" if check.fix else "")


def render_text(plan: Plan, checks: Sequence[Check]) -> str:
    tally = counts(checks)
    summary = (
        f"{tally[PROBLEM]} problem{'s' if tally[PROBLEM] != 1 else ''}, {tally['ok']} ok, "
        f"{tally['not checkable']} not checkable; nothing was changed on the platform"
    )
    header = HEADER.format(source=plan.source, host=plan.host or "(none)")
    return "\n".join([header, *(line(check) for check in checks), summary]) + "\n"


def render_json(plan: Plan, checks: Sequence[Check]) -> str:
    document = {
        "source": plan.source,
        "host": plan.host,
        "ok": exit_code(checks) == 0,
        "summary": counts(checks),
        "checks": [check.to_json() for check in checks],
    }
    return json.dumps(document, indent=2) + "\n"
