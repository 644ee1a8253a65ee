"""What the kore-doctor tests share: running `main` in-process with the environment a user would have, the
report's lines as records, the proof that no call changed anything, and small servers that are not
Kore.ai."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from kore_resources.doctor.__main__ import main
from kore_sandbox import Sandbox, SandboxApp

KORE_VARIABLES = (
    "KORE_HOST",
    "KORE_CLIENT_ID",
    "KORE_CLIENT_SECRET",
    "KORE_ADMIN_CLIENT_ID",
    "KORE_ADMIN_CLIENT_SECRET",
)
#: The only calls that change nothing: reads, status calls, and the variables export (a POST that reads).
READ_ONLY_POST = "/variables/export"


@dataclass(frozen=True)
class Report:
    code: int
    output: str
    source: str = ""
    checks: list[dict[str, object]] = field(default_factory=list)

    def where(self, **fields: object) -> list[dict[str, object]]:
        return [c for c in self.checks if all(c.get(k) == v for k, v in fields.items())]

    def one(self, **fields: object) -> dict[str, object]:
        found = self.where(**fields)
        assert len(found) == 1, (fields, found, self.output)
        return found[0]

    @property
    def problems(self) -> list[dict[str, object]]:
        return self.where(status="problem")

    def families(self, status: str) -> set[object]:
        return {c["family"] for c in self.where(status=status)}


def use_apps(
    monkeypatch: pytest.MonkeyPatch,
    app: SandboxApp | None,
    *,
    secret: str | None = None,
    admin: SandboxApp | None = None,
) -> None:
    """The environment of a user's shell: only the KORE_* variables given."""
    for name in KORE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    if app is not None:
        monkeypatch.setenv("KORE_CLIENT_ID", app.client_id)
        monkeypatch.setenv("KORE_CLIENT_SECRET", app.client_secret if secret is None else secret)
    if admin is not None:
        monkeypatch.setenv("KORE_ADMIN_CLIENT_ID", admin.client_id)
        monkeypatch.setenv("KORE_ADMIN_CLIENT_SECRET", admin.client_secret)


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> Report:
    """`kore-doctor ARGS --json`, in-process; and the same run's text, checked to say the same."""
    code = main([*args, "--json"])
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] == (code == 0)
    assert sum(document["summary"].values()) == len(document["checks"])
    return Report(code, json.dumps(document, indent=1), document["source"], document["checks"])


def doctor_text(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def assert_nothing_changed(sandbox: Sandbox) -> None:
    """Every call the sandbox received read only: GETs and the variables export."""
    changing = [
        (call.method, call.path, call.status)
        for call in sandbox.calls
        if call.method != "GET" and not (call.method == "POST" and call.path.endswith(READ_ONLY_POST))
    ]
    assert changing == []
    assert sandbox.trainings == [] and sandbox.pipeline.imports == [] and sandbox.pipeline.publishes == []
    assert sandbox.definitions.imports == []


def assert_secrets_not_shown(output: str, secrets: Sequence[str]) -> None:
    for secret in secrets:
        assert secret not in output
    assert "eyJ" not in output  # no JWT (a JSON header, base64url)


class _HtmlPage(http.server.BaseHTTPRequestHandler):
    """A web server that is not Kore.ai: every path answers an HTML page."""

    requests_seen: list[tuple[str, str]]

    def _page(self) -> None:
        type(self).requests_seen.append((self.command, self.path))
        body = b"<!doctype html><html><head><title>Welcome</title></head><body>It works</body></html>"
        self.send_response(200 if self.path == "/" else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _page

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def html_server() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """An `http.server` on 127.0.0.1 answering HTML: its URL and the (method, path) of every request."""
    seen: list[tuple[str, str]] = []
    handler = type("HtmlPage", (_HtmlPage,), {"requests_seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
