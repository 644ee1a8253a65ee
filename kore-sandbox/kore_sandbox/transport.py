"""The HTTP plumbing the sandbox's two servers share: the API host (`server.py`) and the download host
(`download.py`). Both serve HTTP/1.1 keep-alive connections on a loopback address in daemon threads, send
every method to one dispatcher, and close their open connections when they stop.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server on an IPv4 or IPv6 address; its handlers note their connections in
    `connections`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], handler: type[DispatchingHandler], connections: OpenConnections
    ) -> None:
        self.connections = connections
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), which can block on DNS; skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])


class OpenConnections:
    """The sockets of a server's open connections, so that stopping it also ends its keep-alive
    connections (they would otherwise outlive the server), and how many were ever opened."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self.opened = 0

    def add(self, sock: socket.socket) -> int:
        """Count a new connection; its number (1, 2, ...)."""
        with self._lock:
            self.opened += 1
            self._sockets.add(sock)
            return self.opened

    def discard(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def shut_down(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class DispatchingHandler(BaseHTTPRequestHandler):
    """Sends every method to `_dispatch` (which answers 405 where a method is not served), and notes
    each connection in the server's `connections` while it is open (`connection_id` numbers them)."""

    server: LoopbackServer
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: headers and body go out in two writes; with Nagle on, a client that sends its next
    # request right away (keep-alive) waits ~40 ms for the body (delayed ACK). bench/ found it.
    disable_nagle_algorithm = True
    timeout = 300  # idle keep-alive connections are closed after 5 minutes

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self.connection_id = self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.connections.discard(self.connection)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the sandbox records requests itself (without secrets)

    def _any_method(self) -> None:
        self._dispatch()  # looked up on the instance, so a subclass's `_dispatch` answers

    # BaseHTTPRequestHandler answers a method `M` with `do_M`; every method gets the same dispatcher.
    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _any_method

    def _dispatch(self) -> None:
        raise NotImplementedError

    def _send(
        self, status: int, content_type: str, data: bytes, headers: Mapping[str, str] | None = None
    ) -> None:
        """One complete answer; no body on HEAD, and `Connection: close` when the connection ends."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()
