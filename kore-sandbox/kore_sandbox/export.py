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
import re
import secrets
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

from .api import ApiRequest, ApiResponse, EndpointFamily, Route, SandboxApi, path_groups
from .auth import ApiError, require_scope
from .jobs import JobClocks, JobControls, JobTimes, LockedSetting, iso_time, user_id
from .persistence import Fields
from .readings import Readings
from .state import ANY_APP_KIND, Clock, FailureRules, SecondsKnob, Snapshot, check_seconds

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


ExportRoute = Route[RouteKind]


def match_export_route(path: str) -> ExportRoute | None:
    groups = path_groups(_EXPORT, path)
    if groups is None:
        return None
    return ExportRoute("mlexport_status" if "status" in groups else "mlexport", groups["bot"])


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

    # -- the state file (persistence.py) ---------------------------------------------------------------
    def dump_state(self) -> list[dict[str, object]]:
        """Each bot language's utterances by intent, in order, JSON-able."""
        return [
            {"bot_id": bot, "language": language, "intents": [[i, r] for i, r in intents.items()]}
            for (bot, language), intents in self._store.items()
        ]

    def load_state(self, state: Fields, key: str) -> None:
        """What `dump_state` wrote, under `key` of `state`."""
        for entry in state.objects(key):
            intents: dict[str, list[dict[str, object]]] = {}
            for i, pair in enumerate(entry.items("intents")):
                where = f"{entry.where}.intents[{i}]"
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                    raise ValueError(f"{where} is not [intent, utterances]")
                intents[pair[0]] = Fields({"utterances": pair[1]}, where).records("utterances")
            self._store[(entry.text("bot_id"), entry.text("language"))] = intents

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

    def edit(self, bot_id: str, language: str, intent: str, old_sentence: str, new_sentence: str) -> int:
        """Change one utterance's text; how many entity tags it lost. ASSUMPTION: an edited utterance loses
        its entity tags (their offsets belong to the old text). A ValueError names what is not there."""
        _check_sentence(new_sentence)
        intents = self._store.get((bot_id, language), {})
        records = intents.get(intent)
        if records is None:
            if not any(intents.values()):
                raise ValueError(
                    f"bot {bot_id} ({language}) has no intent {intent!r}: it has no ML utterances in "
                    f"{language} at all (nothing was imported into that language yet)"
                )
            raise ValueError(
                f"bot {bot_id} ({language}) has no intent {intent!r}; its intents: {_listed(list(intents))}"
            )
        for record in records:
            if record["sentence"] == old_sentence:
                if any(r["sentence"] == new_sentence for r in records if r is not record):
                    raise ValueError(f"intent {intent!r} already has the utterance {new_sentence!r}")
                entities = record["entities"]
                record["sentence"] = new_sentence
                record["entities"] = []
                return len(entities) if isinstance(entities, list) else 0
        sentences = [str(r["sentence"]) for r in records]
        raise ValueError(
            f"intent {intent!r} of bot {bot_id} ({language}) has no utterance {old_sentence!r}; its "
            f"utterances: {_listed(sentences)}"
        )

    def add(
        self,
        bot_id: str,
        language: str,
        intent: str,
        sentence: str,
        type_: str = DEFAULT_INTENT_TYPE,
        entities: Sequence[Mapping[str, object]] = (),
    ) -> bool:
        """Add an utterance; whether its intent is new. ASSUMPTION: an intent cannot hold the same sentence
        twice (the builder refuses duplicates)."""
        _check_sentence(sentence)
        if not isinstance(intent, str) or not intent.strip():
            raise ValueError("the intent must be a non-empty string")
        intents = self._store.setdefault((bot_id, language), {})
        created = intent not in intents
        records = intents.setdefault(intent, [])
        if any(r["sentence"] == sentence for r in records):
            raise ValueError(f"intent {intent!r} already has the utterance {sentence!r}")
        records.append(utterance(intent, sentence, language, type_, list(entities)))
        return created


