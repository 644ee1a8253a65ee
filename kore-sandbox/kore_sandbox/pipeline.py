"""The sandbox's promotion pipeline endpoints: upload a file, import it as ML utterances, publish the bot.

    POST /api/public/uploadfile                            multipart: file, fileContext, fileExtension
    POST /api/public/bot/{BotID}/mlimport                  {"fileName": ..., "fileId": ...}
    GET  /api/public/bot/{BotID}/mlimport/status/{bir-id}
    POST /api/public/bot/{BotID}/publish                   {"versionComment": ..., "initiateTraining": bool}
    GET  /api/public/bot/{BotID}/publish/status

Shapes, messages and status vocabularies follow docs/kore-api.md (§3.2, §4, §5, §7.1-§7.3, §10, §11);
everything the documentation leaves open is marked `ASSUMPTION:` here and listed in kore-sandbox/README.md
("Assumptions").

`PipelineModel` is the state (files, import jobs, publish jobs), pure and driven by injected clocks like
`state.TrainingModel`. `PipelineApi` turns requests into responses; it reuses `SandboxApi`'s apps, bots,
JWT checks and rate limiters. `PipelineControls` is the thread-safe test/admin handle (`Sandbox.pipeline`).
Not thread-safe by themselves: `server.Sandbox` calls the model and the API under its lock.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from typing import Literal

from .api import ApiRequest, ApiResponse, EndpointFamily, Route, path_groups
from .auth import ApiError, require_scope
from .jobs import JobClocks, JobControls, JobTimes, LockedSetting, iso_time, user_id
from .persistence import Fields
from .readings import Readings
from .state import (
    ANY_APP_KIND,
    APP_KIND_ADMIN,
    Clock,
    FailureRules,
    SandboxApp,
    SandboxBot,
    SecondsKnob,
    Snapshot,
    check_seconds,
)

#: App Builder scope of ML Utterances Import and its status (docs/kore-api.md §3.2).
SCOPE_ML_IMPORT = "Utterances Import"
#: Admin Console scopes "Bot Publish > Publish" and "Bot Publish > Publish Status" (docs/kore-api.md §3.2).
SCOPE_PUBLISH = "Bot Publish"
SCOPE_PUBLISH_STATUS = "Bot Publish Status"

MSG_VALIDATION = "Validation errors/ Invalid arguments"
MSG_INVALID_FILE_ID = "Invalid file id"
MSG_INVALID_REQUEST_ID = "Invalid request ID"

#: Upload File's documented `fileExtension` values (docs/kore-api.md §7.1); a leading dot is accepted too.
UPLOAD_EXTENSIONS = frozenset({"json", "js", "csv", "png", "zip"})
#: What the ML import can read.
IMPORT_EXTENSIONS = frozenset({"json", "csv"})

#: An ML import's status in the sandbox's records; the status answer says `failure` per reading
#: `ml-import-failure-word`.
ImportStatus = Literal["pending", "success", "failure"]
#: A publish's status in the sandbox's records: the documented words (D2); the status answer says them per
#: reading `publish-words`.
PublishStatus = Literal["inprogress", "successful", "failed"]
PUBLISH_WORDS: dict[str, dict[PublishStatus, str]] = {
    "documented": {"inprogress": "inprogress", "successful": "successful", "failed": "failed"},
    "hyphenated": {"inprogress": "in-progress", "successful": "successful", "failed": "failed"},
    "upper": {"inprogress": "INPROGRESS", "successful": "SUCCESSFUL", "failed": "FAILED"},
}
RouteKind = Literal["upload", "mlimport", "mlimport_status", "publish", "publish_status"]

ALLOWED_METHOD: dict[RouteKind, str] = {
    "upload": "POST",
    "mlimport": "POST",
    "mlimport_status": "GET",
    "publish": "POST",
    "publish_status": "GET",
}

# ASSUMPTION: like the train endpoints, `/api/1.1/public/...` and a trailing slash are accepted.
_UPLOAD = re.compile(r"^/api(?:/1\.1)?/public/uploadfile/?$")
_BOT_JOB = re.compile(
    r"^/api(?:/1\.1)?/public/bot/(?P<bot>[^/]+)/"
    r"(?:(?P<mlimport>mlimport)(?:/status/(?P<request>[^/]+))?|(?P<publish>publish)(?P<status>/status)?)/?$"
)


PipelineRoute = Route[RouteKind]


def match_pipeline_route(path: str) -> PipelineRoute | None:
    if _UPLOAD.match(path):
        return PipelineRoute("upload")
    groups = path_groups(_BOT_JOB, path)
    if groups is None:
        return None
    bot = groups["bot"]
    if "mlimport" in groups:
        request = groups.get("request")
        return PipelineRoute("mlimport" if request is None else "mlimport_status", bot, request)
    return PipelineRoute("publish_status" if "status" in groups else "publish", bot)


def count_utterances(content: bytes, extension: str) -> tuple[int, str | None]:
    """(number of utterances, None), or (0, why the file cannot be imported)."""
    records, problem = parse_utterances(content, extension)
    return len(records), problem


def parse_utterances(content: bytes, extension: str) -> tuple[list[dict[str, object]], str | None]:
    """(the file's utterance records, None), or ([], why the file cannot be imported).

    ASSUMPTION: the import accepts a JSON array of objects, or a CSV with a header row, where every
    utterance has a non-empty `sentence` and `taskName` (the shape of the files Kore's QA suite imports).
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], "the file is not UTF-8 text"
    if extension == "json":
        try:
            data = json.loads(text)
        except ValueError:
            return [], "the file is not valid JSON"
        if not isinstance(data, list):
            return [], "expected a JSON array of utterances"
        records: list[dict[str, object]] = [r for r in data if isinstance(r, dict)]
        if len(records) != len(data):
            return [], "expected every utterance to be a JSON object"
    elif extension == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        try:
            records = list(reader)
        except csv.Error:
            return [], "the file is not valid CSV"
        # Kore answers a CSV without these columns (its QA suite's `ImportFile_emptydata.csv`, whose
        # header is `,jkkjkjkj`) with 400 `CSV format is incorrect` at the import POST (docs/kore-api.md
        # §7.2); the sandbox reports it asynchronously, like all bad content (ASSUMPTION A22).
        header = reader.fieldnames or ()  # () for an empty file: no utterances, nothing to refuse
        missing = [name for name in ("taskName", "sentence") if name not in header] if header else []
        if missing:
            return [], (
                f"CSV format is incorrect: line 1, the header row {','.join(header)!r}, has no "
                f"{' or '.join(missing)} column; expected taskName,sentence,type,language"
            )
    else:
        return [], f"ML utterances cannot be imported from a .{extension} file; use .json or .csv"
    for number, record in enumerate(records, start=1):
        for key in ("sentence", "taskName"):
            value = record.get(key)
            if not isinstance(value, str) or not value.strip():
                return [], f"utterance {number} has no {key}"
    return records, None


# -- the model ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """An uploaded file. `file_name` is the name it was uploaded with, `stored_name` the `f-<uuid>` the
    documented answer calls its `fileName`."""

    file_id: str
    file_name: str
    extension: str
    file_context: str
    content: bytes
    client_id: str
    uploaded_wall: float
    stored_name: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "file_id": self.file_id,
            "file_name": self.file_name,
            "stored_name": self.stored_name,
            "extension": self.extension,
            "file_context": self.file_context,
            "size": len(self.content),
            "client_id": self.client_id,
            "uploaded_wall": self.uploaded_wall,
        }


@dataclass
class _Import:
    import_id: str
    bot_id: str
    language: str
    file_id: str
    file_name: str
    created_by: str
    times: JobTimes
    outcome: Literal["success", "failure"]
    message: str
    applied: bool = False
    records: tuple[dict[str, object], ...] = ()


@dataclass(frozen=True)
class ImportRecord(Snapshot):
    """A snapshot of one ML import request."""

    import_id: str
    bot_id: str
    language: str
    file_id: str
    file_name: str
    status: ImportStatus
    message: str | None


@dataclass
class _Publish:
    publish_id: str
    bot_id: str
    version_comment: str
    initiate_training: bool | None
    created_by: str
    times: JobTimes
    outcome: Literal["successful", "failed"]
    languages: tuple[str, ...]
    initial: bool = False


@dataclass(frozen=True)
class PublishRecord(Snapshot):
    """A snapshot of one publish job. `initiate_training` is None when the request left it out."""

    publish_id: str
    bot_id: str
    version_comment: str
    initiate_training: bool | None
    status: PublishStatus


class PipelineModel:
    """Uploaded files, ML import jobs and publish jobs, on injected clocks (pure: no I/O, no locks).

    ASSUMPTION: an import is `pending` for `import_seconds`, then `success` (or `failure`); a publish is
    `inprogress` for `publish_seconds`, then `successful` (or `failed`); the readings `ml-import-failure-word`
    and `publish-words` choose the words the status answers say. Durations are taken when the job
    starts. A successful import calls `on_import_success(bot_id, language)` once, when `settle()` first runs
    after it finished (the server settles before every API request), so the training status reports the ML
    model out of sync with the sentences until the next training; then, if given,
    `on_utterances_imported(bot_id, language, records)` with the file's utterance records (the sandbox
    keeps them per bot language, `export.UtteranceStore`).
    """

    def __init__(
        self,
        *,
        import_seconds: float = 1.0,
        publish_seconds: float = 2.0,
        clock: Clock,
        wall_clock: Clock,
        on_import_success: Callable[[str, str], None],
        on_utterances_imported: Callable[[str, str, list[dict[str, object]]], None] | None = None,
        readings: Readings | None = None,
    ) -> None:
        self._clocks = JobClocks(clock, wall_clock)
        self._readings = readings if readings is not None else Readings()
        self._on_import_success = on_import_success
        self._on_utterances_imported = on_utterances_imported
        self._initial = (
            check_seconds("import_seconds", import_seconds),
            check_seconds("publish_seconds", publish_seconds),
        )
        self.import_seconds = import_seconds
        self.publish_seconds = publish_seconds
        self._started_wall = wall_clock()
        self._files: dict[str, UploadedFile] = {}
        self._imports: dict[str, _Import] = {}
        self._publishes: dict[str, list[_Publish]] = {}
        self._import_failures = FailureRules()
        self._publish_failures = FailureRules()

    # -- knobs ----------------------------------------------------------------------------------------
    import_seconds = SecondsKnob("import_seconds")
    publish_seconds = SecondsKnob("publish_seconds")

    def fail_next_import(
        self, bot_id: str | None = None, language: str | None = None, count: int = 1
    ) -> None:
        self._import_failures.add(bot_id, language, count)

    def fail_next_publish(self, bot_id: str | None = None, count: int = 1) -> None:
        self._publish_failures.add(bot_id, None, count)

    def clear_failures(self) -> None:
        self._import_failures.clear()
        self._publish_failures.clear()

    def reset(self) -> None:
        self._files.clear()
        self._imports.clear()
        self._publishes.clear()
        self.clear_failures()
        self.import_seconds, self.publish_seconds = self._initial

    # -- the state file (persistence.py) ---------------------------------------------------------------
    def dump_state(self) -> dict[str, object]:
        """Files (their content in base64), ML imports and publishes, JSON-able. An import whose effect is
        applied keeps no utterance records: they are in the bot's utterances now."""
        return {
            "files": [
                {
                    "file_id": f.file_id,
                    "file_name": f.file_name,
                    "extension": f.extension,
                    "file_context": f.file_context,
                    "content": base64.b64encode(f.content).decode("ascii"),
                    "client_id": f.client_id,
                    "uploaded_wall": f.uploaded_wall,
                    "stored_name": f.stored_name,
                }
                for f in self._files.values()
            ],
            "imports": [
                {
                    "import_id": j.import_id,
                    "bot_id": j.bot_id,
                    "language": j.language,
                    "file_id": j.file_id,
                    "file_name": j.file_name,
                    "created_by": j.created_by,
                    "times": j.times.dump_state(),
                    "outcome": j.outcome,
                    "message": j.message,
                    "applied": j.applied,
                    "records": [] if j.applied else list(j.records),
                }
                for j in self._imports.values()
            ],
            "publishes": [
                {
                    "publish_id": j.publish_id,
                    "bot_id": j.bot_id,
                    "version_comment": j.version_comment,
                    "initiate_training": j.initiate_training,
                    "created_by": j.created_by,
                    "times": j.times.dump_state(),
                    "outcome": j.outcome,
                    "languages": list(j.languages),
                    "initial": j.initial,
                }
                for chain in self._publishes.values()
                for j in chain
            ],
        }

    def load_state(self, state: Fields, shift: float) -> None:
        """What `dump_state` wrote, its sandbox-clock times moved by `shift`."""
        for f in state.objects("files"):
            try:
                content = base64.b64decode(f.text("content"), validate=True)
            except ValueError:
                raise ValueError(f"{f.where}.content is not base64") from None
            upload = UploadedFile(
                file_id=f.text("file_id"),
                file_name=f.text("file_name"),
                extension=f.text("extension"),
                file_context=f.text("file_context"),
                content=content,
                client_id=f.text("client_id"),
                uploaded_wall=f.number("uploaded_wall"),
                stored_name=f.text("stored_name"),
            )
            self._files[upload.file_id] = upload
        for j in state.objects("imports"):
            job = _Import(
                import_id=j.text("import_id"),
                bot_id=j.text("bot_id"),
                language=j.text("language"),
                file_id=j.text("file_id"),
                file_name=j.text("file_name"),
                created_by=j.text("created_by"),
                times=JobTimes.load_state(j.object("times"), shift),
                outcome=j.choice("outcome", ("success", "failure")),
                message=j.text("message"),
                applied=j.flag("applied"),
                records=tuple(j.records("records")),
            )
            self._imports[job.import_id] = job
        for j in state.objects("publishes"):
            publish = _Publish(
                publish_id=j.text("publish_id"),
                bot_id=j.text("bot_id"),
                version_comment=j.text("version_comment"),
                initiate_training=j.optional_flag("initiate_training"),
                created_by=j.text("created_by"),
                times=JobTimes.load_state(j.object("times"), shift),
                outcome=j.choice("outcome", ("successful", "failed")),
                languages=j.texts("languages"),
                initial=j.flag("initial"),
            )
            self._publishes.setdefault(publish.bot_id, []).append(publish)

    def settings(self) -> dict[str, object]:
        return {
            "import_seconds": self.import_seconds,
            "publish_seconds": self.publish_seconds,
            "pending_import_failures": self._import_failures.to_json(),
            "pending_publish_failures": self._publish_failures.to_json_by_bot(),
        }

    # -- observation ----------------------------------------------------------------------------------
    def files(self) -> list[UploadedFile]:
        return list(self._files.values())

    def imports(self) -> list[ImportRecord]:
        now = self._clocks.clock()
        return [self._import_record(job, now) for job in self._imports.values()]

    def publishes(self) -> list[PublishRecord]:
        now = self._clocks.clock()
        jobs = sorted(
            (j for chain in self._publishes.values() for j in chain), key=lambda j: j.times.started_at
        )
        return [
            PublishRecord(j.publish_id, j.bot_id, j.version_comment, j.initiate_training, self._phase(j, now))
            for j in jobs
            if not j.initial
        ]

    def settle(self) -> None:
        """Apply the effect of every import that has succeeded by now (once, in completion order)."""
        for job in self._clocks.newly_finished(self._imports.values()):
            if job.outcome == "success":
                self._on_import_success(job.bot_id, job.language)
                if self._on_utterances_imported is not None:
                    self._on_utterances_imported(job.bot_id, job.language, list(job.records))

    # -- API operations -------------------------------------------------------------------------------
    def upload(
        self, client_id: str, file_name: str, extension: str, context: str, content: bytes
    ) -> dict[str, object]:
        """Keep the file; the Upload File answer (reading `upload-answer`)."""
        upload = UploadedFile(
            file_id=uuid.uuid4().hex[:24],  # ASSUMPTION: a 24-hex, ObjectId-like id (the docs' sample)
            file_name=file_name,
            extension=extension,
            file_context=context,
            content=content,
            client_id=client_id,
            uploaded_wall=self._clocks.wall_clock(),
            stored_name=f"f-{uuid.uuid4()}",
        )
        self._files[upload.file_id] = upload
        return upload_answer(upload, self._readings["upload-answer"])

    def file(self, file_id: str) -> UploadedFile | None:
        return self._files.get(file_id)

    def start_import(
        self, bot_id: str, language: str, upload: UploadedFile, file_name: str, client_id: str
    ) -> dict[str, object]:
        records, problem = parse_utterances(upload.content, upload.extension)
        count = len(records)
        failed = self._import_failures.take(bot_id, language)
        if failed:
            outcome: Literal["success", "failure"] = "failure"
            # ASSUMPTION: the failure message (the docs show only the success message).
            message = "File import failed. The sandbox was told to fail this import (fail_next_import)"
        elif problem is not None:
            outcome, message = "failure", f"File import failed. {problem}"
        else:
            outcome, message = "success", f"File imported completed. {count} utterances copied successfully"
        job = _Import(
            import_id=f"bir-{uuid.uuid4()}",
            bot_id=bot_id,
            language=language,
            file_id=upload.file_id,
            file_name=file_name,
            created_by=user_id(client_id),
            times=self._clocks.start(self.import_seconds),
            outcome=outcome,
            message=message,
            records=tuple(records) if outcome == "success" else (),
        )
        self._imports[job.import_id] = job
        return self._import_body(job, job.times.started_at)

    def import_status(self, bot_id: str, import_id: str) -> dict[str, object] | None:
        job = self._imports.get(import_id)
        if job is None or job.bot_id != bot_id:
            return None
        return self._import_body(job, self._clocks.clock())

    def start_publish(
        self,
        bot_id: str,
        languages: tuple[str, ...],
        version_comment: str,
        initiate_training: bool | None,
        client_id: str,
    ) -> list[dict[str, object]]:
        self._chain(bot_id, languages)  # the earlier, initial publish comes first
        job = _Publish(
            publish_id=f"ds-{uuid.uuid4()}",
            bot_id=bot_id,
            version_comment=version_comment,
            initiate_training=initiate_training,
            created_by=user_id(client_id),
            times=self._clocks.start(self.publish_seconds),
            outcome="failed" if self._publish_failures.take(bot_id) else "successful",
            languages=languages,
        )
        self._publishes[bot_id].append(job)
        dialog = f"dg-{uuid.uuid5(uuid.NAMESPACE_URL, 'kore-sandbox/dialog/' + bot_id)}"
        # ASSUMPTION: the sandbox's bot has one dialog task; the documented response lists per-resource
        # results, of which we keep the identifying fields and a small `result`.
        return [
            {
                "resourceType": "dialog",
                "resourceId": dialog,
                "sbResourceId": dialog,
                "status": "SUCCESS",
                "result": {
                    "_id": dialog,
                    "botId": bot_id,
                    "name": "Book Flight",
                    "state": "published",
                    "versionComment": version_comment,
                    "publishedOn": iso_time(job.times.started_wall),
                },
            }
        ]

    def publish_status(self, bot_id: str, languages: tuple[str, ...]) -> dict[str, object]:
        job = self._chain(bot_id, languages)[-1]
        now = self._clocks.clock()
        phase = self._phase(job, now)
        body: dict[str, object] = {
            "_id": job.publish_id,
            "action": "RUN",
            "jobType": "PUBLISH_BOT",
            "streamId": bot_id,
            "__v": 0,
            "countOfDockStatuses": 1,
            "createdBy": job.created_by,
            "percentageComplete": job.times.percentage(now, phase == "successful"),
            "requestedTime": iso_time(job.times.started_wall),
            "status": PUBLISH_WORDS[self._readings["publish-words"]][phase],
            "lastModifiedOn": iso_time(self._clocks.modified_wall(job.times, now)),
            "initiatedOn": iso_time(job.times.started_wall),
            "statusSummary": _status_summary(phase, job.languages),
        }
        return body

    # -- internals ------------------------------------------------------------------------------------
    def _chain(self, bot_id: str, languages: tuple[str, ...]) -> list[_Publish]:
        chain = self._publishes.get(bot_id)
        if chain is None:
            # ASSUMPTION: every bot starts with one earlier, successful publish (like trainings do), so the
            # status endpoint always has a job to report.
            now = self._clocks.clock()
            initial = _Publish(
                publish_id=f"ds-{uuid.uuid5(uuid.NAMESPACE_URL, 'kore-sandbox/publish/' + bot_id)}",
                bot_id=bot_id,
                version_comment="initial version (sandbox)",
                initiate_training=None,
                created_by=user_id("kore-sandbox"),
                times=JobTimes(now, self._started_wall, now, self._started_wall),
                outcome="successful",
                languages=languages,
                initial=True,
            )
            chain = self._publishes[bot_id] = [initial]
        return chain

    @staticmethod
    def _phase(job: _Publish, now: float) -> PublishStatus:
        return "inprogress" if job.times.running(now) else job.outcome

    def _import_record(self, job: _Import, now: float) -> ImportRecord:
        status: ImportStatus = "pending" if job.times.running(now) else job.outcome
        return ImportRecord(
            job.import_id,
            job.bot_id,
            job.language,
            job.file_id,
            job.file_name,
            status,
            None if status == "pending" else job.message,
        )

    def _import_body(self, job: _Import, now: float) -> dict[str, object]:
        record = self._import_record(job, now)
        failure_word = self._readings["ml-import-failure-word"]
        body: dict[str, object] = {
            "_id": job.import_id,
            "status": failure_word if record.status == "failure" else record.status,
            "streamId": job.bot_id,
            "createdBy": job.created_by,
            "requestType": "MLimport",
            "statusLogs": [],
            "createdOn": iso_time(job.times.started_wall),
            "__v": 0,
        }
        if record.message is not None:
            body["message"] = record.message
        return body


