"""`MlUtterances`: the ML utterances of one export file, imported into one language of a Kore.ai bot, and
imported again whenever the file's content changes.

The API (docs/kore-api.md §7): Upload File stores the file and answers its `fileId`; ML Utterances Import
(`bot-language`) starts the import, and its status reads `pending` until `success` (the failure word is
undocumented: `failure`, `failed` and `error` all end the wait). An import replaces the utterances of the
intents its file names, so it runs under the bot's lock like a training.

Refresh compares the bot's utterances of *this file's* intents (one ML export per bot language and
refresh) with what the import sent: the import, not the training, carries the comparison, because only
it knows which intents are its own (README, "Drift: what `pulumi refresh` sees").
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi

from .. import settings
from ..api.errors import KoreApiError
from ..api.models import MlExportJob, MlImportJob, UploadedFile, is_failure_word, status_word
from ..errors import JobFailedError, UtteranceFileError
from ..files import project_relative
from ..utterances import EXPORT_SUFFIXES, Utterance, hash_utterances, read_utterances
from . import framework
from .framework import Deadline, ImportJobOutputs, KoreInputs, KoreProvider, KoreResource, Run, known, program
from .polling import LatestJobTracker, Verdict, wait_for, word_verdict
from .runtime import RUNTIME, log, utc_now

if TYPE_CHECKING:
    from ..api.client import KoreClient

CONTENT_HASH_PATTERN = re.compile(r"sha256:[0-9a-f]{64}")


# -- status rules (pure) ------------------------------------------------------------------------------------


def import_verdict(job: MlImportJob) -> Verdict:
    """The ML import status vocabulary: `success` is done, a failure word failed, anything else waits."""
    return word_verdict(job.status)


def utterances_digest(utterances: Iterable[Utterance]) -> str:
    """What refresh compares (module docstring): intent, text and entity tags of each utterance, as a
    set."""
    lines = {
        json.dumps([u.intent, u.text, [[e.name, e.start, e.end] for e in u.entities]], ensure_ascii=False)
        for u in utterances
    }
    return "sha256:" + hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def describe_drift(
    on_bot: Iterable[Utterance], imported: Iterable[Utterance] | None, intents: Iterable[str]
) -> str:
    """The intents whose utterances differ between the bot and the import, with how many utterances
    (`Book Flight (1 changed on the bot, 1 gone)`); every intent of the file when what was imported is
    no longer known utterance by utterance."""
    if imported is None:
        return ", ".join(sorted(intents)) or "these intents"
    bot_lines, file_lines = _lines_by_intent(on_bot), _lines_by_intent(imported)
    parts = []
    for intent in sorted(set(bot_lines) | set(file_lines)):
        added = len(bot_lines.get(intent, set()) - file_lines.get(intent, set()))
        gone = len(file_lines.get(intent, set()) - bot_lines.get(intent, set()))
        counts = [f"{added} not in the file" if added else "", f"{gone} gone from the bot" if gone else ""]
        if added or gone:
            parts.append(f"{intent} ({', '.join(c for c in counts if c)})")
    return ", ".join(parts) or "these intents"


def _lines_by_intent(utterances: Iterable[Utterance]) -> dict[str, set[str]]:
    """Each intent's utterances as `utterances_digest` compares them (text and entity tags)."""
    found: dict[str, set[str]] = {}
    for u in utterances:
        found.setdefault(u.intent, set()).add(
            json.dumps([u.text, [[e.name, e.start, e.end] for e in u.entities]], ensure_ascii=False)
        )
    return found


def export_verdict(job: MlExportJob) -> Verdict:
    """What an export's status word says: `SUCCESS` with a download URL is done, `FAILED` (or another
    failure word) failed, anything else waits."""
    if status_word(job.status) == "success":
        return Verdict.FINISHED if job.download_url else Verdict.WAITING
    return Verdict.FAILED if is_failure_word(job.status) else Verdict.WAITING


