"""A small HTTP client for the Kore.ai public APIs the providers use (docs/kore-api.md). No Pulumi here.

Thin I/O: it sends requests, retries what `retry` says is safe to retry, and turns Kore.ai's error envelope
(`{"errors": [{"msg": ..., "code": ...}]}`) into exceptions a user can act on. Every request:

- carries a freshly minted JWT (never logged, never in a message) and explicit connect/read timeouts;
- verifies TLS (always; a private CA goes in the standard `REQUESTS_CA_BUNDLE`);
- never follows redirects: requests strips `Authorization` on a cross-host redirect, but not our custom
  `auth` header, so following one would hand the token to wherever it points;
- waits for room in the process-wide rate budget (`ratelimit`), so four concurrent operations together
  stay within Kore.ai's documented limits;
- is built only from validated values (`validation`): no input can change its path or query, or add a
  header.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests

from .auth import Credentials, mint_jwt
from .errors import (
    AmbiguousRequestError,
    AuthenticationError,
    ConfigurationError,
    HostUnreachableError,
    KoreApiError,
    RateLimitedError,
)
from .models import (
    BotImportJob,
    ExportedVariable,
    ImportJob,
    MlExportJob,
    PublishStatus,
    PublishTicket,
    TrainingStatus,
    TrainingTicket,
    UploadedFile,
)
from .ratelimit import RateBudget
from .retry import AttemptFailure, FailureKind, RetryPolicy, is_retryable, retry_delay
from .validation import bot_id_problem, host_problem, is_loopback_host, language_problem, normalize_host

CONNECT_TIMEOUT_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 60.0
USER_AGENT = "kore-resources (Pulumi dynamic provider)"


@dataclass(frozen=True)
class Endpoint:
    """One Kore.ai API operation, as errors and the rate budget need to know it."""

    name: str  # for messages: "the train call"
    scope: str  # the API scope the JWT app needs
    idempotent: bool  # safe to send twice (reads); starting a job is not
    budget: str  # rate-limit family: "bot" (training/definition APIs) or "status" (status APIs)
    redo: str  # what the next `pulumi up` does again after a failure, e.g. "train"


TRAIN = Endpoint("the train call", "Train ML", idempotent=False, budget="bot", redo="train")
TRAIN_STATUS = Endpoint(
    "the training status call", "Train ML", idempotent=True, budget="status", redo="train"
)
SCOPE_IMPORT = "Utterances Import"
SCOPE_PUBLISH = "Bot Publish > Publish and Publish Status, which only an Admin Console app has"
UPLOAD = Endpoint("the file upload", SCOPE_IMPORT, idempotent=False, budget="bot", redo="upload and import")
ML_IMPORT = Endpoint(
    "the ML import call", SCOPE_IMPORT, idempotent=False, budget="bot", redo="upload and import"
)
ML_IMPORT_STATUS = Endpoint(
    "the ML import status call", SCOPE_IMPORT, idempotent=True, budget="status", redo="upload and import"
)
SCOPE_EXPORT = "Utterances Export"
ML_EXPORT = Endpoint("the ML export call", SCOPE_EXPORT, idempotent=True, budget="bot", redo="refresh")
ML_EXPORT_STATUS = Endpoint(
    "the ML export status call", SCOPE_EXPORT, idempotent=True, budget="status", redo="refresh"
)
DOWNLOAD = Endpoint(
    "the download of the export file", "none", idempotent=True, budget="download", redo="refresh"
)
SCOPE_BOT_IMPORT = "Bot Definition > Bot Import, which only an Admin Console app has"
BOT_IMPORT = Endpoint(
    "the bot import call",
    SCOPE_BOT_IMPORT,
    idempotent=False,
    budget="bot",
    redo="upload and import the definition",
)
BOT_IMPORT_STATUS = Endpoint(
    "the bot import status call",
    SCOPE_BOT_IMPORT,
    idempotent=True,
    budget="status",
    redo="import the definition",
)
# An import upserts by key (docs/kore-api.md §9.3), so sending it twice does no harm: idempotent.
VARIABLES_IMPORT = Endpoint(
    "the bot variables import call",
    "Import Variables (a bot-level app)",
    idempotent=True,
    budget="bot",
    redo="import the variables",
)
VARIABLES_EXPORT = Endpoint(
    "the bot variables export call",
    "Export Variables (a bot-level app)",
    idempotent=True,
    budget="bot",
    redo="refresh",
)
PUBLISH = Endpoint("the publish call", SCOPE_PUBLISH, idempotent=False, budget="bot", redo="publish")
PUBLISH_STATUS = Endpoint(
    "the publish status call", SCOPE_PUBLISH, idempotent=True, budget="status", redo="publish"
)


def auth_advice(scope: str) -> str:
    return (
        "Check kore:clientId and kore:clientSecret (or KORE_CLIENT_ID / KORE_CLIENT_SECRET), that the JWT "
        f"app has the API scope for this call ({scope}), that the bot id is right and the bot is linked to "
        "the app, and that the bot and its API scope mapping are published."
    )


def parse_error_envelope(body: Any) -> tuple[str | None, int | None]:
    """The first `msg` and `code` of Kore.ai's error envelope, or (None, None) if the body is not one."""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            msg = errors[0].get("msg")
            code = errors[0].get("code")
            return (str(msg) if msg is not None else None, code if isinstance(code, int) else None)
    return None, None


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is not used by APIs like this one; ignore it)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RequestBody:
    """A request body: JSON (`json`), or multipart form fields (`data`) with files (`files`: field name ->
    (file name, content, content type)). The JSON content type is set unless files are sent."""

    json: Any = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    data: Mapping[str, str] | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return {"json": self.json, "files": self.files, "data": self.data}