def upload_answer(upload: UploadedFile, answer: str) -> dict[str, object]:
    """The Upload File answer per reading `upload-answer`: `documented` is the developer.kore.ai v10-2
    sample's keys (`hash`: the content's SHA-1), `file-id-only` the sandbox's older ASSUMPTION 20."""
    if answer == "file-id-only":
        return {"fileId": upload.file_id}
    return {
        "fileId": upload.file_id,
        "hash": hashlib.sha1(upload.content, usedforsecurity=False).hexdigest(),
        "fileName": upload.stored_name,
    }


def _status_summary(phase: PublishStatus, languages: tuple[str, ...]) -> list[dict[str, object]]:
    """ASSUMPTION: the summary is empty while in progress; on failure the NL resource reports FAILED."""
    if phase == "inprogress":
        return []
    summary: list[dict[str, object]] = []
    for resource_id, name, modules in (
        ("SETTINGS", "Settings", ["general", "bot_variables"]),
        ("CHANNELS", "Channels", ["rtm"]),
        ("BOTLANGUAGES", "BotLanguages", {"enabledLanguages": list(languages)}),
        ("NL", "Natural Language", ["nl_model", "settings"]),
    ):
        entry: dict[str, object] = {
            "resourceId": resource_id,
            "resourceType": resource_id,
            "name": name,
            "modules": modules,
            "status": "SUCCESS",
        }
        if phase == "failed" and resource_id == "NL":
            entry["status"] = "FAILED"
            entry["message"] = "Publishing the natural language model failed (sandbox fail_next_publish)"
        summary.append(entry)
    return summary


