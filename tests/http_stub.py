"""A tiny HTTP server on 127.0.0.1 for what the sandbox should not do (redirects, TLS, an answer of any
shape) and for reading the headers a request carried; and a Kore.ai client tuned for tests."""

from __future__ import annotations

import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from kore_resources.api.auth import Credentials
from kore_resources.api.client import KoreClient
from kore_resources.api.retry import RetryPolicy
from kore_sandbox import DEMO_APP

CREDS = Credentials(DEMO_APP.client_id, DEMO_APP.client_secret)

#: Retries in fractions of a second: the tests drive failures, not waits.
FAST = RetryPolicy(base_delay=0.05, max_delay=0.2, max_attempts=4)

#: What a healthy train status answers.
FINISHED = {"trainingStatus": "Finished", "isMlInSyncWithSentences": True}


def client(url: str, **kwargs: Any) -> KoreClient:
    return KoreClient(url, CREDS, policy=kwargs.pop("policy", FAST), **kwargs)


def deadline(seconds: float = 30.0) -> float:
    return time.monotonic() + seconds


class Recorder(ThreadingHTTPServer):
    """Answers every request with `answer(handler)`, and records method, path and headers."""

    daemon_threads = True

    def __init__(self, answer: Any, *, tls: tuple[Path, Path] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer = answer
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
                recorder.answer(self)

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.socket = context.wrap_socket(self.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()


def json_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Any:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return answer
