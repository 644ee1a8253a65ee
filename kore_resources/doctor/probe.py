"""The doctor's I/O: the host name's resolution and single read-only calls, each recorded as an `Answer`.

Why not `KoreClient`: the client retries and waits within a deploy's deadline and turns answers into
exceptions; a check wants one fast attempt and the raw answer (status, Kore.ai's message, whether the body
is Kore.ai's envelope at all). It shares the client's paths (`api.endpoints`), JWTs (`mint_jwt`), error
envelope parsing and failure wording. Only reads: GETs, and the variables export (a POST that only reads).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests

from ..api import endpoints as api
from ..api.auth import mint_jwt
from ..api.endpoints import Endpoint
from ..api.failures import connect_reason, is_plain_http, origin, parse_error_envelope, tls_reason
from ..api.transport import USER_AGENT
from .model import Answer, App, FailureKind

#: An import id no job has: Bot Import Status and ML import status answer it after their scope check.
MADE_UP_IMPORT_ID = "bir-00000000-0000-4000-8000-000000000000"
#: One attempt's connect and read timeouts: a refused or silent host fails in seconds.
DEFAULT_TIMEOUT_SECONDS = 5.0
#: Enough of any answer to tell JSON from a web page; the status calls answer far less.
MAX_BODY_BYTES = 256 * 1024

#: The only calls the doctor makes. Each changes nothing on the platform.
READ_ONLY = (
    api.TRAIN_STATUS,
    api.ML_IMPORT_STATUS,
    api.ML_EXPORT_STATUS,
    api.BOT_IMPORT_STATUS,
    api.VARIABLES_EXPORT,
    api.PUBLISH_STATUS,
)


def resolve(hostname: str, port: int, timeout: float) -> tuple[tuple[str, ...], str | None]:
    """The host name's addresses, or why it does not resolve; an IP address is its own. In a thread, so a
    resolver that does not answer fails within `timeout` too (getaddrinfo takes no timeout)."""
    try:
        return (str(ipaddress.ip_address(hostname.strip("[]"))),), None
    except ValueError:
        pass
    outcome: list[tuple[str, ...] | str] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
            outcome.append(tuple(dict.fromkeys(str(info[4][0]) for info in infos)))
        except OSError as exc:
            outcome.append(exc.strerror or str(exc))
        finally:
            done.set()

    threading.Thread(target=lookup, name="kore-doctor-resolve", daemon=True).start()
    if not done.wait(timeout):
        return (), f"no answer from the resolver within {timeout:g} s"
    found = outcome[0]
    return (found, None) if isinstance(found, tuple) else ((), found)


class Caller:
    """Read-only calls to one host, one attempt each, no redirects followed, TLS always verified. One per
    thread (a `requests.Session` is not shared between threads)."""

    def __init__(self, host: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.host = host.strip().rstrip("/")
        self._timeout = timeout
        self._session = requests.Session()

    def __enter__(self) -> Caller:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._session.close()

    # -- the calls -----------------------------------------------------------------------------------------

    def unsigned_probe(self) -> Answer:
        """Bot Import Status without a token: Kore.ai answers its 401 envelope (the host check)."""
        return self._call(api.BOT_IMPORT_STATUS, None, job_id=MADE_UP_IMPORT_ID)

    def bot_import_status(self, app: App) -> Answer:
        return self._call(api.BOT_IMPORT_STATUS, app, job_id=MADE_UP_IMPORT_ID)

    def train_status(self, app: App, bot_id: str, language: str) -> Answer:
        return self._call(
            api.TRAIN_STATUS, app, bot_id=bot_id, params={"language": language, "state": "configured"}
        )

    def ml_import_status(self, app: App, bot_id: str) -> Answer:
        return self._call(api.ML_IMPORT_STATUS, app, bot_id=bot_id, job_id=MADE_UP_IMPORT_ID)

    def ml_export_status(self, app: App, bot_id: str) -> Answer:
        return self._call(api.ML_EXPORT_STATUS, app, bot_id=bot_id)

    def variables_export(self, app: App, bot_id: str) -> Answer:
        return self._call(api.VARIABLES_EXPORT, app, bot_id=bot_id)

    def publish_status(self, app: App, bot_id: str) -> Answer:
        return self._call(api.PUBLISH_STATUS, app, bot_id=bot_id)

    # -- one attempt ---------------------------------------------------------------------------------------

    def _call(
        self,
        endpoint: Endpoint[Any],
        app: App | None,
        *,
        bot_id: str = "",
        job_id: str = "",
        params: Mapping[str, str] | None = None,
    ) -> Answer:
        if endpoint not in READ_ONLY:
            raise ValueError(f"{endpoint.name} is not a read-only call")
        path = endpoint.path.format(bot_id=quote(bot_id, safe=""), job_id=quote(job_id, safe=""))
        # As lines show it: the line names the bot, and the made-up id says what it is.
        shown = endpoint.path.format(
            bot_id="…", job_id="<made-up id>" if job_id == MADE_UP_IMPORT_ID else job_id
        )
        call = f"{endpoint.method} {shown}" + (f"?{urlencode(params)}" if params else "")
        headers = {"User-Agent": f"{USER_AGENT} kore-doctor"}
        if app is not None:
            headers["auth"] = mint_jwt(app.credentials)
        if endpoint.method == "POST":
            headers["Content-Type"] = "application/json"
        try:
            response = self._session.request(
                endpoint.method,
                self.host + path,
                headers=headers,
                params=params,
                timeout=(self._timeout, self._timeout),
                allow_redirects=False,  # the token stays on the configured host
                verify=True,
                stream=True,
            )
            with response:
                content = _bounded(response)
        except requests.exceptions.SSLError as exc:
            reason = tls_reason(str(exc))
            return _failed(call, "plain-http" if is_plain_http(reason) else "tls", reason)
        except requests.exceptions.ConnectTimeout:
            return _failed(call, "connect", f"no connection within {self._timeout:g} s")
        except requests.exceptions.ReadTimeout:
            return _failed(call, "timeout", f"connected, but no answer within {self._timeout:g} s")
        except requests.exceptions.ConnectionError as exc:
            text = str(exc)
            reason = connect_reason(text)
            if reason == "could not connect" and any(w in text for w in ("aborted", "reset", "Disconnected")):
                return _failed(call, "dropped", "the connection was dropped before an answer")
            return _failed(call, "connect", reason)
        except requests.exceptions.RequestException as exc:
            return _failed(call, "dropped", f"the call failed ({type(exc).__name__})")
        return _answer(call, response, content)


def _bounded(response: requests.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY_BYTES:
            break
    return b"".join(chunks)


def _answer(call: str, response: requests.Response, content: bytes) -> Answer:
    try:
        body: Any = json.loads(content)
        is_json = True
    except ValueError:
        body, is_json = None, False
    errors = body.get("errors") if isinstance(body, dict) else None
    message, code = parse_error_envelope(body)
    location = response.headers.get("Location")
    if location:
        location = origin(location) if urlsplit(location).netloc else urlsplit(location).path
    return Answer(
        call=call,
        status=response.status_code,
        message=message,
        code=code,
        envelope=isinstance(errors, list) and bool(errors),
        is_json=is_json,
        body=body,
        content_type=response.headers.get("Content-Type", ""),
        location=location,
    )


def _failed(call: str, kind: FailureKind, reason: str) -> Answer:
    return Answer(call=call, failure=reason, failure_kind=kind)
