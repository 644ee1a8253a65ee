"""A recording proxy: a loopback HTTP server that forwards every request to a Kore.ai host (a tenant over
https, or a sandbox) and records each exchange redacted (`recording.py`), so that a run of kore-resources
against a real tenant leaves a recording of what the tenant answered, and nothing secret.

    with RecordingProxy("https://platform.kore.ai", label="tenant") as proxy:
        ...  # point kore:host at proxy.url (http:// is accepted for loopback)
        proxy.begin_step("up")
    Path("recording.json").write_text(proxy.recording().dumps())

It forwards the request as it came (the `auth` header included: the tenant needs it) and never records a
header's value, a body, a token or an id. Links in an answer that point at the target (an export's
`downloadUrl` on the API host) are rewritten to point at the proxy, so the client treats them as its
configured host would be treated and the download is recorded too; links elsewhere are left alone (and
their downloads are not recorded). Redirects are passed back, never followed. Answers are asked for
uncompressed (`Accept-Encoding: identity`) so that their shapes can be read.
"""

from __future__ import annotations

import functools
import http.client
import json
import ssl
import threading
from collections.abc import Mapping
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from .recording import Exchange, Recording, exchange_of
from .server import is_loopback_host
from .transport import DispatchingHandler, LoopbackServer, OpenConnections

#: Headers of one connection, never forwarded (RFC 9110 §7.6.1), and those the proxy sets itself.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "accept-encoding",
        "content-encoding",
    }
)
MAX_BODY_BYTES = 64 << 20


def target_problem(target: str) -> str | None:
    """Why the proxy cannot forward to `target`, or None: https://, or http:// to a loopback address."""
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{target!r} is not an http(s) URL with a host"
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        return f"{target!r} is plain http:// to a host that is not loopback; use https://"
    if parts.query or parts.fragment or parts.username or parts.password:
        return f"{target!r} must be a base URL: no query, fragment or credentials"
    return None


def forwarded_headers(headers: Mapping[str, str] | list[tuple[str, str]], host: str) -> dict[str, str]:
    """The request's headers as sent on to `host` (its `Host`), without the connection's own."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    kept = {name: value for name, value in items if name.lower() not in HOP_BY_HOP}
    return {**kept, "Host": host, "Accept-Encoding": "identity"}


def rewritten_links(body: bytes, content_type: str | None, target: str, proxy: str) -> bytes:
    """A JSON answer with every string that starts with the target's base URL pointing at the proxy
    instead; any other body as it is."""
    if not (content_type or "").lower().startswith("application/json") or target.encode() not in body:
        return body
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return body

    def rewrite(item: object) -> object:
        if isinstance(item, str) and (item == target or item.startswith(target + "/")):
            return proxy + item[len(target) :]
        if isinstance(item, list):
            return [rewrite(element) for element in item]
        if isinstance(item, dict):
            return {key: rewrite(element) for key, element in item.items()}
        return item

    return json.dumps(rewrite(value)).encode("utf-8")


class RecordingProxy:
    """Forwards to `target` from `http://<listen>:<port>` (a free port), recording every exchange.

    `label` names the target in the recording (`sandbox`, `tenant`); `ca_file` is a CA bundle for a
    private CA (the system's otherwise); `timeout` bounds each forwarded request. `begin_step(name)` marks
    the exchanges that follow (the acceptance suite's `up`, `refresh`, ...)."""

    def __init__(
        self,
        target: str,
        *,
        label: str,
        listen: str = "127.0.0.1",
        ca_file: str | None = None,
        timeout: float = 300.0,
    ) -> None:
        problem = target_problem(target)
        if problem is not None:
            raise ValueError(problem)
        if not is_loopback_host(listen):
            raise ValueError(f"refusing to listen on {listen!r}: the proxy is for this machine only")
        self.target = target.rstrip("/")
        self.label = label
        self._listen = listen
        self._ca_file = ca_file
        self._timeout = timeout
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = []
        self._step: str | None = None
        self._connections = OpenConnections()
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> RecordingProxy:
        if self._server is not None:
            raise RuntimeError("proxy already started")
        self._server = _ProxyServer((self._listen, 0), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="kore-recording-proxy",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.server_close()
        self._connections.shut_down()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> RecordingProxy:
        return self if self._server is not None else self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("proxy not started: call .start() first")
        host = f"[{self._listen}]" if ":" in self._listen else self._listen
        return f"http://{host}:{self._server.server_address[1]}"

    # -- the recording --------------------------------------------------------------------------------------
    def begin_step(self, name: str | None) -> None:
        """The exchanges from now on belong to step `name`."""
        with self._lock:
            self._step = name

    @property
    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    def exchanges_in(self, step: str) -> list[Exchange]:
        return [exchange for exchange in self.exchanges if exchange.step == step]

    def recording(self) -> Recording:
        return Recording(self.label, tuple(self.exchanges))

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)

    @property
    def step(self) -> str | None:
        with self._lock:
            return self._step

    # -- forwarding -----------------------------------------------------------------------------------------
    def forward(
        self, method: str, target_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send one request to the target: (status, headers, body)."""
        parts = urlsplit(self.target)
        assert parts.hostname is not None  # target_problem checked it
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=self._ca_file)
            connection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=self._timeout, context=context
            )
        else:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self._timeout)
        try:
            connection.request(
                method,
                parts.path + target_path,
                body=body or None,
                headers=forwarded_headers(headers, parts.netloc),
            )
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()


class _ProxyServer(LoopbackServer):
    def __init__(self, address: tuple[str, int], proxy: RecordingProxy) -> None:
        self.proxy = proxy
        super().__init__(address, _ProxyHandler, proxy._connections)


class _ProxyHandler(DispatchingHandler):
    server: _ProxyServer
    server_version = "KoreRecordingProxy/1.0"

    def _dispatch(self) -> None:
        proxy = self.server.proxy
        step = proxy.step
        split = urlsplit(self.path)
        headers = list(self.headers.items())
        body = self._body()
        if body is None:
            return
        # What the request was, recorded whether or not the target answered.
        asked = functools.partial(
            exchange_of,
            step=step,
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            language=self.headers.get("bot-language"),
        )
        try:
            status, answer_headers, answer = proxy.forward(self.command, self.path, dict(headers), body)
        except (OSError, http.client.HTTPException) as exc:
            proxy._record(asked(status=None, answer_headers=[], answer=b""))
            self.close_connection = True
            message = f"recording proxy: {proxy.target} did not answer ({type(exc).__name__})"
            self._send(
                502, "application/json", json.dumps({"errors": [{"msg": message, "code": 502}]}).encode()
            )
            return
        proxy._record(asked(status=status, answer_headers=answer_headers, answer=answer))
        content_type = next(
            (v for n, v in answer_headers if n.lower() == "content-type"), "application/octet-stream"
        )
        passed = {
            n: v for n, v in answer_headers if n.lower() not in HOP_BY_HOP and n.lower() != "content-type"
        }
        self._send(
            status, content_type, rewritten_links(answer, content_type, proxy.target, proxy.url), passed
        )

    def _body(self) -> bytes | None:
        """The request's body, or None once a refusal was sent (a chunked or oversized body)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._send(411, "application/json", b'{"errors":[{"msg":"Length Required","code":411}]}')
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            self._send(413, "application/json", b'{"errors":[{"msg":"Bad Content-Length","code":413}]}')
            return None
        return self.rfile.read(length)
