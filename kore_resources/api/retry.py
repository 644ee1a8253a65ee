"""Which failed HTTP attempts are retried, and after how long. Pure functions: no I/O, no clock.

The one rule that is easy to get wrong: Kore.ai's train POST is not idempotent. A second POST queues a
second training, so a non-idempotent request is retried only when the failure proves the server never
acted on it (the connection could not be opened, or the server refused it with 429). Everything else that
leaves the outcome unknown (a reset after sending, a read timeout, a 5xx) is left to the caller.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FailureKind(enum.Enum):
    CONNECT = "could not connect"  # the request never left this machine
    DROPPED = "connection dropped before a response"  # it may have reached the server
    READ_TIMEOUT = "no response within the read timeout"  # it may have reached the server
    HTTP = "HTTP error status"
    TLS = "TLS verification failed"  # permanent until the certificate or the CA bundle changes


@dataclass(frozen=True)
class AttemptFailure:
    """How one HTTP attempt failed."""

    kind: FailureKind
    status: int | None = None
    retry_after: float | None = None  # seconds, from a Retry-After header
    detail: str = ""

    def describe(self) -> str:
        if self.kind is FailureKind.HTTP:
            return f"HTTP {self.status}"
        return str(self.kind.value)


#: Statuses that mean "try again later": the request was refused or a gateway had a transient problem.
#: 500 is included for idempotent calls only: Kore.ai returns it for transient platform faults.
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

    def backoff(self, attempt: int, jitter: float) -> float:
        """Delay after failed attempt number `attempt` (1-based); `jitter` in [0, 1) spreads retries."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        # "Equal jitter": at least half the backoff, so retries still spread out but never hammer.
        return ceiling / 2 + ceiling / 2 * jitter


def is_retryable(failure: AttemptFailure, *, idempotent: bool) -> bool:
    """Whether repeating the request is safe and may help."""
    if failure.kind is FailureKind.TLS:
        return False
    if failure.kind is FailureKind.CONNECT:
        return True
    if failure.kind is FailureKind.HTTP:
        if failure.status == 429:
            return True  # refused by the rate limiter: nothing was done
        return idempotent and failure.status in RETRYABLE_STATUSES
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
) -> float | None:
    """Seconds to wait before the next attempt, or None to give up.

    `remaining` is the time left before the operation's deadline; a retry that could not start before it
    is not attempted. A server's Retry-After wins over our own backoff when it is longer. A host that could
    not be connected to and has never answered (`host_answered`) gets only `policy.unreached_attempts`:
    it is most likely the wrong host or port, and a user should hear so in seconds. A host that answered
    before and then drops is ridden out like any transient failure.
    """
    if not is_retryable(failure, idempotent=idempotent) or attempt >= policy.max_attempts:
        return None
    if failure.kind is FailureKind.CONNECT and not host_answered and attempt >= policy.unreached_attempts:
        return None
    delay = policy.backoff(attempt, jitter)
    if failure.retry_after is not None:
        delay = max(delay, failure.retry_after)
    if delay >= remaining:
        return None
    return delay