@dataclass(kw_only=True)
class ExportTracker(LatestJobTracker[MlExportJob]):
    """The export status describes the bot's *latest* export and takes no id, and whether its `_id` is the
    POST's is undocumented (docs/kore-api.md §7.5). So a terminal status is ours when it names the POST's
    id, or any id but the one read before the POST (`baseline`: an older export); a status that names no
    id is ours once a running one was seen since the POST, or after the grace period."""

    ours: str | None
    baseline: str | None

    def is_terminal(self, status: MlExportJob) -> bool:
        return export_verdict(status) is not Verdict.WAITING

    def is_absent(self, status: MlExportJob) -> bool:
        # `SUCCESS` without a URL yet (the docs' sample): neither running nor done.
        return status_word(status.status) == "success" and not status.download_url

    def ended(self, status: MlExportJob, elapsed: float) -> Verdict:
        if status.job_id is not None:
            newer = status.job_id == self.ours or status.job_id != self.baseline
            return export_verdict(status) if newer else Verdict.WAITING
        if self.seen_running or elapsed >= self.grace_seconds:
            return export_verdict(status)
        return Verdict.WAITING


@dataclass(frozen=True)
class ExportedLanguage:
    """A bot language's ML utterances as the export gave them, or why they cannot be compared."""

    utterances: tuple[Utterance, ...] = ()
    #: Set when the export cannot be taken for this language's utterances (it answered another language).
    unusable: str | None = None
    #: The export's records name no language at all: taken for the language asked for (undocumented).
    languages_unnamed: bool = False


def language_of_export(records: list[Utterance], language: str) -> ExportedLanguage:
    """This language's utterances of an export. Whether `bot-language` selects the exported language is
    undocumented (docs/kore-api.md §7.4): an export whose records all name other languages answered
    another language, and cannot be compared with this one's imports."""
    named = {u.language for u in records if u.language}
    if named and language not in named:
        other = ", ".join(sorted(named))
        return ExportedLanguage(
            unusable=(
                f"the ML export asked for bot language {language!r} (bot-language) answered utterances of "
                f"{other}: Kore.ai did not export this language (whether bot-language selects the exported "
                "language is undocumented), so refresh cannot compare this file with the bot and changes "
                "nothing"
            )
        )
    if not records:
        return ExportedLanguage(
            unusable=(
                f"the ML export asked for bot language {language!r} holds no utterances at all, so whether "
                "it is this language's cannot be told (whether bot-language selects the exported language is "
                "undocumented): either the bot's utterances of it were all deleted, or Kore.ai exported "
                "another language. Refresh cannot compare this file with the bot and changes nothing; the "
                "training's refresh still sees a model out of sync with the bot's utterances"
            )
        )
    mine = tuple(u for u in records if u.language in (None, language))
    return ExportedLanguage(utterances=mine, languages_unnamed=not named)


