"""The exceptions kore_resources raises, in one hierarchy with useful axes.

    KoreError
    ├── ConfigurationError (also a ValueError)      a stack config key, env var or resource argument
    ├── InputFileError (also a ValueError)           a file the program reads: names the file and line
    │   ├── UtteranceFileError, DefinitionFileError
    ├── PromotionRefusedError                        kore:promoteFrom refused what this stack would deploy
    ├── KoreApiError                                 a call failed (kore_resources.api.errors)
    │   ├── AuthenticationError, RateLimitedError, AmbiguousRequestError, HostUnreachableError
    └── JobError                                     a Kore.ai job did not finish successfully
        ├── JobFailedError                           ... Kore.ai reported it as failed
        ├── JobTimeoutError (also a TimeoutError)    ... it did not finish within timeout_seconds
        ├── JobLostError                             ... the platform restarted while it ran
        ├── TrainingError         -> TrainingFailedError, TrainingTimeoutError, TrainingLostError
        ├── UtteranceImportError  -> UtteranceImportFailedError, UtteranceImportTimeoutError
        ├── DefinitionImportError -> DefinitionImportFailedError, DefinitionImportTimeoutError
        ├── VariablesImportError  -> VariablesImportTimeoutError
        └── PublishError          -> PublishFailedError, PublishTimeoutError, PublishLostError

So a program (or a test) can catch "any job that failed" (`JobFailedError`), "any timeout"
(`JobTimeoutError`, or the built-in `TimeoutError`), or one resource's errors (`TrainingError`). Every job
error names the bot and, where it is known, the job's id (`job_id`; also under the resource's own name,
e.g. `training_id`). Every message says what went wrong *and* what the user can do about it, because these
messages are what `pulumi up` prints. No message ever contains a client secret or a JWT.
"""

from __future__ import annotations

from operator import attrgetter
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
    "DefinitionImportError",
    "DefinitionImportFailedError",
    "DefinitionImportTimeoutError",
    "HostUnreachableError",
    "InputFileError",
    "JobError",
    "JobFailedError",
    "JobLostError",
    "JobTimeoutError",
    "KoreApiError",
    "KoreError",
    "PromotionRefusedError",
    "PublishError",
    "PublishFailedError",
    "PublishLostError",
    "PublishTimeoutError",
    "RateLimitedError",
    "TrainingError",
    "TrainingFailedError",
    "TrainingLostError",
    "TrainingTimeoutError",
    "UtteranceFileError",
    "UtteranceImportError",
    "UtteranceImportFailedError",
    "UtteranceImportTimeoutError",
    "VariablesImportError",
    "VariablesImportTimeoutError",
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
    """A Kore.ai job (a training, an import, a publish) did not finish successfully. `job_id` is the job's
    id where it is known; each kind also offers it under its own name (`training_id`, `import_id`,
    `publish_id`), and a job of one bot language names it (`language`)."""

    #: What the job is, for messages and for code that handles several kinds ("training", "publish", ...).
    job: str = "job"

    def __init__(self, message: str, *, bot_id: str, job_id: str | None, language: str | None = None) -> None:
        super().__init__(message)
        self.bot_id = bot_id
        self.job_id = job_id
        self.language = language


class JobFailedError(JobError):
    """Kore.ai reported the job as failed."""


class JobTimeoutError(JobError, TimeoutError):
    """The job did not finish within `timeout_seconds`."""


class JobLostError(JobError):
    """The platform stopped accepting connections while the job ran (it restarted or failed over), so what
    it reports afterwards cannot be taken for the job's outcome."""


_job_id = property(attrgetter("job_id"), doc="The job's id, where it is known (`job_id`).")


class TrainingError(JobError):
    """A training did not finish successfully. Names the bot, language and training id."""

    job = "training"
    training_id = _job_id


class TrainingFailedError(TrainingError, JobFailedError):
    """Kore.ai reported trainingStatus `Failed`."""


class TrainingTimeoutError(TrainingError, JobTimeoutError):
    """The training did not finish within `timeout_seconds`."""


class TrainingLostError(TrainingError, JobLostError):
    """Kore.ai restarted while the training ran; its outcome is unknown."""


class UtteranceImportError(JobError):
    """An ML utterances import did not finish successfully. Names the bot, language, file and import id."""

    job = "ML import"
    import_id = _job_id


class UtteranceImportFailedError(UtteranceImportError, JobFailedError):
    """Kore.ai reported the import as failed."""


class UtteranceImportTimeoutError(UtteranceImportError, JobTimeoutError):
    """The import did not finish within `timeout_seconds`."""


class DefinitionImportError(JobError):
    """A bot definition import did not finish successfully. Names the bot and the import id."""

    job = "definition import"
    import_id = _job_id


class DefinitionImportFailedError(DefinitionImportError, JobFailedError):
    """Kore.ai reported the import as failed; the message names the failed `statusLogs` entries."""


class DefinitionImportTimeoutError(DefinitionImportError, JobTimeoutError):
    """The import did not finish within `timeout_seconds`."""


class VariablesImportError(JobError):
    """A bot variables import did not succeed. Names the bot and the variables' keys, never their values."""

    job = "variables import"


class VariablesImportTimeoutError(VariablesImportError, JobTimeoutError):
    """The import did not get its turn or answer within `timeout_seconds`."""


class PublishError(JobError):
    """A publish of a bot did not finish successfully. Names the bot and, where known, the publish job."""

    job = "publish"
    publish_id = _job_id


class PublishFailedError(PublishError, JobFailedError):
    """Kore.ai reported the publish as failed."""


class PublishTimeoutError(PublishError, JobTimeoutError):
    """The publish did not finish within `timeout_seconds`."""


class PublishLostError(PublishError, JobLostError):
    """Kore.ai restarted while the publish ran; its outcome is unknown."""
