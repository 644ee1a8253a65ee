"""What Kore.ai's ML import and publish APIs answer, and when those jobs are done. Pure logic: no I/O.

Every asynchronous Kore.ai job has its own status vocabulary (koreai-api.md §4), so each gets its own
decision here instead of one shared enum:

- Upload File (`POST /api/public/uploadfile`) answers `{"fileId": ...}`; nothing else of the shape is
  documented, so nothing else is read.
- ML utterances import (`POST .../mlimport` -> `{"_id": "bir-...", "status": "pending", ...}`, then
  `GET .../mlimport/status/{bir-id}`): documented `pending` -> `success` (with a `message` such as
  "File imported completed. 12 utterances copied successfully"). The failure word is not documented for
  the ML import; Kore's other import/export jobs say `failure` (their QA suites poll "until success or
  failure"), so `failure` -- and, to be safe, `failed` / `error` -- end the wait as a failure. Anything
  else (`pending`, an in-progress word we do not know) means "still running"; the caller's deadline
  bounds that. Words are compared ignoring case, `-`, `_` and spaces (`IN_PROGRESS` = `in-progress`).
- Publish (`POST .../publish` -> per-resource results, then `GET .../publish/status`): documented
  `"status": "successful"` with per-resource `statusSummary` entries `"status": "SUCCESS"`. The
  in-progress and failure words are not documented: `failed` / `failure` / `error` end the wait as a
  failure, anything else means "still running". A `successful` job whose summary lists a resource with
  a failure status counts as failed: a bot whose NL model did not publish is not what we mean to record.

The publish status takes no job id: like the training status it describes the bot's *latest* publish, so
the first reads after our POST may still describe the previous one (`successful`). `PublishTracker`
accepts a terminal status only when it belongs to our publish, by the same rules as
`training.CompletionTracker`:

1. A status whose job `_id` differs from the `_id` read just before our POST describes a newer job: ours.
2. Once a non-terminal status has been seen since the POST, the next terminal status is ours (the
   provider never runs two publishes of one bot at once).
3. A terminal status without 1's or 2's evidence is accepted only after `grace_seconds`: a publish so
   fast that it started and ended between two polls, on a platform that reuses the job `_id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .training import DEFAULT_GRACE_SECONDS, Verdict

#: The documented success words: the ML import's `success`, the publish's `successful`. Each job also
#: accepts the other spelling: it says the same, and waiting for a word that never comes would only fail
#: at the deadline.
IMPORT_SUCCESS = "success"
IMPORT_PENDING = "pending"
PUBLISH_SUCCESS = "successful"
_SUCCESS_WORDS = frozenset({IMPORT_SUCCESS, PUBLISH_SUCCESS})
#: What a successful per-resource publish result says.
RESOURCE_SUCCESS = "SUCCESS"

#: Failure words, compared after `_word()`: documented for Kore's bot import/export jobs (`failure`), plus
#: the spellings other Kore jobs use (`FAILED` in export/publish summaries, `error`).
_FAILURE_WORDS = frozenset({"failure", "failed", "error"})


def _word(status: str) -> str:
    """`IN_PROGRESS`, `in-progress` and `In Progress` are the same word."""
    return "".join(ch for ch in status.lower() if ch.isalnum())


def import_verdict(status: str) -> Verdict:
    """The ML import status vocabulary: `success` is done, a failure word failed, anything else waits."""
    word = _word(status)
    if word in _SUCCESS_WORDS:
        return Verdict.FINISHED
    return Verdict.FAILED if word in _FAILURE_WORDS else Verdict.WAITING


def publish_verdict(status: str) -> Verdict:
    """The publish status vocabulary: `successful` is done, a failure word failed, anything else waits."""
    word = _word(status)
    if word in _SUCCESS_WORDS:
        return Verdict.FINISHED
    return Verdict.FAILED if word in _FAILURE_WORDS else Verdict.WAITING


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class UploadedFile:
    """What Upload File answered."""

    file_id: str

    @classmethod
    def from_api(cls, body: Any) -> UploadedFile:
        file_id = _text(body.get("fileId")) if isinstance(body, dict) else None
        if file_id is None:
            raise ValueError(f'expected {{"fileId": ...}}, got {body!r:.200}')
        return cls(file_id=file_id)


@dataclass(frozen=True)
class ImportJob:
    """One read of an ML import request: the answer to the import call or to its status call."""

    import_id: str
    status: str
    message: str | None = None

    @classmethod
    def from_api(cls, body: Any) -> ImportJob:
        if not isinstance(body, dict) or _text(body.get("_id")) is None or _text(body.get("status")) is None:
            raise ValueError(f'expected an object with "_id" and "status" strings, got {body!r:.200}')
        return cls(import_id=body["_id"], status=body["status"], message=_text(body.get("message")))

    @property
    def verdict(self) -> Verdict:
        return import_verdict(self.status)


@dataclass(frozen=True)
class ResourceResult:
    """One entry of the publish answer or of the publish status's `statusSummary`."""

    resource_type: str
    resource_id: str | None
    status: str
    message: str | None = None

    @classmethod
    def from_api(cls, entry: Mapping[str, Any]) -> ResourceResult:
        return cls(
            resource_type=_text(entry.get("resourceType")) or "?",
            resource_id=_text(entry.get("resourceId")),
            status=_text(entry.get("status")) or "?",
            message=_text(entry.get("message")),
        )

    @property
    def failed(self) -> bool:
        return _word(self.status) in _FAILURE_WORDS

    def describe(self) -> str:
        named = self.resource_id not in (None, self.resource_type)
        name = self.resource_type + (f" {self.resource_id}" if named else "")
        return f"{name}: {self.status}" + (f" ({self.message})" if self.message else "")


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
        if not isinstance(body, dict) or _text(body.get("status")) is None:
            raise ValueError(f'expected an object with a "status" string, got {body!r:.200}')
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

    @property
    def verdict(self) -> Verdict:
        verdict = publish_verdict(self.status)
        if verdict is Verdict.FINISHED and self.failed_resources:
            return Verdict.FAILED
        return verdict

    @property
    def is_terminal(self) -> bool:
        return self.verdict is not Verdict.WAITING


@dataclass
class PublishTracker:
    """Feeds status reads of one publish through the rules in this module's docstring."""

    baseline_id: str | None  # the job `_id` the status reported just before our POST (None: no job read)
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    seen_running: bool = False

    def observe(self, status: PublishStatus, elapsed: float) -> Verdict:
        """`elapsed`: seconds since the publish POST was answered."""
        if not status.is_terminal:
            self.seen_running = True
            return Verdict.WAITING
        newer_job = status.job_id is not None and status.job_id != self.baseline_id
        if newer_job or self.seen_running or elapsed >= self.grace_seconds:
            return status.verdict
        return Verdict.WAITING
