"""The exceptions kore_resources raises.

Every message says what went wrong *and* what the user can do about it, because these messages are what
`pulumi up` prints as the resource error. No message ever contains a client secret or a JWT.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class KoreError(Exception):
    """Base class of every error raised by kore_resources."""


class ConfigurationError(KoreError, ValueError):
    """A setting is missing or invalid (stack config, environment, resource arguments)."""


class UtteranceFileError(KoreError, ValueError):
    """An utterance export cannot be read. Names the file and, where it applies, the line."""

    def __init__(self, path: str | Path, reason: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


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


class TrainingError(KoreError):
    """A training did not finish successfully. Names the bot, language and training id."""

    def __init__(self, message: str, *, bot_id: str, language: str, training_id: str | None) -> None:
        super().__init__(message)
        self.bot_id = bot_id
        self.language = language
        self.training_id = training_id


class TrainingFailedError(TrainingError):
    """Kore.ai reported trainingStatus `Failed`."""


class TrainingTimeoutError(TrainingError):
    """The training did not finish within `timeout_seconds`."""


class UtteranceImportError(KoreError):
    """An ML utterances import did not finish successfully. Names the bot, language, file and import id."""

    def __init__(self, message: str, *, bot_id: str, language: str, import_id: str | None) -> None:
        super().__init__(message)
        self.bot_id = bot_id
        self.language = language
        self.import_id = import_id


class UtteranceImportFailedError(UtteranceImportError):
    """Kore.ai reported the import as failed."""


class UtteranceImportTimeoutError(UtteranceImportError):
    """The import did not finish within `timeout_seconds`."""


class PublishError(KoreError):
    """A publish of a bot did not finish successfully. Names the bot and, where known, the publish job."""

    def __init__(self, message: str, *, bot_id: str, publish_id: str | None) -> None:
        super().__init__(message)
        self.bot_id = bot_id
        self.publish_id = publish_id


class PublishFailedError(PublishError):
    """Kore.ai reported the publish as failed."""


class PublishTimeoutError(PublishError):
    """The publish did not finish within `timeout_seconds`."""


class PromotionRefusedError(KoreError):
    """The stack would deploy utterances that the stack it promotes from has not trained successfully."""
