"""The sandbox's ML utterances per bot language, and ML Utterances Export (docs/kore-api.md §7.2, §7.4-§7.6).

    POST /api/public/bot/{BotID}/mlexport?state=configured&type=json|csv     header bot-language (optional)
    GET  /api/public/bot/{BotID}/mlexport/status
    GET  http://127.0.0.2:<port>/api/getMediaStream/market/<token>        the file (download.py), no auth

`UtteranceStore` keeps each bot language's ML utterances: a successful ML import replaces, for that
language, the utterances of every intent (`taskName`) in its file, and leaves the other intents alone
(C257, §7.2). `ExportModel` holds the export jobs, on injected clocks like `pipeline.PipelineModel`.
`ExportApi` turns requests into responses with `SandboxApi`'s apps, bots, JWT checks and rate limiters.
`ExportControls` is the thread-safe test/admin handle (`Sandbox.ml_export`). Not thread-safe by
themselves: `server.Sandbox` calls the models and the API under its lock.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import re
import secrets
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote

from .api import ApiRequest, ApiResponse, SandboxApi
from .auth import CODE_AUTH, MSG_INVALID_CREDENTIALS, ApiError, authenticate, require_scope
from .pipeline import iso_time, user_id
from .state import ANY_APP_KIND, Clock, FailureRule, check_seconds

#: App Builder scope of ML Utterances Export and its status (docs/kore-api.md §3.2; Admin Console: "Test >
#: Utterances Export and Train").
SCOPE_ML_EXPORT = "Utterances Export"

#: The path the download host serves an export file at (§7.5, observed: KAR).
DOWNLOAD_PATH_PREFIX = "/api/getMediaStream/market/"

ExportStatus = Literal["IN_PROGRESS", "SUCCESS", "FAILED"]
FileType = Literal["JSON", "CSV"]
RouteKind = Literal["mlexport", "mlexport_status"]

# ASSUMPTION: like every endpoint, `/api/1.1/public/...` and a trailing slash are accepted.
_EXPORT = re.compile(r"^/api(?:/1\.1)?/public/bot/(?P<bot>[^/]+)/mlexport(?P<status>/status)?/?$")
#: ASSUMPTION: the default intent type of an imported utterance that names none (K50: `DialogIntent`).
DEFAULT_INTENT_TYPE = "DialogIntent"


@dataclass(frozen=True)
class ExportRoute:
    kind: RouteKind
    bot_id: str


def match_export_route(path: str) -> ExportRoute | None:
    m = _EXPORT.match(path)
    if m is None:
        return None
    return ExportRoute("mlexport_status" if m.group("status") else "mlexport", unquote(m.group("bot")))


# -- the utterances --------------------------------------------------------------------------------------
def utterance(
    intent: str, sentence: str, language: str, type_: str = DEFAULT_INTENT_TYPE, entities: object = ()
) -> dict[str, object]:
    """One utterance record, with the keys (and key order) of an ML export (§7.6, K50)."""
    return {
        "taskName": intent,
        "sentence": sentence,
        "type": type_,
        "entities": copy.deepcopy(list(entities)) if isinstance(entities, (list, tuple)) else [],
        "language": language,
    }


class UtteranceStore:
    """ML utterances per bot language, grouped by intent in the order intents first appeared.

    ASSUMPTIONS: a bot language starts with no utterances. An imported record keeps its `type` (default
    `DialogIntent`) and its `entities` when they are a list (a CSV has none); its `language` is the
    language the file was imported into. A replaced intent keeps its place in the export.
    """

    def __init__(self) -> None:
        self._store: dict[tuple[str, str], dict[str, list[dict[str, object]]]] = {}

    def reset(self) -> None:
        self._store.clear()

    def replace_intents(self, bot_id: str, language: str, records: Sequence[Mapping[str, object]]) -> None:
        """A successful ML import: the file's intents get the file's utterances, others stay (C257)."""
        grouped: dict[str, list[dict[str, object]]] = {}
        for record in records:
            intent = str(record["taskName"])
            type_ = record.get("type")
            grouped.setdefault(intent, []).append(
                utterance(
                    intent,
                    str(record["sentence"]),
                    language,
                    type_ if isinstance(type_, str) and type_ else DEFAULT_INTENT_TYPE,
                    record.get("entities", ()),
                )
            )
        intents = self._store.setdefault((bot_id, language), {})
        intents.update(grouped)

    def utterances(self, bot_id: str, language: str) -> list[dict[str, object]]:
        intents = self._store.get((bot_id, language), {})
        return [copy.deepcopy(u) for records in intents.values() for u in records]

    def languages(self) -> list[tuple[str, str]]:
        return [key for key, intents in self._store.items() if any(intents.values())]

    def edit(self, bot_id: str, language: str, intent: str, old_sentence: str, new_sentence: str) -> None:
        """ASSUMPTION: an edited utterance loses its entity tags (their offsets belong to the old text)."""
        _check_sentence(new_sentence)
        records = self._store.get((bot_id, language), {}).get(intent)
        if records is None:
            raise ValueError(f"bot {bot_id} ({language}) has no intent {intent!r}")
        for record in records:
            if record["sentence"] == old_sentence:
                if any(r["sentence"] == new_sentence for r in records if r is not record):
                    raise ValueError(f"intent {intent!r} already has the utterance {new_sentence!r}")
                record["sentence"] = new_sentence
                record["entities"] = []
                return
        raise ValueError(f"intent {intent!r} of bot {bot_id} ({language}) has no utterance {old_sentence!r}")

    def add(
        self,
        bot_id: str,
        language: str,
        intent: str,
        sentence: str,
        type_: str = DEFAULT_INTENT_TYPE,
        entities: Sequence[Mapping[str, object]] = (),
    ) -> None:
        """ASSUMPTION: an intent cannot hold the same sentence twice (the builder refuses duplicates)."""
        _check_sentence(sentence)
        if not isinstance(intent, str) or not intent.strip():
            raise ValueError("the intent must be a non-empty string")
        records = self._store.setdefault((bot_id, language), {}).setdefault(intent, [])
        if any(r["sentence"] == sentence for r in records):
            raise ValueError(f"intent {intent!r} already has the utterance {sentence!r}")
        records.append(utterance(intent, sentence, language, type_, list(entities)))


def _check_sentence(sentence: object) -> None:
    if not isinstance(sentence, str) or not sentence.strip():
        raise ValueError("an utterance must be a non-empty string")


def export_file(records: Sequence[Mapping[str, object]], file_type: FileType) -> bytes:
    """The downloaded file (§7.6): JSON as in K50 (an array, 4-space indent), or CSV with the header
    `taskName,sentence,type,language` and no entities (C257). ASSUMPTION: LF line ends, no BOM."""
    if file_type == "JSON":
        return json.dumps(list(records), indent=4, ensure_ascii=False).encode("utf-8")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["taskName", "sentence", "type", "language"])
    for record in records:
        writer.writerow([record["taskName"], record["sentence"], record["type"], record["language"]])
    return out.getvalue().encode("utf-8")


# -- the export jobs -------------------------------------------------------------------------------------
@dataclass
class _Export:
    export_id: str
    bot_id: str
    language: str
    state: str
    file_type: FileType
    created_by: str
    requested_at: float
    requested_wall: float
    done_at: float
    done_wall: float
    outcome: Literal["SUCCESS", "FAILED"]
    content: bytes
    token: str
    utterances: int


@dataclass(frozen=True)
class ExportRecord:
    """A snapshot of one ML export job (`token` is the secret part of its download URL)."""

    export_id: str
    bot_id: str
    language: str
    state: str
    file_type: FileType
    status: ExportStatus
    utterances: int
    token: str = field(repr=False)

    def to_json(self) -> dict[str, object]:
        return {
            "export_id": self.export_id,
            "bot_id": self.bot_id,
            "language": self.language,
            "state": self.state,
            "file_type": self.file_type,
            "status": self.status,
            "utterances": self.utterances,
        }


@dataclass(frozen=True)
class DownloadFile:
    export_id: str
    file_type: FileType
    content: bytes
    file_name: str


class ExportModel:
    """ML export jobs on injected clocks (pure: no I/O, no locks).

    ASSUMPTIONS: the file is the bot language's utterances when the export is requested. A job is
    `IN_PROGRESS` for `export_seconds` (taken when it starts), then `SUCCESS` with `downloadUrl`, or
    `FAILED` (BOT's word) after `fail_next_export`. The status reports the bot's latest export and has the
    same `_id` as its POST answer; `downloadUrl` is absent until `SUCCESS`, and `""` for the reads that
    `blank_download_url` covers (the documented sample shows `""` with `SUCCESS`).
    """

    def __init__(self, *, export_seconds: float = 1.0, clock: Clock, wall_clock: Clock) -> None:
        self._clock = clock
        self._wall_clock = wall_clock
        self._initial = check_seconds("export_seconds", export_seconds)
        self.export_seconds = export_seconds
        self._jobs: dict[str, list[_Export]] = {}
        self._failures: list[FailureRule] = []
        self._blank: list[FailureRule] = []

    @property
    def export_seconds(self) -> float:
        return self._export_seconds

    @export_seconds.setter
    def export_seconds(self, seconds: float) -> None:
        self._export_seconds = check_seconds("export_seconds", seconds)

    def fail_next_export(self, bot_id: str | None = None, count: int = 1) -> None:
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        self._failures.append(FailureRule(bot_id, None, count))

    def blank_download_url(self, bot_id: str | None = None, count: int = 1) -> None:
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        self._blank.append(FailureRule(bot_id, None, count))

    def clear_failures(self) -> None:
        self._failures.clear()
        self._blank.clear()

    def reset(self) -> None:
        self._jobs.clear()
        self.clear_failures()
        self.export_seconds = self._initial

    def settings(self) -> dict[str, object]:
        return {
            "export_seconds": self.export_seconds,
            "pending_export_failures": [{"bot_id": r.bot_id, "count": r.remaining} for r in self._failures],
            "pending_blank_download_urls": [{"bot_id": r.bot_id, "count": r.remaining} for r in self._blank],
        }

    # -- API operations -------------------------------------------------------------------------------
    def start_export(
        self,
        bot_id: str,
        language: str,
        state: str,
        file_type: FileType,
        client_id: str,
        records: Sequence[Mapping[str, object]],
    ) -> dict[str, object]:
        now, wall = self._clock(), self._wall_clock()
        job = _Export(
            export_id=f"ds-{uuid.uuid4()}",
            bot_id=bot_id,
            language=language,
            state=state,
            file_type=file_type,
            created_by=user_id(client_id),
            requested_at=now,
            requested_wall=wall,
            done_at=now + self.export_seconds,
            done_wall=wall + self.export_seconds,
            outcome="FAILED" if _take(self._failures, bot_id) else "SUCCESS",
            content=export_file(records, file_type),
            token=secrets.token_urlsafe(32),
            utterances=len(records),
        )
        self._jobs.setdefault(bot_id, []).append(job)
        return self._body(job, now, None)

    def status(self, bot_id: str, download_base: str) -> dict[str, object] | None:
        jobs = self._jobs.get(bot_id)
        if not jobs:
            return None
        job = jobs[-1]
        now = self._clock()
        url = f"{download_base}{DOWNLOAD_PATH_PREFIX}{job.token}"
        if self._phase(job, now) == "SUCCESS" and _take(self._blank, bot_id):
            url = ""
        return self._body(job, now, url)

    def download(self, token: str) -> DownloadFile | None:
        """The file a download token names, once its export has succeeded."""
        now = self._clock()
        for job in (j for jobs in self._jobs.values() for j in jobs):
            if secrets.compare_digest(job.token, token):
                if self._phase(job, now) != "SUCCESS":
                    return None
                extension = job.file_type.lower()
                name = f"{job.bot_id}-{job.language}-MLUtterances.{extension}"
                return DownloadFile(job.export_id, job.file_type, job.content, name)
        return None

    def records(self) -> list[ExportRecord]:
        now = self._clock()
        jobs = sorted((j for chain in self._jobs.values() for j in chain), key=lambda j: j.requested_at)
        return [
            ExportRecord(
                j.export_id,
                j.bot_id,
                j.language,
                j.state,
                j.file_type,
                self._phase(j, now),
                j.utterances,
                j.token,
            )
            for j in jobs
        ]

    # -- internals ------------------------------------------------------------------------------------
    @staticmethod
    def _phase(job: _Export, now: float) -> ExportStatus:
        return "IN_PROGRESS" if now < job.done_at else job.outcome

    def _body(self, job: _Export, now: float, url: str | None) -> dict[str, object]:
        phase = self._phase(job, now)
        if phase == "SUCCESS":
            percentage = 100
        else:  # ASSUMPTION: progress grows linearly; a failed job stops short of 100 (as publish does).
            duration = job.done_at - job.requested_at
            done = 1.0 if duration <= 0 else min(1.0, (now - job.requested_at) / duration)
            percentage = math.floor(done * 99)
        body: dict[str, object] = {
            "_id": job.export_id,
            "status": phase,
            "percentageComplete": percentage,
            "streamId": job.bot_id,
            "createdBy": job.created_by,
            "jobType": "ML_UTTERANCE",
            "action": "EXPORT",
            "countOfDockStatuses": 1,
            "fileType": job.file_type,
            "statusLogs": [],
            "lMod": iso_time(job.done_wall if phase != "IN_PROGRESS" else self._wall_clock()),
            "createdOn": iso_time(job.requested_wall),
            "requestedTime": iso_time(job.requested_wall),
            "__v": 0,
        }
        if phase == "SUCCESS" and url is not None:
            body["downloadUrl"] = url
        return body


def _take(rules: list[FailureRule], bot_id: str) -> bool:
    for rule in rules:
        if rule.matches(bot_id, ""):
            rule.remaining -= 1
            if rule.remaining <= 0:
                rules.remove(rule)
            return True
    return False


# -- the requests ----------------------------------------------------------------------------------------
class ExportApi:
    """Answers ML export and its status. `download_base` is the download host's `http://host:port`."""

    def __init__(self, core: SandboxApi, model: ExportModel, store: UtteranceStore) -> None:
        self.core = core
        self.model = model
        self.store = store
        self.download_base = "http://127.0.0.2"

    def handle(self, req: ApiRequest, route: ExportRoute) -> ApiResponse:
        response = ApiResponse(200, None, bot_id=route.bot_id)
        try:
            response.body = self._handle(req, route, response)
        except ApiError as err:
            response.status = err.status
            response.body = err.body()
            response.headers.update(err.headers)
        return response

    def _handle(self, req: ApiRequest, route: ExportRoute, response: ApiResponse) -> object:
        allowed = "POST" if route.kind == "mlexport" else "GET"
        if req.method != allowed:
            raise ApiError(405, "Method Not Allowed", 405, {"Allow": allowed})
        core = self.core
        app = authenticate(req.headers.get("auth"), core.apps, core._wall_clock, core.jti_cache)
        bot = core.bots.get(route.bot_id)
        if bot is None or app.client_id not in bot.linked_apps:
            raise ApiError(401, MSG_INVALID_CREDENTIALS, CODE_AUTH)
        # Documented for both kinds: App Builder "Utterances Export", Admin "Test > Utterances Export...".
        require_scope(app, SCOPE_ML_EXPORT, ANY_APP_KIND)
        if route.kind == "mlexport_status":
            # ASSUMPTION: the status API's rate-limit "request_id" is the bot (the path has no request id).
            SandboxApi._limit(core.status_limiter, ("mlexport-status", bot.bot_id))
            body = self.model.status(bot.bot_id, self.download_base)
            if body is None:
                # ASSUMPTION: a bot that never exported has no status to report.
                raise ApiError(400, "No ML utterances export found for this bot", 400)
            return body
        # ASSUMPTION: `bot-language` selects the language (undocumented, §13.13), else the bot's default.
        language = req.headers.get("bot-language", "").strip().lower() or bot.default_language
        response.language = language
        SandboxApi._check_language(bot, language)
        # ASSUMPTION: `type` is required (json or csv, any case); `state` is `configured` (the default) or
        # `published`; anything else is a 400. Other query parameters (the docs' stray `&=&`) are ignored.
        raw_type = req.query.get("type", "").strip().lower()
        if raw_type not in ("json", "csv"):
            raise ApiError(400, f"Invalid type '{raw_type}': use 'json' or 'csv'", 400)
        state = req.query.get("state", "").strip() or "configured"
        if state not in ("configured", "published"):
            raise ApiError(400, f"Invalid state '{state}': use 'configured' or 'published'", 400)
        SandboxApi._limit(core.train_limiter, ("mlexport", bot.bot_id))
        # ASSUMPTION: like the train status (A9), the published copy keeps what every bot starts with,
        # which for ML utterances is nothing: a `published` export is empty.
        records = self.store.utterances(bot.bot_id, language) if state == "configured" else []
        file_type: FileType = "JSON" if raw_type == "json" else "CSV"
        return self.model.start_export(bot.bot_id, language, state, file_type, app.client_id, records)


# -- the thread-safe handle for tests and the admin API --------------------------------------------------
@dataclass(frozen=True)
class DownloadRequest:
    """One request the download host received. Never holds a secret: header values whose name looks
    secret are `<redacted>`, and the token in the path is `<token>`. `auth_header` tells whether an `auth`
    or `authorization` header came with it; `jwt_seen` whether anything in it looked like a JWT."""

    method: str
    path: str
    headers: dict[str, str]
    auth_header: bool
    jwt_seen: bool
    status: int | None
    export_id: str | None
    at: float
    wall_time: float
    fault: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "method": self.method,
            "path": self.path,
            "headers": dict(self.headers),
            "auth_header": self.auth_header,
            "jwt_seen": self.jwt_seen,
            "status": self.status,
            "export_id": self.export_id,
            "at": self.at,
            "wall_time": self.wall_time,
            "fault": self.fault,
        }


