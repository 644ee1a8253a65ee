"""What a failed call says: the one wording of every failure of the HTTP layer. Pure: the transport hands
over what happened, this turns it into the exception a user reads in `pulumi up`'s output.

Every message says what went wrong *and* what to do about it (the config key, the scope, the builder
page). No message ever contains a client secret, a JWT or a download link's token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .endpoints import DOWNLOAD, Endpoint
from .errors import (
    AmbiguousRequestError,
    AuthenticationError,
    HostUnreachableError,
    KoreApiError,
    RateLimitedError,
)
from .retry import AttemptFailure, FailureKind, RateLimit, is_retryable

REFUSED = "connection refused"
CONNECT_TIMEOUT = "no connection within the connect timeout"


@dataclass(frozen=True, kw_only=True)
class FailedCall:
    """Everything known of a call whose last attempt failed, for its message."""

    endpoint: Endpoint[Any]
    method: str
    url: str
    host: str
    failure: AttemptFailure
    #: The answer of the last attempt, if any: its status, headers and JSON body (None if not JSON).
    status: int | None = None
    headers: Mapping[str, str] | None = None
    body: Any = None
    #: Every attempt's outcome, in order (`AttemptFailure.describe()`).
    tried: tuple[str, ...] = ()
    #: The host answered (anything) earlier in this process.
    host_answered: bool = True
    #: The language the request named (`bot-language`, `language`), for the advice on a refusal of it.
    language: str | None = None


def auth_advice(scope: str) -> str:
    return (
        "Check kore:clientId and kore:clientSecret (or KORE_CLIENT_ID / KORE_CLIENT_SECRET), that the JWT "
        f"app has the API scope for this call ({scope}), that the bot id is right and the bot is linked to "
        "the app, and that the bot and its API scope mapping are published."
    )


def parse_error_envelope(body: Any) -> tuple[str | None, int | None]:
    """The first `msg` and `code` of Kore.ai's error envelope, or (None, None) if the body is not one. Also
    `message` (Kore.ai's newer pages spell the envelope so)."""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            msg = errors[0].get("msg", errors[0].get("message"))
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


def origin(url: str) -> str:
    """Scheme and host of a URL, for messages: a download link's path and query may be a bearer token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def final_error(call: FailedCall) -> KoreApiError:
    """The exception for `call`: the kind (`AuthenticationError`, `RateLimitedError`, ...) on the axes a
    caller branches on, and the message a user acts on."""
    failure, endpoint = call.failure, call.endpoint
    if endpoint is DOWNLOAD:
        return KoreApiError(
            f"Downloading the ML export from {origin(call.url)} failed ({failure.describe()}); the export's "
            "link may have expired. Nothing was changed; run `pulumi refresh` again.",
            status=call.status,
            transient=True,
        )
    if failure.kind is FailureKind.TLS:
        return _tls_error(call)
    if failure.kind is FailureKind.CONNECT:
        return _connect_error(call)
    history = f" after {len(call.tried)} attempts ({', '.join(call.tried)})" if len(call.tried) > 1 else ""
    transient = is_retryable(failure, idempotent=True, retry_statuses=endpoint.retry_statuses)
    ambiguous = not endpoint.idempotent and transient and not failure.rate_limited
    not_resent = (
        f" The request may have reached Kore.ai, so it was not sent again; nothing was recorded, so the "
        f"next `pulumi up` will {endpoint.redo} again."
    )
    if call.status is None:
        message = f"{failure.describe()} for {call.method} {call.url}{history}."
        if ambiguous:
            return AmbiguousRequestError(message + not_resent, outcome=failure.describe(), transient=True)
        return KoreApiError(message, transient=transient)
    status = call.status
    api_msg, code = parse_error_envelope(call.body)
    detail = f"HTTP {status}" + (f" '{api_msg}'" if api_msg else "") + (f" (code {code})" if code else "")
    prefix = f"Kore.ai answered {detail} to {call.method} {call.url}{history}."
    fields: dict[str, Any] = {"status": status, "code": code, "api_message": api_msg}
    if failure.rate_limited:
        return _rate_limited(call, prefix, fields)
    if 300 <= status < 400:
        location = (call.headers or {}).get("Location", "?")
        return KoreApiError(
            f"{prefix} It redirects to {location}; redirects are not followed, so the auth token stays "
            "on the configured host. Set kore:host to the final host.",
            **fields,
        )
    if status == 401 or code == 4002:
        return AuthenticationError(f"{prefix} {auth_advice(endpoint.scope)}", **fields)
    if status == 500 and endpoint.permanent_500:
        return KoreApiError(f"{prefix} {endpoint.permanent_500}.", **fields)
    if ambiguous:
        return AmbiguousRequestError(prefix + not_resent, outcome=detail, transient=True, **fields)
    if status == 400 and "streamid" in (api_msg or "").lower():
        return KoreApiError(
            f"{prefix} Kore.ai does not know the bot, or the Admin Console app's account does not hold it: "
            "check the bot id (the resource's bot_id; in the shipped program, the bot's botId in the stack "
            "config), as the bot's App Settings show it, and that the app belongs to that bot's account.",
            **fields,
        )
    if status == 400 and call.language is not None and "lang" in (api_msg or "").lower():
        return KoreApiError(
            f"{prefix} The request named bot language {call.language!r}: enable that language on the bot "
            "(the builder's Languages page) and publish it, or remove it from the program's languages.",
            **fields,
        )
    return KoreApiError(prefix, transient=transient, **fields)


def _rate_limited(call: FailedCall, prefix: str, fields: dict[str, Any]) -> RateLimitedError:
    failure = call.failure
    retry_after = "" if failure.retry_after is None else f" (Retry-After: {failure.retry_after:g}s)"
    if failure.rate_limit is RateLimit.HOUR:
        when = "Its hourly budget for this bot is spent; run `pulumi up` again within the hour"
    else:
        when = "Waiting for the limit did not fit the deadline (timeout_seconds); run `pulumi up` again"
    return RateLimitedError(
        f"{prefix} That is Kore.ai's rate limit{retry_after}: nothing was done, and nothing was recorded. "
        f"{when}, or ask Kore.ai support for a higher limit. Kore.ai allows 60 calls per minute and 1,800 "
        "per hour per bot, shared by everything that calls the bot's APIs.",
        transient=True,
        **fields,
    )


def _tls_error(call: FailedCall) -> KoreApiError:
    if is_plain_http(call.failure.detail):
        return KoreApiError(
            f"{call.host} does not speak TLS: it answered the https:// connection in plain HTTP. Kore.ai "
            "platforms use https://; a host that speaks plain HTTP (such as the local sandbox) needs an "
            "http:// URL in kore:host (accepted for loopback addresses only)."
        )
    return KoreApiError(
        f"TLS verification failed for {call.host}: {call.failure.detail}. If the host uses a private CA, "
        "point REQUESTS_CA_BUNDLE at its CA bundle; verification cannot be turned off."
    )


def _connect_error(call: FailedCall) -> HostUnreachableError:
    attempts = f"{len(call.tried)} attempt{'s' if len(call.tried) != 1 else ''}"
    reason = call.failure.detail or "could not connect"
    if not call.host_answered:
        return HostUnreachableError(
            f"Could not connect to {call.host} ({reason}; {attempts}): nothing has answered there. Check "
            "kore:host (or the resource's host): the host name, the port, and that it is reachable from "
            "here; for the local sandbox, that it is running on that port.",
            refused=reason == REFUSED,
        )
    return HostUnreachableError(
        f"{call.host} stopped answering ({reason}; {attempts}) after it had answered.",
        transient=True,
        refused=reason == REFUSED,
    )


def tls_reason(text: str) -> str:
    """The reason in the innermost SSL error, whole (urllib3 wraps it in pool and retry prose)."""
    match = re.search(r"certificate verify failed: [^')(]*", text)
    if match:
        return match.group(0).strip()
    match = re.search(r"\[SSL(?:: [A-Z_]+)?\] [^')(]*", text)
    return match.group(0).strip() if match else text


def is_plain_http(tls_reason: str) -> bool:
    """OpenSSL's words for "the other side sent plain HTTP" (a TLS client talking to an http:// server)."""
    lowered = tls_reason.lower()
    return any(words in lowered for words in ("wrong version number", "record layer failure", "http request"))


def connect_reason(text: str) -> str:
    """Why a connection could not be opened, in a user's words."""
    text = text.lower()
    if "refused" in text:
        return REFUSED
    if "name or service not known" in text or "nodename nor servname" in text or "resolution" in text:
        return "the host name does not resolve"
    if "timed out" in text:
        return CONNECT_TIMEOUT
    if "unreachable" in text:
        return "the network or host is unreachable"
    return "could not connect"
