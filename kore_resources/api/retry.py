"""Which failed HTTP attempts are retried, and after how long. Pure functions: no I/O, no clock.

The one rule that is easy to get wrong: Kore.ai's train POST is not idempotent. A second POST queues a
second training, so a non-idempotent request is retried only when the failure proves the server never
acted on it (the connection could not be opened, or the rate limiter refused it). Everything else that
leaves the outcome unknown (a reset after sending, a read timeout, a 5xx) is left to the caller.

A rate-limit refusal is recognized by its status (429) *or* by its words: the docs give only the message
("Rate limit for this API has been reached...", "You've exceeded the per-minute rate limit...", and the
hourly one), not the status or headers (docs/kore-api.md §5.2).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class FailureKind(enum.Enum):
    CONNECT = "could not connect"  # the request never left this machine
    DROPPED = "connection dropped before a response"  # it may have reached the server
    READ_TIMEOUT = "no response within the read timeout"  # it may have reached the server
    HTTP = "HTTP error status"
    TLS = "TLS verification failed"  # permanent until the certificate or the CA bundle changes


class RateLimit(enum.Enum):
    """Which of Kore.ai's windows refused a call (docs/kore-api.md §5): it decides how long waiting takes."""

    MINUTE = "per-minute"
    HOUR = "hourly"
    UNKNOWN = "rate"  # a 429, or the older wording, which names no window


def rate_limit_refusal(status: int, message: str | None) -> RateLimit | None:
    """Whether an HTTP error is Kore.ai's rate limiter refusing the call, and which window: any documented
    wording in the error's message (whatever the status), or a 429."""
    text = (message or "").lower()
    if re.search(r"rate[ -]?limit", text):
        if "hour" in text:
            return RateLimit.HOUR
        if "minute" in text:
            return RateLimit.MINUTE
        return RateLimit.UNKNOWN
    return RateLimit.UNKNOWN if status == 429 else None


@dataclass(frozen=True)
class AttemptFailure:
    """How one HTTP attempt failed."""

    kind: FailureKind
    status: int | None = None
    retry_after: float | None = None  # seconds, from a Retry-After header
    detail: str = ""
    #: The rate limiter refused the call (`rate_limit_refusal`); None when it did not.
    rate_limit: RateLimit | None = None

    @property
    def rate_limited(self) -> bool:
        return self.rate_limit is not None or (self.kind is FailureKind.HTTP and self.status == 429)

    def describe(self) -> str:
        if self.kind is FailureKind.HTTP:
            refused = " (rate limited)" if self.rate_limited and self.status != 429 else ""
            return f"HTTP {self.status}{refused}"
        return str(self.kind.value)


#: Statuses that mean "try again later": the request was refused or a gateway had a transient problem.
#: 500 is included for idempotent calls only: Kore.ai returns it for transient platform faults (but not
#: on every endpoint: `Endpoint.retry_statuses`).
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded by attempts and by the operation's deadline."""

    base_delay: float = 1.0
    max_delay: float = 30.0
    max_attempts: int = 6
    #: Attempts at a host that has never answered in this process (a wrong `kore:host`, nothing listening):
    #: a few seconds of backoff, then the error, instead of the whole `timeout_seconds`.
    unreached_attempts: int = 3
    #: The least wait after a rate-limit refusal that said nothing of when to come back (no Retry-After):
    #: the minute window needs most of a minute to roll, so the attempts together wait about that long.
    rate_limited_delay: float = 12.0

    def backoff(self, attempt: int, jitter: float) -> float:
        """Delay after failed attempt number `attempt` (1-based); `jitter` in [0, 1) spreads retries."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        # "Equal jitter": at least half the backoff, so retries still spread out but never hammer.
        return ceiling / 2 + ceiling / 2 * jitter


def is_retryable(
    failure: AttemptFailure, *, idempotent: bool, retry_statuses: frozenset[int] = RETRYABLE_STATUSES
) -> bool:
    """Whether repeating the request is safe and may help."""
    if failure.kind is FailureKind.TLS:
        return False
    if failure.kind is FailureKind.CONNECT:
        return True
    if failure.rate_limited:
        # Refused by the rate limiter: nothing was done. The hourly window, though, is not worth waiting
        # for unless Kore.ai said when it opens.
        return failure.rate_limit is not RateLimit.HOUR or failure.retry_after is not None
    if failure.kind is FailureKind.HTTP:
        return idempotent and failure.status in retry_statuses
    # DROPPED / READ_TIMEOUT: the server may have acted on the request.
    return idempotent


def retry_delay(
    failure: AttemptFailure,
    *,
    attempt: int,
    idempotent: bool,
    remaining: float,
    policy: RetryPolicy,
    jitter: float,
    host_answered: bool = True,
    retry_statuses: frozenset[int] = RETRYABLE_STATUSES,
) -> float | None:
    """Seconds to wait before the next attempt, or None to give up.

    `remaining` is the time left before the operation's deadline; a retry that could not start before it
    is not attempted. A server's Retry-After wins over our own backoff when it is longer; a rate-limit
    refusal without one waits at least `policy.rate_limited_delay`. A host that could not be connected to
    and has never answered (`host_answered`) gets only `policy.unreached_attempts`: it is most likely the
    wrong host or port, and a user should hear so in seconds. A host that answered before and then drops
    is ridden out like any transient failure.
    """
    if attempt >= policy.max_attempts or not is_retryable(
        failure, idempotent=idempotent, retry_statuses=retry_statuses
    ):
        return None
    if failure.kind is FailureKind.CONNECT and not host_answered and attempt >= policy.unreached_attempts:
        return None
    delay = policy.backoff(attempt, jitter)
    if failure.retry_after is not None:
        delay = max(delay, failure.retry_after)
    elif failure.rate_limited:
        delay = max(delay, policy.rate_limited_delay)
    if delay >= remaining:
        return None
    return delay