class Reachability:
    """Which hosts have answered (with any HTTP status) in this process. Shared by every client of the
    process, like the rate budget: a host that never answered is most likely misconfigured and fails fast;
    one that answered before and then stops is ridden out within the deadline."""

    def __init__(self) -> None:
        self._answered: set[str] = set()
        self._lock = threading.Lock()

    def answered(self, host: str) -> bool:
        with self._lock:
            return host in self._answered

    def mark(self, host: str) -> None:
        with self._lock:
            self._answered.add(host)


class KoreClient:
    """Calls one Kore.ai host with one app's credentials. Use one client per thread (sessions are not
    shared between threads); the rate budget may be shared by every client of the process."""

    def __init__(
        self,
        host: str,
        credentials: Credentials,
        *,
        session: requests.Session | None = None,
        budget: RateBudget | None = None,
        reachability: Reachability | None = None,
        policy: RetryPolicy | None = None,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        read_timeout: float = READ_TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        problem = host_problem(host)
        if problem:
            raise ConfigurationError(f"kore:host (or the resource's host): {problem}")
        self.host = host.strip().rstrip("/")
        self._credentials = credentials
        self._session = session if session is not None else requests.Session()
        self._budget = budget
        self._reachability = reachability if reachability is not None else Reachability()
        #: Connections the host refused (nothing listening), over all of this client's requests, retried
        #: ones included: a platform that restarted between two attempts shows here even if the retry
        #: succeeded.
        self.refused_connections = 0
        self._policy = policy if policy is not None else RetryPolicy()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"KoreClient(host={self.host!r}, client_id={self._credentials.client_id!r})"

    # -- ML training -----------------------------------------------------------------------------------------

    def train(self, bot_id: str, language: str, *, deadline: float) -> TrainingTicket:
        """POST /api/public/bot/{BotID}/ml/train with `bot-language`: queue an ML training."""
        body = self._request(
            TRAIN,
            "POST",
            f"{_bot_path(bot_id)}/ml/train",
            bot_id=bot_id,
            headers={"bot-language": _language(language)},
            deadline=deadline,
        )
        return _parsed(TrainingTicket.from_api, body, f"{TRAIN.name} for bot {bot_id} ({language})")

    def training_status(
        self, bot_id: str, language: str, *, deadline: float, state: str = "configured"
    ) -> TrainingStatus:
        """GET /api/public/bot/{BotID}/ml/train/status?language=..&state=..: the latest training's status."""
        body = self._request(
            TRAIN_STATUS,
            "GET",
            f"{_bot_path(bot_id)}/ml/train/status",
            bot_id=bot_id,
            params={"language": _language(language), "state": state},
            deadline=deadline,
        )
        return _parsed(TrainingStatus.from_api, body, f"{TRAIN_STATUS.name} for bot {bot_id} ({language})")

    # -- the promotion pipeline: upload, ML import, publish -----------------------------------------------

    def upload_file(self, file_name: str, content: bytes, extension: str, *, deadline: float) -> UploadedFile:
        """POST /api/public/uploadfile, multipart with `fileContext=bulkImport`: store a file for an import.
        `extension` is `json` or `csv` for ML utterances."""
        form = {"fileContext": "bulkImport", "fileExtension": extension}
        content_type = UPLOAD_CONTENT_TYPES.get(extension, "application/octet-stream")
        body = self._request(
            UPLOAD,
            "POST",
            "/api/public/uploadfile",
            bot_id=None,
            deadline=deadline,
            body=RequestBody(files={"file": (file_name, content, content_type)}, data=form),
        )
        return _parsed(UploadedFile.from_api, body, f"the upload of {file_name}")

    def ml_import(
        self, bot_id: str, language: str, file_name: str, file_id: str, *, deadline: float
    ) -> ImportJob:
        """POST /api/public/bot/{BotID}/mlimport `{"fileName", "fileId"}` with `bot-language`: start an import
        of uploaded ML utterances."""
        body = self._request(
            ML_IMPORT,
            "POST",
            f"{_bot_path(bot_id)}/mlimport",
            bot_id=bot_id,
            headers={"bot-language": _language(language)},
            deadline=deadline,
            body=RequestBody(json={"fileName": file_name, "fileId": file_id}),
        )
        return _parsed(ImportJob.from_api, body, f"{ML_IMPORT.name} for bot {bot_id} ({language})")

    def ml_import_status(self, bot_id: str, import_id: str, *, deadline: float) -> ImportJob:
        """GET /api/public/bot/{BotID}/mlimport/status/{importId}."""
        body = self._request(
            ML_IMPORT_STATUS,
            "GET",
            f"{_bot_path(bot_id)}/mlimport/status/{quote(import_id, safe='')}",
            bot_id=bot_id,
            deadline=deadline,
        )
        return _parsed(ImportJob.from_api, body, f"{ML_IMPORT_STATUS.name} for bot {bot_id} ({import_id})")

    # -- ML export (refresh) ----------------------------------------------------------------------------

    def ml_export(self, bot_id: str, language: str, *, deadline: float) -> MlExportJob:
        """POST /api/public/bot/{BotID}/mlexport?state=configured&type=json with `bot-language`: start an
        export of the bot language's ML utterances (JSON keeps their entities; CSV drops them)."""
        body = self._request(
            ML_EXPORT,
            "POST",
            f"{_bot_path(bot_id)}/mlexport",
            bot_id=bot_id,
            headers={"bot-language": _language(language)},
            params={"state": "configured", "type": "json"},
            deadline=deadline,
        )
        return _parsed(MlExportJob.from_api, body, f"{ML_EXPORT.name} for bot {bot_id} ({language})")

    def ml_export_status(self, bot_id: str, *, deadline: float) -> MlExportJob:
        """GET /api/public/bot/{BotID}/mlexport/status: the bot's latest export, with its `downloadUrl`."""
        body = self._request(
            ML_EXPORT_STATUS, "GET", f"{_bot_path(bot_id)}/mlexport/status", bot_id=bot_id, deadline=deadline
        )
        return _parsed(MlExportJob.from_api, body, f"{ML_EXPORT_STATUS.name} for bot {bot_id}")

    def download(self, url: str, *, deadline: float) -> bytes:
        """The file an export's `downloadUrl` points to. The URL may name another host (a file store): the
        JWT goes only to the configured host, so a download elsewhere carries no credential at all (no
        `auth`, no cookies: a session of its own). Observed public code downloads without one."""
        problem = download_url_problem(url)
        if problem:
            raise KoreApiError(f"Kore.ai's export answered a download URL that is not usable: {problem}")
        same_host = normalize_host(url) == normalize_host(self.host)
        session = self._session if same_host else requests.Session()
        headers = {"auth": mint_jwt(self._credentials)} if same_host else {}
        failure = AttemptFailure(FailureKind.READ_TIMEOUT)  # what is said if the deadline leaves no attempt
        try:
            for attempt in range(1, self._policy.max_attempts + 1):
                remaining = deadline - self._clock()
                if remaining <= 0:
                    break
                try:
                    response = session.get(
                        url,
                        headers={"User-Agent": USER_AGENT, **headers},
                        timeout=(min(self._connect_timeout, remaining), min(self._read_timeout, remaining)),
                        allow_redirects=not same_host,  # never hand the token on; a bare link may redirect
                        verify=True,
                        stream=True,
                    )
                except requests.exceptions.RequestException as exc:
                    failure = AttemptFailure(FailureKind.DROPPED, detail=type(exc).__name__)
                else:
                    with response:
                        if response.status_code < 300:
                            return _bounded_content(response)
                        failure = AttemptFailure(FailureKind.HTTP, status=response.status_code)
                delay = retry_delay(
                    failure,
                    attempt=attempt,
                    idempotent=True,
                    remaining=deadline - self._clock(),
                    policy=self._policy,
                    jitter=random.random(),
                )
                if delay is None:
                    break
                self._sleep(delay)
        finally:
            if not same_host:
                session.close()
        raise KoreApiError(
            f"Downloading the ML export from {_origin(url)} failed ({failure.describe()}); the export's link "
            "may have expired. Nothing was changed; run `pulumi refresh` again.",
            transient=True,
        )

    # -- bot definition ----------------------------------------------------------------------------------

    def bot_import(
        self,
        bot_id: str,
        *,
        definition_file_id: str,
        config_file_id: str,
        function_file_ids: tuple[str, ...],
        import_options: Mapping[str, Any] | None,
        deadline: float,
    ) -> BotImportJob:
        """POST /api/public/bot/{BotID}/import: import uploaded definition files into the existing bot.
        Without `importOptions` the platform imports everything (a full import)."""
        payload: dict[str, Any] = {"botDefinition": definition_file_id, "configInfo": config_file_id}
        if function_file_ids:
            payload["botFunctions"] = list(function_file_ids)
        if import_options is not None:
            payload["importOptions"] = dict(import_options)
        body = self._request(
            BOT_IMPORT,
            "POST",
            f"{_bot_path(bot_id)}/import",
            bot_id=bot_id,
            deadline=deadline,
            body=RequestBody(json=payload),
        )
        return _parsed(BotImportJob.from_api, body, f"{BOT_IMPORT.name} for bot {bot_id}")

    def bot_import_status(self, bot_id: str, import_id: str, *, deadline: float) -> BotImportJob:
        """GET /api/public/bot/import/status/{bir-id} (the path names no bot)."""
        body = self._request(
            BOT_IMPORT_STATUS,
            "GET",
            f"/api/public/bot/import/status/{quote(import_id, safe='')}",
            bot_id=bot_id,
            deadline=deadline,
        )
        return _parsed(
            BotImportJob.from_api, body, f"{BOT_IMPORT_STATUS.name} for bot {bot_id} ({import_id})"
        )

    # -- bot variables -----------------------------------------------------------------------------------

    def import_variables(self, bot_id: str, variables: list[dict[str, Any]], *, deadline: float) -> str:
        """POST /api/1.1/public/builder/bot/{BotID}/variables/import with the documented array of variable
        objects; answers its message ("2 Variables imported/updated successfully.")."""
        body = self._request(
            VARIABLES_IMPORT,
            "POST",
            f"/api/1.1/public/builder/bot/{quote(_checked_bot_id(bot_id), safe='')}/variables/import",
            bot_id=bot_id,
            deadline=deadline,
            body=RequestBody(json=variables),
        )
        message = body.get("message") if isinstance(body, dict) else None
        return message if isinstance(message, str) else ""

    def export_variables(self, bot_id: str, *, deadline: float) -> tuple[ExportedVariable, ...]:
        """POST /api/1.1/public/builder/bot/{BotID}/variables/export: the bot's variables."""
        body = self._request(
            VARIABLES_EXPORT,
            "POST",
            f"/api/1.1/public/builder/bot/{quote(_checked_bot_id(bot_id), safe='')}/variables/export",
            bot_id=bot_id,
            deadline=deadline,
        )
        return _parsed(ExportedVariable.list_from_api, body, f"{VARIABLES_EXPORT.name} for bot {bot_id}")

    def publish(
        self, bot_id: str, version_comment: str, *, initiate_training: bool, deadline: float
    ) -> PublishTicket:
        """POST /api/public/bot/{BotID}/publish `{"versionComment", "initiateTraining"}`."""
        body = self._request(
            PUBLISH,
            "POST",
            f"{_bot_path(bot_id)}/publish",
            bot_id=bot_id,
            deadline=deadline,
            body=RequestBody(json={"versionComment": version_comment, "initiateTraining": initiate_training}),
        )
        return _parsed(PublishTicket.from_api, body, f"{PUBLISH.name} for bot {bot_id}")

    def publish_status(self, bot_id: str, *, deadline: float) -> PublishStatus:
        """GET /api/public/bot/{BotID}/publish/status: the bot's latest publish job."""
        body = self._request(
            PUBLISH_STATUS, "GET", f"{_bot_path(bot_id)}/publish/status", bot_id=bot_id, deadline=deadline
        )
        return _parsed(PublishStatus.from_api, body, f"{PUBLISH_STATUS.name} for bot {bot_id}")

    # -- plumbing ----------------------------------------------------------------------------------------

    def _request(
        self,
        endpoint: Endpoint,
        method: str,
        path: str,
        *,
        bot_id: str | None,
        deadline: float,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        body: RequestBody | None = None,
    ) -> Any:
        url = self.host + path
        budget_key = (self.host, bot_id or "", endpoint.budget)
        tried: list[str] = []
        attempt = 0
        first_failure_at = 0.0
        while True:
            attempt += 1
            if self._budget is not None:
                self._budget.acquire(budget_key, deadline, f"{method} {url}")
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise KoreApiError(
                    f"{method} {url}: the deadline passed before the request could be sent"
                    + (f" (tried: {', '.join(tried)})" if tried else ""),
                    transient=bool(tried),
                )
            failure, response = self._attempt(method, url, headers, params, remaining, body)
            if response is not None:
                self._reachability.mark(self.host)
            elif failure is not None and failure.detail == REFUSED:
                self.refused_connections += 1
            if failure is None and response is not None:
                return _json_body(response, method, url)
            assert failure is not None
            if not tried:
                first_failure_at = self._clock()
            tried.append(failure.describe())
            delay = retry_delay(
                failure,
                attempt=attempt,
                idempotent=endpoint.idempotent,
                remaining=deadline - self._clock(),
                policy=self._policy,
                jitter=random.random(),  # jitter, not cryptography
                host_answered=self._reachability.answered(self.host),
            )
            if failure.status == 429 and self._budget is not None:
                # Kore.ai's own count disagrees with ours (other clients share the bot): hold back every
                # operation of this process on this bot, not just this one.
                self._budget.block(budget_key, failure.retry_after or self._policy.base_delay)
            if delay is None:
                error = self._final_error(endpoint, method, url, failure, response, tried)
                if isinstance(error, HostUnreachableError):
                    error.seconds = self._clock() - first_failure_at
                raise error
            self._sleep(delay)

    def _attempt(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        remaining: float,
        body: RequestBody | None,
    ) -> tuple[AttemptFailure | None, requests.Response | None]:
        all_headers = {"auth": mint_jwt(self._credentials), "User-Agent": USER_AGENT, **(headers or {})}
        if method == "POST" and (body is None or body.files is None):  # multipart sets its own boundary
            all_headers["Content-Type"] = "application/json"
        timeout = (min(self._connect_timeout, remaining), min(self._read_timeout, remaining))
        try:
            response = self._session.request(
                method,
                url,
                headers=all_headers,
                params=params,
                timeout=timeout,
                allow_redirects=False,
                verify=True,  # never off; requests still applies REQUESTS_CA_BUNDLE for verify=True
                **(body.as_kwargs() if body is not None else {}),
            )
        except requests.exceptions.SSLError as exc:
            return AttemptFailure(FailureKind.TLS, detail=_tls_reason(exc)), None
        except requests.exceptions.ConnectTimeout:
            return AttemptFailure(FailureKind.CONNECT, detail=CONNECT_TIMEOUT), None
        except requests.exceptions.ReadTimeout:
            return AttemptFailure(FailureKind.READ_TIMEOUT), None
        except requests.exceptions.ConnectionError as exc:
            kind = _connection_failure_kind(exc)
            detail = _connect_reason(exc) if kind is FailureKind.CONNECT else ""
            return AttemptFailure(kind, detail=detail), None
        if response.status_code < 300:
            return None, response
        return (
            AttemptFailure(
                FailureKind.HTTP,
                status=response.status_code,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            ),
            response,
        )

    def _final_error(
        self,
        endpoint: Endpoint,
        method: str,
        url: str,
        failure: AttemptFailure,
        response: requests.Response | None,
        tried: list[str],
    ) -> KoreApiError:
        history = f" after {len(tried)} attempts ({', '.join(tried)})" if len(tried) > 1 else ""
        transient = is_retryable(failure, idempotent=True)
        ambiguous = not endpoint.idempotent and not is_retryable(failure, idempotent=False) and transient
        not_resent = (
            f" The request may have reached Kore.ai, so it was not sent again; nothing was recorded, so the "
            f"next `pulumi up` will {endpoint.redo} again."
        )
        if failure.kind is FailureKind.TLS:
            if _is_plain_http(failure.detail):
                return KoreApiError(
                    f"{self.host} does not speak TLS: it answered the https:// connection in plain HTTP. "
                    "Kore.ai platforms use https://; a host that speaks plain HTTP (such as the local "
                    "sandbox) needs an http:// URL in kore:host (accepted for loopback addresses only)."
                )
            return KoreApiError(
                f"TLS verification failed for {self.host}: {failure.detail}. If the host uses a private CA, "
                "point REQUESTS_CA_BUNDLE at its CA bundle; verification cannot be turned off."
            )
        if failure.kind is FailureKind.CONNECT:
            attempts = f"{len(tried)} attempt{'s' if len(tried) != 1 else ''}"
            reason = failure.detail or "could not connect"
            if not self._reachability.answered(self.host):
                return HostUnreachableError(
                    f"Could not connect to {self.host} ({reason}; {attempts}): nothing has answered there. "
                    "Check kore:host (or the resource's host): the host name, the port, and that it is "
                    "reachable from here; for the local sandbox, that it is running on that port.",
                    refused=reason == REFUSED,
                )
            return HostUnreachableError(
                f"{self.host} stopped answering ({reason}; {attempts}) after it had answered.",
                transient=True,
                refused=reason == REFUSED,
            )
        if response is None:
            message = f"{failure.describe()} for {method} {url}{history}."
            if ambiguous:
                return AmbiguousRequestError(message + not_resent, outcome=failure.describe(), transient=True)
            return KoreApiError(message, transient=transient)
        status = response.status_code
        api_msg, code = parse_error_envelope(_try_json(response))
        detail = f"HTTP {status}" + (f" '{api_msg}'" if api_msg else "") + (f" (code {code})" if code else "")
        prefix = f"Kore.ai answered {detail} to {method} {url}{history}."
        fields: dict[str, Any] = {"status": status, "code": code, "api_message": api_msg}
        if 300 <= status < 400:
            location = response.headers.get("Location", "?")
            return KoreApiError(
                f"{prefix} It redirects to {location}; redirects are not followed, so the auth token stays "
                "on the configured host. Set kore:host to the final host.",
                **fields,
            )
        if status == 401 or code == 4002:
            return AuthenticationError(f"{prefix} {auth_advice(endpoint.scope)}", **fields)
        if status == 429:
            return RateLimitedError(
                f"{prefix} Kore.ai allows 60 calls per minute and 1,800 per hour per bot; wait and run "
                "again, or ask Kore.ai support for a higher limit.",
                transient=True,
                **fields,
            )
        if ambiguous:
            return AmbiguousRequestError(prefix + not_resent, outcome=detail, transient=True, **fields)
        return KoreApiError(prefix, transient=transient, **fields)


UPLOAD_CONTENT_TYPES = {"json": "application/json", "csv": "text/csv"}

_Parsed = TypeVar("_Parsed")


def _parsed(parse: Callable[[Any], _Parsed], body: Any, call: str) -> _Parsed:
    try:
        return parse(body)
    except ValueError as exc:
        raise KoreApiError(f"Kore.ai answered {call} with an unexpected body: {exc}") from None


def _checked_bot_id(bot_id: str) -> str:
    """The id, checked again right before it becomes part of a URL."""
    problem = bot_id_problem(bot_id)
    if problem:
        raise ConfigurationError(f"bot_id: {problem}")
    return bot_id


def _bot_path(bot_id: str) -> str:
    return f"/api/public/bot/{quote(_checked_bot_id(bot_id), safe='')}"


#: An ML export of a bot language is text; anything this large is not one.
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024


def _bounded_content(response: requests.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > MAX_DOWNLOAD_BYTES:
            raise KoreApiError(f"the ML export file is larger than {MAX_DOWNLOAD_BYTES} bytes; not read")
        chunks.append(chunk)
    return b"".join(chunks)


def _origin(url: str) -> str:
    """Scheme and host of a URL, for messages: a download link's path and query may be a bearer token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def download_url_problem(url: str) -> str | None:
    """Why a download URL must not be fetched: it must be https (or http on a loopback address, the
    sandbox), with a host, and no credentials in it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"{_origin(url)} is not an http(s) URL with a host"
    if parts.username or parts.password:
        return "it carries credentials"
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        return f"{_origin(url)} is plain http:// to a host that is not loopback"
    return None


def _language(language: str) -> str:
    """A language code, checked again right before it becomes a header or query value."""
    problem = language_problem(language)
    if problem:
        raise ConfigurationError(f"language: {problem}")
    return language


def _tls_reason(exc: requests.exceptions.SSLError) -> str:
    """The reason in the innermost SSL error, whole (urllib3 wraps it in pool and retry prose)."""
    text = str(exc)
    match = re.search(r"certificate verify failed: [^')(]*", text)
    if match:
        return match.group(0).strip()
    match = re.search(r"\[SSL(?:: [A-Z_]+)?\] [^')(]*", text)
    return match.group(0).strip() if match else text


def _is_plain_http(tls_reason: str) -> bool:
    """OpenSSL's words for "the other side sent plain HTTP" (a TLS client talking to an http:// server)."""
    lowered = tls_reason.lower()
    return any(words in lowered for words in ("wrong version number", "record layer failure", "http request"))


REFUSED = "connection refused"
CONNECT_TIMEOUT = "no connection within the connect timeout"


def _connect_reason(exc: requests.exceptions.ConnectionError) -> str:
    """Why a connection could not be opened, in a user's words."""
    text = str(exc).lower()
    if "refused" in text:
        return REFUSED
    if "name or service not known" in text or "nodename nor servname" in text or "resolution" in text:
        return "the host name does not resolve"
    if "timed out" in text:
        return CONNECT_TIMEOUT
    if "unreachable" in text:
        return "the network or host is unreachable"
    return "could not connect"


def _connection_failure_kind(exc: requests.exceptions.ConnectionError) -> FailureKind:
    """Tell "never connected" from "connection dropped after sending": only the first is safe to resend.

    urllib3 wraps a failed connect in NewConnectionError (refused, unreachable, DNS); anything else that
    surfaces as a ConnectionError happened on an open connection, after the request may have been sent.
    """
    reason: Any = exc.args[0] if exc.args else None
    cause = getattr(reason, "reason", reason)
    name = type(cause).__name__
    if name in ("NewConnectionError", "NameResolutionError") or isinstance(cause, ConnectionRefusedError):
        return FailureKind.CONNECT
    return FailureKind.DROPPED


def _try_json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _json_body(response: requests.Response, method: str, url: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise KoreApiError(
            f"Kore.ai answered {method} {url} with HTTP {response.status_code} but the body is not JSON: "
            f"{response.text[:200]!r}. Check that kore:host points at the Kore.ai platform."
        ) from None
