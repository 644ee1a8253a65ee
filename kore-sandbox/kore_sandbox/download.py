"""The download host: a second small HTTP server that serves ML export files (docs/kore-api.md §7.5).

    GET http://127.0.0.2:<port>/api/getMediaStream/market/<token>

It stands for the platform's media links: a *different host* from the API, so a test can tell whether a
client sent its credentials there. ASSUMPTIONS: the link needs no credential (observed: BOT and BP download
without `auth`) and stays valid until the sandbox is reset; GET and HEAD are served (other methods get 405),
an unknown token or an export that has not succeeded gets 404. It binds 127.0.0.2 on a free port; where
127.0.0.2 cannot be bound (macOS has only 127.0.0.1 by default) it falls back to another port of the API's
address, and `Sandbox.ml_export.download_fallback` says so. Every request is recorded
(`Sandbox.ml_export.downloads`) without secrets: header values whose name looks secret are `<redacted>`,
the token is `<token>`, and two flags tell whether an `auth`/`authorization` header came and whether
anything looked like a JWT. The transport faults (`inject_error`, `drop_connection`, `delay_response`)
apply here too (match them with `path_contains="getMediaStream"`).

Under reading `download-host=api-host` the links point at the API host instead, which serves the same path
as an endpoint family (`MediaStreamApi`): it needs the `auth` JWT of an app linked to the export's bot, and
its requests are in the call log like any API call.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from .api import ApiRequest, ApiResponse, EndpointFamily, Route, path_groups
from .auth import CODE_AUTH, MSG_INVALID_CREDENTIALS, ApiError, error_body
from .export import DOWNLOAD_PATH_PREFIX, DownloadFile, DownloadRequest, ExportModel
from .transport import DispatchingHandler, LoopbackServer, OpenConnections

if TYPE_CHECKING:
    from .faults import Fault

#: Header names whose values are never recorded.
SECRET_HEADER_WORDS = ("auth", "token", "secret", "jwt", "password", "key", "cookie", "session")
#: Anything shaped like a JWT: a base64url JSON header (`eyJ`), a payload and a signature.
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
AUTH_HEADERS = ("auth", "authorization")
_MEDIA = re.compile(r"^/api/getMediaStream/market/(?P<token>[^/]+)/?$")

MediaRouteKind = Literal["media"]


def match_media_route(path: str) -> Route[MediaRouteKind] | None:
    """The download path; the token is the route's request id."""
    groups = path_groups(_MEDIA, path)
    return None if groups is None else Route("media", request_id=groups["token"])


def file_headers(found: DownloadFile) -> tuple[str, dict[str, str]]:
    """The content type and headers a downloaded file is sent with (by either host)."""
    content_type = "application/json" if found.file_type == "JSON" else "text/csv; charset=utf-8"
    return content_type, {"Content-Disposition": f'attachment; filename="{found.file_name}"'}


class MediaStreamApi(EndpointFamily[MediaRouteKind, ExportModel]):
    """The export file on the API host, under reading `download-host=api-host` (else the API host does not
    serve the path: 404). Check order: method (GET or HEAD), token (401), the file (404 for an unknown token
    or an export that has not succeeded), the app linked to its bot (401 `Invalid SDK credentials`)."""

    route = staticmethod(match_media_route)

    def handle(self, req: ApiRequest) -> ApiResponse | None:
        if self.core.readings["download-host"] != "api-host":
            return None
        return super().handle(req)

    def _answer(self, req: ApiRequest, route: Route[MediaRouteKind], response: ApiResponse) -> object:
        app = self.core.caller(req, "HEAD" if req.method == "HEAD" else "GET")  # both are served
        found = self.model.download(route.request_id or "")
        if found is None:
            raise ApiError(404, "Not Found", 404)
        response.bot_id = found.bot_id
        if not self.core.reaches(app, found.bot_id):
            raise ApiError(401, MSG_INVALID_CREDENTIALS, CODE_AUTH)
        response.content_type, headers = file_headers(found)
        response.headers.update(headers)
        return found.content


