"""The one request path: every Kore.ai call (and the export's download) goes out here, attempt by attempt,
retried as `retry` decides, within one deadline, and fails with `failures`' wording.

Every request carries a freshly minted JWT (never logged; not to another host), explicit connect/read
timeouts and TLS verification (always; a private CA goes in the standard `REQUESTS_CA_BUNDLE`), and never
follows a redirect that could carry the token: requests strips `Authorization` on a cross-host redirect,
but not our custom `auth` header. Before each attempt it waits for room in the process-wide rate budget
(`ratelimit`), so concurrent operations together stay within Kore.ai's documented limits.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from .auth import Credentials, mint_jwt
from .endpoints import Endpoint
from .errors import HostUnreachableError, KoreApiError
from .failures import (
    CONNECT_TIMEOUT,
    REFUSED,
    FailedCall,
    connect_reason,
    final_error,
    parse_error_envelope,
    parse_retry_after,
    tls_reason,
)
from .ratelimit import RateBudget
from .retry import AttemptFailure, FailureKind, RetryPolicy, rate_limit_refusal, retry_delay

CONNECT_TIMEOUT_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 60.0
USER_AGENT = "kore-resources (Pulumi dynamic provider)"
#: An ML export of a bot language is text; anything this large is not one.
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Request:
    """One request, as the transport sends it (every attempt the same)."""

    endpoint: Endpoint[Any]
    url: str
    #: For the rate budget's key; None for calls that name no bot (upload).
    bot_id: str | None = None
    headers: Mapping[str, str] | None = None
    params: Mapping[str, str] | None = None
    #: JSON, or multipart form fields (`data`) with files (`files`: name -> (file name, content, type)).
    json: Any = None
    data: Mapping[str, str] | None = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    #: Send the `auth` JWT. False for a download on another host: the token goes to `kore:host` only.
    authenticate: bool = True
    #: The answer is a file (read bounded, as bytes), not JSON.
    download: bool = False
    #: For messages: the bot language the request names.
    language: str | None = None


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


class Transport:
    """Sends requests to one host with one app's credentials. One per thread (sessions are not shared
    between threads); the rate budget and reachability may be shared by every transport of the process."""

    def __init__(
        self,
        host: str,
        credentials: Credentials,
        *,
        session: requests.Session,
        budget: RateBudget | None,
        reachability: Reachability,
        policy: RetryPolicy,
        connect_timeout: float,
        read_timeout: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self.host = host
        self._credentials = credentials
        self._session = session
        self._budget = budget
        self._reachability = reachability
        self._policy = policy
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._sleep = sleep
        self._clock = clock
        #: Connections the host refused (nothing listening), over all requests, retried ones included: a
        #: platform that restarted between two attempts shows here even if the retry succeeded.
        self.refused_connections = 0

    def send(self, request: Request, *, deadline: float) -> Any:
        """The answer's JSON (or a download's bytes), after the retries `retry` allows; else the error."""
        endpoint = request.endpoint
        other_host = not request.authenticate
        session = requests.Session() if other_host else self._session  # no cookies, no token elsewhere
        budget_key = (self.host, request.bot_id or "", endpoint.budget)
        tried: list[str] = []
        first_failure_at = 0.0
        # What is said if the deadline leaves no attempt at all.
        failure = AttemptFailure(FailureKind.READ_TIMEOUT)
        response: requests.Response | None = None
        body: Any = None
        try:
            for attempt in range(1, self._policy.max_attempts + 1):
                if self._budget is not None and not request.download:
                    self._budget.acquire(budget_key, deadline, f"{endpoint.method} {request.url}")
                remaining = deadline - self._clock()
                if remaining <= 0:
                    break
                outcome, response, body = self._attempt(session, request, remaining)
                if outcome is None:
                    return body
                failure = outcome
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
                    host_answered=self._reachability.answered(self.host) or other_host,
                    retry_statuses=endpoint.retry_statuses,
                )
                if failure.rate_limited and self._budget is not None:
                    # Kore.ai's own count disagrees with ours (other clients share the bot): hold back every
                    # operation of this process on this bot, not just this one.
                    self._budget.block(budget_key, failure.retry_after or delay or self._policy.base_delay)
                if delay is None:
                    error = self._error(request, failure, response, body, tried)
                    if isinstance(error, HostUnreachableError):
                        error.seconds = self._clock() - first_failure_at
                    raise error
                self._sleep(delay)
        finally:
            if other_host:
                session.close()
        if request.download:
            raise self._error(request, failure, response, body, tried)
        raise KoreApiError(
            f"{endpoint.method} {request.url}: the deadline passed before the request could be sent"
            + (f" (tried: {', '.join(tried)})" if tried else ""),
            transient=bool(tried),
        )

    def _error(
        self,
        request: Request,
        failure: AttemptFailure,
        response: requests.Response | None,
        body: Any,
        tried: list[str],
    ) -> KoreApiError:
        return final_error(
            FailedCall(
                endpoint=request.endpoint,
                method=request.endpoint.method,
                url=request.url,
                host=self.host,
                failure=failure,
                status=response.status_code if response is not None else None,
                headers=response.headers if response is not None else None,
                body=body,
                tried=tuple(tried),
                host_answered=self._reachability.answered(self.host),
                language=request.language,
            )
        )

    def _attempt(
        self, session: requests.Session, request: Request, remaining: float
    ) -> tuple[AttemptFailure | None, requests.Response | None, Any]:
        """One attempt: (None, response, the answer), or (how it failed, the response if any, its JSON
        body if any)."""
        headers = {"User-Agent": USER_AGENT, **(request.headers or {})}
        if request.authenticate:
            headers["auth"] = mint_jwt(self._credentials)
        if request.endpoint.method == "POST" and request.files is None:  # multipart sets its own boundary
            headers["Content-Type"] = "application/json"
        try:
            response = session.request(
                request.endpoint.method,
                request.url,
                headers=headers,
                params=request.params,
                json=request.json,
                data=request.data,
                files=request.files,
                timeout=(min(self._connect_timeout, remaining), min(self._read_timeout, remaining)),
                # Never hand the token on; a bare link (a download elsewhere) may redirect.
                allow_redirects=not request.authenticate,
                verify=True,  # never off; requests still applies REQUESTS_CA_BUNDLE for verify=True
                stream=request.download,
            )
        except requests.exceptions.SSLError as exc:
            return AttemptFailure(FailureKind.TLS, detail=tls_reason(str(exc))), None, None
        except requests.exceptions.ConnectTimeout:
            return self._refused_or(AttemptFailure(FailureKind.CONNECT, detail=CONNECT_TIMEOUT)), None, None
        except requests.exceptions.ReadTimeout:
            return AttemptFailure(FailureKind.READ_TIMEOUT), None, None
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                return (
                    self._refused_or(AttemptFailure(FailureKind.CONNECT, detail=connect_reason(str(exc)))),
                    None,
                    None,
                )
            return AttemptFailure(FailureKind.DROPPED), None, None
        except requests.exceptions.RequestException as exc:
            return AttemptFailure(FailureKind.DROPPED, detail=type(exc).__name__), None, None
        if request.authenticate:
            self._reachability.mark(self.host)
        with response:
            if response.status_code < 300:
                if request.download:
                    return None, response, _bounded_content(response)
                return None, response, _json_body(response, request)
            body = _json_or_none(response)
            message, _code = parse_error_envelope(body)
            failure = AttemptFailure(
                FailureKind.HTTP,
                status=response.status_code,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                rate_limit=rate_limit_refusal(response.status_code, message),
            )
            return failure, response, body

    def _refused_or(self, failure: AttemptFailure) -> AttemptFailure:
        if failure.detail == REFUSED:
            self.refused_connections += 1
        return failure


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """Tell "never connected" from "connection dropped after sending": only the first is safe to resend.

    urllib3 wraps a failed connect in NewConnectionError (refused, unreachable, DNS); anything else that
    surfaces as a ConnectionError happened on an open connection, after the request may have been sent.
    """
    reason: Any = exc.args[0] if exc.args else None
    cause = getattr(reason, "reason", reason)
    return type(cause).__name__ in ("NewConnectionError", "NameResolutionError") or isinstance(
        cause, ConnectionRefusedError
    )


def _bounded_content(response: requests.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > MAX_DOWNLOAD_BYTES:
            raise KoreApiError(f"the ML export file is larger than {MAX_DOWNLOAD_BYTES} bytes; not read")
        chunks.append(chunk)
    return b"".join(chunks)


def _json_or_none(response: requests.Response | None) -> Any:
    if response is None:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _json_body(response: requests.Response, request: Request) -> Any:
    try:
        return response.json()
    except ValueError:
        raise KoreApiError(
            f"Kore.ai answered {request.endpoint.method} {request.url} with HTTP {response.status_code} but "
            f"the body is not JSON: {response.text[:200]!r}. Check that kore:host points at the Kore.ai "
            "platform."
        ) from None
