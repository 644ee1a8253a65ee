"""`BotVariables`: a bot's variables (per-environment values: API URLs, keys) declared in the program and
imported whenever one changes; `pulumi refresh` reads them back, so a value changed in the builder shows
as drift and the next `pulumi up` puts the declared one back.

The API (docs/kore-api.md §9, a **bot-level** app): Bot Variables Import upserts by key, Bot Variables
Export answers the same objects plus `isSecured`. Why only new and changed variables are sent, why a
removed one stays on the bot (no API deletes a variable), how secrets stay secret, why every import is
read back, and what refresh can compare: docs/pipeline.md, "`BotVariables(name, BotVariablesArgs(...))`".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi
from pulumi.dynamic import DiffResult

from .. import settings
from ..api.models import ExportedVariable
from ..errors import ConfigurationError, JobFailedError
from . import framework
from .framework import Deadline, KoreInputs, KoreProvider, KoreResource, Run, known, program
from .runtime import log, utc_now

if TYPE_CHECKING:
    from ..api.client import KoreClient

VARIABLE_TYPES = ("env", "locale")
SCOPES = ("prePopulated", "askOnInstall", "hidden")


@dataclass(frozen=True)
class BotVariable:
    """One bot variable, as Bot Variables Import takes it.

    - `key`: the variable's name (no spaces).
    - `value`: its value; for a `locale` variable a mapping of language code to value. A `pulumi.Input`
      (for example `config.require_secret(...)`) or a plain string.
    - `hint`, `group`: the builder's description and group.
    - `variable_type`: `env` (an environment variable) or `locale` (a content variable, per language).
    - `scope`: `prePopulated`, `askOnInstall` or `hidden`.
    - `secured`: a secured variable; its value is kept secret in the state, and Kore.ai hides it.
    """

    key: str
    value: pulumi.Input[str] | Mapping[str, pulumi.Input[str]]
    hint: str | None = None
    variable_type: str = "env"
    scope: str = "prePopulated"
    group: str | None = None
    secured: bool = False

    def wire(self) -> dict[str, Any]:
        value: Any = self.value
        if self.secured:  # never in plain text in the state, whatever the program passed
            value = (
                {lang: pulumi.Output.secret(v) for lang, v in self.value.items()}
                if isinstance(self.value, Mapping)
                else pulumi.Output.secret(self.value)
            )
        elif isinstance(value, Mapping):
            value = dict(value)
        return {
            "value": value,
            "hint": self.hint,
            "variable_type": self.variable_type,
            "scope": self.scope,
            "group": self.group,
            "secured": self.secured,
        }


#: One variable on the wire (state, outputs): its fields besides the key and the value, with defaults.
VARIABLE_DEFAULTS: Mapping[str, Any] = {
    f.name: f.default for f in dataclasses.fields(BotVariable) if f.name not in ("key", "value")
}
#: The mark refresh puts on a recorded variable whose key is missing from the bot's export (deleted in the
#: builder): `{..., "deleted_on_bot": True}`, the entry's other fields kept as recorded. Why a mark and not
#: `value: None`: the dynamic provider plugin serializes outputs with the SDK's `serialize_properties`,
#: which drops None values, so the state would hold an entry without a value and the next refresh failed
#: looking for it. A mark survives the plugin (a bool in a Struct). Keeping the recorded `value` where it
#: was keeps a secured value secret: the engine carries a value's secretness over from the old outputs to
#: the refreshed ones by its path. A declared entry never has the field (it is no input: `variable_problem`
#: refuses it), so a marked entry always differs from what the program declares, and `up` imports it again;
#: a second refresh finds the mark already there and changes nothing.
DELETED_ON_BOT = "deleted_on_bot"


# -- rules (pure) ------------------------------------------------------------------------------------------


def variable_problem(key: Any, entry: Any) -> str | None:
    """Why one declared variable cannot be imported, or None. Never quotes a value."""
    if not isinstance(key, str) or not key.strip() or any(ch.isspace() for ch in key):
        return f"{key!r} is not a variable name; expected a name without spaces, e.g. apiUrl"
    if not isinstance(entry, dict) or "value" not in entry:
        return f"variable {key}: expected an object with a value"
    unknown = sorted(set(entry) - {"value", *VARIABLE_DEFAULTS})
    if unknown:
        return f"variable {key}: unknown field(s) {', '.join(unknown)}"
    kind = entry.get("variable_type", "env")
    if kind not in VARIABLE_TYPES:
        return f"variable {key}: variable_type {kind!r} is not one of {', '.join(VARIABLE_TYPES)}"
    if entry.get("scope", "prePopulated") not in SCOPES:
        return f"variable {key}: scope {entry.get('scope')!r} is not one of {', '.join(SCOPES)}"
    value = entry["value"]
    if kind == "env" and not isinstance(value, str):
        return f"variable {key}: an env variable's value must be a string"
    if kind == "locale" and not (
        isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values())
    ):
        return (
            f"variable {key}: a locale variable's value must map language codes to strings, e.g. {{en: ...}}"
        )
    for name in ("hint", "group"):
        if entry.get(name) is not None and not isinstance(entry[name], str):
            return f"variable {key}: {name} must be a string"
    if not isinstance(entry.get("secured", False), bool):
        return f"variable {key}: secured must be true or false"
    return None


def _unknown(entry: Any) -> bool:
    return not known({"entry": entry}, "entry") or (
        isinstance(entry, dict) and any(not known(entry, name) for name in entry)
    )


def with_defaults(variables: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {key: {**VARIABLE_DEFAULTS, **entry} for key, entry in variables.items()}


def deleted_on_bot(entry: Mapping[str, Any]) -> bool:
    """A refresh found this recorded variable missing from the bot (`DELETED_ON_BOT`). So did one whose
    entry has no value (a declared variable always has one): state written before the mark recorded a
    deletion as `value: None`, which the plugin dropped."""
    return entry.get(DELETED_ON_BOT) is True or "value" not in entry


@dataclass(frozen=True)
class VariableChanges:
    """What a declared set of variables changes against the recorded one: by key, never by value.

    `deleted`: declared, but a refresh found them deleted on the bot (imported again). `removed`: no longer
    declared (forgotten, left on the bot); `forgotten`: no longer declared and already deleted on the bot."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    deleted: tuple[str, ...] = ()
    forgotten: tuple[str, ...] = ()

    @classmethod
    def between(cls, recorded: Mapping[str, Any] | None, declared: Mapping[str, Any]) -> VariableChanges:
        old = with_defaults(recorded or {})
        new = with_defaults(declared)
        gone = {key for key, entry in old.items() if deleted_on_bot(entry)}
        # Sorted: the keys come through protobuf Structs (maps), whose order is not kept, and a preview
        # must say the same thing every time.
        return cls(
            added=tuple(sorted(k for k in new if k not in old)),
            changed=tuple(sorted(k for k in new if k in old and k not in gone and old[k] != new[k])),
            removed=tuple(sorted(k for k in old if k not in new and k not in gone)),
            deleted=tuple(sorted(k for k in new if k in gone)),
            forgotten=tuple(sorted(k for k in gone if k not in new)),
        )

    @property
    def to_import(self) -> tuple[str, ...]:
        return (*self.added, *self.changed, *self.deleted)

    def describe(self) -> str:
        parts = [
            f"{what}: {', '.join(keys)}"
            for what, keys in (
                ("new", self.added),
                ("changed", self.changed),
                ("deleted on the bot", self.deleted),
            )
            if keys
        ]
        if self.removed:
            parts.append(
                f"removed from the program, so forgotten but left on the bot (no API deletes a variable; "
                f"delete them in the builder): {', '.join(self.removed)}"
            )
        if self.forgotten:
            parts.append(
                f"removed from the program and already deleted on the bot, so forgotten: "
                f"{', '.join(self.forgotten)}"
            )
        return "; ".join(parts)


