"""What Kore.ai's public APIs answer, as typed values. Parsing only: no I/O, and no decisions about what a
status means for a job (each resource module decides that for its own job, `kore_resources.resources`).

Shapes and vocabularies are those of docs/kore-api.md; each parser reads only the documented fields and
raises ValueError (the client turns it into a `KoreApiError`) when a body is not of the documented shape.
Every asynchronous job has its own status vocabulary (docs/kore-api.md §11), so none of them shares an
enum:

- ML training (§6): `trainingStatus` is `Finished`, `Inprogress` or `Failed` (exact casing). The status
  call takes no Training_ID: it describes the bot language's latest training.
- ML import (§7.3): documented `pending` -> `success`; the failure word is not documented (`failure` in
  Kore's other import jobs, `failed` in public code).
- Publish (§10): documented `successful`, with per-resource `statusSummary` entries `SUCCESS`; the
  in-progress and failure words are not documented.

Words are compared with `status_word`, which ignores case, `-`, `_` and spaces (`IN_PROGRESS` =
`in-progress`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

# -- the vocabularies -----------------------------------------------------------------------------------

FINISHED = "Finished"
IN_PROGRESS = "Inprogress"
FAILED = "Failed"
SENTENCES_IN_SYNC = "isMlInSyncWithSentences"

#: The documented success words: the ML import's `success`, the publish's `successful`. Either job also
#: accepts the other spelling: it says the same, and waiting for a word that never comes would only fail
#: at the deadline.
IMPORT_SUCCESS = "success"
IMPORT_PENDING = "pending"
PUBLISH_SUCCESS = "successful"
#: What a successful per-resource publish result says.
RESOURCE_SUCCESS = "SUCCESS"
_SUCCESS_WORDS = frozenset({IMPORT_SUCCESS, PUBLISH_SUCCESS})
#: Failure words, compared after `status_word()`: documented for Kore's bot import/export jobs
#: (`failure`), plus the spellings other Kore jobs use (`FAILED` in export/publish summaries, `error`).
_FAILURE_WORDS = frozenset({"failure", "failed", "error"})


def status_word(status: str) -> str:
    """`IN_PROGRESS`, `in-progress` and `In Progress` are the same word."""
    return "".join(ch for ch in status.lower() if ch.isalnum())


def is_success_word(status: str) -> bool:
    return status_word(status) in _SUCCESS_WORDS


def is_failure_word(status: str) -> bool:
    return status_word(status) in _FAILURE_WORDS


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _object_with(body: Any, *fields: str, what: str = "an object") -> dict[str, Any]:
    """`body` if it is a JSON object whose `fields` are non-blank strings; else the ValueError every parser
    raises for an answer it cannot read (the caller names the call)."""
    if isinstance(body, dict) and all(_text(body.get(field)) is not None for field in fields):
        return body
    named = " and ".join(f'"{field}"' for field in fields)
    strings = f"{named} strings" if len(fields) > 1 else f"a {named} string"
    raise ValueError(f"expected {what} with {strings}, got {body!r:.200}")


@dataclass(frozen=True)
class PartResult:
    """How one part of a job went, as the job reports it part by part: what kind of part it is, which one
    (where named), its status and message. A bot import's `statusLogs` entry (`StatusLog`) or a publish's
    per-resource result (`ResourceResult`)."""

    #: The wire names of `kind` and `name`.
    KEYS: ClassVar[tuple[str, str]]

    kind: str
    name: str | None
    status: str
    message: str | None = None

    @classmethod
    def from_api(cls, entry: Mapping[str, Any]) -> Self:
        kind, name = cls.KEYS
        return cls(
            kind=_text(entry.get(kind)) or "?",
            name=_text(entry.get(name)),
            status=_text(entry.get("status")) or "?",
            message=_text(entry.get("message")),
        )

    @property
    def failed(self) -> bool:
        return is_failure_word(self.status)

    @property
    def label(self) -> str:
        """The part in messages."""
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.label}: {self.status}" + (f" ({self.message})" if self.message else "")


# -- ML training ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingTicket:
    """What the train call answered: `[{"message": "Training Queued.", "Training_ID": "..."}]`."""

    training_id: str
    message: str

    @classmethod
    def from_api(cls, body: Any) -> TrainingTicket:
        """The documented answer is an array with one object; a bare object is tolerated too."""
        entry = body[0] if isinstance(body, list) and body else body
        entry = _object_with(entry, "Training_ID", what='[{"message": ..., "Training_ID": ...}], an object')
        return cls(training_id=entry["Training_ID"], message=str(entry.get("message", "")))


@dataclass(frozen=True)
class TrainingStatus:
    """One read of the ML train status API. `training_status` None: the answer reports no training at all,
    as it may for a bot language never trained (undocumented: an answer without `trainingStatus`, or a
    400/404, which the caller turns into `none`); `absent` says how it was said, for messages."""

    training_status: str | None
    in_sync: Mapping[str, bool] = field(default_factory=dict)  # the isMlInSync* flags that were present
    absent: str | None = None

    @classmethod
    def from_api(cls, payload: Any) -> TrainingStatus:
        if not isinstance(payload, dict) or not isinstance(payload.get("trainingStatus"), str | None):
            raise ValueError(f"expected an object with a trainingStatus string, got {payload!r:.200}")
        flags = {k: v for k, v in payload.items() if k.startswith("isMlInSync") and isinstance(v, bool)}
        status = payload.get("trainingStatus")
        return cls(training_status=status, in_sync=flags, absent=None if status else "no trainingStatus")

    @classmethod
    def none(cls, absent: str) -> TrainingStatus:
        """No training reported, said as `absent` (e.g. "HTTP 400 'No training found'")."""
        return cls(training_status=None, absent=absent)

    @property
    def reported(self) -> bool:
        return self.training_status is not None

    @property
    def is_terminal(self) -> bool:
        return self.training_status in (FINISHED, FAILED)

    @property
    def sentences_in_sync(self) -> bool | None:
        return self.in_sync.get(SENTENCES_IN_SYNC)

    def describe(self) -> str:
        """The status in messages: its word, or how the platform said it reports no training."""
        return self.training_status or f"no training reported ({self.absent})"


# -- files and ML import -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """What Upload File answered: `{"fileId": ...}` (nothing else of the shape is documented)."""

    file_id: str

    @classmethod
    def from_api(cls, body: Any) -> UploadedFile:
        return cls(file_id=_object_with(body, "fileId")["fileId"])


@dataclass(frozen=True)
class MlImportJob:
    """One read of an ML import request: the answer to the import call or to its status call."""

    import_id: str
    status: str
    message: str | None = None

    @classmethod
    def from_api(cls, body: Any) -> MlImportJob:
        body = _object_with(body, "_id", "status")
        return cls(import_id=body["_id"], status=body["status"], message=_text(body.get("message")))


# -- ML export -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MlExportJob:
    """One read of an ML utterances export (docs/kore-api.md §7.4, §7.5): the answer to the export call, or
    the export status, which describes the bot's *latest* export (it takes no id)."""

    job_id: str | None
    status: str
    download_url: str | None = None

    @classmethod
    def from_api(cls, body: Any) -> MlExportJob:
        body = _object_with(body, "status")
        return cls(
            job_id=_text(body.get("_id")), status=body["status"], download_url=_text(body.get("downloadUrl"))
        )


