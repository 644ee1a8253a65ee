"""A small HTTP client for the Kore.ai public APIs BotTraining uses.

Thin I/O: it sends requests, retries what `retry` says is safe to retry, and turns Kore.ai's error envelope
(`{"errors": [{"msg": ..., "code": ...}]}`) into exceptions a user can act on. Every request carries a
freshly minted JWT and explicit connect/read timeouts, and never follows redirects (a redirect would carry
the `auth` header to wherever it points).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import requests

from .auth import Credentials, mint_jwt
from .errors import AuthenticationError, KoreApiError, RateLimitedError
from .jobs import ImportJob, PublishStatus, PublishTicket, UploadedFile
from .retry import AttemptFailure, FailureKind, RetryPolicy, retry_delay
from .training import TrainingStatus

CONNECT_TIMEOUT_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 60.0
USER_AGENT = "kore-resources (Pulumi dynamic provider)"


@dataclass(frozen=True)
class TrainingTicket:
    """What the train call answered: `[{"message": "Training Queued.", "Training_ID": "..."}]`."""

    training_id: str
    message: str


AUTH_ADVICE = (
    "Check kore:clientId and kore:clientSecret (or KORE_CLIENT_ID / KORE_CLIENT_SECRET), that the JWT app "
    "has the API scope for this call (Train ML), that the bot id is right and the bot is linked to the app, "
    "and that the bot and its API scope mapping are published."
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


def parse_train_response(body: Any) -> TrainingTicket:
    """The documented train response is an array with one object; tolerate a bare object too."""
    entry = body[0] if isinstance(body, list) and body else body
    if isinstance(entry, dict) and isinstance(entry.get("Training_ID"), str) and entry["Training_ID"]:
        return TrainingTicket(training_id=entry["Training_ID"], message=str(entry.get("message", "")))
    raise ValueError(f'expected [{{"message": ..., "Training_ID": ...}}], got {body!r:.200}')


@dataclass(frozen=True)
class RequestBody:
    """A request body: JSON (`json`), or multipart form fields (`data`) with files (`files`: field name ->
    (file name, content, content type)). The JSON content type is set unless files are sent."""

    json: Any = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    data: Mapping[str, str] | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return {"json": self.json, "files": self.files, "data": self.data}


class KoreClient:
    """Calls one Kore.ai host with one app's credentials. Safe to use from one thread at a time."""

    def __init__(
        self,
        host: str,
        credentials: Credentials,
        *,
        session: requests.Session | None = None,
        policy: RetryPolicy | None = None,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        read_timeout: float = READ_TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host.rstrip("/")
        self._credentials = credentials
        self._session = session if session is not None else requests.Session()
        self._policy = policy if policy is not None else RetryPolicy()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"KoreClient(host={self.host!r}, client_id={self._credentials.client_id!r})"

    # -- the API -------------------------------------------------------------------------------------------

    def train(self, bot_id: str, language: str, *, deadline: float) -> TrainingTicket:
        """POST /api/public/bot/{BotID}/ml/train with `bot-language`: queue an ML training."""
        body = self._request(
            "POST",
            f"/api/public/bot/{quote(bot_id, safe='')}/ml/train",
            headers={"bot-language": language},
            idempotent=False,
            deadline=deadline,
        )
        try:
            return parse_train_response(body)
        except ValueError as exc:
            raise KoreApiError(
                f"Kore.ai answered the train call for bot {bot_id} ({language}) with an "
                f"unexpected body: {exc}"
            ) from None

    def training_status(
        self, bot_id: str, language: str, *, deadline: float, state: str = "configured"
    ) -> TrainingStatus:
        """GET /api/public/bot/{BotID}/ml/train/status?language=..&state=..: the latest training's status."""
        body = self._request(
            "GET",
            f"/api/public/bot/{quote(bot_id, safe='')}/ml/train/status",
            params={"language": language, "state": state},
            idempotent=True,
            deadline=deadline,
        )
        try:
            return TrainingStatus.from_api(body)
        except ValueError as exc:
            raise KoreApiError(
                f"Kore.ai answered the training status call for bot {bot_id} ({language}) "
                f"with an unexpected body: {exc}"
            ) from None

    # -- plumbing ------------------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        deadline: float,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        body: RequestBody | None = None,
    ) -> Any:
        url = self.host + path
        tried: list[str] = []
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise KoreApiError(
                    f"{method} {url}: the deadline passed before the request could be sent"
                    + (f" (tried: {', '.join(tried)})" if tried else "")
                )
            failure, response = self._attempt(method, url, headers, params, remaining, body=body)
            if failure is None and response is not None:
                return _json_body(response, method, url)
            assert failure is not None
            tried.append(failure.describe())
            delay = retry_delay(
                failure,
                attempt=attempt,
                idempotent=idempotent,
                remaining=deadline - self._clock(),
                policy=self._policy,
                jitter=random.random(),  # jitter, not cryptography
            )
            if delay is None:
                raise self._final_error(method, url, failure, response, tried, idempotent)
            self._sleep(delay)

    def _attempt(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        remaining: float,
        *,
        body: RequestBody | None = None,
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
                **(body.as_kwargs() if body is not None else {}),
            )
        except requests.exceptions.ConnectTimeout:
            return AttemptFailure(FailureKind.CONNECT), None
        except requests.exceptions.ReadTimeout:
            return AttemptFailure(FailureKind.READ_TIMEOUT), None
        except requests.exceptions.ConnectionError as exc:
            return AttemptFailure(_connection_failure_kind(exc)), None
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
        method: str,
        url: str,
        failure: AttemptFailure,
        response: requests.Response | None,
        tried: list[str],
        idempotent: bool,
    ) -> KoreApiError:
        history = f" after {len(tried)} attempts ({', '.join(tried)})" if len(tried) > 1 else ""
        if response is None:
            if failure.kind is FailureKind.CONNECT:
                return KoreApiError(
                    f"Could not connect to {self.host}{history}. Check kore:host (or the "
                    "resource's host) and that the host is reachable from here."
                )
            outcome = f"{failure.describe()} for {method} {url}{history}."
            if not idempotent:
                outcome += (
                    " The request may have reached Kore.ai, so it was not sent again: check the "
                    "bot's training status in the Kore.ai builder; the next `pulumi up` will train "
                    "again because nothing was recorded."
                )
            return KoreApiError(outcome)
        status = response.status_code
        api_msg, code = parse_error_envelope(_try_json(response))
        detail = f"HTTP {status}" + (f" '{api_msg}'" if api_msg else "") + (f" (code {code})" if code else "")
        prefix = f"Kore.ai answered {detail} to {method} {url}{history}."
        if 300 <= status < 400:
            location = response.headers.get("Location", "?")
            return KoreApiError(
                f"{prefix} It redirects to {location}; redirects are not followed so the "
                "auth token stays on the configured host. Set kore:host to the final host.",
                status=status,
                code=code,
                api_message=api_msg,
            )
        if status == 401 or code == 4002:
            return AuthenticationError(
                f"{prefix} {AUTH_ADVICE}", status=status, code=code, api_message=api_msg
            )
        if status == 429:
            return RateLimitedError(
                f"{prefix} Kore.ai allows 60 calls per minute and 1,800 per hour per bot; "
                "wait and run again, or ask Kore.ai support for a higher limit.",
                status=status,
                code=code,
                api_message=api_msg,
            )
        if status >= 500 and not idempotent:
            prefix += (
                " The request may have been processed, so it was not sent again; the next "
                "`pulumi up` will train again because nothing was recorded."
            )
        return KoreApiError(prefix, status=status, code=code, api_message=api_msg)

    # -- the promotion pipeline: upload, ML import, publish -------------------------------------------------

    def upload_file(self, file_name: str, content: bytes, extension: str, *, deadline: float) -> UploadedFile:
        """POST /api/public/uploadfile, multipart with `fileContext=bulkImport`: store a file for an import.
        `extension` is `json` or `csv` for ML utterances."""
        form = {"fileContext": "bulkImport", "fileExtension": extension}
        content_type = UPLOAD_CONTENT_TYPES.get(extension, "application/octet-stream")
        files = {"file": (file_name, content, content_type)}
        with _pipeline_call(SCOPE_ADVICE_IMPORT, "upload and import"):
            body = self._request(
                "POST",
                "/api/public/uploadfile",
                idempotent=False,
                deadline=deadline,
                body=RequestBody(files=files, data=form),
            )
        return _parsed(UploadedFile.from_api, body, f"the upload of {file_name}")

    def ml_import(
        self, bot_id: str, language: str, file_name: str, file_id: str, *, deadline: float
    ) -> ImportJob:
        """POST /api/public/bot/{BotID}/mlimport `{"fileName", "fileId"}` with `bot-language`: start an import
        of uploaded ML utterances."""
        with _pipeline_call(SCOPE_ADVICE_IMPORT, "upload and import"):
            body = self._request(
                "POST",
                f"/api/public/bot/{quote(bot_id, safe='')}/mlimport",
                headers={"bot-language": language},
                idempotent=False,
                deadline=deadline,
                body=RequestBody(json={"fileName": file_name, "fileId": file_id}),
            )
        return _parsed(ImportJob.from_api, body, f"the ML import call for bot {bot_id} ({language})")

    def ml_import_status(self, bot_id: str, import_id: str, *, deadline: float) -> ImportJob:
        """GET /api/public/bot/{BotID}/mlimport/status/{importId}."""
        with _pipeline_call(SCOPE_ADVICE_IMPORT, "upload and import"):
            body = self._request(
                "GET",
                f"/api/public/bot/{quote(bot_id, safe='')}/mlimport/status/{quote(import_id, safe='')}",
                idempotent=True,
                deadline=deadline,
            )
        return _parsed(ImportJob.from_api, body, f"the ML import status call for bot {bot_id} ({import_id})")

    def publish(
        self, bot_id: str, version_comment: str, *, initiate_training: bool, deadline: float
    ) -> PublishTicket:
        """POST /api/public/bot/{BotID}/publish `{"versionComment", "initiateTraining"}`."""
        with _pipeline_call(SCOPE_ADVICE_PUBLISH, "publish"):
            body = self._request(
                "POST",
                f"/api/public/bot/{quote(bot_id, safe='')}/publish",
                idempotent=False,
                deadline=deadline,
                body=RequestBody(
                    json={"versionComment": version_comment, "initiateTraining": initiate_training}
                ),
            )
        return _parsed(PublishTicket.from_api, body, f"the publish call for bot {bot_id}")

    def publish_status(self, bot_id: str, *, deadline: float) -> PublishStatus:
        """GET /api/public/bot/{BotID}/publish/status: the bot's latest publish job."""
        with _pipeline_call(SCOPE_ADVICE_PUBLISH, "publish"):
            body = self._request(
                "GET",
                f"/api/public/bot/{quote(bot_id, safe='')}/publish/status",
                idempotent=True,
                deadline=deadline,
            )
        return _parsed(PublishStatus.from_api, body, f"the publish status call for bot {bot_id}")


UPLOAD_CONTENT_TYPES = {"json": "application/json", "csv": "text/csv"}
SCOPE_ADVICE_IMPORT = "Utterances Import"
SCOPE_ADVICE_PUBLISH = "Bot Publish > Publish and Publish Status, which only an Admin Console app has"

_Parsed = TypeVar("_Parsed")


def _parsed(parse: Callable[[Any], _Parsed], body: Any, call: str) -> _Parsed:
    try:
        return parse(body)
    except ValueError as exc:
        raise KoreApiError(f"Kore.ai answered {call} with an unexpected body: {exc}") from None


@contextmanager
def _pipeline_call(scope: str, redo: str) -> Iterator[None]:
    """Errors of the pipeline calls name the API scope they need and what the next `pulumi up` redoes (the
    shared error texts speak of the Train ML scope and of training)."""
    try:
        yield
    except KoreApiError as exc:
        message = (
            str(exc)
            .replace("(Train ML)", f"({scope})")
            .replace("will train again", f"will {redo} again")
            .replace("check the bot's training status", "check the bot")
        )
        if message == str(exc):
            raise
        raise type(exc)(message, status=exc.status, code=exc.code, api_message=exc.api_message) from None


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
