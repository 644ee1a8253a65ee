"""The `bots` stack config the shipped Pulumi program reads: which bots a stack trains, and from where.

    config:
      kore-bots:bots:
        - name: travel                  # logical name: the same on every stack, so resources line up
          botId: st-7c0a4c1e-...        # this environment's bot
          languages: [en, de]
          utterances: utterances/travel # one sub-folder per language: utterances/travel/en, .../de
          timeoutSeconds: 1800          # optional
          waitForCompletion: true       # optional
          importUtterances: true        # optional: import each export file into the bot before training
          publish:                      # optional: publish the bot after its trainings
            versionComment: "travel bot from git"
            timeoutSeconds: 900         # optional
          definition:                   # optional: a bot export's files, imported first
            folder: definitions/travel
            fullImport: true            # the bot becomes what the files hold (removes the rest), or
            # importOptions: {...}      # an incremental import of what the options name
            timeoutSeconds: 1800        # optional
          variables:                    # optional: the bot's variables, imported after the definition
            flightApi: https://api.example.com/flights
            flightApiKey: {value: ..., secured: true, hint: "the flight API's key"}
            # secrets: pulumi config set --secret --path 'kore-bots:bots[0].variables.flightApiKey.value' ...
            # a key here must not also be in the definition's config.json envVariables (one place each)

Parsing is strict: every mistake names the config key and says what is expected. Besides checking that
the folders exist, it reads one file: a definition's config.json, whose envVariables must not repeat a
key of the bot's `variables`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..api.languages import language_problem
from ..api.validation import bot_id_problem
from ..errors import ConfigurationError, DefinitionFileError
from ..files import load_json, project_relative, read_text
from ..resources.bot_variables import variable_problem
from ..settings import (
    DEFAULT_DEFINITION_TIMEOUT_SECONDS,
    DEFAULT_PUBLISH_TIMEOUT_SECONDS,
    DEFAULT_TRAINING_TIMEOUT_SECONDS,
    timeout_problem,
)

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*", re.IGNORECASE)
KNOWN_KEYS = frozenset(
    {
        "name",
        "botId",
        "languages",
        "utterances",
        "timeoutSeconds",
        "waitForCompletion",
        "importUtterances",
        "publish",
        "definition",
        "variables",
    }
)
PUBLISH_KEYS = frozenset({"versionComment", "timeoutSeconds"})
DEFINITION_KEYS = frozenset({"folder", "importOptions", "fullImport", "timeoutSeconds"})
VARIABLE_KEYS = frozenset({"value", "hint", "variableType", "scope", "group", "secured"})
#: The files of a bot export in a definition folder (docs/kore-api.md §8.1); bot functions are its *.js.
DEFINITION_FILE = "botDefinition.json"
CONFIG_FILE = "config.json"


@dataclass(frozen=True)
class DefinitionSpec:
    """A bot's `definition`: the folder of its export's files, and how to import them."""

    folder: Path
    import_options: dict[str, Any] | None = None
    #: A full import (no `importOptions`): the bot becomes what the files hold.
    full_import: bool = False
    timeout_seconds: int = DEFAULT_DEFINITION_TIMEOUT_SECONDS

    @property
    def definition_file(self) -> Path:
        return self.folder / DEFINITION_FILE

    @property
    def config_file(self) -> Path:
        return self.folder / CONFIG_FILE

    @property
    def functions_files(self) -> list[Path]:
        return sorted(self.folder.glob("*.js"))


@dataclass(frozen=True)
class VariableSpec:
    """One of a bot's `variables`; `value` may be a secret (see `secret`)."""

    key: str
    value: Any
    hint: str | None = None
    variable_type: str = "env"
    scope: str = "prePopulated"
    group: str | None = None
    secured: bool = False


@dataclass(frozen=True)
class PublishSpec:
    """A bot's `publish` settings: publish it after its trainings, with this version comment."""

    version_comment: str
    timeout_seconds: int = DEFAULT_PUBLISH_TIMEOUT_SECONDS


@dataclass(frozen=True)
class BotSpec:
    name: str
    bot_id: str
    languages: tuple[str, ...]
    utterances: Path
    timeout_seconds: int = DEFAULT_TRAINING_TIMEOUT_SECONDS
    wait_for_completion: bool = True
    import_utterances: bool = False
    publish: PublishSpec | None = None
    definition: DefinitionSpec | None = None
    variables: tuple[VariableSpec, ...] = ()

    def utterances_folder(self, language: str) -> Path:
        return self.utterances / language


