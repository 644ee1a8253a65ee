"""Transport-level fault rules: injected error responses, dropped connections, delayed responses.

ASSUMPTION (test knobs, not platform behaviour): rules apply only to the public API paths (never to
`/_sandbox/`); each request consumes at most one rule, the oldest that matches it. An injected error is
answered before auth and the request is not processed; a delay processes the request, then waits.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal

from .state import RATE_LIMIT_MINUTE_MSG

FaultKind = Literal["error", "drop", "delay"]


@dataclass
class Fault:
    kind: FaultKind
    remaining: int = 1
    method: str | None = None
    path_contains: str | None = None
    status: int | None = None  # error
    retry_after: float | str | None = None  # error: Retry-After header value
    body: object = None  # error: JSON body instead of the envelope
    after_read: bool = True  # drop
    seconds: float = 0.0  # delay
    every: int = 1  # apply to every `every`-th matching request only; the others pass (a flapping endpoint)
    seen: int = 0  # matching requests so far (for `every`)

    def __post_init__(self) -> None:
        if self.remaining < 1:
            raise ValueError(f"count must be >= 1, got {self.remaining}")
        if self.every < 1:
            raise ValueError(f"every must be >= 1, got {self.every}")
        if self.method is not None:
            self.method = self.method.upper()
        if self.kind == "error" and (self.status is None or not 400 <= self.status <= 599):
            raise ValueError(f"inject_error needs an HTTP error status 400-599, got {self.status!r}")
        if self.kind == "delay" and not (0 <= self.seconds < math.inf):
            raise ValueError(f"delay seconds must be >= 0, got {self.seconds!r}")

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method.upper()) and (
            self.path_contains is None or self.path_contains in path
        )

    def error_body(self) -> object:
        if self.body is not None:
            return self.body
        assert self.status is not None
        msg = RATE_LIMIT_MINUTE_MSG if self.status == 429 else _phrase(self.status)
        return {"errors": [{"msg": msg, "code": self.status}]}

    def error_headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        if isinstance(self.retry_after, str):
            return {"Retry-After": self.retry_after}
        return {"Retry-After": str(max(0, math.ceil(self.retry_after)))}

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "kind": self.kind,
            "count": self.remaining,
            "method": self.method,
            "path_contains": self.path_contains,
            "every": self.every,
        }
        if self.kind == "error":
            out.update(status=self.status, retry_after=self.retry_after, body=self.body)
        elif self.kind == "drop":
            out["after_read"] = self.after_read
        else:
            out["seconds"] = self.seconds
        return out


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class FaultQueue:
    def __init__(self) -> None:
        self._rules: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._rules.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the oldest matching rule and return a copy of it."""
        for rule in self._rules:
            if rule.matches(method, path):
                rule.seen += 1
                if (rule.seen - 1) % rule.every:
                    return None  # a flapping rule lets this request through
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._rules.remove(rule)
                return dataclasses.replace(rule, remaining=1)
        return None

    def pending(self) -> list[Fault]:
        return [dataclasses.replace(rule) for rule in self._rules]

    def clear(self) -> None:
        self._rules.clear()