# -- the requests ------------------------------------------------------------------------------------------


class PipelineApi(EndpointFamily[RouteKind, PipelineModel]):
    """Answers the pipeline endpoints (upload, ML import, publish and their status)."""

    route = staticmethod(match_pipeline_route)

    def _answer(self, req: ApiRequest, route: PipelineRoute, response: ApiResponse) -> object:
        # ASSUMPTION: each endpoint has its own rate budget: the "bot"-keyed APIs (upload, import,
        # publish) use the train limit's numbers, the status APIs the status limit's.
        core = self.core
        app = core.caller(req, ALLOWED_METHOD[route.kind])
        if route.kind == "upload":
            # Upload File needs no API scope ("any app created by the account administrator").
            name, extension, context, content = _parse_upload(req)
            core.rate_limit(core.train_limiter, ("uploadfile", app.client_id))
            return self.model.upload(app.client_id, name, extension, context, content)
        bot = core.linked_bot(app, route.bot_id)
        if route.kind == "mlimport":
            return self._import(req, app, bot, response)
        if route.kind == "mlimport_status":
            require_scope(app, SCOPE_ML_IMPORT, ANY_APP_KIND)
            assert route.request_id is not None
            body = self.model.import_status(bot.bot_id, route.request_id)
            if body is None:
                # ASSUMPTION: an id of another bot is as unknown as an invented one.
                raise ApiError(400, MSG_INVALID_REQUEST_ID, 400)
            core.rate_limit(core.status_limiter, ("mlimport-status", route.request_id))
            return body
        if route.kind == "publish":
            # Publish is an Admin Console API (docs/kore-api.md §3.2: App Builder scope "Not Applicable").
            require_scope(app, SCOPE_PUBLISH, frozenset({APP_KIND_ADMIN}))
            comment, initiate = _parse_publish(req)
            core.rate_limit(core.train_limiter, ("publish", bot.bot_id))
            return self.model.start_publish(bot.bot_id, bot.languages, comment, initiate, app.client_id)
        require_scope(app, SCOPE_PUBLISH_STATUS, frozenset({APP_KIND_ADMIN}))
        # ASSUMPTION: the status API's rate-limit "request_id" is the bot (the path has no request id).
        core.rate_limit(core.status_limiter, ("publish-status", bot.bot_id))
        return self.model.publish_status(bot.bot_id, bot.languages)

    def _import(self, req: ApiRequest, app: SandboxApp, bot: SandboxBot, response: ApiResponse) -> object:
        require_scope(app, SCOPE_ML_IMPORT, ANY_APP_KIND)
        language = self.core.header_language(req, bot, response)
        payload = json_object_body(req.body)
        file_name, file_id = payload.get("fileName"), payload.get("fileId")
        if not (isinstance(file_name, str) and file_name.strip() and isinstance(file_id, str) and file_id):
            raise ApiError(412, MSG_VALIDATION, 412)
        upload = self.model.file(file_id)
        if upload is None:
            raise ApiError(400, MSG_INVALID_FILE_ID, 400)
        self.core.rate_limit(self.core.train_limiter, ("mlimport", bot.bot_id))
        return self.model.start_import(bot.bot_id, language, upload, file_name, app.client_id)