def parse_bots(raw: Any, *, key: str, base_dir: Path) -> list[BotSpec]:
    """Parse the `bots` config list; `key` is its full config key (for messages), paths are relative to
    `base_dir` (the project directory)."""
    if not isinstance(raw, list) or not raw:
        raise ConfigurationError(
            f"{key} must be a non-empty list of bots, each with name, botId, languages "
            'and utterances (see README, "The program\'s stack config")'
        )
    bots: list[BotSpec] = []
    for index, entry in enumerate(raw):
        where = f"{key}[{index}]"
        if not isinstance(entry, dict):
            raise ConfigurationError(f"{where} must be an object with name, botId, languages and utterances")
        _reject_unknown_keys(entry, KNOWN_KEYS, where)
        name = _require_str(entry, "name", where)
        if not NAME_PATTERN.fullmatch(name):
            raise ConfigurationError(
                f"{where}.name {name!r} must be letters, digits, '-' or '_'; it becomes "
                "part of the resource names"
            )
        languages = _languages(entry.get("languages"), f"{where}.languages")
        folder = project_relative(base_dir / _require_str(entry, "utterances", where))
        timeout = _timeout(entry, DEFAULT_TRAINING_TIMEOUT_SECONDS, where)
        wait = _flag(entry, "waitForCompletion", True, where)
        import_utterances = _flag(entry, "importUtterances", False, where)
        publish = _publish(entry.get("publish"), f"{where}.publish")
        if publish is not None and not wait:
            raise ConfigurationError(
                f"{where}.publish needs waitForCompletion: true; otherwise the bot would be published "
                "before its trainings finished"
            )
        bot_id = _require_str(entry, "botId", where)
        if problem := bot_id_problem(bot_id):
            raise ConfigurationError(f"{where}.botId: {problem}")
        definition = _definition(entry.get("definition"), f"{where}.definition", base_dir)
        variables = _variables(entry.get("variables"), f"{where}.variables")
        _reject_variables_declared_twice(definition, variables, where)
        bots.append(
            BotSpec(
                name,
                bot_id,
                languages,
                folder,
                timeout,
                wait,
                import_utterances,
                publish,
                definition,
                variables,
            )
        )
    _reject_duplicates([b.name for b in bots], key, "name")
    _reject_duplicates([b.bot_id for b in bots], key, "botId")
    return bots


def _publish(value: Any, where: str) -> PublishSpec | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigurationError(
            f'{where} must be an object such as {{versionComment: "travel bot from git"}}'
        )
    _reject_unknown_keys(value, PUBLISH_KEYS, where)
    comment = _require_str(value, "versionComment", where)
    return PublishSpec(comment, _timeout(value, DEFAULT_PUBLISH_TIMEOUT_SECONDS, where))


def _definition(value: Any, where: str, base_dir: Path) -> DefinitionSpec | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise ConfigurationError(
            f"{where}: say what the import of {value} does: {{folder: {value}, fullImport: true}} for a full "
            "import, which makes the bot what the files hold and removes from it what they do not hold, or "
            f"{{folder: {value}, importOptions: {{...}}}} for an incremental one "
            '(docs/pipeline.md, "6. The rest of the bot")'
        )
    if not isinstance(value, dict):
        raise ConfigurationError(
            f"{where} must be {{folder: definitions/travel, fullImport: true}} or "
            "{folder: ..., importOptions: {...}}"
        )
    _reject_unknown_keys(value, DEFINITION_KEYS, where)
    folder = project_relative(base_dir / _require_str(value, "folder", where))
    if not folder.is_dir():
        raise ConfigurationError(
            f"{where}: {folder} is not a folder; expected the files of a bot export in it"
        )
    missing = [name for name in (DEFINITION_FILE, CONFIG_FILE) if not (folder / name).is_file()]
    if missing:
        raise ConfigurationError(
            f"{where}: {folder} has no {' and no '.join(missing)}; expected the files of a Kore.ai bot "
            'export (docs/pipeline.md, "6. The rest of the bot")'
        )
    options = value.get("importOptions")
    if options is not None and not isinstance(options, dict):
        raise ConfigurationError(f"{where}.importOptions must be an object (docs/kore-api.md §8.2)")
    full_import = _flag(value, "fullImport", False, where)
    if full_import == (options is not None):
        raise ConfigurationError(
            f"{where}: set exactly one of fullImport: true (a full import: the bot becomes what the files "
            "hold, and what they do not hold is removed) and importOptions (an incremental import) "
            '(docs/pipeline.md, "6. The rest of the bot")'
        )
    return DefinitionSpec(
        folder=folder,
        import_options=options,
        full_import=full_import,
        timeout_seconds=_timeout(value, DEFAULT_DEFINITION_TIMEOUT_SECONDS, where),
    )


