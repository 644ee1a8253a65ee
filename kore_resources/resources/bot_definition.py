"""`BotDefinition`: a bot's definition (dialogs, intents, entities, settings: the files of a bot export),
imported from git into the existing bot whenever the files' content changes.

The API (docs/kore-api.md §7.1, §8): each file is uploaded, then Import Bot into an Existing Bot (an
**Admin Console** app) imports them, and its status reads `pending` until `success` or a failure word,
with one `statusLogs` entry per part imported. Without `importOptions` the platform imports everything: a
*full* import, which also removes from the bot what the definition does not hold (docs/pipeline.md).

`content_hash` (computed when the program runs) is the trigger, so a change that does not change what is
imported must not re-import: JSON formatting and key order, a BOM and a script's line endings, and the
files' paths do not count; array order, every value and the functions' file names do.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi
from pulumi.dynamic import DiffResult

from .. import settings
from ..api.errors import KoreApiError
from ..api.models import BotImportJob
from ..errors import DefinitionFileError, JobFailedError
from ..files import load_json, project_relative, read_text
from . import framework
from .framework import (
    Deadline,
    ImportJobOutputs,
    KoreInputs,
    KoreProvider,
    KoreResource,
    Run,
    decide_diff,
    known,
    program,
)
from .polling import Verdict, word_verdict
from .runtime import RUNTIME, log, utc_now

if TYPE_CHECKING:
    from ..api.client import KoreClient

#: Bumped when the canonical form changes on purpose: every definition then imports once.
FORMAT_TAG = b"kore-resources/bot-definition/v1\n"

#: `importOptions` as documented (docs/kore-api.md §8.2): the list-valued sub-fields and their values.
IMPORT_OPTION_VALUES: Mapping[str, frozenset[str]] = {
    "tasks": frozenset({"botTask", "knowledgeGraph", "smallTalk", "forms"}),
    "nlpData": frozenset(
        {
            "nlpSettings",
            "utterances",
            "patterns",
            "synonyms",
            "concepts",
            "standardResponses",
            "training_data",
            "bot_synonyms",
            "defaultDialog",
        }
    ),
    "settings": frozenset({"botSettings", "botVariables", "ivrSettings", "genAIandLLMSettings"}),
    "botComponents": frozenset({"linkedBots", "smallTalk"}),
    "AgentAssist": frozenset({"rules", "playbooks"}),
    "qualityAI": frozenset({"taxonomy", "connectors", "autoQA"}),
}
_EXPECTED_DEFINITION = "expected the botDefinition.json of a Kore.ai bot export (a JSON object)"
_EXPECTED_CONFIG = "expected the config.json of a Kore.ai bot export (a JSON object)"


# -- the content hash (pure, program time) -------------------------------------------------------------


def hash_definition(
    definition_file: str | os.PathLike[str],
    config_file: str | os.PathLike[str],
    functions_files: Sequence[str | os.PathLike[str]] = (),
) -> str:
    """`sha256:<64 hex>` over what the export's files mean (the module docstring says what is ignored).
    A file that cannot be read, is not JSON or not a JSON object raises `DefinitionFileError` with the file
    and the line."""
    digest = hashlib.sha256(FORMAT_TAG)
    for role, path, expected in (
        ("botDefinition", Path(definition_file), _EXPECTED_DEFINITION),
        ("configInfo", Path(config_file), _EXPECTED_CONFIG),
    ):
        digest.update(f"{role}\0".encode() + canonical_json(path, expected) + b"\n")
    for path in map(Path, functions_files):
        if path.suffix.lower() != ".js":
            raise DefinitionFileError(path, "bot functions are JavaScript files; expected a .js file")
        script = read_text(path, DefinitionFileError).replace("\r\n", "\n")
        digest.update(f"botFunctions\0{path.name}\0".encode() + script.encode() + b"\n")
    return f"sha256:{digest.hexdigest()}"


def canonical_json(path: Path, expected: str) -> bytes:
    """The JSON object in `path`, with its formatting and key order removed."""
    data = load_json(path, read_text(path, DefinitionFileError), DefinitionFileError, expected=expected)
    if not isinstance(data, dict):
        raise DefinitionFileError(
            path, f"got a JSON {type(data).__name__}, not an object; {expected}", line=1
        )
    try:
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except RecursionError:
        raise DefinitionFileError(path, f"the JSON is nested too deeply to read; {expected}") from None


# -- inputs ------------------------------------------------------------------------------------------------


def import_options_problem(options: Any) -> str | None:
    """Why `options` is not a documented `importOptions` object, or None."""
    if not isinstance(options, dict):
        return f'{options!r} is not an object such as {{"tasks": ["botTask"], "nlpData": ["utterances"]}}'
    for name, value in options.items():
        if name in IMPORT_OPTION_VALUES:
            allowed = IMPORT_OPTION_VALUES[name]
            if not isinstance(value, list) or not all(isinstance(v, str) and v in allowed for v in value):
                return f"importOptions.{name} must be a list of {', '.join(sorted(allowed))}; got {value!r}"
        elif name == "customDashboard":
            if not isinstance(value, bool):
                return f"importOptions.customDashboard must be true or false; got {value!r}"
        elif name == "storyBoardScenes":
            if not (
                isinstance(value, dict)
                and set(value) <= {"includeComments"}
                and all(isinstance(v, bool) for v in value.values())
            ):
                return (
                    f'importOptions.storyBoardScenes must be {{"includeComments": true|false}}; got {value!r}'
                )
        elif name == "options":
            if problem := _options_problem(value):
                return problem
        else:
            documented = sorted({*IMPORT_OPTION_VALUES, "customDashboard", "storyBoardScenes", "options"})
            expected = ", ".join(documented)
            return f"importOptions.{name} is not a documented import option; expected one of {expected}"
    return None


def _options_problem(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"importOptions.options must be an object; got {value!r}"
    for name, choice in value.items():
        if name in ("utterances", "patterns"):
            if not (
                isinstance(choice, dict)
                and set(choice) <= {"append", "replace"}
                and all(isinstance(v, bool) for v in choice.values())
                and sum(choice.values()) == 1
            ):
                return (
                    f'importOptions.options.{name} must be exactly one of {{"append": true}} or '
                    f'{{"replace": true}}; got {choice!r}'
                )
        elif name == "botVariables":
            ignored = choice.get("ignore") if isinstance(choice, dict) else None
            if not (
                isinstance(choice, dict)
                and set(choice) == {"ignore"}
                and isinstance(ignored, list)
                and all(isinstance(k, str) for k in ignored)
            ):
                return (
                    f'importOptions.options.botVariables must be {{"ignore": ["<key>", ...]}}; got {choice!r}'
                )
        else:
            known_options = "utterances, patterns or botVariables"
            return f"importOptions.options.{name} is not documented; expected {known_options}"
    return None


def import_choice_problem(news: Mapping[str, Any]) -> tuple[str, str] | None:
    """(property, reason) unless exactly one of `import_options` and `full_import` says what the import
    does (unknown values, at preview, are not judged)."""
    if any(key in news and not known(news, key) for key in ("import_options", "full_import")):
        return None
    full, options = news.get("full_import", False), news.get("import_options")
    if not isinstance(full, bool):
        return ("full_import", f"{full!r} is not true or false")
    if full and options is not None:
        return ("full_import", "full_import=True imports everything, so it takes no import_options; drop one")
    if not full and options is None:
        return (
            "import_options",
            "say what the import does: full_import=True for a full import, which makes the bot what the "
            "files hold and removes from it every dialog, intent and setting they do not hold "
            '(docs/pipeline.md, "6. The rest of the bot"), or import_options={...} for an incremental one '
            "(in the shipped program's stack config: definition: {folder: ..., fullImport: true} or "
            "{folder: ..., importOptions: {...}})",
        )
    return None


@dataclass(frozen=True, kw_only=True)
class BotDefinitionInputs(KoreInputs):
    """What a BotDefinition is given, as the provider checks and records it."""

    DESCRIBE: ClassVar[str] = "bot {bot_id}: definition {definition_file}"
    JOB: ClassVar[str] = "definition import"

    #: The export's `botDefinition.json`. A plain path (not a `pulumi.Input`): it is read and hashed when the
    #: program runs.
    definition_file: str = field(metadata=program(type="str | os.PathLike[str]"))
    #: The export's `config.json`, a plain path likewise.
    config_file: str = field(metadata=program(type="str | os.PathLike[str]"))
    #: The export's bot functions (`.js`), if any.
    functions_files: list[str] = field(
        default_factory=list, metadata=program(type="Sequence[str | os.PathLike[str]]", default="()")
    )
    #: The documented `importOptions` object: an incremental import of what it names.
    import_options: dict[str, Any] | None = field(
        default=None, metadata=program(type="Mapping[str, Any] | None")
    )
    #: True for a full import instead (no `importOptions`): the bot becomes what the files hold, and whatever
    #: they do not hold is removed from it (docs/pipeline.md, "6. The rest of the bot"). Exactly one of the
    #: two says what the import does; neither is refused, because a full import is destructive and must be the
    #: program's visible choice, not a default.
    full_import: bool = False
    #: Deadline for the whole operation (uploads, import, waiting), in seconds.
    timeout_seconds: float = settings.DEFAULT_DEFINITION_TIMEOUT_SECONDS
    #: What the files mean when the program ran (`hash_definition`): the trigger.
    content_hash: str = field(metadata=program(computed=True))

    @classmethod
    def problems(cls, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures = super().problems(news)
        for key, suffix in (("definition_file", ".json"), ("config_file", ".json")):
            value = news.get(key)
            if value is None:
                failures.append((key, f"{key} is required: a {suffix} file of the bot export"))
            elif known(news, key) and not (isinstance(value, str) and value.lower().endswith(suffix)):
                failures.append((key, f"{value!r} is not a {suffix} file of a Kore.ai bot export"))
        functions = news.get("functions_files", [])
        if known(news, "functions_files") and not (
            isinstance(functions, list)
            and all(isinstance(f, str) and f.lower().endswith(".js") for f in functions)
        ):
            failures.append(
                ("functions_files", f"{functions!r} is not a list of .js files (the bot functions)")
            )
        options = news.get("import_options")
        if (
            options is not None
            and known(news, "import_options")
            and (problem := import_options_problem(options))
        ):
            failures.append(("import_options", problem))
        if choice := import_choice_problem(news):
            failures.append(choice)
        content_hash = news.get("content_hash")
        if content_hash is None:
            failures.append(
                ("content_hash", "content_hash is required: hash_definition(...) (BotDefinition makes it)")
            )
        return failures


@dataclass(frozen=True, kw_only=True)
class BotDefinitionOutputs(BotDefinitionInputs, ImportJobOutputs):
    pass


@dataclass(frozen=True)
class UploadedDefinition:
    definition: str
    config: str
    functions: tuple[str, ...]


# -- the provider ------------------------------------------------------------------------------------------


#: What `job` is given: the inputs, and the uploaded files (`prepare`).
BotDefinitionRun = Run[BotDefinitionInputs, BotDefinitionOutputs, UploadedDefinition]


class BotDefinitionProvider(KoreProvider[BotDefinitionInputs, BotDefinitionOutputs, UploadedDefinition]):
    """Uploads a bot export's files and imports them into the bot when their content changes."""

    inputs_type = BotDefinitionInputs
    outputs_type = BotDefinitionOutputs
    admin = True  # Bot Definition > Bot Import is an Admin Console scope
    #: Another bot or host is another import: replace.
    replace_keys = ("bot_id", "host")
    #: New content, or another kind of import, import again; moved files do not.
    trigger_keys = ("content_hash", "import_options", "full_import")
    forgotten = (
        "bot {bot_id}: forgetting definition import {import_id}; the bot keeps the imported definition"
    )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """As every resource; a record written before 0.3 has no `full_import`: its import was a full one
        exactly when it had no `import_options`. A preview that plans a full import says what it removes."""
        olds = {"full_import": olds.get("import_options") is None, **olds}
        result = decide_diff(olds, news, self.replace_keys, self.trigger_keys)
        if result.changes and news.get("full_import") is True:
            log(
                f"bot {news.get('bot_id')}: definition {news.get('definition_file')}: a full import "
                "(full_import): the bot becomes what the files hold, and what they do not hold is removed"
            )
        return result

    def refresh(
        self,
        inputs: BotDefinitionInputs,
        recorded: BotDefinitionOutputs,
        client: KoreClient,
        deadline: Deadline,
    ) -> BotDefinitionOutputs:
        """The recorded import's current status; every other recorded output is kept."""
        import_id = recorded.import_id
        if not import_id:
            return recorded
        try:
            job = client.bot_import_status(inputs.bot_id, import_id, deadline=deadline.at)
        except KoreApiError as exc:
            if exc.status != 400:
                raise
            log(f"{inputs.describe}: Kore.ai no longer knows import {import_id}; keeping the recorded status")
            return recorded
        return replace(recorded, import_status=job.status)

    def prepare(
        self, inputs: BotDefinitionInputs, client: KoreClient, deadline: Deadline
    ) -> UploadedDefinition:
        """Upload the files (no turn on the bot needed), after checking they still hash to the plan."""
        actual = hash_definition(inputs.definition_file, inputs.config_file, inputs.functions_files)
        if actual != inputs.content_hash:
            raise DefinitionFileError(
                inputs.definition_file,
                f"the bot export changed after the program read it: the plan imports {inputs.content_hash}, "
                f"the files now hash to {actual}. Nothing was uploaded; run `pulumi up` again so the plan "
                "shows what will be imported",
            )

        def upload(file: str) -> str:
            path = Path(file)
            extension = path.suffix.lower().lstrip(".")
            uploaded = client.upload_file(path.name, path.read_bytes(), extension, deadline=deadline.at)
            log(f"{inputs.describe}: uploaded {file} as file {uploaded.file_id}")
            return uploaded.file_id

        return UploadedDefinition(
            definition=upload(inputs.definition_file),
            config=upload(inputs.config_file),
            functions=tuple(upload(file) for file in inputs.functions_files),
        )

    def job(self, run: BotDefinitionRun) -> BotDefinitionOutputs:
        """Import and wait. Raises unless the import succeeded, so nothing is recorded otherwise and the next
        `pulumi up` imports again."""
        inputs, deadline = run.inputs, run.deadline
        files = run.prepared
        job = run.client.bot_import(
            inputs.bot_id,
            definition_file_id=files.definition,
            config_file_id=files.config,
            function_file_ids=files.functions,
            import_options=None if inputs.full_import else inputs.import_options,
            deadline=deadline.at,
        )
        kind = "a full import" if inputs.full_import else "an incremental import"
        log(f"{inputs.describe}: import {job.import_id} started ({kind}, {job.status})")
        job = self._wait(run, job)
        log(f"{inputs.describe}: import {job.import_id} finished after {deadline.elapsed:.0f}s")
        return BotDefinitionOutputs(
            **vars(inputs), import_id=job.import_id, import_status=job.status, imported_at=utc_now()
        )

    @staticmethod
    def _wait(run: BotDefinitionRun, job: BotImportJob) -> BotImportJob:
        inputs, client, deadline = run.inputs, run.client, run.deadline
        job = run.wait_for_import_job(
            job,
            lambda: client.bot_import_status(inputs.bot_id, job.import_id, deadline=deadline.at),
            lambda status: word_verdict(status.status),
            since=RUNTIME.clock.monotonic(),
        )
        if word_verdict(job.status) is Verdict.FAILED:
            failed = "; ".join(entry.describe() for entry in job.failed_logs) or "no failed part named"
            raise inputs.job_error(
                JobFailedError,
                f"Kore.ai reports import {job.import_id} as {job.status!r}: {failed}. Nothing was recorded, "
                "so the next `pulumi up` imports again; check those parts of the export (or the bot's import "
                "log in the builder: Deploy > Import & Export).",
                job_id=job.import_id,
            )
        return job