def json_object_body(body: bytes) -> dict[str, object]:
    """ASSUMPTION: a body that is not a JSON object is a "bad payload" (412), like a missing field."""
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        raise ApiError(412, MSG_VALIDATION, 412) from None
    if not isinstance(payload, dict):
        raise ApiError(412, MSG_VALIDATION, 412)
    return payload


def _parse_publish(req: ApiRequest) -> tuple[str, bool | None]:
    payload = json_object_body(req.body)
    comment = payload.get("versionComment")
    initiate = payload.get("initiateTraining")
    # ASSUMPTION: a missing or empty versionComment, or a non-boolean initiateTraining, is a 412.
    if not isinstance(comment, str) or not comment.strip():
        raise ApiError(412, MSG_VALIDATION, 412)
    if initiate is not None and not isinstance(initiate, bool):
        raise ApiError(412, MSG_VALIDATION, 412)
    return comment, initiate


def _parse_upload(req: ApiRequest) -> tuple[str, str, str, bytes]:
    """(file name, extension, fileContext, content) of a multipart upload.

    ASSUMPTION: anything other than multipart/form-data with a `file` part, `fileContext=bulkImport` and a
    documented `fileExtension` is a 412 `Validation errors/ Invalid arguments`.
    """
    content_type = req.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiError(412, MSG_VALIDATION, 412)
    message = BytesParser().parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + req.body
    )
    parts: dict[str, Message] = {}
    if message.is_multipart():
        for part in message.get_payload():
            assert isinstance(part, Message)
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                parts.setdefault(name, part)
    upload = parts.get("file")
    context = _text_field(parts.get("fileContext"))
    extension = _text_field(parts.get("fileExtension")).lower().lstrip(".")
    content = upload.get_payload(decode=True) if upload is not None else None
    if not isinstance(content, bytes) or context != "bulkImport" or extension not in UPLOAD_EXTENSIONS:
        raise ApiError(412, MSG_VALIDATION, 412)
    assert upload is not None
    file_name = upload.get_filename() or f"upload.{extension}"
    return file_name, extension, context, content


