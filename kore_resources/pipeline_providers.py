"""`MlUtterancesProvider` and `BotPublishProvider`: the dynamic providers behind `MlUtterances` and
`BotPublish`, the two ends of the promotion pipeline (import utterances -> train -> publish).

They follow `BotTrainingProvider` (provider.py) in everything: pickled by reference, credentials read in
the plugin process, pure decisions (validation, diff) at the top of this module, thin I/O in the methods,
a deadline of `timeout_seconds` for the whole operation, nothing recorded unless the job succeeded, and
every operation on one bot serialized with the trainings of that bot (`provider.one_job_per_bot`): a training
must not run while an import into the same bot is still replacing its utterances, and a publish should
snapshot a bot that is not half-way through either.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult
from pulumi.output import Unknown

from .errors import (
    KoreApiError,
    KoreError,
    PublishFailedError,
    PublishTimeoutError,
    UtteranceFileError,
    UtteranceImportFailedError,
    UtteranceImportTimeoutError,
)
from .jobs import ImportJob, PublishStatus, PublishTracker
from .polling import wait_for
from .provider import (
    DEFAULT_LANGUAGE,
    KoreProvider,
    _differs,
    _log,
    _utc_now,
    clock,
    kept_outputs,
    one_job_per_bot,
    validate_inputs,
)
from .training import Verdict
from .utterances import hash_utterances
from .validation import host_problem, normalize_host

if TYPE_CHECKING:
    from .client import KoreClient  # imported on first use by KoreProvider._client

DEFAULT_IMPORT_TIMEOUT_SECONDS = 600
DEFAULT_PUBLISH_TIMEOUT_SECONDS = 900
#: What refresh may spend on one status read.
READ_TIMEOUT_SECONDS = 120.0

IMPORT_INPUT_KEYS = ("bot_id", "file", "language", "host", "content_hash", "timeout_seconds")
IMPORT_OUTPUT_KEYS = ("file_id", "import_id", "import_status", "imported_at")
#: Another bot, language or host is another import: replace.
IMPORT_REPLACE_KEYS = ("bot_id", "language", "host")

PUBLISH_INPUT_KEYS = ("bot_id", "version_comment", "triggers", "host", "timeout_seconds")
PUBLISH_OUTPUT_KEYS = ("publish_status", "published_at")
#: Another bot or host is another publish: replace.
PUBLISH_REPLACE_KEYS = ("bot_id", "host")

EXPORT_SUFFIXES = (".json", ".csv")
CONTENT_HASH_PATTERN = re.compile(r"sha256:[0-9a-f]{64}")

# -- pure decisions --------------------------------------------------------------------------------------


def _known(news: Mapping[str, Any], key: str) -> bool:
    return key in news and not isinstance(news[key], Unknown)


def _shared_failures(news: Mapping[str, Any], keys: tuple[str, ...]) -> list[tuple[str, str]]:
    """BotTraining's checks of `bot_id`, `language`, `host` and `timeout_seconds` (validate_inputs)."""
    return validate_inputs({key: news[key] for key in keys if key in news})