# -- inputs ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MlUtterancesInputs(KoreInputs):
    """What an MlUtterances is given, as the provider checks and records it."""

    DESCRIBE: ClassVar[str] = "bot {bot_id} ({language}), file {file}"
    JOB: ClassVar[str] = "ML import"

    #: One ML utterance export (`*.json` or `*.csv`), as Kore.ai's builder exports it. A plain path (not a
    #: `pulumi.Input`): it is hashed when the program runs. Relative paths start from the project.
    file: str = field(metadata=program(type="str | os.PathLike[str]"))
    #: The bot language to import into (`en`, `de`, ...), sent as `bot-language`.
    language: str = settings.DEFAULT_LANGUAGE
    #: What the file means when the program ran (`hash_utterances`): the trigger.
    content_hash: str = field(metadata=program(computed=True))
    #: Deadline for the whole operation (upload, import, waiting), in seconds.
    timeout_seconds: float = settings.DEFAULT_IMPORT_TIMEOUT_SECONDS

    @property
    def resource_id(self) -> str:
        return f"{self.bot_id}/{self.language}/{Path(self.file).name}"

    @classmethod
    def problems(cls, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures = super().problems(news)
        file = news.get("file")
        if file is None:
            failures.append(("file", "file is required: one Kore.ai ML utterance export (*.json or *.csv)"))
        elif known(news, "file") and not (
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
        if content_hash is None:
            failures.append(("content_hash", "content_hash is required: hash_utterances(file)"))
        elif known(news, "content_hash") and not (
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


@dataclass(frozen=True, kw_only=True)
class MlUtterancesOutputs(MlUtterancesInputs, ImportJobOutputs):
    #: The `fileId` Upload File returned.
    file_id: str | None = None
    #: The intents the import sent, and a digest of their utterances: what refresh compares the bot with
    #: (new in 0.2; a 0.1 record is compared through its file while that still hashes to `content_hash`).
    intents: list[str] | None = None
    imported_digest: str | None = None


@dataclass(frozen=True)
class PlannedExport:
    """One export file as the provider uploads it: exactly the bytes that hash to the planned hash."""

    name: str
    content: bytes
    extension: str
    utterances: tuple[Utterance, ...]


def export_utterances(inputs: MlUtterancesInputs, client: KoreClient, deadline: Deadline) -> ExportedLanguage:
    """Export the bot language's utterances, wait for the export, download and read it."""
    describe = f"{inputs.describe}: ML export"
    unchanged = "nothing was changed; run `pulumi refresh` again"

    def turn_timed_out() -> Exception:
        return KoreApiError(f"{describe}: the bot's other jobs left no time for it; {unchanged}")

    with RUNTIME.one_job_per_bot(inputs.host, inputs.bot_id, deadline.at, turn_timed_out):
        baseline = latest_export_id(client, inputs, deadline)
        started = client.ml_export(inputs.bot_id, inputs.language, deadline=deadline.at)

        def timed_out(last: MlExportJob | None) -> Exception:
            status = (last or started).status
            return KoreApiError(f"{describe} did not finish in time (last status: {status}); {unchanged}")

        tracker = ExportTracker(ours=started.job_id, baseline=baseline)
        verdict, job = wait_for(
            lambda: client.ml_export_status(inputs.bot_id, deadline=deadline.at),
            tracker.observe,
            clock=RUNTIME.clock,
            since=RUNTIME.clock.monotonic(),
            deadline=deadline.at,
            timed_out=timed_out,
            progress=lambda status: f"ML export {status.job_id or ''} {status.status}",
            log=lambda message: log(f"{inputs.describe}: {message}"),
            describe=describe,
        )
    if verdict is not Verdict.FINISHED or job.download_url is None:
        raise KoreApiError(
            f"{describe}: Kore.ai reports export {job.job_id or ''} as {job.status!r}; {unchanged}"
        )
    content = client.download(job.download_url, deadline=deadline.at)
    return language_of_export(read_export(content, inputs), inputs.language)


def latest_export_id(client: KoreClient, inputs: MlUtterancesInputs, deadline: Deadline) -> str | None:
    """The `_id` the export status reports before our export (None: no export yet, or none named)."""
    try:
        return client.ml_export_status(inputs.bot_id, deadline=deadline.at).job_id
    except KoreApiError as exc:
        if exc.status in (400, 404):  # a bot never exported has no status to report
            return None
        raise


def read_export(content: bytes, inputs: MlUtterancesInputs) -> list[Utterance]:
    """The utterances of an exported file (JSON), read by the same parser as the files in git."""
    with tempfile.TemporaryDirectory(prefix="kore-export-") as tmp:
        copy = Path(tmp) / f"{inputs.language}-export.json"
        copy.write_bytes(content)
        try:
            return read_utterances(copy)
        except UtteranceFileError as exc:
            raise KoreApiError(
                f"{inputs.describe}: Kore.ai's ML export is not an utterance export ({exc.reason}); nothing "
                "was changed"
            ) from None


def hash_records(utterances: Iterable[Utterance], language: str) -> str:
    """A content hash of utterances (as `hash_utterances` makes for a file of them)."""
    records = [
        {
            "taskName": u.intent,
            "sentence": u.text,
            "type": u.intent_type or "DialogIntent",
            "entities": [
                {"entityName": e.name, "startIndex": e.start, "endIndex": e.end} for e in u.entities
            ],
            "language": u.language or language,
        }
        for u in utterances
    ]
    with tempfile.TemporaryDirectory(prefix="kore-export-") as tmp:
        copy = Path(tmp) / "utterances.json"
        copy.write_text(json.dumps(records), encoding="utf-8")
        return hash_utterances(copy)


def read_planned_export(file: str, content_hash: str) -> PlannedExport:
    """The export `file`, verified to still hash to `content_hash`.

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
            utterances = read_utterances(copy)
        except UtteranceFileError as exc:
            raise UtteranceFileError(path, exc.reason, exc.line) from None
    if actual != content_hash:
        raise UtteranceFileError(
            path,
            f"the file changed after the program read it: the plan imports content_hash {content_hash}, "
            f"the file now hashes to {actual}. Nothing was uploaded; run `pulumi up` again so the plan "
            "shows what will be imported",
        )
    return PlannedExport(path.name, content, path.suffix.lower().lstrip("."), tuple(utterances))


# -- the provider ------------------------------------------------------------------------------------------


#: What `job` is given: the inputs, and the uploaded file (`prepare`).
MlUtterancesRun = Run[MlUtterancesInputs, MlUtterancesOutputs, tuple[PlannedExport, UploadedFile]]


class MlUtterancesProvider(
    KoreProvider[MlUtterancesInputs, MlUtterancesOutputs, tuple[PlannedExport, UploadedFile]]
):
    """Uploads one ML utterance export and imports it into a bot language when its content changes."""

    inputs_type = MlUtterancesInputs
    outputs_type = MlUtterancesOutputs
    #: Another bot, language or host is another import: replace.
    replace_keys = ("bot_id", "language", "host")
    #: New content is imported again. Not `file` alone: the same utterances moved or renamed import nothing.
    trigger_keys = ("content_hash",)
    #: No API undoes an import: the bot keeps the utterances until another import or an edit replaces them.
    forgotten = (
        "bot {bot_id} ({language}): forgetting import {import_id} of {file}; the bot keeps the imported "
        "utterances"
    )

    def refresh(
        self,
        inputs: MlUtterancesInputs,
        recorded: MlUtterancesOutputs,
        client: KoreClient,
        deadline: Deadline,
    ) -> MlUtterancesOutputs:
        """The recorded import's current status, and the bot's utterances of this file's intents compared
        with what the import sent; every other recorded output is kept."""
        refreshed = recorded
        if recorded.import_id:
            try:
                status = client.ml_import_status(inputs.bot_id, recorded.import_id, deadline=deadline.at)
                refreshed = replace(refreshed, import_status=status.status)
            except KoreApiError as exc:
                if exc.status != 400:
                    raise
                # `Invalid request ID`: the platform no longer knows the request. It happened; keep it.
                known_no_more = f"Kore.ai no longer knows import {recorded.import_id}"
                log(f"{inputs.describe}: {known_no_more}; keeping its status")
        imported = self._imported(inputs, recorded)
        if imported is None:
            return refreshed
        intents, imported_digest = imported
        exported = self._bot_utterances(inputs, client, deadline)
        if exported.unusable is not None:
            log(f"{inputs.describe}: {exported.unusable}")
            return refreshed
        on_bot = [u for u in exported.utterances if u.intent in intents]
        if utterances_digest(on_bot) != imported_digest:
            refreshed = replace(refreshed, content_hash=hash_records(on_bot, inputs.language))
            assumed = (
                f" (the export's records name no language: taken for {inputs.language!r}, the language asked "
                "for with bot-language, which is undocumented)"
                if exported.languages_unnamed
                else ""
            )
            what = describe_drift(on_bot, self._imported_utterances(inputs, recorded), intents)
            log(
                f"{inputs.describe}: the bot's utterances of {what} differ from what this file imported "
                f"(changed in the builder?){assumed}; the next `pulumi up` imports the file again"
            )
        return refreshed

    @staticmethod
    def _imported_utterances(
        inputs: MlUtterancesInputs, recorded: MlUtterancesOutputs
    ) -> list[Utterance] | None:
        """What the recorded import sent, utterance by utterance: the file, while it still hashes to the
        recorded content_hash (the state keeps only a digest); else None."""
        try:
            if hash_utterances(inputs.file) == recorded.content_hash:
                return read_utterances(inputs.file)
        except UtteranceFileError:
            pass
        return None

    @staticmethod
    def _imported(
        inputs: MlUtterancesInputs, recorded: MlUtterancesOutputs
    ) -> tuple[frozenset[str], str] | None:
        """The intents the recorded import sent, and the digest of their utterances; for a 0.1 record
        without them, from the file while it still hashes to the recorded content_hash (else None)."""
        if recorded.intents is not None and recorded.imported_digest is not None:
            return frozenset(recorded.intents), recorded.imported_digest
        try:
            if hash_utterances(inputs.file) != recorded.content_hash:
                raise UtteranceFileError(inputs.file, "changed since it was imported")
            utterances = read_utterances(inputs.file)
        except UtteranceFileError as exc:
            log(f"{inputs.describe}: not compared with the bot ({exc.reason}); the next import records it")
            return None
        return frozenset(u.intent for u in utterances), utterances_digest(utterances)

    @staticmethod
    def _bot_utterances(
        inputs: MlUtterancesInputs, client: KoreClient, deadline: Deadline
    ) -> ExportedLanguage:
        """The bot language's ML utterances now: one export per bot language and refresh (RUNTIME.memo),
        under the bot's lock (the export status describes the bot's latest export, of any language)."""
        key = ("ml-export", inputs.host, inputs.bot_id, inputs.language)
        return RUNTIME.memo(key, lambda: export_utterances(inputs, client, deadline))

    # -- the work -----------------------------------------------------------------------------------------

    def prepare(
        self, inputs: MlUtterancesInputs, client: KoreClient, deadline: Deadline
    ) -> tuple[PlannedExport, UploadedFile]:
        """Upload the file: it needs no turn on the bot. The bytes are read once and checked against the
        planned hash, so exactly what the plan showed is uploaded."""
        export = read_planned_export(inputs.file, inputs.content_hash)
        uploaded = client.upload_file(export.name, export.content, export.extension, deadline=deadline.at)
        log(f"{inputs.describe}: uploaded as file {uploaded.file_id}")
        return export, uploaded

    def job(self, run: MlUtterancesRun) -> MlUtterancesOutputs:
        """Import and wait. Raises unless the import succeeded, so nothing is recorded otherwise and the next
        `pulumi up` imports again (importing the same file twice is harmless)."""
        inputs, deadline = run.inputs, run.deadline
        export, uploaded = run.prepared
        job = run.client.ml_import(
            inputs.bot_id, inputs.language, export.name, uploaded.file_id, deadline=deadline.at
        )
        log(f"{inputs.describe}: import {job.import_id} started ({job.status})")
        job = self._wait(run, job, RUNTIME.clock.monotonic())
        log(
            f"{inputs.describe}: import {job.import_id} finished after {deadline.elapsed:.0f}s"
            + (f": {job.message}" if job.message else "")
        )
        return MlUtterancesOutputs(
            **vars(inputs),
            file_id=uploaded.file_id,
            import_id=job.import_id,
            import_status=job.status,
            imported_at=utc_now(),
            intents=sorted({u.intent for u in export.utterances}),
            imported_digest=utterances_digest(export.utterances),
        )

    @staticmethod
    def _wait(run: MlUtterancesRun, job: MlImportJob, started: float) -> MlImportJob:
        inputs, client, deadline = run.inputs, run.client, run.deadline
        job = run.wait_for_import_job(
            job,
            lambda: client.ml_import_status(inputs.bot_id, job.import_id, deadline=deadline.at),
            import_verdict,
            since=started,
        )
        if import_verdict(job) is Verdict.FAILED:
            raise inputs.job_error(
                JobFailedError,
                f"Kore.ai reports import {job.import_id} as {job.status!r}"
                + (f" ({job.message})" if job.message else "")
                + ". Nothing was recorded, so the next `pulumi up` imports again; check the file against "
                "the bot's intents (Build > Natural Language > Training > ML Utterances > Import).",
                job_id=job.import_id,
            )
        return job


# -- the resource ------------------------------------------------------------------------------------------


def export_file(file: str | os.PathLike[str]) -> str:
    """The path of one ML utterance export as MlUtterances records it: relative to the project directory
    (the working directory of both the program and the provider plugin) when the file is inside it, so
    the state does not depend on where the project is checked out."""
    path = Path(file)
    if path.is_dir():
        raise UtteranceFileError(
            path,
            "is a folder; MlUtterances imports one export file (the import API takes one file): declare "
            "one MlUtterances per *.json or *.csv file",
        )
    if path.suffix.lower() not in EXPORT_SUFFIXES:
        raise UtteranceFileError(path, "not a .json or .csv file; expected a Kore.ai ML utterance export")
    return project_relative(path).as_posix()


# -- generated by scripts/generate_resources.py (do not edit): MlUtterancesArgs, MlUtterancesAttributes


@dataclass(kw_only=True)
class MlUtterancesArgs(framework.KoreArgs):
    """Inputs of a `MlUtterances`, each a plain value or a `pulumi.Input`.

    Besides `bot_id` and `host` (`KoreArgs`):
    - `timeout_seconds`: Deadline for the whole operation (upload, import, waiting), in seconds.
    - `file`: One ML utterance export (`*.json` or `*.csv`), as Kore.ai's builder exports it. A plain path
      (not a `pulumi.Input`): it is hashed when the program runs. Relative paths start from the project.
    - `language`: The bot language to import into (`en`, `de`, ...), sent as `bot-language`.
    """

    timeout_seconds: pulumi.Input[float] = settings.DEFAULT_IMPORT_TIMEOUT_SECONDS
    file: str | os.PathLike[str]
    language: pulumi.Input[str] = settings.DEFAULT_LANGUAGE


class MlUtterancesAttributes(framework.KoreAttributes, framework.ImportJobAttributes):
    """The outputs of a `MlUtterances` as a program reads them: its inputs, and what its job records."""

    file: pulumi.Output[str]
    language: pulumi.Output[str]
    content_hash: pulumi.Output[str]
    file_id: pulumi.Output[str | None]
    intents: pulumi.Output[list[str] | None]
    imported_digest: pulumi.Output[str | None]


# -- end of the generated part --


class MlUtterances(
    MlUtterancesAttributes, KoreResource[MlUtterancesArgs], module="kore", name="MlUtterances"
):
    """The ML utterances of one export file, imported into one language of a Kore.ai bot, imported again
    whenever the file's content changes.

    The file is hashed with `hash_utterances` when the program runs; that `content_hash` is the trigger,
    so reformatting or reordering the export imports nothing. `pulumi up` uploads the file
    (`/api/public/uploadfile`), imports it (`/api/public/bot/{id}/mlimport`) and waits for the import to
    succeed; the provider re-hashes the file before uploading and fails if it changed since the program
    ran. Another `bot_id`, `language` or `host` replaces the resource. Destroying it makes no API call:
    an import cannot be undone. Give a `BotTraining` `utterances_hash=mlu.content_hash` to train after it.
    """

    provider_class = MlUtterancesProvider

    @classmethod
    def wire_inputs(cls, resource_name: str, args: MlUtterancesArgs) -> dict[str, Any]:
        """The file relative to the project, and its `content_hash` as the program runs."""
        file = export_file(args.file)
        return {"file": file, "content_hash": hash_utterances(file)}