class ExportControls:
    """`Sandbox.ml_export`: knobs, fault rules, the export jobs and the download host's request record."""

    def __init__(
        self,
        lock: threading.RLock,
        model: ExportModel,
        downloads: list[DownloadRequest],
        download_base: str | None,
        download_fallback: bool,
    ) -> None:
        self._lock = lock
        self._model = model
        self._downloads = downloads
        self._download_base = download_base
        self._fallback = download_fallback

    @property
    def export_seconds(self) -> float:
        with self._lock:
            return self._model.export_seconds

    def set_export_seconds(self, seconds: float) -> None:
        """How long exports started from now on stay `IN_PROGRESS`."""
        with self._lock:
            self._model.export_seconds = seconds

    def fail_next_export(self, bot_id: str | None = None, count: int = 1) -> None:
        """The next `count` exports (of that bot, if given) end `FAILED`, with no file."""
        with self._lock:
            self._model.fail_next_export(bot_id, count)

    def blank_download_url(self, bot_id: str | None = None, count: int = 1) -> None:
        """The next `count` status reads of a `SUCCESS` export (of that bot) answer `downloadUrl: ""`."""
        with self._lock:
            self._model.blank_download_url(bot_id, count)

    @property
    def exports(self) -> list[ExportRecord]:
        with self._lock:
            return self._model.records()

    @property
    def downloads(self) -> list[DownloadRequest]:
        """Every request the download host received, oldest first."""
        with self._lock:
            return list(self._downloads)

    @property
    def download_base_url(self) -> str | None:
        """`http://127.0.0.2:<port>` (or the fallback on 127.0.0.1); None before the sandbox starts."""
        return self._download_base

    @property
    def download_fallback(self) -> bool:
        """True when 127.0.0.2 could not be bound and the download host is another port of the API host."""
        return self._fallback

    def download_url(self, export_id: str) -> str:
        """The download URL of an export (what its status answers once it is `SUCCESS`)."""
        with self._lock:
            for record in self._model.records():
                if record.export_id == export_id:
                    if self._download_base is None:
                        raise RuntimeError("sandbox not started: the download host has no address yet")
                    return f"{self._download_base}{DOWNLOAD_PATH_PREFIX}{record.token}"
        raise ValueError(f"unknown export {export_id!r}")