def validate_import_inputs(news: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(property, reason) for every invalid MlUtterances input. Unknown values (preview) are not judged."""
    failures = _shared_failures(news, ("bot_id", "language", "host", "timeout_seconds"))
    file = news.get("file")
    if "file" not in news or file is None:
        failures.append(("file", "file is required: one Kore.ai ML utterance export (*.json or *.csv)"))
    elif _known(news, "file") and not (
        isinstance(file, str) and file.strip() and Path(file).suffix.lower() in EXPORT_SUFFIXES
    ):
        failures.append(
            (
                "file",
                f"{file!r} is not a Kore.ai ML utterance export file; expected a path ending in .json or "
                ".csv (one file per MlUtterances: the import API takes one file)",
            )
        )
    content_hash = news.get("content_hash")
    if "content_hash" not in news or content_hash is None:
        failures.append(("content_hash", "content_hash is required: hash_utterances(file)"))
    elif _known(news, "content_hash") and not (
        isinstance(content_hash, str) and CONTENT_HASH_PATTERN.fullmatch(content_hash)
    ):
        failures.append(
            (
                "content_hash",
                f"{content_hash!r} is not a content hash; expected kore_resources.hash_utterances(file), "
                "sha256:<64 hex> (MlUtterances computes it for you)",
            )
        )
    return failures


def normalize_import_inputs(news: Mapping[str, Any]) -> dict[str, Any]:
    inputs = dict(news)
    inputs.setdefault("language", DEFAULT_LANGUAGE)
    inputs.setdefault("timeout_seconds", DEFAULT_IMPORT_TIMEOUT_SECONDS)
    return _normalized_host(inputs)


def decide_import_diff(olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffResult:
    """Compare the recorded outputs (`olds`) with the new inputs.

    - another bot, language or host is another import: replace;
    - new content (`content_hash`) is imported again: update in place;
    - nothing else imports: not `file` alone (the same utterances moved or renamed), not `timeout_seconds`,
      not credentials, not the provider's code.
    """
    replaces = [key for key in IMPORT_REPLACE_KEYS if _differs(olds.get(key), news.get(key))]
    reimport = _differs(olds.get("content_hash"), news.get("content_hash"))
    return DiffResult(changes=bool(replaces) or reimport, replaces=replaces, delete_before_replace=False)


def validate_publish_inputs(news: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(property, reason) for every invalid BotPublish input. Unknown values (preview) are not judged."""
    failures = _shared_failures(news, ("bot_id", "host", "timeout_seconds"))
    comment = news.get("version_comment")
    if "version_comment" not in news or comment is None:
        failures.append(
            ("version_comment", "version_comment is required: the comment of the published version")
        )
    elif _known(news, "version_comment") and not (isinstance(comment, str) and comment.strip()):
        failures.append(
            ("version_comment", f"{comment!r} is not a version comment; expected a non-empty string")
        )
    triggers = news.get("triggers")
    if "triggers" not in news or triggers is None:
        failures.append(
            ("triggers", "triggers is required: a list (e.g. the training ids this publish follows)")
        )
    elif _known(news, "triggers") and not (
        isinstance(triggers, list)
        and all(isinstance(t, str | int | float | bool | Unknown) for t in triggers)
    ):
        failures.append(
            (
                "triggers",
                f"{triggers!r} is not a list of plain values; expected e.g. [training.training_id, ...] "
                "(strings, numbers or booleans)",
            )
        )
    return failures


def normalize_publish_inputs(news: Mapping[str, Any]) -> dict[str, Any]:
    inputs = dict(news)
    inputs.setdefault("timeout_seconds", DEFAULT_PUBLISH_TIMEOUT_SECONDS)
    return _normalized_host(inputs)


def decide_publish_diff(olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffResult:
    """Compare the recorded outputs (`olds`) with the new inputs.

    - another bot or host is another publish: replace;
    - changed `triggers` (e.g. a new training id) publish again: update in place;
    - `version_comment` alone does not publish: it describes a publish, it is no reason for one. The new
      comment is used by the next publish; until then the recorded comment is the one last published.
    - nothing else publishes either: not `timeout_seconds`, credentials or the provider's code.
    """
    replaces = [key for key in PUBLISH_REPLACE_KEYS if _differs(olds.get(key), news.get(key))]
    republish = _differs(olds.get("triggers"), news.get("triggers"))
    return DiffResult(changes=bool(replaces) or republish, replaces=replaces, delete_before_replace=False)


def _normalized_host(inputs: dict[str, Any]) -> dict[str, Any]:
    host = inputs.get("host")
    if isinstance(host, str) and host_problem(host) is None:
        inputs["host"] = normalize_host(host)
    return inputs


def _seconds(value: float) -> float | int:
    # Protobuf Structs carry only doubles; keep whole seconds whole in state.
    return int(value) if value.is_integer() else value


@dataclass(frozen=True)
class ImportInputs:
    """The checked inputs of one MlUtterances."""

    bot_id: str
    file: str
    language: str
    host: str
    content_hash: str
    timeout_seconds: float

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> ImportInputs:
        p = normalize_import_inputs(props)
        return cls(
            bot_id=p["bot_id"],
            file=p["file"],
            language=p["language"],
            host=p["host"],
            content_hash=p["content_hash"],
            timeout_seconds=float(p["timeout_seconds"]),
        )

    @property
    def resource_id(self) -> str:
        return f"{self.bot_id}/{self.language}/{Path(self.file).name}"

    @property
    def describe(self) -> str:
        return f"bot {self.bot_id} ({self.language}), file {self.file}"

    def outputs(self, file_id: str, import_id: str, import_status: str, imported_at: str) -> dict[str, Any]:
        return {
            "bot_id": self.bot_id,
            "file": self.file,
            "language": self.language,
            "host": self.host,
            "content_hash": self.content_hash,
            "timeout_seconds": _seconds(self.timeout_seconds),
            "file_id": file_id,
            "import_id": import_id,
            "import_status": import_status,
            "imported_at": imported_at,
        }


@dataclass(frozen=True)
class PublishInputs:
    """The checked inputs of one BotPublish."""

    bot_id: str
    version_comment: str
    triggers: tuple[Any, ...]
    host: str
    timeout_seconds: float

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> PublishInputs:
        p = normalize_publish_inputs(props)
        return cls(
            bot_id=p["bot_id"],
            version_comment=p["version_comment"],
            triggers=tuple(p["triggers"]),
            host=p["host"],
            timeout_seconds=float(p["timeout_seconds"]),
        )

    @property
    def describe(self) -> str:
        return f"bot {self.bot_id}"

    def outputs(self, publish_status: str, published_at: str) -> dict[str, Any]:
        return {
            "bot_id": self.bot_id,
            "version_comment": self.version_comment,
            "triggers": list(self.triggers),
            "host": self.host,
            "timeout_seconds": _seconds(self.timeout_seconds),
            "publish_status": publish_status,
            "published_at": published_at,
        }


# -- I/O helpers -----------------------------------------------------------------------------------------


def read_planned_export(file: str, content_hash: str) -> tuple[str, bytes, str]:
    """(file name, content, extension) of the export `file`, verified to still hash to `content_hash`.

    The plugin runs in the project directory, so a relative path means the same file the program hashed.
    The bytes are read once and hashed as read, so exactly the bytes that were checked get uploaded: if the
    file changed after the program hashed it (e.g. between `pulumi preview` and `up`, or during a long
    `up`), this fails rather than import something other than what the plan showed.
    """
    path = Path(file)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise UtteranceFileError(
            path,
            f"cannot read the file: {exc.strerror or exc}. MlUtterances reads it when it imports, in the "
            "Pulumi project directory; keep the file there (relative paths start from the project)",
        ) from None
    with tempfile.TemporaryDirectory(prefix="kore-import-") as tmp:
        copy = Path(tmp) / path.name
        copy.write_bytes(content)
        try:
            actual = hash_utterances(copy)
        except UtteranceFileError as exc:
            raise UtteranceFileError(path, exc.reason, exc.line) from None
    if actual != content_hash:
        raise UtteranceFileError(
            path,
            f"the file changed after the program read it: the plan imports content_hash {content_hash}, "
            f"the file now hashes to {actual}. Nothing was uploaded; run `pulumi up` again so the plan "
            "shows what will be imported",
        )
    return path.name, content, path.suffix.lower().lstrip(".")


# -- the providers ---------------------------------------------------------------------------------------


class MlUtterancesProvider(KoreProvider):
    """Uploads one ML utterance export and imports it into a bot language when its content changes."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [CheckFailure(prop, reason) for prop, reason in validate_import_inputs(news)]
        return CheckResult(normalize_import_inputs(news) if not failures else news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return decide_import_diff(olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = ImportInputs.from_props(props)
        return CreateResult(inputs.resource_id, self._import(inputs))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._import(ImportInputs.from_props(news)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh: the recorded import's current status; every other recorded output is kept."""
        inputs = ImportInputs.from_props(props)
        outs = kept_outputs(props, (*IMPORT_INPUT_KEYS, *IMPORT_OUTPUT_KEYS))
        import_id = props.get("import_id")
        if not isinstance(import_id, str) or not import_id:
            return ReadResult(id_, outs)
        deadline = clock.monotonic() + min(inputs.timeout_seconds, READ_TIMEOUT_SECONDS)
        try:
            job = self._client(inputs.host).ml_import_status(inputs.bot_id, import_id, deadline=deadline)
        except KoreApiError as exc:
            if exc.status != 400:
                raise
            # `Invalid request ID`: the platform no longer knows the request. The import happened; keep it.
            _log(
                f"{inputs.describe}: Kore.ai no longer knows import {import_id}; keeping the recorded status"
            )
            return ReadResult(id_, outs)
        outs["import_status"] = job.status
        return ReadResult(id_, outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        # Kore.ai has no API that undoes an import. The bot keeps the imported utterances until another
        # import or an edit in the builder replaces them; forgetting the import is all there is.
        _log(
            f"bot {props.get('bot_id')} ({props.get('language')}): forgetting import "
            f"{props.get('import_id')} of {props.get('file')}; the bot keeps the imported utterances"
        )

    # -- the work -----------------------------------------------------------------------------------------

    def _import(self, inputs: ImportInputs) -> dict[str, Any]:
        """Upload, import and wait. Raises unless the import succeeded, so nothing is recorded otherwise
        and the next `pulumi up` imports again (importing the same file twice is harmless)."""
        describe = inputs.describe
        started = clock.monotonic()
        deadline = started + inputs.timeout_seconds
        file_name, content, extension = read_planned_export(inputs.file, inputs.content_hash)
        client = self._client(inputs.host)
        uploaded = client.upload_file(file_name, content, extension, deadline=deadline)
        _log(f"{describe}: uploaded as file {uploaded.file_id}")

        def timed_out() -> KoreError:
            return UtteranceImportTimeoutError(
                f"{describe}: timed out after timeout_seconds={inputs.timeout_seconds:g} waiting for another "
                "training, ML import or publish of this bot to finish first. Nothing was imported or "
                "recorded; raise timeout_seconds.",
                bot_id=inputs.bot_id,
                language=inputs.language,
                import_id=None,
            )

        with one_job_per_bot(inputs.host, inputs.bot_id, deadline, timed_out):
            job = client.ml_import(
                inputs.bot_id, inputs.language, file_name, uploaded.file_id, deadline=deadline
            )
            _log(f"{describe}: import {job.import_id} started ({job.status})")
            job = self._wait(client, inputs, job, clock.monotonic(), deadline)
        _log(
            f"{describe}: import {job.import_id} finished after {clock.monotonic() - started:.0f}s"
            + (f": {job.message}" if job.message else "")
        )
        return inputs.outputs(uploaded.file_id, job.import_id, job.status, _utc_now())

    def _wait(
        self, client: KoreClient, inputs: ImportInputs, job: ImportJob, started: float, deadline: float
    ) -> ImportJob:
        if job.verdict is Verdict.WAITING:

            def timed_out(last: ImportJob | None) -> Exception:
                return UtteranceImportTimeoutError(
                    f"{inputs.describe}: import {job.import_id} did not finish within timeout_seconds="
                    f"{inputs.timeout_seconds:g} (last status: {(last or job).status}). It may still finish "
                    "on Kore.ai; nothing was recorded, so the next `pulumi up` imports again. Raise "
                    "timeout_seconds for large files.",
                    bot_id=inputs.bot_id,
                    language=inputs.language,
                    import_id=job.import_id,
                )

            _, job = wait_for(
                lambda: client.ml_import_status(inputs.bot_id, job.import_id, deadline=deadline),
                lambda status, _elapsed: status.verdict,
                clock=clock,
                since=started,
                deadline=deadline,
                timed_out=timed_out,
                progress=lambda status: f"import {status.import_id} {status.status}",
                log=lambda message: _log(f"{inputs.describe}: {message}"),
            )
        if job.verdict is Verdict.FAILED:
            raise UtteranceImportFailedError(
                f"{inputs.describe}: Kore.ai reports import {job.import_id} as {job.status!r}"
                + (f" ({job.message})" if job.message else "")
                + ". Nothing was recorded, so the next `pulumi up` imports again; check the file against "
                "the bot's intents (Build > Natural Language > Training > ML Utterances > Import).",
                bot_id=inputs.bot_id,
                language=inputs.language,
                import_id=job.import_id,
            )
        return job


class BotPublishProvider(KoreProvider):
    """Publishes a bot when its `triggers` change. See `BotPublish`."""

    #: Seconds to wait before trusting a terminal status that may describe the previous publish (jobs.py).
    grace_seconds: float = 10.0

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [CheckFailure(prop, reason) for prop, reason in validate_publish_inputs(news)]
        return CheckResult(normalize_publish_inputs(news) if not failures else news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return decide_publish_diff(olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = PublishInputs.from_props(props)
        return CreateResult(inputs.bot_id, self._publish(inputs))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._publish(PublishInputs.from_props(news)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh: the status of the bot's latest publish; every other recorded output is kept."""
        inputs = PublishInputs.from_props(props)
        deadline = clock.monotonic() + min(inputs.timeout_seconds, READ_TIMEOUT_SECONDS)
        status = self._client(inputs.host).publish_status(inputs.bot_id, deadline=deadline)
        outs = kept_outputs(props, (*PUBLISH_INPUT_KEYS, *PUBLISH_OUTPUT_KEYS))
        outs["publish_status"] = status.status
        return ReadResult(id_, outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        # The public API cannot unpublish: the bot keeps its published version. Forgetting is all there is.
        _log(f"bot {props.get('bot_id')}: forgetting the publish; the bot keeps its published version")

    # -- the work -----------------------------------------------------------------------------------------

    def _publish(self, inputs: PublishInputs) -> dict[str, Any]:
        """Publish (without training: BotTraining trained already) and wait. Raises unless the publish
        succeeded, so nothing is recorded otherwise and the next `pulumi up` publishes again."""
        describe = inputs.describe
        started = clock.monotonic()
        deadline = started + inputs.timeout_seconds
        client = self._client(inputs.host)

        def timed_out() -> KoreError:
            return PublishTimeoutError(
                f"{describe}: timed out after timeout_seconds={inputs.timeout_seconds:g} waiting for a "
                "training, ML import or publish of this bot to finish first. Nothing was published or "
                "recorded; raise timeout_seconds.",
                bot_id=inputs.bot_id,
                publish_id=None,
            )

        with one_job_per_bot(inputs.host, inputs.bot_id, deadline, timed_out):
            baseline = self._latest(client, inputs, deadline)
            ticket = client.publish(
                inputs.bot_id, inputs.version_comment, initiate_training=False, deadline=deadline
            )
            if ticket.failed_resources:
                failed = "; ".join(r.describe() for r in ticket.failed_resources)
                raise PublishFailedError(
                    f"{describe}: Kore.ai refused to publish {failed}. Nothing was recorded, so the next "
                    "`pulumi up` publishes again; check those resources in the Kore.ai builder.",
                    bot_id=inputs.bot_id,
                    publish_id=None,
                )
            _log(f"{describe}: publish requested: {inputs.version_comment!r}")
            status = self._wait(client, inputs, PublishTracker(baseline, self.grace_seconds), deadline)
        elapsed = clock.monotonic() - started
        _log(f"{describe}: publish {status.job_id or ''} {status.status} after {elapsed:.0f}s")
        return inputs.outputs(status.status, _utc_now())

    @staticmethod
    def _latest(client: KoreClient, inputs: PublishInputs, deadline: float) -> str | None:
        """The job id the publish status reports before we publish (None: the bot has no publish job)."""
        try:
            return client.publish_status(inputs.bot_id, deadline=deadline).job_id
        except KoreApiError as exc:
            if exc.status in (400, 404):  # a bot that was never published may have no status to report
                return None
            raise

    def _wait(
        self, client: KoreClient, inputs: PublishInputs, tracker: PublishTracker, deadline: float
    ) -> PublishStatus:
        def timed_out(last: PublishStatus | None) -> Exception:
            return PublishTimeoutError(
                f"{inputs.describe}: the publish did not finish within timeout_seconds="
                f"{inputs.timeout_seconds:g} (last status: {last.status if last else 'none read'}). It "
                "may still finish on Kore.ai; nothing was recorded, so the next `pulumi up` publishes "
                "again. Raise timeout_seconds for large bots.",
                bot_id=inputs.bot_id,
                publish_id=last.job_id if last else None,
            )

        def progress(status: PublishStatus) -> str:
            if status.is_terminal:
                previous = f"{status.job_id}: {status.status}"
                return f"publish not visible yet (the status still describes publish {previous})"
            percent = f" ({status.percentage:.0f}%)" if status.percentage is not None else ""
            return f"publish {status.job_id or ''} {status.status}{percent}"

        verdict, status = wait_for(
            lambda: client.publish_status(inputs.bot_id, deadline=deadline),
            tracker.observe,
            clock=clock,
            since=clock.monotonic(),
            deadline=deadline,
            timed_out=timed_out,
            progress=progress,
            log=lambda message: _log(f"{inputs.describe}: {message}"),
        )
        if verdict is Verdict.FAILED:
            failed = "; ".join(r.describe() for r in status.failed_resources)
            raise PublishFailedError(
                f"{inputs.describe}: Kore.ai reports publish {status.job_id or '(no id)'} as "
                f"{status.status!r}" + (f" ({failed})" if failed else "") + ". Nothing was recorded, so "
                "the next `pulumi up` publishes again; check the bot's publish status in the Kore.ai "
                "builder (Deploy > Publish).",
                bot_id=inputs.bot_id,
                publish_id=status.job_id,
            )
        return status
