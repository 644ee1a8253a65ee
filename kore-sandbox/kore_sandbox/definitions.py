"""The sandbox's bot definition import (docs/kore-api.md §8.2, §8.3): Import Bot into an Existing Bot.

    POST /api/public/bot/{BotID}/import        {"botDefinition": <file id>, "configInfo": <file id>,
                                                 "botFunctions"?: [<file id>, ...], "importOptions"?: {...}}
    GET  /api/public/bot/import/status/{bir-id}  (no bot in the path)

The files are uploaded first with Upload File (`pipeline.py`; `fileExtension` `json` for the definition
and config, `js` for bot functions). Both endpoints need an *Admin Console* app with "Bot Import" (§3.2:
App Builder scope "Not Applicable").

`DefinitionModel` is the state (import jobs, and what each bot got imported), pure and driven by injected
clocks like `pipeline.PipelineModel`. `DefinitionApi` turns requests into responses with `SandboxApi`'s
apps, bots, JWT checks and rate limiters. `DefinitionControls` is the thread-safe handle
(`Sandbox.definitions`).
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from .api import ApiRequest, ApiResponse, EndpointFamily, Route, SandboxApi, path_groups
from .auth import CODE_AUTH, MSG_INVALID_CREDENTIALS, ApiError, require_scope
from .jobs import JobClocks, JobControls, JobTimes, LockedSetting, iso_time, user_id
from .persistence import Fields
from .pipeline import (
    MSG_INVALID_FILE_ID,
    MSG_INVALID_REQUEST_ID,
    MSG_VALIDATION,
    PipelineModel,
    UploadedFile,
    json_object_body,
)
from .readings import Readings
from .state import APP_KIND_ADMIN, Clock, FailureRules, SandboxBot, SecondsKnob, Snapshot, check_seconds
from .variables import VariableError, parse_variable

#: Admin Console scope "Bot Definition > Bot Import" (docs/kore-api.md §3.2).
SCOPE_BOT_IMPORT = "Bot Import"
MSG_INVALID_STREAM_ID = "Invalid StreamId"

DefinitionImportStatus = Literal["pending", "success", "failure"]
RouteKind = Literal["bot_import", "bot_import_status"]

# ASSUMPTION: like every endpoint, `/api/1.1/public/...` and a trailing slash are accepted (the docs show
# no `/1.1` variant here).
_IMPORT = re.compile(r"^/api(?:/1\.1)?/public/bot/(?P<bot>[^/]+)/import/?$")
_STATUS = re.compile(r"^/api(?:/1\.1)?/public/bot/import/status/(?P<request>[^/]+)/?$")

#: The documented array-valued `importOptions` sub-fields and their values (docs/kore-api.md §8.2).
IMPORT_OPTION_VALUES: dict[str, frozenset[str]] = {
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
IMPORT_OPTION_KEYS = frozenset({*IMPORT_OPTION_VALUES, "customDashboard", "storyBoardScenes", "options"})


DefinitionRoute = Route[RouteKind]


def match_definition_route(path: str) -> DefinitionRoute | None:
    status = path_groups(_STATUS, path)
    if status is not None:
        return DefinitionRoute("bot_import_status", request_id=status["request"])
    start = path_groups(_IMPORT, path)
    return None if start is None else DefinitionRoute("bot_import", bot_id=start["bot"])


def check_import_options(options: object) -> dict[str, object]:
    """`importOptions` as documented (§8.2), or ValueError. Every sub-field is optional.

    ASSUMPTIONS: unknown sub-fields and values are refused; arrays may be empty; `options.utterances` and
    `options.patterns` take any combination of the booleans `append` and `replace` (the docs do not say
    which wins when both are true); `options.botVariables` takes `ignore`, a list of keys.
    """
    if not isinstance(options, dict):
        raise ValueError("importOptions must be an object")
    unknown = sorted(set(options) - IMPORT_OPTION_KEYS)
    if unknown:
        raise ValueError(f"unknown importOptions {unknown}")
    for name, allowed in IMPORT_OPTION_VALUES.items():
        if name in options:
            values = options[name]
            if not isinstance(values, list) or not all(isinstance(v, str) and v in allowed for v in values):
                raise ValueError(f"importOptions.{name} must be a list of {sorted(allowed)}")
    if "customDashboard" in options and not isinstance(options["customDashboard"], bool):
        raise ValueError("importOptions.customDashboard must be a boolean")
    if "storyBoardScenes" in options:
        scenes = options["storyBoardScenes"]
        if not (
            isinstance(scenes, dict)
            and set(scenes) <= {"includeComments"}
            and all(isinstance(v, bool) for v in scenes.values())
        ):
            raise ValueError("importOptions.storyBoardScenes must be {includeComments: boolean}")
    if "options" in options:
        _check_merge_options(options["options"])
    return copy.deepcopy(options)


def _check_merge_options(merge: object) -> None:
    if not isinstance(merge, dict) or set(merge) - {"utterances", "patterns", "botVariables"}:
        raise ValueError("importOptions.options takes utterances, patterns and botVariables")
    for name in ("utterances", "patterns"):
        if name in merge:
            value = merge[name]
            if not (
                isinstance(value, dict)
                and set(value) <= {"append", "replace"}
                and all(isinstance(v, bool) for v in value.values())
            ):
                raise ValueError(f"importOptions.options.{name} must be {{append, replace: boolean}}")
    if "botVariables" in merge:
        value = merge["botVariables"]
        if not (
            isinstance(value, dict)
            and set(value) <= {"ignore"}
            and isinstance(value.get("ignore", []), list)
            and all(isinstance(k, str) for k in value.get("ignore", []))
        ):
            raise ValueError("importOptions.options.botVariables must be {ignore: [keys]}")


def _includes(options: Mapping[str, object] | None, name: str, value: str) -> bool:
    """Whether an import covers a component: a full import (no importOptions) covers everything."""
    if options is None:
        return True
    values = options.get(name)
    return isinstance(values, list) and value in values


def _ignored_variables(options: Mapping[str, object] | None) -> frozenset[str]:
    merge = options.get("options") if options is not None else None
    variables = merge.get("botVariables") if isinstance(merge, dict) else None
    ignore = variables.get("ignore") if isinstance(variables, dict) else None
    return frozenset(str(k) for k in ignore) if isinstance(ignore, list) else frozenset()


def _log(task_type: str, task_name: str, message: str | None = None) -> dict[str, object]:
    entry: dict[str, object] = {"taskType": task_type, "taskName": task_name, "status": "success"}
    if message is not None:
        entry["status"] = "failed"
        entry["message"] = message
    return entry


def _json_object_file(upload: UploadedFile) -> tuple[dict[str, object] | None, str | None]:
    try:
        data = json.loads(upload.content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None, f"{upload.file_name} is not a JSON file"
    if not isinstance(data, dict):
        return None, f"{upload.file_name} is not a JSON object"
    return data, None


# -- the model ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BotFunctionFile:
    file_id: str
    file_name: str
    text: str

    def to_json(self) -> dict[str, object]:
        return {"file_id": self.file_id, "file_name": self.file_name, "text": self.text}


@dataclass(frozen=True)
class ImportedDefinition:
    """What a successful import brought into a bot: the parsed files and the import's options.
    `import_options` is None for a full import (the request left importOptions out)."""

    bot_id: str
    import_id: str
    definition: dict[str, object]
    config: dict[str, object]
    functions: tuple[BotFunctionFile, ...]
    import_options: dict[str, object] | None
    imported_wall: float

    @property
    def full_import(self) -> bool:
        return self.import_options is None

    def to_json(self) -> dict[str, object]:
        return {
            "bot_id": self.bot_id,
            "import_id": self.import_id,
            "definition": copy.deepcopy(self.definition),
            "config": copy.deepcopy(self.config),
            "functions": [f.to_json() for f in self.functions],
            "import_options": copy.deepcopy(self.import_options),
            "full_import": self.full_import,
            "imported_wall": self.imported_wall,
        }


@dataclass(frozen=True)
class DefinitionImportRecord(Snapshot):
    """A snapshot of one bot definition import request."""

    import_id: str
    bot_id: str
    status: DefinitionImportStatus
    definition_file_id: str
    config_file_id: str
    function_file_ids: tuple[str, ...]
    import_options: dict[str, object] | None
    status_logs: tuple[dict[str, object], ...]


@dataclass
class _Job:
    import_id: str
    bot_id: str
    bot_name: str
    created_by: str
    times: JobTimes
    definition_file_id: str
    config_file_id: str
    function_file_ids: tuple[str, ...]
    import_options: dict[str, object] | None
    outcome: Literal["success", "failure"]
    logs: list[dict[str, object]]
    result: ImportedDefinition | None
    variables: tuple[dict[str, object], ...] = ()
    applied: bool = False


class DefinitionModel:
    """Bot definition import jobs and what each bot got imported, on injected clocks (pure).

    ASSUMPTIONS: an import is `pending` for `definition_import_seconds` (taken when it starts), then
    `success` or `failure`; the files are read when the import is requested and reported when it ends.
    A successful import is applied once, when `settle()` first runs after it finished (the server settles
    before every API request): the bot's imported definition is replaced, `on_variables(bot_id,
    variables)` gets config.json's `envVariables` if the import covers bot variables (a full import, or
    `settings` with `botVariables`; keys in `options.botVariables.ignore` left out), and
    `on_utterances(bot_id)` runs if it covers utterances (a full import, or `nlpData` with `utterances`).
    """

    def __init__(
        self,
        *,
        import_seconds: float = 1.0,
        clock: Clock,
        wall_clock: Clock,
        on_variables: Callable[[str, list[dict[str, object]]], None],
        on_utterances: Callable[[str], None],
        readings: Readings | None = None,
    ) -> None:
        self._clocks = JobClocks(clock, wall_clock)
        self._readings = readings if readings is not None else Readings()
        self._on_variables = on_variables
        self._on_utterances = on_utterances
        self._initial = check_seconds("definition_import_seconds", import_seconds)
        self.import_seconds = import_seconds
        self._jobs: dict[str, _Job] = {}
        self._imported: dict[str, ImportedDefinition] = {}
        self._failures = FailureRules()

    import_seconds = SecondsKnob("definition_import_seconds")

    def fail_next_import(self, bot_id: str | None = None, count: int = 1) -> None:
        self._failures.add(bot_id, None, count)

    def clear_failures(self) -> None:
        self._failures.clear()

    def reset(self) -> None:
        self._jobs.clear()
        self._imported.clear()
        self.clear_failures()
        self.import_seconds = self._initial

    # -- the state file (persistence.py) ---------------------------------------------------------------
    def dump_state(self) -> dict[str, object]:
        """The import jobs (with what each brought) and which import each bot holds, JSON-able."""
        return {
            "jobs": [
                {
                    "import_id": j.import_id,
                    "bot_id": j.bot_id,
                    "bot_name": j.bot_name,
                    "created_by": j.created_by,
                    "times": j.times.dump_state(),
                    "definition_file_id": j.definition_file_id,
                    "config_file_id": j.config_file_id,
                    "function_file_ids": list(j.function_file_ids),
                    "import_options": j.import_options,
                    "outcome": j.outcome,
                    "logs": j.logs,
                    "result": None if j.result is None else _dump_result(j.result),
                    "variables": list(j.variables),
                    "applied": j.applied,
                }
                for j in self._jobs.values()
            ],
            "imported": {bot_id: result.import_id for bot_id, result in self._imported.items()},
        }

    def load_state(self, state: Fields, shift: float) -> None:
        """What `dump_state` wrote, its sandbox-clock times moved by `shift`."""
        for j in state.objects("jobs"):
            result = j.optional_object("result")
            job = _Job(
                import_id=j.text("import_id"),
                bot_id=j.text("bot_id"),
                bot_name=j.text("bot_name"),
                created_by=j.text("created_by"),
                times=JobTimes.load_state(j.object("times"), shift),
                definition_file_id=j.text("definition_file_id"),
                config_file_id=j.text("config_file_id"),
                function_file_ids=j.texts("function_file_ids"),
                import_options=j.optional_record("import_options"),
                outcome=j.choice("outcome", ("success", "failure")),
                logs=j.records("logs"),
                result=None if result is None else _load_result(result),
                variables=tuple(j.records("variables")),
                applied=j.flag("applied"),
            )
            self._jobs[job.import_id] = job
        imported = state.object("imported")
        for bot_id in state.record("imported"):
            job_of = self._jobs.get(imported.text(bot_id))
            if job_of is None or job_of.result is None:
                raise ValueError(f"{imported.where}.{bot_id} names no successful import of this file")
            self._imported[bot_id] = job_of.result

    def settings(self) -> dict[str, object]:
        return {
            "definition_import_seconds": self.import_seconds,
            "pending_definition_import_failures": self._failures.to_json_by_bot(),
        }

    # -- observation ----------------------------------------------------------------------------------
    def imports(self) -> list[DefinitionImportRecord]:
        now = self._clocks.clock()
        return [self._record(job, now) for job in self._jobs.values()]

    def imported(self) -> dict[str, ImportedDefinition]:
        return dict(self._imported)

    def settle(self) -> None:
        """Apply every import that has succeeded by now (once, in completion order)."""
        for job in self._clocks.newly_finished(self._jobs.values()):
            if job.outcome != "success" or job.result is None:
                continue
            self._imported[job.bot_id] = job.result
            if _includes(job.import_options, "settings", "botVariables") and job.variables:
                self._on_variables(job.bot_id, [dict(v) for v in job.variables])
            if _includes(job.import_options, "nlpData", "utterances"):
                self._on_utterances(job.bot_id)

    # -- API operations -------------------------------------------------------------------------------
    def start_import(
        self,
        bot: SandboxBot,
        definition: UploadedFile,
        config: UploadedFile,
        functions: Sequence[UploadedFile],
        import_options: dict[str, object] | None,
        client_id: str,
    ) -> dict[str, object]:
        job = _Job(
            import_id=f"bir-{uuid.uuid4()}",
            bot_id=bot.bot_id,
            bot_name=bot.name,
            created_by=user_id(client_id),
            times=self._clocks.start(self.import_seconds),
            definition_file_id=definition.file_id,
            config_file_id=config.file_id,
            function_file_ids=tuple(f.file_id for f in functions),
            import_options=import_options,
            outcome="success",
            logs=[],
            result=None,
        )
        self._plan(job, definition, config, functions, job.times.started_wall)
        self._jobs[job.import_id] = job
        return self._body(job, job.times.started_at, with_stream=False)

    def status(self, import_id: str, reachable: Callable[[str], bool]) -> dict[str, object] | None:
        """The status body, or None for an unknown id or one of a bot the app cannot reach."""
        job = self._jobs.get(import_id)
        if job is None or not reachable(job.bot_id):
            return None
        return self._body(job, self._clocks.clock(), with_stream=True)

    # -- internals ------------------------------------------------------------------------------------
    def _plan(
        self,
        job: _Job,
        definition_file: UploadedFile,
        config_file: UploadedFile,
        functions: Sequence[UploadedFile],
        wall: float,
    ) -> None:
        """Read the files now; decide the outcome and the statusLogs the import ends with (§8.3).

        ASSUMPTIONS: the entries come in the order the docs list task types (importRequest, Bot
        Definition, BotFunctions, Dialog, Utterences, BotVariables, importBot); `Dialog` entries only when
        the import covers bot tasks, `Utterences` (sic) only when it covers utterances, `BotVariables`
        only when it covers bot variables and config.json has a non-empty `envVariables` list. A bad
        definition or config fails the `Bot Definition` entry, a function file that is not UTF-8 its
        `BotFunctions` entry, an invalid `envVariables` entry the `BotVariables` entry, and
        `fail_next_definition_import` the final `importBot` entry; failed entries read `status: "failed"`
        with a `message`, later entries are missing, and the import ends `failure`.
        """
        name, options, logs = job.bot_name, job.import_options, job.logs
        logs.append(_log("importRequest", name))

        def fail(task_type: str, task_name: str, message: str) -> None:
            logs.append(_log(task_type, task_name, message))
            job.outcome = "failure"

        definition, problem = _json_object_file(definition_file)
        if definition is None:
            return fail("Bot Definition", name, f"botDefinition: {problem}")
        config, problem = _json_object_file(config_file)
        if config is None:
            return fail("Bot Definition", name, f"configInfo: {problem}")
        logs.append(_log("Bot Definition", name))
        texts: list[BotFunctionFile] = []
        for upload in functions:
            try:
                text = upload.content.decode("utf-8-sig")
            except UnicodeDecodeError:
                return fail("BotFunctions", upload.file_name, f"{upload.file_name} is not UTF-8 text")
            texts.append(BotFunctionFile(upload.file_id, upload.file_name, text))
            logs.append(_log("BotFunctions", upload.file_name))
        dialogs = definition.get("dialogs")
        if _includes(options, "tasks", "botTask") and isinstance(dialogs, list):
            for dialog in dialogs:
                if isinstance(dialog, dict):
                    dialog_name = dialog.get("name") or dialog.get("lname")
                    if isinstance(dialog_name, str) and dialog_name:
                        logs.append(_log("Dialog", dialog_name))
        if _includes(options, "nlpData", "utterances"):
            logs.append(_log("Utterences", "Utterences"))
        env = config.get("envVariables")
        if _includes(options, "settings", "botVariables") and env:
            ignored = _ignored_variables(options)
            try:
                if not isinstance(env, list):
                    raise VariableError("envVariables must be a list")
                variables = [parse_variable(v) for v in env]
            except VariableError as err:
                return fail("BotVariables", "BotVariables", f"config.json envVariables: {err}")
            job.variables = tuple(v for v in variables if v["key"] not in ignored)
            logs.append(_log("BotVariables", "BotVariables"))
        if self._failures.take(job.bot_id):
            return fail(
                "importBot",
                name,
                "The sandbox was told to fail this import (fail_next_definition_import)",
            )
        logs.append(_log("importBot", name))
        job.result = ImportedDefinition(
            job.bot_id, job.import_id, definition, config, tuple(texts), copy.deepcopy(options), wall
        )

    def _status(self, job: _Job, now: float) -> DefinitionImportStatus:
        return "pending" if job.times.running(now) else job.outcome

    def _record(self, job: _Job, now: float) -> DefinitionImportRecord:
        status = self._status(job, now)
        return DefinitionImportRecord(
            job.import_id,
            job.bot_id,
            status,
            job.definition_file_id,
            job.config_file_id,
            job.function_file_ids,
            copy.deepcopy(job.import_options),
            tuple(copy.deepcopy(self._logs(job, status))),
        )

    @staticmethod
    def _logs(job: _Job, status: DefinitionImportStatus) -> list[dict[str, object]]:
        return job.logs[:1] if status == "pending" else job.logs

    def _body(self, job: _Job, now: float, *, with_stream: bool) -> dict[str, object]:
        status = self._status(job, now)
        body: dict[str, object] = {
            "_id": job.import_id,
            # `failure` is KAR's word; reading `bot-import-failure-word` plays another.
            "status": self._readings["bot-import-failure-word"] if status == "failure" else status,
            # ASSUMPTION: a stable id per bot (the samples mask it as "c6…", "d1…").
            "streamRefId": str(uuid.uuid5(uuid.NAMESPACE_URL, "kore-sandbox/streamRef/" + job.bot_id)),
            "requestType": "Botimport",
            "createdBy": job.created_by,
            "createdOn": iso_time(job.times.started_wall),
            "__v": 0,
            "statusLogs": copy.deepcopy(self._logs(job, status)),
        }
        if with_stream:  # the status answer carries streamId (KAR reads it); the POST sample does not
            body["streamId"] = job.bot_id
        return body


def _dump_result(result: ImportedDefinition) -> dict[str, object]:
    return {
        "bot_id": result.bot_id,
        "import_id": result.import_id,
        "definition": result.definition,
        "config": result.config,
        "functions": [f.to_json() for f in result.functions],
        "import_options": result.import_options,
        "imported_wall": result.imported_wall,
    }


def _load_result(state: Fields) -> ImportedDefinition:
    return ImportedDefinition(
        bot_id=state.text("bot_id"),
        import_id=state.text("import_id"),
        definition=state.record("definition"),
        config=state.record("config"),
        functions=tuple(
            BotFunctionFile(f.text("file_id"), f.text("file_name"), f.text("text"))
            for f in state.objects("functions")
        ),
        import_options=state.optional_record("import_options"),
        imported_wall=state.number("imported_wall"),
    )


# -- the requests ------------------------------------------------------------------------------------------
class DefinitionApi(EndpointFamily[RouteKind, DefinitionModel]):
    """Answers bot import and its status; the files come from Upload File (`files`)."""

    route = staticmethod(match_definition_route)

    def __init__(self, core: SandboxApi, model: DefinitionModel, files: PipelineModel) -> None:
        super().__init__(core, model)
        self.files = files

    def _answer(self, req: ApiRequest, route: DefinitionRoute, response: ApiResponse) -> object:
        core = self.core
        app = core.caller(req, "POST" if route.kind == "bot_import" else "GET")
        admin = frozenset({APP_KIND_ADMIN})
        if route.kind == "bot_import_status":
            require_scope(app, SCOPE_BOT_IMPORT, admin)
            assert route.request_id is not None
            # ASSUMPTION: an import of a bot the app cannot reach is as unknown as an invented id.
            body = self.model.status(route.request_id, lambda bot_id: core.reaches(app, bot_id))
            if body is None:
                raise ApiError(400, MSG_INVALID_REQUEST_ID, 400)
            response.bot_id = str(body["streamId"])
            core.rate_limit(core.status_limiter, ("botimport-status", route.request_id))
            return body
        if route.bot_id is None or not core.reaches(app, route.bot_id):
            # Documented (KAR): an Admin Console app gets 400 for an unknown bot. ASSUMPTION: so does a
            # bot outside the app's account (not linked to it); a bot-level-only app gets the bot-level
            # answer, 401 Invalid SDK credentials.
            if APP_KIND_ADMIN in app.kinds:
                raise ApiError(400, MSG_INVALID_STREAM_ID, 400)
            raise ApiError(401, MSG_INVALID_CREDENTIALS, CODE_AUTH)
        bot = core.bots[route.bot_id]
        require_scope(app, SCOPE_BOT_IMPORT, admin)
        definition, config, functions, options = self._parse(req)
        core.rate_limit(core.train_limiter, ("botimport", bot.bot_id))
        return self.model.start_import(bot, definition, config, functions, options, app.client_id)

    def _parse(
        self, req: ApiRequest
    ) -> tuple[UploadedFile, UploadedFile, list[UploadedFile], dict[str, object] | None]:
        """ASSUMPTIONS: a body that is not a JSON object, a missing or non-string `botDefinition` or
        `configInfo`, a `botFunctions` that is not a list of strings, or `importOptions` that do not
        follow §8.2 -> 412 `Validation errors/ Invalid arguments`/412 (seen on Import as New Bot); then a
        file id that was never uploaded -> 400 `Invalid file id`/400. A missing `importOptions` is a full
        import (observed: KAR), or a 412 under reading `import-without-options=refused` (the docs' table
        marks it Required). Other top-level fields are ignored (D1 lists `options` at the top level,
        but every sample nests it in importOptions; D2 lists a top-level `botVariables` without an
        example). Any uploaded file may be used for any part; its content is checked asynchronously."""
        payload = json_object_body(req.body)
        definition_id, config_id = payload.get("botDefinition"), payload.get("configInfo")
        function_ids = payload.get("botFunctions", [])
        if not (
            isinstance(definition_id, str) and definition_id and isinstance(config_id, str) and config_id
        ):
            raise ApiError(412, MSG_VALIDATION, 412)
        if not isinstance(function_ids, list) or not all(isinstance(f, str) and f for f in function_ids):
            raise ApiError(412, MSG_VALIDATION, 412)
        options: dict[str, object] | None = None
        if "importOptions" not in payload and self.core.readings["import-without-options"] == "refused":
            raise ApiError(412, MSG_VALIDATION, 412)
        if "importOptions" in payload:
            try:
                options = check_import_options(payload["importOptions"])
            except ValueError:
                raise ApiError(412, MSG_VALIDATION, 412) from None
        uploads = [self.files.file(file_id) for file_id in (definition_id, config_id, *function_ids)]
        found = [u for u in uploads if u is not None]
        if len(found) != len(uploads):
            raise ApiError(400, MSG_INVALID_FILE_ID, 400)
        return found[0], found[1], found[2:], options


# -- the thread-safe handle for tests and the admin API ----------------------------------------------------
class DefinitionControls(JobControls[DefinitionModel]):
    """`Sandbox.definitions`: knobs, fault rules, import jobs and what each bot got imported."""

    import_seconds = LockedSetting[float]()

    def set_import_seconds(self, seconds: float) -> None:
        """How long definition imports started from now on stay `pending`."""
        self._set("import_seconds", seconds)

    def fail_next_import(self, bot_id: str | None = None, count: int = 1) -> None:
        """The next `count` definition imports (of that bot, if given) end `failure`."""
        self._locked(lambda model: model.fail_next_import(bot_id, count))

    @property
    def imports(self) -> list[DefinitionImportRecord]:
        with self._lock:
            self._model.settle()
            return self._model.imports()

    def imported(self, bot_id: str) -> ImportedDefinition | None:
        """What the latest successful import brought into the bot (None: nothing yet)."""
        with self._lock:
            self._model.settle()
            return self._model.imported().get(bot_id)

    @property
    def all_imported(self) -> dict[str, ImportedDefinition]:
        with self._lock:
            self._model.settle()
            return self._model.imported()