def _variables(value: Any, where: str) -> tuple[VariableSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ConfigurationError(f"{where} must map each variable's key to its value (or to {{value: ...}})")
    specs = []
    for key, declared in value.items():
        at = f"{where}.{key}"
        entry = declared if isinstance(declared, dict) else {"value": declared}
        _reject_unknown_keys(entry, VARIABLE_KEYS, at)
        if "value" not in entry:
            raise ConfigurationError(f"{at} has no value")
        kind = entry.get("variableType", "env")
        raw = entry["value"]
        if kind == "env" and isinstance(raw, int | float | bool) and not isinstance(raw, bool):
            raw = str(raw)  # YAML reads 8080 as a number; a variable's value is text
        spec = VariableSpec(
            key=key,
            value=raw,
            hint=entry.get("hint"),
            variable_type=kind,
            scope=entry.get("scope", "prePopulated"),
            group=entry.get("group"),
            secured=entry.get("secured", False),
        )
        problem = variable_problem(
            key,
            {
                "value": spec.value,
                "hint": spec.hint,
                "variable_type": spec.variable_type,
                "scope": spec.scope,
                "group": spec.group,
                "secured": spec.secured,
            },
        )
        if problem:
            raise ConfigurationError(f"{at}: {problem}")
        specs.append(spec)
    return tuple(specs)


def _reject_variables_declared_twice(
    definition: DefinitionSpec | None, variables: tuple[VariableSpec, ...], where: str
) -> None:
    """A variable in both the bot's `variables` and its definition's config.json `envVariables` is
    refused: every import of the definition (whenever the definition changes) would put config.json's
    value back on the bot, while the unchanged BotVariables imports nothing, so the stack config's value
    would silently lose. A key the definition import is told to leave alone
    (`importOptions.options.botVariables.ignore`, docs/kore-api.md §8.2) is not declared twice."""
    if definition is None or not variables:
        return
    path = definition.config_file
    config = load_json(
        path,
        read_text(path, DefinitionFileError),
        DefinitionFileError,
        expected="expected the config.json of a Kore.ai bot export (a JSON object)",
    )
    env = config.get("envVariables") if isinstance(config, dict) else None
    # Only the keys the guard can name count here: the shape of config.json is judged where it is used
    # (hash_definition, and the platform's import), not by this check.
    items = env if isinstance(env, list) else []
    in_config = {item["key"] for item in items if isinstance(item, dict) and isinstance(item.get("key"), str)}
    both = [v.key for v in variables if v.key in in_config - _ignored_by_import(definition)]
    if not both:
        return
    keys = ", ".join(f"{where}.variables.{key}" for key in both)
    raise ConfigurationError(
        f"{keys} {'is' if len(both) == 1 else 'are'} also declared in {path} (envVariables): every import "
        f"of the definition would put config.json's value back on the bot, and BotVariables would not "
        f"import it again. Declare each variable in one place: remove it from the envVariables of {path} "
        f"(the stack config sets a value per stack), or from {where}.variables."
    )


def _ignored_by_import(definition: DefinitionSpec) -> set[str]:
    """The variable keys the definition import leaves alone: `importOptions.options.botVariables.ignore`."""
    options = (definition.import_options or {}).get("options")
    variables = options.get("botVariables") if isinstance(options, dict) else None
    ignore = variables.get("ignore") if isinstance(variables, dict) else None
    return {key for key in ignore if isinstance(key, str)} if isinstance(ignore, list) else set()


def _reject_unknown_keys(entry: dict[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ConfigurationError(
            f"{where} has unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(known))}"
        )


def _timeout(entry: dict[str, Any], default: int, where: str) -> int:
    """`timeoutSeconds`, a positive whole number of seconds up to a week (`default` when absent)."""
    timeout = entry.get("timeoutSeconds", default)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
        raise ConfigurationError(f"{where}.timeoutSeconds must be a positive whole number of seconds")
    if problem := timeout_problem(timeout):
        raise ConfigurationError(f"{where}.timeoutSeconds: {problem}")
    return timeout


def _flag(entry: dict[str, Any], field: str, default: bool, where: str) -> bool:
    value = entry.get(field, default)
    if not isinstance(value, bool):
        raise ConfigurationError(f"{where}.{field} must be true or false")
    return value


def _require_str(entry: dict[str, Any], field: str, where: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where}.{field} is required and must be a non-empty string")
    return value.strip()


def _languages(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        codes = [part.strip() for part in value.replace(",", " ").split()]
        raise ConfigurationError(
            f"{where} must be a list of NLU language codes, e.g. [{', '.join(codes) or 'en'}]; got the "
            f"string {value!r}"
        )
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConfigurationError(f"{where} must be a non-empty list of NLU language codes, e.g. [en, de]")
    for index, language in enumerate(value):
        if problem := language_problem(language):
            raise ConfigurationError(f"{where}[{index}]: {problem}")
    _reject_duplicates(value, where, "language")
    return tuple(value)


def _reject_duplicates(values: Sequence[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ConfigurationError(f"{where}: {what} {value!r} appears twice")
        seen.add(value)
