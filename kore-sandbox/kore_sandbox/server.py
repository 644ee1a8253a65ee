"""HTTP side of the sandbox: `Sandbox` (lifecycle, fault knobs, call log, admin API) and the request handler.

One `threading.RLock` guards all state; the handler threads never sleep while holding it.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import random
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from . import drift
from .admin import ADMIN_PREFIX, handle_admin
from .api import ApiRequest, ApiResponse, EndpointFamily, SandboxApi, match_route, requested_language
from .auth import ApiError, error_body
from .definitions import DefinitionApi, DefinitionControls, DefinitionModel
from .demo import DEMO_APPS, DEMO_BOTS
from .download import DownloadHooks, DownloadServer, MediaStreamApi
from .export import (
    DOWNLOAD_PATH_PREFIX,
    DownloadFile,
    DownloadRequest,
    ExportApi,
    ExportControls,
    ExportModel,
    UtteranceStore,
)
from .faults import Fault, FaultKind, FaultQueue
from .jobs import LockedModel, LockedSetting
from .persistence import (
    StoredState,
    check_state_path,
    not_loadable,
    read_state_file,
    state_document,
    state_line,
    write_state_file,
)
from .pipeline import PipelineApi, PipelineControls, PipelineModel
from .readings import Readings
from .state import (
    Clock,
    FailureRule,
    RateLimit,
    RateLimiter,
    SandboxApp,
    SandboxBot,
    Snapshot,
    TrainingModel,
    TrainingRecord,
    check_seconds,
)
from .transport import DispatchingHandler, LoopbackServer, OpenConnections
from .variables import VariablesApi, VariablesImport, VariablesModel

MAX_BODY_BYTES = 16 << 20  # ASSUMPTION: uploads of up to 16 MiB are accepted (the limit is not documented)
DEFAULT_RATE_LIMIT = RateLimit()  # 60/min, 1800/hour (docs/kore-api.md §5.1)
_SECRET_WORDS = ("auth", "token", "secret", "jwt", "password", "key")


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback IP literals (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Call(Snapshot):
    """One request the sandbox received (admin `/_sandbox/` requests are not logged).

    Never holds the `auth` header or any secret: query values whose name looks secret are redacted.
    `status` is None when the connection was dropped without a response. `at` is on the sandbox clock,
    `wall_time` is `time.time()` when the request arrived. `connection_id` numbers the TCP connections.
    """

    method: str
    path: str
    query: dict[str, str]
    status: int | None
    bot_id: str | None
    language: str | None
    at: float
    connection_id: int
    wall_time: float = 0.0
    fault: FaultKind | None = None
    training_id: str | None = None


@dataclass
class _Knobs:
    training_seconds: float
    queue_seconds: float
    fail_rate: float
    train_rate_limit: RateLimit | None
    status_rate_limit: RateLimit | None


@dataclass
class _StateKeeping:
    """The state file's bookkeeping: what was loaded, the JSON last taken to write, how many states were
    taken and which of them is on disk (writes happen in that order), the last write error."""

    path: Path | None
    loaded: StoredState | None = None
    written: str | None = None
    taken: int = 0
    stored: int = 0
    error: str | None = None
    write_lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Incoming:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


class Sandbox(LockedModel[TrainingModel]):
    """A local emulator of the documented Kore.ai public API (the endpoints in kore-sandbox/README.md).

    `Sandbox(...).start()` serves on `host:port` (port 0 = any free port) in a daemon thread; `.url`
    gives the base URL; `.stop()` (or leaving a `with` block) shuts it down and closes open connections.
    `start()` also starts the download host for ML export files on `download_host` (127.0.0.2, any free
    port; another port of `host` if that address cannot be bound): `.ml_export.download_base_url`.
    `readings` switches open questions to another plausible answer (`readings.py`, `set_reading`).
    `state_file` keeps what the bots hold across restarts (`persistence.py`): loaded here if it exists
    (StateFileError, naming the file, if it cannot be), written after every change and at `stop()`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        training_seconds: float = 5.0,
        queue_seconds: float = 1.0,
        *,
        fail_rate: float = 0.0,
        apps: Iterable[SandboxApp] = (),
        bots: Iterable[SandboxBot] = (),
        demo_data: bool = True,
        train_rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
        status_rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        seed: int | None = None,
        log_requests: bool = False,
        log_stream: TextIO | None = None,
        import_seconds: float = 1.0,
        publish_seconds: float = 2.0,
        definition_import_seconds: float = 1.0,
        export_seconds: float = 1.0,
        download_host: str = "127.0.0.2",
        readings: Mapping[str, object] | None = None,
        state_file: str | os.PathLike[str] | None = None,
    ) -> None:
        for address in (host, download_host):
            if not is_loopback_host(address):
                raise ValueError(
                    f"refusing to listen on {address!r}: the sandbox uses fixed, published credentials; "
                    "use a loopback address such as 127.0.0.1"
                )
        self._download_host = "127.0.0.1" if download_host == "localhost" else download_host.strip("[]")
        self._host = "127.0.0.1" if host == "localhost" else host.strip("[]")
        self._requested_port = port
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.RLock()
        self._readings = Readings(readings)  # checked first: a bad reading raises before anything starts
        self._initial_readings = self._readings.as_dict()
        self._initial = _Knobs(
            check_seconds("training_seconds", training_seconds),
            check_seconds("queue_seconds", queue_seconds),
            fail_rate,
            train_rate_limit,
            status_rate_limit,
        )
        self._model = TrainingModel(
            training_seconds=training_seconds,
            queue_seconds=queue_seconds,
            fail_rate=fail_rate,
            clock=clock,
            wall_clock=wall_clock,
            rng=random.Random(seed),
            readings=self._readings,
        )
        self._api = SandboxApi(
            apps={},
            bots={},
            model=self._model,
            train_limiter=RateLimiter(train_rate_limit, clock),
            status_limiter=RateLimiter(status_rate_limit, clock),
            wall_clock=wall_clock,
            readings=self._readings,
        )
        self._utterances = UtteranceStore()
        self._pipeline_model = PipelineModel(
            import_seconds=import_seconds,
            publish_seconds=publish_seconds,
            clock=clock,
            wall_clock=wall_clock,
            on_import_success=self._model.mark_sentences_changed,
            on_utterances_imported=self._utterances.replace_intents,
            readings=self._readings,
        )
        self._pipeline_api = PipelineApi(self._api, self._pipeline_model)
        self._variables_model = VariablesModel(self._readings)
        self._variables_api = VariablesApi(self._api, self._variables_model)
        self._definition_model = DefinitionModel(
            import_seconds=definition_import_seconds,
            clock=clock,
            wall_clock=wall_clock,
            on_variables=self._definition_imported_variables,
            on_utterances=self._definition_changed_utterances,
            readings=self._readings,
        )
        self._definition_api = DefinitionApi(self._api, self._definition_model, self._pipeline_model)
        self._export_model = ExportModel(
            export_seconds=export_seconds, clock=clock, wall_clock=wall_clock, readings=self._readings
        )
        self._export_api = ExportApi(self._api, self._export_model, self._utterances)
        #: The endpoint families beside train, in the order they are tried (their paths do not overlap).
        self._families: tuple[EndpointFamily[Any, Any], ...] = (
            self._pipeline_api,
            self._definition_api,
            self._variables_api,
            self._export_api,
            MediaStreamApi(self._api, self._export_model),
        )
        self._downloads: list[DownloadRequest] = []
        self._download: DownloadServer | None = None
        for app in (*(DEMO_APPS if demo_data else ()), *apps):
            self.add_app(app)
        for bot in (*(DEMO_BOTS if demo_data else ()), *bots):
            self.add_bot(bot)
        self._faults = FaultQueue()
        # Set to send every answer `delay_response` holds back now; replaced by a fresh one each time.
        self._delays_released = threading.Event()
        self._calls: list[Call] = []
        self._connections = OpenConnections()
        self._log = (log_stream if log_stream is not None else sys.stderr) if log_requests else None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._address: tuple[str, int] | None = None
        self._state = _StateKeeping(None if state_file is None else Path(state_file))
        if self._state.path is not None:
            self._load_state(self._state.path)

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> Sandbox:
        if self._server is not None:
            raise RuntimeError("sandbox already started")
        server = _Server((self._host, self._requested_port), self)
        self._server = server
        self._address = (self._host, server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="kore-sandbox", daemon=True
        )
        self._thread.start()
        try:
            download = DownloadServer(
                self._download_host,
                self._host,
                DownloadHooks(
                    find=self._find_download,
                    record=self._record_download,
                    take_fault=self._take_fault,
                    now=self._now,
                ),
            )
        except OSError:
            self.stop()
            raise
        download.start()
        with self._lock:
            self._download = download
            self._export_api.download_base = download.base_url
            self._export_api.api_base = self.url
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        download, self._download = self._download, None
        if download is not None:
            download.stop()
        server.shutdown()
        server.server_close()
        self.release_delayed_responses()  # no handler thread outlives the server in a delay
        self._connections.shut_down()
        if thread is not None:
            thread.join(timeout=5)
        self._save_state()

    def __enter__(self) -> Sandbox:
        return self if self._server is not None else self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        if self._address is None:
            raise RuntimeError("sandbox not started: call .start() first")
        return self._address[1]

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>` (no trailing slash)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    # -- apps and bots ---------------------------------------------------------------------------------
    def add_app(self, app: SandboxApp) -> None:
        with self._lock:
            self._api.apps[app.client_id] = app

    def add_bot(self, bot: SandboxBot) -> None:
        with self._lock:
            self._api.bots[bot.bot_id] = bot

    @property
    def apps(self) -> list[SandboxApp]:
        with self._lock:
            return list(self._api.apps.values())

    @property
    def bots(self) -> list[SandboxBot]:
        with self._lock:
            return list(self._api.bots.values())

    # -- observation -----------------------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    @property
    def trainings(self) -> list[TrainingRecord]:
        return self._locked(TrainingModel.records)

    @property
    def connections_opened(self) -> int:
        """How many TCP connections clients have opened so far."""
        return self._connections.opened

    def training_status(
        self, bot_id: str, language: str | None = None, state: str = "configured"
    ) -> dict[str, object]:
        """What the status endpoint would answer now (no auth, no rate limit, not logged): its body, or the
        error envelope where reading `untrained-language` answers an error."""
        with self._lock:
            self._pipeline_model.settle()
            bot = self.bot(bot_id)
            self._definition_model.settle()
            try:
                return self._api.train_status(
                    bot_id,
                    language or bot.default_language,
                    "published" if state == "published" else "configured",
                )
            except ApiError as err:
                return err.body()

    # -- readings --------------------------------------------------------------------------------------
    @property
    def readings(self) -> dict[str, str]:
        """The current value of every reading (`readings.READINGS`)."""
        with self._lock:
            return self._readings.as_dict()

    def set_reading(self, name: str, value: object) -> None:
        """Switch one reading (ValueError naming the allowed values for a bad name or value)."""
        self.set_readings({name: value})

    def set_readings(self, changes: Mapping[str, object]) -> None:
        """Switch several readings, all or nothing."""
        with self._lock:
            self._readings.update(changes)

    # -- knobs -----------------------------------------------------------------------------------------
    training_seconds = LockedSetting[float]()
    queue_seconds = LockedSetting[float]()

    def set_training_seconds(self, seconds: float) -> None:
        """Training duration for trainings queued from now on."""
        self._set("training_seconds", seconds)

    def set_queue_seconds(self, seconds: float) -> None:
        """Time in the queue for trainings queued from now on."""
        self._set("queue_seconds", seconds)

    def set_fail_rate(self, rate: float) -> None:
        """Probability (0..1) that a new training ends Failed."""
        self._set("fail_rate", rate)

    def set_rate_limits(self, *, train: RateLimit | None, status: RateLimit | None) -> None:
        """Replace both limits (None disables one) and forget the counted requests."""
        with self._lock:
            for limiter, limit in ((self._api.train_limiter, train), (self._api.status_limiter, status)):
                limiter.limit = limit
                limiter.reset()

    def fail_next_training(
        self, bot_id: str | None = None, language: str | None = None, count: int = 1
    ) -> None:
        """The next `count` trainings (of that bot / language, if given) end `Failed`."""
        self._locked(lambda model: model.fail_next_training(bot_id, language, count))

    def hang_trainings(self, hang: bool = True) -> None:
        """True: unfinished and new trainings stay Inprogress forever. False: they finish normally
        (at their planned time, or right away if that has passed)."""
        self._locked(lambda model: model.hang_trainings(hang))

    def hold_queue(self, hold: bool = True) -> None:
        """True: trainings that have not started (and new ones) stay queued, so the status keeps
        describing the previous training (reading `queued-training=stale`). False: they start normally (or
        right away if that has passed)."""
        self._locked(lambda model: model.hold_queue(hold))

    def mark_sentences_changed(self, bot_id: str, language: str | None = None) -> dict[str, object]:
        """`isMlInSyncWithSentences` becomes false for the bot language (all its languages if None) until
        a training queued afterwards finishes successfully; what it did (`drift.py`)."""
        with self._lock:
            bot = self.bot(bot_id)
            if language is not None and language not in bot.languages:
                raise ValueError(f"language {language!r} is not enabled for bot {bot_id}")
            languages = (language,) if language is not None else bot.languages
            for lang in languages:
                self._model.mark_sentences_changed(bot_id, lang)
            return self._drifted(drift.sentences_changed(bot, languages))

    def inject_error(
        self,
        status: int,
        *,
        count: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
        retry_after: float | str | None = None,
        body: object = None,
        every: int = 1,
    ) -> None:
        """The next `count` matching API requests are answered `status` with the error envelope (or `body`)
        and a `Retry-After` header if given. They are not processed (nothing is queued). With `every=2`
        only every second matching request fails and the others pass: a flapping endpoint."""
        self.add_fault(
            Fault(
                "error",
                count,
                method,
                path_contains,
                status=status,
                retry_after=retry_after,
                body=body,
                every=every,
            )
        )

    def drop_connection(
        self,
        *,
        count: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
        after_read: bool = True,
    ) -> None:
        """Close the socket without answering. `after_read=True`: the request is processed first (a train
        POST IS queued). `after_read=False`: closed before reading the body and processing it."""
        self.add_fault(Fault("drop", count, method, path_contains, after_read=after_read))

    def delay_response(
        self, seconds: float, *, count: int = 1, method: str | None = None, path_contains: str | None = None
    ) -> None:
        """Process the next matching request(s) at once but wait `seconds` before sending the answer (or
        until `release_delayed_responses`, or `stop`). A long delay and a release let a test make a client's
        read timeout fire without racing it: the answer comes only when the test says so."""
        self.add_fault(Fault("delay", count, method, path_contains, seconds=seconds))

    def release_delayed_responses(self) -> None:
        """Send every answer that `delay_response` is holding back now. Later delays wait again."""
        with self._lock:
            released, self._delays_released = self._delays_released, threading.Event()
        released.set()

    def _delay(self, seconds: float) -> None:
        with self._lock:
            released = self._delays_released
        released.wait(seconds)

    def clear_faults(self) -> None:
        """Forget pending inject_error / drop_connection / delay_response rules and training failures."""
        with self._lock:
            self._faults.clear()
            self._model.clear_failures()
            self._pipeline_model.clear_failures()
            self._definition_model.clear_failures()
            self._export_model.clear_failures()

    @property
    def pipeline(self) -> PipelineControls:
        """Uploads, ML imports and publishes (pipeline.py): their knobs, fault rules and records."""
        return PipelineControls(self._lock, self._pipeline_model)

    @property
    def definitions(self) -> DefinitionControls:
        """Bot definition imports (definitions.py): their knobs, fault rules, jobs and what was imported."""
        return DefinitionControls(self._lock, self._definition_model)

    @property
    def ml_export(self) -> ExportControls:
        """ML exports (export.py) and the download host (download.py): knobs, jobs, received requests."""
        with self._lock:
            download = self._download
        return ExportControls(
            self._lock,
            self._export_model,
            self._downloads,
            download.base_url if download is not None else None,
            download.fallback if download is not None else False,
            self.url if download is not None else None,
        )

    # -- bot content and drift knobs ("changed in the builder", behind the stack's back) -----------------
    def utterances(self, bot_id: str, language: str | None = None) -> list[dict[str, object]]:
        """The bot language's ML utterances (the default language if None), as an export lists them."""
        with self._lock:
            self._settle()
            bot = self.bot(bot_id)
            return self._utterances.utterances(bot_id, self._enabled(bot, language))

    def edit_utterance(
        self,
        bot_id: str,
        language: str,
        intent: str,
        old_sentence: str,
        new_sentence: str,
        *,
        dry_run: bool = False,
    ) -> dict[str, object]:
        """Change one utterance's text (its entity tags are dropped); the bot language's sentences are
        marked changed, so `isMlInSyncWithSentences` reads false until the next successful training.
        Every drift knob returns what it did (`drift.py`), and raises ValueError naming what it could not
        find; `dry_run`: only that, changing nothing."""
        with self._lock:
            self._settle()
            bot = self.bot(bot_id)
            lang = self._enabled(bot, language)
            store = copy.deepcopy(self._utterances) if dry_run else self._utterances
            dropped = store.edit(bot_id, lang, intent, old_sentence, new_sentence)
            if not dry_run:
                self._model.mark_sentences_changed(bot_id, lang)
            report = drift.edited_utterance(
                bot,
                language=lang,
                intent=intent,
                old_sentence=old_sentence,
                new_sentence=new_sentence,
                entities_dropped=dropped,
            )
            return self._drifted(report, dry_run)

    def add_utterance(
        self,
        bot_id: str,
        language: str,
        intent: str,
        sentence: str,
        *,
        intent_type: str = "DialogIntent",
        entities: Iterable[Mapping[str, object]] = (),
        dry_run: bool = False,
    ) -> dict[str, object]:
        """Add an utterance (its export `type` is `intent_type`) to an intent, created if new; marks the
        sentences changed like edit_utterance."""
        with self._lock:
            self._settle()
            bot = self.bot(bot_id)
            lang = self._enabled(bot, language)
            store = copy.deepcopy(self._utterances) if dry_run else self._utterances
            new_intent = store.add(bot_id, lang, intent, sentence, intent_type, list(entities))
            if not dry_run:
                self._model.mark_sentences_changed(bot_id, lang)
            report = drift.added_utterance(
                bot,
                language=lang,
                intent=intent,
                sentence=sentence,
                intent_type=intent_type,
                new_intent=new_intent,
            )
            return self._drifted(report, dry_run)

    def fail_training(self, training_id: str, *, dry_run: bool = False) -> dict[str, object]:
        """A training that finished reads `Failed` from now on, until a newer training of its bot language
        starts and finishes (state.TrainingModel.fail_training)."""
        with self._lock:
            if dry_run:
                training, changed = self._model.check_fail_training(training_id)
            else:
                training, changed = self._model.fail_training(training_id)
            return self._drifted(drift.failed_training(self.bot(training.bot_id), training, changed), dry_run)

    def variables(self, bot_id: str) -> list[dict[str, object]]:
        """The bot's variables as an export lists them, but with the real values of secured ones."""
        with self._lock:
            self._settle()
            self.bot(bot_id)
            return self._variables_model.variables(bot_id)

    def variable_collections(self, bot_id: str) -> dict[str, object] | None:
        """The collections (and their values) of the bot's latest form-2 variables import, if any."""
        with self._lock:
            self.bot(bot_id)
            return self._variables_model.collections(bot_id)

    def set_variable(
        self, bot_id: str, key: str, value: str, *, language: str | None = None, dry_run: bool = False
    ) -> dict[str, object]:
        """A new value for a variable, "changed in the builder" (a locale variable's value in `language`;
        an unknown key creates an env variable)."""
        with self._lock:
            self._settle()
            bot = self.bot(bot_id)
            model = copy.deepcopy(self._variables_model) if dry_run else self._variables_model
            old = model.set_variable(bot_id, key, value, language)
            report = drift.set_variable(bot, key=key, language=language, old_value=old, new_value=value)
            return self._drifted(report, dry_run)

    def secure_variable(
        self, bot_id: str, key: str, secured: bool = True, *, dry_run: bool = False
    ) -> dict[str, object]:
        """Secure a variable ("toggled in the builder"): its value is exported as `""` from now on."""
        with self._lock:
            self._settle()
            bot = self.bot(bot_id)
            model = copy.deepcopy(self._variables_model) if dry_run else self._variables_model
            was = model.secure_variable(bot_id, key, secured)
            report = drift.secured_variable(bot, key=key, secured=secured, was_secured=was)
            return self._drifted(report, dry_run)

    def delete_variable(self, bot_id: str, key: str, *, dry_run: bool = False) -> dict[str, object]:
        """Delete a variable ("deleted in the builder"): the export no longer lists it."""
        with self._lock:
            self._settle()
            bot = self.bot(bot_id)
            model = copy.deepcopy(self._variables_model) if dry_run else self._variables_model
            deleted = model.delete_variable(bot_id, key)
            report = drift.deleted_variable(bot, key=key, variable_type=str(deleted["variableType"]))
            return self._drifted(report, dry_run)

    def _drifted(self, report: dict[str, object], dry_run: bool = False) -> dict[str, object]:
        """A drift knob's report, its change in the state file first (unless a dry run)."""
        if not dry_run:
            self._save_state()
        return report

    @staticmethod
    def _enabled(bot: SandboxBot, language: str | None) -> str:
        lang = (language or bot.default_language).strip().lower()
        if lang not in bot.languages:
            raise ValueError(f"language {language!r} is not enabled for bot {bot.bot_id}")
        return lang

    def _definition_imported_variables(self, bot_id: str, variables: list[dict[str, object]]) -> None:
        self._variables_model.import_variables(bot_id, VariablesImport(tuple(variables)))

    def _definition_changed_utterances(self, bot_id: str) -> None:
        bot = self._api.bots.get(bot_id)
        for language in bot.languages if bot is not None else ():
            self._model.mark_sentences_changed(bot_id, language)

    @property
    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return self._faults.pending()

    @property
    def pending_training_failures(self) -> list[FailureRule]:
        with self._lock:
            return self._model.pending_failures

    def reset(self) -> None:
        """Back to the initial state: no trainings, calls, faults, rate-limit counts or seen jtis; knobs
        and readings as given to the constructor. Apps and bots (including added ones) are kept."""
        with self._lock:
            self._readings.update(self._initial_readings)
            self._model.reset()
            self._model.training_seconds = self._initial.training_seconds
            self._model.queue_seconds = self._initial.queue_seconds
            self._model.fail_rate = self._initial.fail_rate
            self.set_rate_limits(train=self._initial.train_rate_limit, status=self._initial.status_rate_limit)
            self._api.jti_cache.clear()
            self._faults.clear()
            self._calls.clear()
            self._pipeline_model.reset()
            self._definition_model.reset()
            self._variables_model.reset()
            self._utterances.reset()
            self._export_model.reset()
            self._downloads.clear()
        self._save_state()

    # -- internals used by the handler -----------------------------------------------------------------
    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            return self._faults.take(method, path)

    def _now(self) -> tuple[float, float]:
        return self._clock(), self._wall_clock()

    def _settle(self) -> None:
        """Apply finished imports (ML and definition) before anything reads or changes the state."""
        self._pipeline_model.settle()
        self._definition_model.settle()

    def _handle_api(self, req: ApiRequest) -> ApiResponse:
        """The answer to one API request; a change it made is in the state file before it is sent."""
        with self._lock:
            self._settle()  # finished imports change the training status first
            response = next(
                (answer for family in self._families if (answer := family.handle(req)) is not None), None
            )
            if response is None:
                response = self._api.handle(req)  # the train endpoints, and the 404 for every unknown path
        self._save_state()
        return response

    # -- the state file (persistence.py) -----------------------------------------------------------------
    @property
    def state_file(self) -> Path | None:
        """Where the state is kept across restarts (None: in memory only)."""
        return self._state.path

    @property
    def state_line(self) -> str:
        """One line on the state: in memory only, starting empty, or loaded from the file (and what)."""
        with self._lock:
            counts = {
                "trainings": len(self._model.records()),
                "ML imports": len(self._pipeline_model.imports()),
                "definition imports": len(self._definition_model.imports()),
                "publishes": len(self._pipeline_model.publishes()),
                "uploaded files": len(self._pipeline_model.files()),
                "bot languages with utterances": len(self._utterances.languages()),
                "bots with variables": len(self._variables_model.bots()),
            }
        return state_line(self._state.path, self._state.loaded, counts)

    def _load_state(self, path: Path) -> None:
        check_state_path(path)
        stored = read_state_file(path)
        if stored is None:
            return
        shift = stored.shift(self._clock(), self._wall_clock())
        models = stored.models
        try:
            self._model.load_state(models.object("trainings"), shift)
            self._utterances.load_state(models, "utterances")
            self._variables_model.load_state(models.object("variables"))
            self._pipeline_model.load_state(models.object("pipeline"), shift)
            self._definition_model.load_state(models.object("definitions"), shift)
        except (ValueError, TypeError) as err:
            raise not_loadable(path, err) from None
        self._state.loaded = stored

    def _state_models(self) -> str:
        """What the state file keeps, as JSON (the caller holds the lock)."""
        self._settle()
        return json.dumps(
            {
                "trainings": self._model.dump_state(),
                "utterances": self._utterances.dump_state(),
                "variables": self._variables_model.dump_state(),
                "pipeline": self._pipeline_model.dump_state(),
                "definitions": self._definition_model.dump_state(),
            },
            indent=1,
            ensure_ascii=False,
        )

    def _save_state(self) -> None:
        """Write the state file if the state changed since it was last written. Taken under the lock, in
        order; written outside it, never an older state over a newer one. A write that fails is reported
        on stderr (once per reason) and tried again at the next change; the sandbox goes on serving."""
        keeping = self._state
        if keeping.path is None:
            return
        with self._lock:
            models = self._state_models()
            if models == keeping.written:
                return
            keeping.written = models
            keeping.taken += 1
            taken = keeping.taken
            wall = self._wall_clock()
            document = state_document(
                models,
                saved_clock=self._clock(),
                saved_wall=wall,
                saved_at=datetime.fromtimestamp(wall, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        with keeping.write_lock:
            if taken <= keeping.stored:
                return  # a newer state was written meanwhile
            try:
                write_state_file(keeping.path, document)
            except OSError as err:
                with self._lock:
                    keeping.written = None  # the next save tries again
                reason = f"could not save the state to {keeping.path}: {err}"
                if reason != keeping.error:
                    print(f"kore-sandbox: {reason}", file=sys.stderr, flush=True)
                keeping.error = reason
                return
            keeping.stored, keeping.error = taken, None

    def _find_download(self, token: str) -> DownloadFile | None:
        with self._lock:
            return self._export_model.download(token)

    def _record_download(self, request: DownloadRequest) -> None:
        with self._lock:
            self._downloads.append(request)

    def _describe(self, req: _Incoming) -> tuple[str | None, str | None]:
        route = match_route(req.path)
        if route is None:
            other = next((r for r in (f.route(req.path) for f in self._families) if r is not None), None)
            return (other.bot_id if other else None), None
        with self._lock:
            api_req = ApiRequest(req.method, req.path, req.query, req.headers)
            return route.bot_id, requested_language(api_req, route, self._api.bots)

    def _record(
        self,
        req: _Incoming,
        at: tuple[float, float],
        connection_id: int,
        status: int | None,
        *,
        bot_id: str | None,
        language: str | None,
        fault: FaultKind | None = None,
        training_id: str | None = None,
    ) -> None:
        query = {
            k: ("<redacted>" if any(w in k.lower() for w in _SECRET_WORDS) else v)
            for k, v in req.query.items()
        }
        # A download link's token is a credential of its own (reading `download-host=api-host`).
        path = DOWNLOAD_PATH_PREFIX + "<token>" if req.path.startswith(DOWNLOAD_PATH_PREFIX) else req.path
        call = Call(
            req.method,
            path,
            query,
            status,
            bot_id,
            language,
            at[0],
            connection_id,
            at[1],
            fault,
            training_id,
        )
        with self._lock:
            self._calls.append(call)
        if self._log is not None:
            shown = "&".join(f"{k}={v}" for k, v in query.items())
            result = "dropped" if status is None else str(status)
            extra = f" [{fault}]" if fault else ""
            target = f"{call.path}?{shown}" if shown else call.path
            print(
                f"{call.method} {target} -> {result}{extra} (conn {connection_id})",
                file=self._log,
                flush=True,
            )

    # -- settings and admin views --------------------------------------------------------------------
    @property
    def rate_limits(self) -> tuple[RateLimit | None, RateLimit | None]:
        """(train limit, status limit); None = unlimited."""
        with self._lock:
            return self._api.train_limiter.limit, self._api.status_limiter.limit

    def bot(self, bot_id: str) -> SandboxBot:
        """The bot, or ValueError naming the bots this sandbox serves."""
        with self._lock:
            bot = self._api.bots.get(bot_id)
            known = ", ".join(f"{b.bot_id} ({b.name})" for b in self._api.bots.values())
        if bot is None:
            raise ValueError(f"unknown bot {bot_id!r}; this sandbox serves {known or 'no bot'}")
        return bot

    def add_fault(self, fault: Fault) -> None:
        """Queue a transport fault rule (what inject_error / drop_connection / delay_response build)."""
        with self._lock:
            self._faults.add(fault)

    def settings(self) -> dict[str, object]:
        """Knobs and pending faults, JSON-able (GET /_sandbox/faults)."""
        with self._lock:
            train, status = self.rate_limits
            return {
                "training_seconds": self._model.training_seconds,
                "queue_seconds": self._model.queue_seconds,
                "fail_rate": self._model.fail_rate,
                "hang_trainings": self._model.hanging,
                "hold_queue": self._model.holding,
                "pending_faults": [f.to_json() for f in self._faults.pending()],
                "pending_training_failures": [r.to_json() for r in self._model.pending_failures],
                **self._pipeline_model.settings(),
                **self._definition_model.settings(),
                **self._export_model.settings(),
                "rate_limits": {
                    "train": train.to_json() if train else None,
                    "status": status.to_json() if status else None,
                },
            }

    def info(self) -> dict[str, object]:
        """Apps (never their secrets), bots and settings, JSON-able (GET /_sandbox/info)."""
        with self._lock:
            return {
                "url": self.url if self._address else None,
                "state_file": None if self._state.path is None else str(self._state.path),
                "apps": [a.describe() for a in self._api.apps.values()],
                "bots": [b.describe() for b in self._api.bots.values()],
                "readings": self._readings.as_dict(),
                **self.settings(),
            }


# -- HTTP plumbing -------------------------------------------------------------------------------------
class _Server(LoopbackServer):
    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, _Handler, sandbox._connections)


class _BadRequest(Exception):
    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.msg = msg


class _Handler(DispatchingHandler):
    server: _Server
    server_version = "KoreSandbox/1.0"

    def _dispatch(self) -> None:
        sandbox = self.server.sandbox
        at = sandbox._now()
        split = urlsplit(self.path)
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), value)
        req = _Incoming(
            self.command, split.path, dict(parse_qsl(split.query, keep_blank_values=True)), headers
        )
        try:
            if req.path == ADMIN_PREFIX or req.path.startswith(ADMIN_PREFIX + "/"):
                self._admin(req)
            else:
                self._api(req, at)
        except _BadRequest as err:
            self.close_connection = True
            self._send_json(err.status, error_body(err.msg, err.status))
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:  # noqa: BLE001 - answer 500 instead of killing the connection thread
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            self._send_json(500, error_body("Internal Server Error", 500))

    def _admin(self, req: _Incoming) -> None:
        body = self._read_body()
        if not is_loopback_host(str(self.client_address[0])):
            self._send_json(403, error_body("the /_sandbox/ API is for loopback clients only", 403))
            return
        status, payload = handle_admin(self.server.sandbox, req.method, req.path, body)
        self.server.sandbox._save_state()  # a drift knob, a reset: in the state file before the answer
        self._send_json(status, payload)

    def _api(self, req: _Incoming, at: tuple[float, float]) -> None:
        sandbox = self.server.sandbox
        fault = sandbox._take_fault(req.method, req.path)
        bot_id, language = sandbox._describe(req)
        if fault is not None and fault.kind == "drop" and not fault.after_read:
            sandbox._record(req, at, self.connection_id, None, bot_id=bot_id, language=language, fault="drop")
            self.close_connection = True
            return
        body = self._read_body()  # ASSUMPTION: the train endpoints ignore any body (documented: none)
        if fault is not None and fault.kind == "error":
            assert fault.status is not None
            sandbox._record(
                req, at, self.connection_id, fault.status, bot_id=bot_id, language=language, fault="error"
            )
            self._send_json(fault.status, fault.error_body(), fault.error_headers())
            return
        response = sandbox._handle_api(ApiRequest(req.method, req.path, req.query, req.headers, body))
        kind = fault.kind if fault is not None else None
        dropped = fault is not None and fault.kind == "drop"
        sandbox._record(
            req,
            at,
            self.connection_id,
            None if dropped else response.status,
            bot_id=response.bot_id,
            language=response.language,
            fault=kind,
            training_id=response.training_id,
        )
        if fault is not None and dropped:
            self.close_connection = True
            return
        if fault is not None and fault.kind == "delay":
            sandbox._delay(fault.seconds)
        if isinstance(response.body, bytes):
            self._send(response.status, response.content_type, response.body, response.headers)
        else:
            self._send_json(response.status, response.body, response.headers)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
        except ValueError:
            raise _BadRequest(400, "Invalid Content-Length") from None
        if length < 0:
            raise _BadRequest(400, "Invalid Content-Length")
        if length > MAX_BODY_BYTES:
            raise _BadRequest(413, "Payload Too Large")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest(400, "Invalid chunked body") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BadRequest(413, "Payload Too Large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _send_json(self, status: int, body: object, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, "application/json", json.dumps(body).encode("utf-8"), headers)