# -- bot definition import --------------------------------------------------------------------------------


class StatusLog(PartResult):
    """One `statusLogs` entry of a bot import: what part of the definition it was (`taskType`, `taskName`),
    and how it went."""

    KEYS = ("taskType", "taskName")

    @property
    def label(self) -> str:
        return self.kind + (f" {self.name!r}" if self.name else "")


@dataclass(frozen=True)
class BotImportJob:
    """One read of a bot import (docs/kore-api.md §8.2, §8.3): `_id: "bir-..."`, `status` pending ->
    success / failure, and the `statusLogs` of what was imported so far."""

    import_id: str
    status: str
    logs: tuple[StatusLog, ...] = ()

    @classmethod
    def from_api(cls, body: Any) -> BotImportJob:
        body = _object_with(body, "_id", "status")
        entries = body.get("statusLogs")
        logs = (
            tuple(StatusLog.from_api(e) for e in entries if isinstance(e, dict))
            if isinstance(entries, list)
            else ()
        )
        return cls(import_id=body["_id"], status=body["status"], logs=logs)

    @property
    def failed_logs(self) -> tuple[StatusLog, ...]:
        return tuple(log for log in self.logs if log.failed)


# -- bot variables -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportedVariable:
    """One entry of Bot Variables Export (docs/kore-api.md §9.2). A secured variable's value is exported as
    "" (documented), so it says nothing about the value the bot has."""

    key: str
    value: str | None
    secured: bool
    #: A `locale` variable's value per language (`localeData`); empty for an `env` variable.
    locale_values: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_api(cls, entry: Any) -> ExportedVariable:
        entry = _object_with(entry, "key", what="a variable object")
        value = entry.get("value")
        locale = entry.get("localeData")
        return cls(
            key=entry["key"],
            value=value if isinstance(value, str) else None,
            secured=entry.get("isSecured") is True,
            locale_values={
                language: data["value"]
                for language, data in (locale.items() if isinstance(locale, dict) else ())
                if isinstance(data, dict) and isinstance(data.get("value"), str)
            },
        )

    @classmethod
    def list_from_api(cls, body: Any) -> tuple[ExportedVariable, ...]:
        if not isinstance(body, list):
            raise ValueError(f"expected an array of variables, got {body!r:.200}")
        return tuple(cls.from_api(entry) for entry in body)