def _text_field(part: Message | None) -> str:
    if part is None:
        return ""
    value = part.get_payload(decode=True)
    return value.decode("utf-8", "replace").strip() if isinstance(value, bytes) else ""


# -- the thread-safe handle for tests and the admin API ----------------------------------------------------


class PipelineControls(JobControls[PipelineModel]):
    """`Sandbox.pipeline`: knobs, fault rules and views of the pipeline jobs, under the sandbox's lock."""

    import_seconds = LockedSetting[float]()
    publish_seconds = LockedSetting[float]()

    def set_import_seconds(self, seconds: float) -> None:
        """How long imports started from now on stay `pending`."""
        self._set("import_seconds", seconds)

    def set_publish_seconds(self, seconds: float) -> None:
        """How long publishes started from now on stay in progress."""
        self._set("publish_seconds", seconds)

    def fail_next_import(
        self, bot_id: str | None = None, language: str | None = None, count: int = 1
    ) -> None:
        """The next `count` imports (of that bot / language, if given) end `failure`."""
        self._locked(lambda model: model.fail_next_import(bot_id, language, count))

    def fail_next_publish(self, bot_id: str | None = None, count: int = 1) -> None:
        """The next `count` publishes (of that bot, if given) end `failed`."""
        self._locked(lambda model: model.fail_next_publish(bot_id, count))

    @property
    def files(self) -> list[UploadedFile]:
        return self._locked(PipelineModel.files)

    @property
    def imports(self) -> list[ImportRecord]:
        with self._lock:
            self._model.settle()
            return self._model.imports()

    @property
    def publishes(self) -> list[PublishRecord]:
        """Publishes requested through the API (not the initial one every bot starts with)."""
        return self._locked(PipelineModel.publishes)