# -- the resource ------------------------------------------------------------------------------------------


# -- generated by scripts/generate_resources.py (do not edit): BotDefinitionArgs, BotDefinitionAttributes


@dataclass(kw_only=True)
class BotDefinitionArgs(framework.KoreArgs):
    """Inputs of a `BotDefinition`, each a plain value or a `pulumi.Input`.

    Besides `bot_id` and `host` (`KoreArgs`):
    - `timeout_seconds`: Deadline for the whole operation (uploads, import, waiting), in seconds.
    - `definition_file`: The export's `botDefinition.json`. A plain path (not a `pulumi.Input`): it is read
      and hashed when the program runs.
    - `config_file`: The export's `config.json`, a plain path likewise.
    - `functions_files`: The export's bot functions (`.js`), if any.
    - `import_options`: The documented `importOptions` object: an incremental import of what it names.
    - `full_import`: True for a full import instead (no `importOptions`): the bot becomes what the files hold,
      and whatever they do not hold is removed from it (docs/pipeline.md, "6. The rest of the bot"). Exactly
      one of the two says what the import does; neither is refused, because a full import is destructive and
      must be the program's visible choice, not a default.
    """

    timeout_seconds: pulumi.Input[float] = settings.DEFAULT_DEFINITION_TIMEOUT_SECONDS
    definition_file: str | os.PathLike[str]
    config_file: str | os.PathLike[str]
    functions_files: Sequence[str | os.PathLike[str]] = ()
    import_options: Mapping[str, Any] | None = None
    full_import: pulumi.Input[bool] = False