def api_variable(key: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """One variable as Bot Variables Import takes it (docs/kore-api.md §9.1, form 1)."""
    field = {**VARIABLE_DEFAULTS, **entry}
    hint = field["hint"] or ""
    body: dict[str, Any] = {"key": key, "variableType": field["variable_type"], "scope": field["scope"]}
    if field["variable_type"] == "locale":
        body["localeData"] = {lang: {"value": value, "hint": hint} for lang, value in field["value"].items()}
    else:
        body.update({"value": field["value"], "hint": hint})
    if field["group"]:
        body["group"] = field["group"]
    if field["secured"]:
        body["isSecured"] = True  # ASSUMPTION: the export's field (docs/kore-api.md §9.3)
    return body


NOT_SECURED = "not secured (isSecured false)"


def readback_problems(
    imported: Mapping[str, Any], exported: Mapping[str, ExportedVariable]
) -> list[tuple[str, str]]:
    """(key, what the export shows) for every imported variable the bot does not hold as imported: missing,
    not secured though declared secured, or (for a variable the export shows) another value. Never a
    value: they may be secrets."""
    problems = []
    for key, entry in sorted(with_defaults(imported).items()):
        found = exported.get(key)
        if found is None:
            problems.append((key, "not in the export"))
        elif entry["secured"] and not found.secured:
            problems.append((key, NOT_SECURED))
        elif not entry["secured"] and not found.secured and not _holds(found, entry):
            problems.append((key, "another value than the one imported"))
    return problems


def _holds(found: ExportedVariable, entry: Mapping[str, Any]) -> bool:
    """The exported variable holds the declared value (a locale variable: in each declared language)."""
    if entry["variable_type"] == "locale":
        return all(found.locale_values.get(language) == v for language, v in entry["value"].items())
    return bool(found.value == entry["value"])


# -- inputs ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BotVariablesInputs(KoreInputs):
    """What a BotVariables is given, as the provider checks and records it (the variables by key)."""

    RESOURCE_ID: ClassVar[str] = "{bot_id}/variables"
    DESCRIBE: ClassVar[str] = "bot {bot_id}: variables"
    JOB: ClassVar[str] = "variables import"

    #: {key: {value, hint, variable_type, scope, group, secured}}; secret values stay secret. After a
    #: refresh, a variable deleted on the bot also has `deleted_on_bot: true` (`DELETED_ON_BOT`).
    variables: dict[str, Any] = field(
        metadata=program(
            type="Sequence[BotVariable]", doc="The bot's variables (`BotVariable`), each key once."
        )
    )
    #: Deadline for the whole operation (import and read-back), in seconds.
    timeout_seconds: float = settings.DEFAULT_VARIABLES_TIMEOUT_SECONDS

    @classmethod
    def problems(cls, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures = super().problems(news)
        variables = news.get("variables")
        if variables is None:
            failures.append(("variables", "variables is required: a list of BotVariable"))
        elif known(news, "variables"):
            if not isinstance(variables, dict):
                failures.append(("variables", "variables must map each variable's key to its fields"))
            else:
                failures += [
                    ("variables", problem)
                    for key, entry in variables.items()
                    if not _unknown(entry) and (problem := variable_problem(key, entry))
                ]
        return failures


@dataclass(frozen=True, kw_only=True)
class BotVariablesOutputs(BotVariablesInputs):
    #: When the variables were last imported (ISO 8601, UTC).
    imported_at: str | None = None
    #: What Kore.ai answered to the last import ("2 Variables imported/updated successfully.").
    import_message: str | None = None


# -- the provider ------------------------------------------------------------------------------------------


#: What `job` is given.
BotVariablesRun = Run[BotVariablesInputs, BotVariablesOutputs, None]


class BotVariablesProvider(KoreProvider[BotVariablesInputs, BotVariablesOutputs, None]):
    """Imports a bot's declared variables when one changes; refresh reads them back."""

    inputs_type = BotVariablesInputs
    outputs_type = BotVariablesOutputs
    replace_keys = ("bot_id", "host")
    trigger_keys = ("variables",)
    forgotten = "bot {bot_id}: forgetting its variables; they stay on the bot (no API deletes a variable)"

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = super().diff(_id, olds, news)
        variables = news.get("variables")
        if (
            result.changes
            and not result.replaces
            and isinstance(variables, dict)
            and known(news, "variables")
        ):
            # The preview names what changes, by key only (values may be secrets).
            changes = VariableChanges.between(olds.get("variables"), variables)
            log(f"bot {news.get('bot_id')}: variables: {changes.describe() or 'refreshed values differ'}")
        return result

    def refresh(
        self,
        inputs: BotVariablesInputs,
        recorded: BotVariablesOutputs,
        client: KoreClient,
        deadline: Deadline,
    ) -> BotVariablesOutputs:
        """What the bot has now for every recorded variable: a variable of any kind whose key the export
        lacks was deleted in the builder and is marked `DELETED_ON_BOT`; a non-secured env variable's value
        is read back. The rest is kept as recorded (the export hides secured values as "", and a locale
        variable's values are per language)."""
        exported = {
            variable.key: variable
            for variable in client.export_variables(inputs.bot_id, deadline=deadline.at)
        }
        variables = dict(recorded.variables)
        drifted = []
        for key, entry in with_defaults(variables).items():
            found = exported.get(key)
            if found is None:
                if not deleted_on_bot(entry):  # already marked: a refresh never invents a change
                    variables[key] = {**variables[key], DELETED_ON_BOT: True}  # the entry, as recorded
                    drifted.append(f"{key} (deleted)")
                continue
            # On the bot (again, if a refresh had found it deleted and it was made anew in the builder).
            now = {field: value for field, value in variables[key].items() if field != DELETED_ON_BOT}
            comparable = entry["variable_type"] == "env" and not entry["secured"] and not found.secured
            if comparable and found.value != entry.get("value"):
                now["value"] = found.value
                drifted.append(key)
            variables[key] = now
        if drifted:
            changed = ", ".join(sorted(drifted))
            log(f"{inputs.describe}: changed on the bot since the last `pulumi up`: {changed}")
        return replace(recorded, variables=variables)

    def job(self, run: BotVariablesRun) -> BotVariablesOutputs:
        """Import the new and changed variables, and those a refresh found deleted on the bot. Raises unless
        the import answered, so nothing is recorded otherwise and the next `pulumi up` imports them again
        (an import of the same values is harmless)."""
        inputs, recorded = run.inputs, run.recorded
        changes = VariableChanges.between(recorded.variables if recorded else None, inputs.variables)
        message = ""
        if changes.to_import:
            body = [api_variable(key, inputs.variables[key]) for key in changes.to_import]
            message = run.client.import_variables(inputs.bot_id, body, deadline=run.deadline.at)
            self._read_back(run, {key: inputs.variables[key] for key in changes.to_import})
        log(
            f"{inputs.describe}: {changes.describe() or 'nothing to import'}"
            + (f" ({message})" if message else "")
        )
        return BotVariablesOutputs(**vars(inputs), imported_at=utc_now(), import_message=message)

    @staticmethod
    def _read_back(run: BotVariablesRun, imported: Mapping[str, Any]) -> None:
        """What the import did, as the (documented) export shows it: how an import secures a variable is
        undocumented, and a platform that ignores `isSecured` would store a secret in clear and answer
        success. Raises, naming keys only, when the bot holds something else than what was imported."""
        inputs = run.inputs
        exported = run.client.export_variables(inputs.bot_id, deadline=run.deadline.at)
        problems = readback_problems(imported, {variable.key: variable for variable in exported})
        if not problems:
            return
        unsecured = [key for key, problem in problems if problem == NOT_SECURED]
        advice = (
            " Kore.ai ignored the import's isSecured, a field only its export documents (docs/kore-api.md "
            "§9.3): the value is stored in clear on the bot and shows in its exports. Secure the variable in "
            "the builder (Build > Configurations > Environment Variables: the variable's Secure toggle), "
            "then run `pulumi up` again."
            if unsecured
            else " Check the variables in the builder (Build > Configurations > Environment Variables)."
        )
        raise inputs.job_error(
            JobFailedError,
            "Kore.ai answered the variables import with success, but its export shows "
            + "; ".join(f"{key}: {problem}" for key, problem in problems)
            + f". Nothing was recorded, so the next `pulumi up` imports them again.{advice}",
            job_id=None,
        )


# -- the resource ------------------------------------------------------------------------------------------


# -- generated by scripts/generate_resources.py (do not edit): BotVariablesArgs, BotVariablesAttributes


@dataclass(kw_only=True)
class BotVariablesArgs(framework.KoreArgs):
    """Inputs of a `BotVariables`, each a plain value or a `pulumi.Input`.

    Besides `bot_id` and `host` (`KoreArgs`):
    - `timeout_seconds`: Deadline for the whole operation (import and read-back), in seconds.
    - `variables`: The bot's variables (`BotVariable`), each key once.
    """

    timeout_seconds: pulumi.Input[float] = settings.DEFAULT_VARIABLES_TIMEOUT_SECONDS
    variables: Sequence[BotVariable]


class BotVariablesAttributes(framework.KoreAttributes):
    """The outputs of a `BotVariables` as a program reads them: its inputs, and what its job records."""

    variables: pulumi.Output[dict[str, Any]]
    imported_at: pulumi.Output[str | None]
    import_message: pulumi.Output[str | None]


# -- end of the generated part --


class BotVariables(
    BotVariablesAttributes, KoreResource[BotVariablesArgs], module="kore", name="BotVariables"
):
    """A bot's variables, imported whenever one is added or changed (see this module's docstring for
    removals, secrets and refresh). Another `bot_id` or `host` replaces the resource; destroying it makes
    no API call: no API deletes a variable."""

    provider_class = BotVariablesProvider

    @classmethod
    def wire_inputs(cls, resource_name: str, args: BotVariablesArgs) -> dict[str, Any]:
        """The variables by key, each key declared once."""
        keys = [variable.key for variable in args.variables]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:
            raise ConfigurationError(
                f"BotVariables {resource_name}: variable(s) {', '.join(twice)} declared twice"
            )
        return {"variables": {variable.key: variable.wire() for variable in args.variables}}
