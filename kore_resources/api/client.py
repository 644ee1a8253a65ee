"""`KoreClient`: the Kore.ai public API calls the providers make (docs/kore-api.md), one method each. No
Pulumi here.

Each method names its endpoint (`endpoints`), fills in checked values (`validation`: no input can change
a request's path or query, or add a header) and hands the request to the one request path
(`transport.Transport`), which retries, rate-limits and words its failures (`failures`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests

from . import endpoints as api
from .auth import Credentials
from .endpoints import Endpoint
from .errors import ConfigurationError, KoreApiError
from .failures import origin
from .languages import language_problem
from .models import (
    BotImportJob,
    ExportedVariable,
    MlExportJob,
    MlImportJob,
    PublishStatus,
    PublishTicket,
    TrainingStatus,
    TrainingTicket,
    UploadedFile,
)
from .ratelimit import RateBudget
from .retry import RetryPolicy
from .transport import (
    CONNECT_TIMEOUT_SECONDS,
    READ_TIMEOUT_SECONDS,
    Reachability,
    Request,
    Transport,
)
from .validation import bot_id_problem, host_problem, is_loopback_host, normalize_host

__all__ = ["KoreClient", "Reachability", "download_url_problem"]

Answer = TypeVar("Answer")

UPLOAD_CONTENT_TYPES = {"json": "application/json", "csv": "text/csv"}


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
        self._client_id = credentials.client_id
        self._transport = Transport(
            self.host,
            credentials,
            session=session if session is not None else requests.Session(),
            budget=budget,
            reachability=reachability if reachability is not None else Reachability(),
            policy=policy if policy is not None else RetryPolicy(),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            sleep=sleep,
            clock=clock,
        )

    def __repr__(self) -> str:
        return f"KoreClient(host={self.host!r}, client_id={self._client_id!r})"

    @property
    def refused_connections(self) -> int:
        """Connections the host refused (nothing listening) so far, retried ones included: a platform that
        restarted between two attempts shows here even if the retry succeeded."""
        return self._transport.refused_connections

    # -- ML training -----------------------------------------------------------------------------------------

    def train(self, bot_id: str, language: str, *, deadline: float) -> TrainingTicket:
        """Queue an ML training of a bot language (`bot-language`)."""
        return self._call(api.TRAIN, bot_id, deadline, language=language)

    def training_status(
        self, bot_id: str, language: str, *, deadline: float, state: str = "configured"
    ) -> TrainingStatus:
        """The bot language's latest training (the call takes no training id)."""
        return self._call(api.TRAIN_STATUS, bot_id, deadline, language=language, params={"state": state})

    # -- files and ML import ----------------------------------------------------------------------------

    def upload_file(self, file_name: str, content: bytes, extension: str, *, deadline: float) -> UploadedFile:
        """Store a file for an import (multipart, `fileContext=bulkImport`); `extension` e.g. `json`."""
        content_type = UPLOAD_CONTENT_TYPES.get(extension, "application/octet-stream")
        return self._call(
            api.UPLOAD,
            None,
            deadline,
            data={"fileContext": "bulkImport", "fileExtension": extension},
            files={"file": (file_name, content, content_type)},
        )

    def ml_import(
        self, bot_id: str, language: str, file_name: str, file_id: str, *, deadline: float
    ) -> MlImportJob:
        """Start an import of uploaded ML utterances into a bot language (`bot-language`)."""
        return self._call(
            api.ML_IMPORT,
            bot_id,
            deadline,
            language=language,
            json={"fileName": file_name, "fileId": file_id},
        )

    def ml_import_status(self, bot_id: str, import_id: str, *, deadline: float) -> MlImportJob:
        return self._call(api.ML_IMPORT_STATUS, bot_id, deadline, job_id=import_id)

    # -- ML export (refresh) ----------------------------------------------------------------------------

    def ml_export(self, bot_id: str, language: str, *, deadline: float) -> MlExportJob:
        """Start an export of a bot language's ML utterances, as JSON (CSV drops their entities)."""
        return self._call(
            api.ML_EXPORT, bot_id, deadline, language=language, params={"state": "configured", "type": "json"}
        )

    def ml_export_status(self, bot_id: str, *, deadline: float) -> MlExportJob:
        """The bot's latest export (the call takes no id), with its `downloadUrl` once it succeeded."""
        return self._call(api.ML_EXPORT_STATUS, bot_id, deadline)

    def download(self, url: str, *, deadline: float) -> bytes:
        """The file an export's `downloadUrl` points to. It may be on another host (a file store): the JWT
        goes only to the configured host, and a download elsewhere carries no credential at all (no
        `auth`, no cookies). Observed public code downloads without one."""
        problem = download_url_problem(url)
        if problem:
            raise KoreApiError(f"Kore.ai's export answered a download URL that is not usable: {problem}")
        same_host = normalize_host(url) == normalize_host(self.host)
        request = Request(endpoint=api.DOWNLOAD, url=url, authenticate=same_host, download=True)
        content: bytes = self._transport.send(request, deadline=deadline)
        return content

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
        """Import uploaded definition files into the existing bot. Without `importOptions` the platform
        imports everything: a full import."""
        payload: dict[str, Any] = {"botDefinition": definition_file_id, "configInfo": config_file_id}
        if function_file_ids:
            payload["botFunctions"] = list(function_file_ids)
        if import_options is not None:
            payload["importOptions"] = dict(import_options)
        return self._call(api.BOT_IMPORT, bot_id, deadline, json=payload)

    def bot_import_status(self, bot_id: str, import_id: str, *, deadline: float) -> BotImportJob:
        """A bot import's status (the path names no bot; `bot_id` keys the rate budget)."""
        return self._call(api.BOT_IMPORT_STATUS, bot_id, deadline, job_id=import_id)

    # -- bot variables -----------------------------------------------------------------------------------

    def import_variables(self, bot_id: str, variables: list[dict[str, Any]], *, deadline: float) -> str:
        """Import the documented array of variable objects; answers Kore.ai's message ("2 Variables
        imported/updated successfully.")."""
        return self._call(api.VARIABLES_IMPORT, bot_id, deadline, json=variables)

    def export_variables(self, bot_id: str, *, deadline: float) -> tuple[ExportedVariable, ...]:
        return self._call(api.VARIABLES_EXPORT, bot_id, deadline)

    # -- publish -------------------------------------------------------------------------------------------

    def publish(
        self, bot_id: str, version_comment: str, *, initiate_training: bool, deadline: float
    ) -> PublishTicket:
        payload = {"versionComment": version_comment, "initiateTraining": initiate_training}
        return self._call(api.PUBLISH, bot_id, deadline, json=payload)

    def publish_status(self, bot_id: str, *, deadline: float) -> PublishStatus:
        """The bot's latest publish job (the call takes no id)."""
        return self._call(api.PUBLISH_STATUS, bot_id, deadline)

    # -- the one request path ------------------------------------------------------------------------------

    def _call(
        self,
        endpoint: Endpoint[Answer],
        bot_id: str | None,
        deadline: float,
        *,
        job_id: str | None = None,
        language: str | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> Answer:
        path = endpoint.path.format(
            bot_id=quote(_checked_bot_id(bot_id), safe="") if bot_id is not None else "",
            job_id=quote(job_id or "", safe=""),
        )
        headers: dict[str, str] = {}
        query = dict(params or {})
        if language is not None and endpoint.language_in == "header":
            headers["bot-language"] = _language(language)
        elif language is not None and endpoint.language_in == "query":
            query = {"language": _language(language), **query}
        request = Request(
            endpoint=endpoint,
            url=self.host + path,
            bot_id=bot_id,
            headers=headers,
            params=query or None,
            json=json,
            data=data,
            files=files,
            language=language,
        )
        body = self._transport.send(request, deadline=deadline)
        try:
            return endpoint.parse(body)
        except ValueError as exc:
            about = (f" for bot {bot_id}" if bot_id else "") + (f" ({language})" if language else "")
            raise KoreApiError(
                f"Kore.ai answered {endpoint.name}{about} with an unexpected body: {exc}"
            ) from None


def _checked_bot_id(bot_id: str) -> str:
    """The id, checked again right before it becomes part of a URL."""
    problem = bot_id_problem(bot_id)
    if problem:
        raise ConfigurationError(f"bot_id: {problem}")
    return bot_id


def _language(language: str) -> str:
    """A language code, checked again right before it becomes a header or query value."""
    problem = language_problem(language)
    if problem:
        raise ConfigurationError(f"language: {problem}")
    return language


def download_url_problem(url: str) -> str | None:
    """Why a download URL must not be fetched: it must be https (or http on a loopback address, the
    sandbox), with a host, and no credentials in it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"{origin(url)} is not an http(s) URL with a host"
    if parts.username or parts.password:
        return "it carries credentials"
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        return f"{origin(url)} is plain http:// to a host that is not loopback"
    return None