# -- publish -------------------------------------------------------------------------------------------


class ResourceResult(PartResult):
    """One entry of the publish answer or of the publish status's `statusSummary` (`resourceType`,
    `resourceId`)."""

    KEYS = ("resourceType", "resourceId")

    @property
    def resource_id(self) -> str | None:
        """The `resourceId` (`name`)."""
        return self.name

    @property
    def label(self) -> str:
        return self.kind + (f" {self.name}" if self.name not in (None, self.kind) else "")


def _results(entries: Any) -> tuple[ResourceResult, ...]:
    if not isinstance(entries, list):
        return ()
    return tuple(ResourceResult.from_api(e) for e in entries if isinstance(e, dict))


@dataclass(frozen=True)
class PublishTicket:
    """What the publish call answered: the documented array of per-resource results."""

    resources: tuple[ResourceResult, ...]

    @classmethod
    def from_api(cls, body: Any) -> PublishTicket:
        if not isinstance(body, list):
            raise ValueError(f"expected an array of per-resource results, got {body!r:.200}")
        return cls(resources=_results(body))

    @property
    def failed_resources(self) -> tuple[ResourceResult, ...]:
        return tuple(r for r in self.resources if r.failed)


@dataclass(frozen=True)
class PublishStatus:
    """One read of the publish status: the bot's latest publish job."""

    status: str
    job_id: str | None = None
    percentage: float | None = None
    summary: tuple[ResourceResult, ...] = ()

    @classmethod
    def from_api(cls, body: Any) -> PublishStatus:
        body = _object_with(body, "status")
        percentage = body.get("percentageComplete")
        return cls(
            status=body["status"],
            job_id=_text(body.get("_id")),
            percentage=float(percentage)
            if isinstance(percentage, int | float) and not isinstance(percentage, bool)
            else None,
            summary=_results(body.get("statusSummary")),
        )

    @property
    def failed_resources(self) -> tuple[ResourceResult, ...]:
        return tuple(r for r in self.summary if r.failed)