class DownloadHooks:
    """What the download server needs from the sandbox (all thread-safe)."""

    def __init__(
        self,
        *,
        find: Callable[[str], DownloadFile | None],
        record: Callable[[DownloadRequest], None],
        take_fault: Callable[[str, str], Fault | None],
        now: Callable[[], tuple[float, float]],
    ) -> None:
        self.find = find
        self.record = record
        self.take_fault = take_fault
        self.now = now


class DownloadServer:
    """Serves export files on its own address; `start()` binds, `stop()` closes every connection."""

    def __init__(self, host: str, fallback_host: str, hooks: DownloadHooks) -> None:
        self._hooks = hooks
        self.fallback = False
        self.connections = OpenConnections()
        try:
            self._server = _Server((host, 0), self)
            self.host = host
        except OSError:
            self._server = _Server((fallback_host, 0), self)
            self.host, self.fallback = fallback_host, True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="kore-sandbox-download",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.connections.shut_down()
        self._thread.join(timeout=5)


class _Server(LoopbackServer):
    def __init__(self, address: tuple[str, int], owner: DownloadServer) -> None:
        self.owner = owner
        super().__init__(address, _Handler, owner.connections)


def _redacted_headers(headers: dict[str, str]) -> dict[str, str]:
    return {
        name: ("<redacted>" if any(w in name for w in SECRET_HEADER_WORDS) else value)
        for name, value in headers.items()
    }


class _Handler(DispatchingHandler):
    server: _Server
    server_version = "KoreSandboxMedia/1.0"

    def _dispatch(self) -> None:
        try:
            self._serve()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:  # noqa: BLE001 - answer 500 instead of killing the connection thread
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            self._send(500, "application/json", json.dumps(error_body("Internal Server Error", 500)).encode())

    def _serve(self) -> None:
        hooks = self.server.owner._hooks
        at = hooks.now()
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), value)
        path = urlsplit(self.path).path
        token = path[len(DOWNLOAD_PATH_PREFIX) :] if path.startswith(DOWNLOAD_PATH_PREFIX) else None
        shown_path = DOWNLOAD_PATH_PREFIX + "<token>" if token else path
        everything = " ".join([self.path, *headers.values()])
        seen_jwt = bool(JWT_PATTERN.search(everything))

        def record(status: int | None, export_id: str | None, fault: str | None = None) -> None:
            hooks.record(
                DownloadRequest(
                    self.command,
                    shown_path,
                    _redacted_headers(headers),
                    any(h in headers for h in AUTH_HEADERS),
                    seen_jwt,
                    status,
                    export_id,
                    at[0],
                    at[1],
                    fault,
                )
            )

        fault = hooks.take_fault(self.command, path)
        if self.command not in ("GET", "HEAD"):
            self.close_connection = True  # a body is never read, so the connection cannot be reused
        if fault is not None and fault.kind == "drop":
            record(None, None, "drop")
            self.close_connection = True
            return
        if fault is not None and fault.kind == "error":
            assert fault.status is not None
            record(fault.status, None, "error")
            self._send(
                fault.status,
                "application/json",
                json.dumps(fault.error_body()).encode(),
                fault.error_headers(),
            )
            return
        if self.command not in ("GET", "HEAD"):
            status, ctype, data, extra = (
                405,
                "application/json",
                error_body("Method Not Allowed", 405),
                {"Allow": "GET"},
            )
            record(status, None, fault.kind if fault else None)
            self._delay(fault)
            self._send(status, ctype, json.dumps(data).encode(), extra)
            return
        found = hooks.find(token) if token else None
        if found is None:
            record(404, None, fault.kind if fault else None)
            self._delay(fault)
            self._send(404, "application/json", json.dumps(error_body("Not Found", 404)).encode())
            return
        record(200, found.export_id, fault.kind if fault else None)
        self._delay(fault)
        ctype, extra = file_headers(found)
        self._send(200, ctype, found.content, extra)

    @staticmethod
    def _delay(fault: Fault | None) -> None:
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