class BotDefinitionAttributes(framework.KoreAttributes, framework.ImportJobAttributes):
    """The outputs of a `BotDefinition` as a program reads them: its inputs, and what its job records."""

    definition_file: pulumi.Output[str]
    config_file: pulumi.Output[str]
    functions_files: pulumi.Output[list[str]]
    import_options: pulumi.Output[dict[str, Any] | None]
    full_import: pulumi.Output[bool]
    content_hash: pulumi.Output[str]


# -- end of the generated part --


class BotDefinition(
    BotDefinitionAttributes, KoreResource[BotDefinitionArgs], module="kore", name="BotDefinition"
):
    """A Kore.ai bot's definition, imported from the files of a bot export whenever their content changes.

    `content_hash` (computed when the program runs, from what the files mean: see this module's docstring)
    is the trigger; so are `import_options`. `pulumi up` uploads the files, imports them into the existing
    bot and waits for the import to succeed; a failed import names its failed `statusLogs` entries and
    records nothing. Another `bot_id` or `host` replaces the resource. Destroying it makes no API call:
    an import cannot be undone. Needs an Admin Console app (`kore:adminClientId`).
    """

    provider_class = BotDefinitionProvider

    @classmethod
    def wire_inputs(cls, resource_name: str, args: BotDefinitionArgs) -> dict[str, Any]:
        """The files relative to the project, and what they mean (`content_hash`) as the program runs."""
        definition = project_relative(args.definition_file).as_posix()
        config = project_relative(args.config_file).as_posix()
        functions = [project_relative(file).as_posix() for file in args.functions_files]
        return {
            "definition_file": definition,
            "config_file": config,
            "functions_files": functions,
            "import_options": dict(args.import_options) if args.import_options is not None else None,
            "content_hash": hash_definition(definition, config, functions),
        }
