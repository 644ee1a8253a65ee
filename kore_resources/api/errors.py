"""The errors of the Kore.ai HTTP layer: a setting it cannot use, and every way a call can fail.

Every message says what went wrong *and* what the user can do about it, because these messages are what
`pulumi up` prints. No message ever contains a client secret or a JWT. The resources' errors (a job that
failed or timed out, a bad input file) build on these in `kore_resources.errors`.
"""

from __future__ import annotations

from typing import Any


class KoreError(Exception):
    """Base class of every error raised by kore_resources."""


class ConfigurationError(KoreError, ValueError):
    """A setting is missing or invalid (stack config, environment, resource arguments)."""


class KoreApiError(KoreError):
    """Kore.ai answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        api_message: str | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.api_message = api_message
        #: The last failure was of a kind that may pass (5xx, 429, a dropped connection): polling callers
        #: may go on until their deadline.
        self.transient = transient


class AuthenticationError(KoreApiError):
    """401 / platform code 4002: wrong client id or secret, missing API scope, or an unknown bot."""


class RateLimitedError(KoreApiError):
    """Kore.ai's rate limit was hit and retrying within the deadline did not help."""


class AmbiguousRequestError(KoreApiError):
    """A request that is not safe to repeat (it starts a job) may or may not have reached Kore.ai: the
    connection dropped, the response timed out, or a gateway answered 5xx. It was not sent again.
    `outcome` says what happened, briefly (e.g. "HTTP 503")."""

    def __init__(self, message: str, *, outcome: str, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.outcome = outcome


class HostUnreachableError(KoreApiError):
    """The host did not accept connections: it never answered in this process (a wrong `kore:host`, or
    nothing listening there: not transient, it fails fast), or it stopped answering after it had (transient:
    ridden out within the deadline). `refused`: the host actively refused the connection, i.e. nothing was
    listening, so the platform's process was down (restarted or failed over) at that moment."""

    def __init__(self, message: str, *, refused: bool = False, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.refused = refused
        #: How long the connection attempts of the final error went on, in seconds.
        self.seconds = 0.0