def _listed(names: Sequence[str], most: int = 8) -> str:
    """`'a', 'b' and 3 more`: names for an error message, the first `most` of them."""
    shown = ", ".join(repr(name) for name in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


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
    times: JobTimes
    outcome: Literal["SUCCESS", "FAILED"]
    content: bytes
    token: str
    utterances: int
    #: The `_id` its status answers under reading `export-status-id=own`.
    status_id: str = ""


@dataclass(frozen=True)
class ExportRecord(Snapshot):
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
        """Every field but the token: the admin API never shows a secret."""
        return {name: value for name, value in asdict(self).items() if name != "token"}


@dataclass(frozen=True)
class DownloadFile:
    export_id: str
    bot_id: str
    file_type: FileType
    content: bytes
    file_name: str


class ExportModel:
    """ML export jobs on injected clocks (pure: no I/O, no locks).

    ASSUMPTIONS: the file is the bot language's utterances when the export is requested. A job is
    `IN_PROGRESS` for `export_seconds` (taken when it starts), then `SUCCESS` with `downloadUrl`, or
    `FAILED` (BOT's word) after `fail_next_export`. The status reports the bot's latest export and has the
    same `_id` as its POST answer (reading `export-status-id`); `downloadUrl` is absent until `SUCCESS`, and
    `""` for the reads that `blank_download_url` covers (the documented sample shows `""` with `SUCCESS`).
    """

    export_seconds = SecondsKnob("export_seconds")

    def __init__(
        self,
        *,
        export_seconds: float = 1.0,
        clock: Clock,
        wall_clock: Clock,
        readings: Readings | None = None,
    ) -> None:
        self._clocks = JobClocks(clock, wall_clock)
        self._readings = readings if readings is not None else Readings()
        self._initial = check_seconds("export_seconds", export_seconds)
        self.export_seconds = export_seconds
        self._jobs: dict[str, list[_Export]] = {}
        self._failures = FailureRules()
        self._blank = FailureRules()

    def fail_next_export(self, bot_id: str | None = None, count: int = 1) -> None:
        self._failures.add(bot_id, None, count)

    def blank_download_url(self, bot_id: str | None = None, count: int = 1) -> None:
        self._blank.add(bot_id, None, count)

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
            "pending_export_failures": self._failures.to_json_by_bot(),
            "pending_blank_download_urls": self._blank.to_json_by_bot(),
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
        job = _Export(
            export_id=f"ds-{uuid.uuid4()}",
            bot_id=bot_id,
            language=language,
            state=state,
            file_type=file_type,
            created_by=user_id(client_id),
            times=self._clocks.start(self.export_seconds),
            outcome="FAILED" if self._failures.take(bot_id) else "SUCCESS",
            content=export_file(records, file_type),
            token=secrets.token_urlsafe(32),
            utterances=len(records),
            status_id=f"ds-{uuid.uuid4()}",
        )
        self._jobs.setdefault(bot_id, []).append(job)
        return self._body(job, job.times.started_at, None, job.export_id)

    def status(self, bot_id: str, download_base: str) -> dict[str, object] | None:
        jobs = self._jobs.get(bot_id)
        if not jobs:
            return None
        job = jobs[-1]
        now = self._clocks.clock()
        url = f"{download_base}{DOWNLOAD_PATH_PREFIX}{job.token}"
        if self._phase(job, now) == "SUCCESS" and self._blank.take(bot_id):
            url = ""
        return self._body(job, now, url, status_answer_id(job, self._readings["export-status-id"]))

    def link_base(self, download_base: str, api_base: str) -> str:
        """Where download links point now: the download host, or the API host (reading `download-host`)."""
        return api_base if self._readings["download-host"] == "api-host" else download_base

    def download(self, token: str) -> DownloadFile | None:
        """The file a download token names, once its export has succeeded."""
        now = self._clocks.clock()
        for job in (j for jobs in self._jobs.values() for j in jobs):
            if secrets.compare_digest(job.token, token):
                if self._phase(job, now) != "SUCCESS":
                    return None
                extension = job.file_type.lower()
                return DownloadFile(
                    export_id=job.export_id,
                    bot_id=job.bot_id,
                    file_type=job.file_type,
                    content=job.content,
                    file_name=f"{job.bot_id}-{job.language}-MLUtterances.{extension}",
                )
        return None

    def records(self) -> list[ExportRecord]:
        now = self._clocks.clock()
        jobs = sorted((j for chain in self._jobs.values() for j in chain), key=lambda j: j.times.started_at)
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
        return "IN_PROGRESS" if job.times.running(now) else job.outcome

    def _body(self, job: _Export, now: float, url: str | None, answer_id: str | None) -> dict[str, object]:
        phase = self._phase(job, now)
        body: dict[str, object] = {
            "_id": answer_id,
            "status": phase,
            "percentageComplete": job.times.percentage(now, phase == "SUCCESS"),
            "streamId": job.bot_id,
            "createdBy": job.created_by,
            "jobType": "ML_UTTERANCE",
            "action": "EXPORT",
            "countOfDockStatuses": 1,
            "fileType": job.file_type,
            "statusLogs": [],
            "lMod": iso_time(self._clocks.modified_wall(job.times, now)),
            "createdOn": iso_time(job.times.started_wall),
            "requestedTime": iso_time(job.times.started_wall),
            "__v": 0,
        }
        if answer_id is None:
            del body["_id"]
        if phase == "SUCCESS" and url is not None:
            body["downloadUrl"] = url
        return body


def status_answer_id(job: _Export, export_status_id: str) -> str | None:
    """The `_id` an export status answers, per reading `export-status-id` (None: no `_id`)."""
    return {"same": job.export_id, "own": job.status_id, "none": None}[export_status_id]


# -- the requests ----------------------------------------------------------------------------------------
class ExportApi(EndpointFamily[RouteKind, ExportModel]):
    """Answers ML export and its status. `download_base` is the download host's `http://host:port`,
    `api_base` the API host's (reading `download-host=api-host`)."""

    route = staticmethod(match_export_route)

    def __init__(self, core: SandboxApi, model: ExportModel, store: UtteranceStore) -> None:
        super().__init__(core, model)
        self.store = store
        self.download_base = "http://127.0.0.2"
        self.api_base = "http://127.0.0.1"

    def _answer(self, req: ApiRequest, route: ExportRoute, response: ApiResponse) -> object:
        core = self.core
        app = core.caller(req, "POST" if route.kind == "mlexport" else "GET")
        bot = core.linked_bot(app, route.bot_id)
        # Documented for both kinds: App Builder "Utterances Export", Admin "Test > Utterances Export...".
        require_scope(app, SCOPE_ML_EXPORT, ANY_APP_KIND)
        if route.kind == "mlexport_status":
            # ASSUMPTION: the status API's rate-limit "request_id" is the bot (the path has no request id).
            core.rate_limit(core.status_limiter, ("mlexport-status", bot.bot_id))
            body = self.model.status(bot.bot_id, self.model.link_base(self.download_base, self.api_base))
            if body is None:
                # ASSUMPTION: a bot that never exported has no status to report.
                raise ApiError(400, "No ML utterances export found for this bot", 400)
            return body
        # ASSUMPTION: `bot-language` selects the language (undocumented, §13.13), else the bot's default;
        # reading `export-language=default-language` ignores the header.
        if core.readings["export-language"] == "default-language":
            language = response.language = bot.default_language
        else:
            language = core.header_language(req, bot, response)
        # ASSUMPTION: `type` is required (json or csv, any case); `state` is `configured` (the default) or
        # `published`; anything else is a 400. Other query parameters (the docs' stray `&=&`) are ignored.
        raw_type = req.query.get("type", "").strip().lower()
        if raw_type not in ("json", "csv"):
            raise ApiError(400, f"Invalid type '{raw_type}': use 'json' or 'csv'", 400)
        state = req.query.get("state", "").strip() or "configured"
        if state not in ("configured", "published"):
            raise ApiError(400, f"Invalid state '{state}': use 'configured' or 'published'", 400)
        core.rate_limit(core.train_limiter, ("mlexport", bot.bot_id))
        # ASSUMPTION: like the train status (A9), the published copy keeps what every bot starts with,
        # which for ML utterances is nothing: a `published` export is empty.
        records = self.store.utterances(bot.bot_id, language) if state == "configured" else []
        file_type: FileType = "JSON" if raw_type == "json" else "CSV"
        return self.model.start_export(bot.bot_id, language, state, file_type, app.client_id, records)


# -- the thread-safe handle for tests and the admin API --------------------------------------------------
@dataclass(frozen=True)
class DownloadRequest(Snapshot):
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


class ExportControls(JobControls[ExportModel]):
    """`Sandbox.ml_export`: knobs, fault rules, the export jobs and the download host's request record."""

    def __init__(
        self,
        lock: threading.RLock,
        model: ExportModel,
        downloads: list[DownloadRequest],
        download_base: str | None,
        download_fallback: bool,
        api_base: str | None = None,
    ) -> None:
        super().__init__(lock, model)
        self._downloads = downloads
        self._download_base = download_base
        self._fallback = download_fallback
        self._api_base = api_base

    export_seconds = LockedSetting[float]()

    def set_export_seconds(self, seconds: float) -> None:
        """How long exports started from now on stay `IN_PROGRESS`."""
        self._set("export_seconds", seconds)

    def fail_next_export(self, bot_id: str | None = None, count: int = 1) -> None:
        """The next `count` exports (of that bot, if given) end `FAILED`, with no file."""
        self._locked(lambda model: model.fail_next_export(bot_id, count))

    def blank_download_url(self, bot_id: str | None = None, count: int = 1) -> None:
        """The next `count` status reads of a `SUCCESS` export (of that bot) answer `downloadUrl: ""`."""
        self._locked(lambda model: model.blank_download_url(bot_id, count))

    @property
    def exports(self) -> list[ExportRecord]:
        return self._locked(ExportModel.records)

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
        """The download URL of an export (what its status answers once it is `SUCCESS`; on the API host under
        reading `download-host=api-host`)."""
        with self._lock:
            for record in self._model.records():
                if record.export_id == export_id:
                    if self._download_base is None or self._api_base is None:
                        raise RuntimeError("sandbox not started: the download host has no address yet")
                    base = self._model.link_base(self._download_base, self._api_base)
                    return f"{base}{DOWNLOAD_PATH_PREFIX}{record.token}"
        raise ValueError(f"unknown export {export_id!r}")
