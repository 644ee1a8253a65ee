"""The retry policy: which failures are retried and after how long (pure)."""

import pytest

from kore_resources.api.retry import (
    RETRYABLE_STATUSES,
    AttemptFailure,
    FailureKind,
    RateLimit,
    RetryPolicy,
    is_retryable,
    rate_limit_refusal,
    retry_delay,
)

pytestmark = pytest.mark.unit

POLICY = RetryPolicy(base_delay=1.0, max_delay=8.0, max_attempts=5)


def http(status, retry_after=None):
    return AttemptFailure(FailureKind.HTTP, status=status, retry_after=retry_after)


@pytest.mark.parametrize("idempotent", [True, False])
@pytest.mark.parametrize("failure", [AttemptFailure(FailureKind.CONNECT), http(429)])
def test_never_reached_or_refused_is_retried_for_every_call(failure, idempotent):
    assert is_retryable(failure, idempotent=idempotent)


@pytest.mark.parametrize(
    "failure",
    [
        http(500),
        http(502),
        http(503),
        http(504),
        AttemptFailure(FailureKind.DROPPED),
        AttemptFailure(FailureKind.READ_TIMEOUT),
    ],
)
def test_ambiguous_failures_are_retried_only_when_idempotent(failure):
    assert is_retryable(failure, idempotent=True)
    assert not is_retryable(failure, idempotent=False)  # a train POST may already have queued a training


@pytest.mark.parametrize("status", [400, 401, 404, 405, 412])
def test_client_errors_are_never_retried(status):
    assert not is_retryable(http(status), idempotent=True)


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling():
    assert POLICY.backoff(1, 0.0) == 0.5 and POLICY.backoff(1, 0.999) < 1.0
    assert POLICY.backoff(2, 0.0) == 1.0
    assert POLICY.backoff(3, 0.0) == 2.0
    assert POLICY.backoff(10, 0.999) <= 8.0


def test_retry_after_is_honoured_when_longer_than_backoff():
    assert (
        retry_delay(http(429, 7.0), attempt=1, idempotent=False, remaining=60, policy=POLICY, jitter=0) == 7.0
    )
    assert (
        retry_delay(http(429, 0.1), attempt=3, idempotent=False, remaining=60, policy=POLICY, jitter=0) == 2.0
    )


def test_no_retry_past_the_deadline_or_the_attempt_budget():
    assert retry_delay(http(503), attempt=1, idempotent=True, remaining=0.4, policy=POLICY, jitter=0) is None
    assert (
        retry_delay(http(429, 30), attempt=1, idempotent=True, remaining=20, policy=POLICY, jitter=0) is None
    )
    assert retry_delay(http(503), attempt=5, idempotent=True, remaining=600, policy=POLICY, jitter=0) is None
    assert retry_delay(http(503), attempt=4, idempotent=True, remaining=600, policy=POLICY, jitter=0) == 4.0


def test_failures_describe_themselves():
    assert http(503).describe() == "HTTP 503"
    assert "connect" in AttemptFailure(FailureKind.CONNECT).describe()


@pytest.mark.parametrize(
    ("status", "message", "window"),
    [
        (429, None, RateLimit.UNKNOWN),
        (429, "Too Many Requests", RateLimit.UNKNOWN),
        (
            400,
            "You've exceeded the per-minute rate limit. Please wait for sometime before retrying.",
            RateLimit.MINUTE,
        ),
        (
            403,
            "You've exceeded the hourly rate limit. Please wait for sometime before retrying.",
            RateLimit.HOUR,
        ),
        (
            500,
            "Rate limit for this API has been reached. Please try again after some time.",
            RateLimit.UNKNOWN,
        ),
        (200, "Rate limit for this API has been reached. Please try again later", RateLimit.UNKNOWN),
        (400, "Invalid StreamId", None),
        (503, None, None),
    ],
)
def test_a_rate_limit_refusal_is_known_by_its_status_or_by_its_documented_words(status, message, window):
    assert rate_limit_refusal(status, message) is window


def test_a_rate_limit_refusal_in_words_is_retried_for_every_call_after_the_window_floor():
    refused = AttemptFailure(FailureKind.HTTP, status=400, rate_limit=RateLimit.MINUTE)
    assert refused.rate_limited and refused.describe() == "HTTP 400 (rate limited)"
    assert is_retryable(refused, idempotent=False)  # nothing was done: even a train POST may go again
    delay = retry_delay(refused, attempt=1, idempotent=False, remaining=60, policy=POLICY, jitter=0)
    assert delay == POLICY.rate_limited_delay


def test_the_hourly_window_is_waited_for_only_when_kore_says_when():
    hourly = AttemptFailure(FailureKind.HTTP, status=429, rate_limit=RateLimit.HOUR)
    assert not is_retryable(hourly, idempotent=True)
    told = AttemptFailure(FailureKind.HTTP, status=429, retry_after=20.0, rate_limit=RateLimit.HOUR)
    assert retry_delay(told, attempt=1, idempotent=False, remaining=60, policy=POLICY, jitter=0) == 20.0


def test_an_endpoint_may_take_a_500_for_permanent():
    assert not is_retryable(http(500), idempotent=True, retry_statuses=RETRYABLE_STATUSES - {500})
    assert is_retryable(http(503), idempotent=True, retry_statuses=RETRYABLE_STATUSES - {500})
