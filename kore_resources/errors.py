"""The exceptions kore_resources raises: one flat hierarchy, on the axes a caller branches on.

    KoreError
    ├── ConfigurationError (also a ValueError)   a stack config key, env var or resource argument
    ├── InputFileError (also a ValueError)       a file the program reads: names the file and line
    │   ├── UtteranceFileError                     an ML utterance export
    │   └── DefinitionFileError                    a file of a bot export
    ├── PromotionRefusedError                    kore:promoteFrom refused what this stack would deploy
    ├── KoreApiError                             a call failed (`status`, `code`, `api_message`, `transient`)
    │   ├── AuthenticationError                    401 / code 4002: credentials, scope, bot link
    │   ├── RateLimitedError                       Kore.ai's rate limit, and waiting did not fit the deadline
    │   ├── AmbiguousRequestError                  a job-starting call may or may not have reached Kore.ai
    │   └── HostUnreachableError                   nothing answered at the host
    └── JobError                                 a training, import or publish did not succeed (`job`,
        ├── JobFailedError                         `bot_id`, `job_id`, `language`): Kore.ai reported it
        │                                          failed, or did something other than what was asked
        ├── JobTimeoutError (also a TimeoutError)  it did not finish within timeout_seconds
        └── JobLostError                           the platform restarted while it ran

Which job it was is `error.job` ("training", "ML import", "definition import", "variables import",
"publish"), so one `except JobFailedError` covers every resource. Every message says what went wrong *and*
what the user can do about it, because these messages are what `pulumi up` prints; none ever contains a
client secret or a JWT.
"""

from __future__ import annotations

from pathlib import Path

from .api.errors import (
    AmbiguousRequestError,
    AuthenticationError,
    ConfigurationError,
    HostUnreachableError,
    KoreApiError,
    KoreError,
    RateLimitedError,
)

__all__ = [
    "AmbiguousRequestError",
    "AuthenticationError",
    "ConfigurationError",
    "DefinitionFileError",
    "HostUnreachableError",
    "InputFileError",
    "JobError",
    "JobFailedError",
    "JobLostError",
    "JobTimeoutError",
    "KoreApiError",
    "KoreError",
    "PromotionRefusedError",
    "RateLimitedError",
    "UtteranceFileError",
]


class InputFileError(KoreError, ValueError):
    """A file the program reads cannot be used. Names the file and, where it applies, the line."""

    def __init__(self, path: str | Path, reason: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


class UtteranceFileError(InputFileError):
    """An ML utterance export cannot be read."""


class DefinitionFileError(InputFileError):
    """A file of a bot export (botDefinition.json, config.json, a bot function) cannot be used."""


class PromotionRefusedError(KoreError):
    """The stack would deploy utterances that the stack it promotes from has not trained successfully."""


class JobError(KoreError):
    """A Kore.ai job (a training, an import, a publish) did not succeed. `job` says which kind
    ("training", ...); `job_id` is the job's id where it is known; a job of one bot language names it."""

    def __init__(
        self, message: str, *, job: str, bot_id: str, job_id: str | None, language: str | None = None
    ) -> None:
        super().__init__(message)
        self.job = job
        self.bot_id = bot_id
        self.job_id = job_id
        self.language = language


class JobFailedError(JobError):
    """Kore.ai reported the job as failed, or a read-back showed it did something else than asked."""


class JobTimeoutError(JobError, TimeoutError):
    """The job did not finish within `timeout_seconds`."""


class JobLostError(JobError):
    """The platform stopped accepting connections while the job ran (it restarted or failed over), so what
    it reports afterwards cannot be taken for the job's outcome."""
