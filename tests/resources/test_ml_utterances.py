"""MlUtterances' rules, without sockets: its inputs (check), its diff, the ML import and export status
vocabularies, which export status is ours, the file it uploads, and what refresh compares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi.output import Unknown

from kore_resources import UtteranceFileError, hash_utterances
from kore_resources.api.models import MlExportJob, MlImportJob, PublishStatus, UploadedFile
from kore_resources.resources.ml_utterances import (
    ExportTracker,
    MlUtterancesInputs,
    MlUtterancesProvider,
    export_file,
    export_verdict,
    import_verdict,
    read_planned_export,
    utterances_digest,
)
from kore_resources.resources.polling import Verdict
from kore_resources.utterances import read_utterances

pytestmark = pytest.mark.unit


def decide_import_diff(olds, news):
    return MlUtterancesProvider().diff("id", olds, news)


ROOT = Path(__file__).resolve().parents[2]


BOT = "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01"


HASH = "sha256:" + "ab" * 32


OTHER_HASH = "sha256:" + "cd" * 32


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        ("success", Verdict.FINISHED),
        ("SUCCESS", Verdict.FINISHED),
        ("pending", Verdict.WAITING),
        ("in-progress", Verdict.WAITING),
        ("something new", Verdict.WAITING),
        ("failure", Verdict.FAILED),
        ("FAILED", Verdict.FAILED),
        ("error", Verdict.FAILED),
    ],
)
def test_import_status_vocabulary(status, verdict):
    assert import_verdict(MlImportJob("bir-1", status)) is verdict


def test_documented_import_answers_parse():
    pending = {
        "status": "pending",
        "streamId": BOT,
        "createdBy": "u-1",
        "requestType": "MLimport",
        "_id": "bir-7e0-51",
        "statusLogs": [],
        "createdOn": "2019-06-27T12:03:30.748Z",
        "__v": 0,
    }
    job = MlImportJob.from_api(pending)
    assert (job.import_id, job.status, job.message, import_verdict(job)) == (
        "bir-7e0-51",
        "pending",
        None,
        Verdict.WAITING,
    )
    done = MlImportJob.from_api(
        {
            **pending,
            "status": "success",
            "message": "File imported completed. 1 utterances copied successfully",
        }
    )
    assert import_verdict(done) is Verdict.FINISHED and done.message.startswith("File imported")
    for bad in ([], {"status": "pending"}, {"_id": "bir-1"}, {"_id": "", "status": "pending"}):
        with pytest.raises(ValueError, match="_id"):
            MlImportJob.from_api(bad)
    assert UploadedFile.from_api({"fileId": "5beed4fd0b9a4b740c09dca2"}).file_id == "5beed4fd0b9a4b740c09dca2"
    with pytest.raises(ValueError, match="fileId"):
        UploadedFile.from_api({"fileID": "x"})


def read(status: str, job_id: str | None = "ds-old") -> PublishStatus:
    return PublishStatus(status=status, job_id=job_id)


IMPORT = {
    "bot_id": BOT,
    "file": "utterances/travel/en/ml-utterances.json",
    "language": "en",
    "host": "https://platform.kore.ai",
    "content_hash": HASH,
    "timeout_seconds": 600.0,
}


IMPORTED = {**IMPORT, "file_id": "f1", "import_id": "bir-1", "import_status": "success", "imported_at": "t"}


def test_good_import_inputs_pass_and_get_defaults():
    assert MlUtterancesInputs.problems(IMPORT) == []
    minimal = {k: v for k, v in IMPORT.items() if k not in ("language", "timeout_seconds")}
    assert MlUtterancesInputs.problems(minimal) == []
    normalized = MlUtterancesInputs.normalize({**minimal, "host": "HTTPS://Platform.Kore.ai/"})
    assert (normalized["language"], normalized["timeout_seconds"], normalized["host"]) == (
        "en",
        600,
        "https://platform.kore.ai",
    )


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("bot_id", "bot-42"),
        ("language", "english"),
        ("host", "http://kore.example.com"),
        ("timeout_seconds", 0),
        ("file", "utterances/travel/en"),
        ("file", "notes.txt"),
        ("file", ""),
        ("file", 7),
        ("content_hash", "abc"),
        ("content_hash", "sha256:" + "AB" * 32),
    ],
)
def test_each_bad_import_input_names_the_property(prop, value):
    failures = MlUtterancesInputs.problems({**IMPORT, prop: value})
    assert [p for p, _ in failures] == [prop]


@pytest.mark.parametrize("prop", ["bot_id", "file", "content_hash", "host"])
def test_required_import_inputs(prop):
    failures = MlUtterancesInputs.problems({k: v for k, v in IMPORT.items() if k != prop})
    assert [p for p, _ in failures] == [prop] and "required" in failures[0][1]


def test_unknown_import_inputs_are_not_judged():
    assert (
        MlUtterancesInputs.problems(
            {**IMPORT, "file": Unknown(), "content_hash": Unknown(), "bot_id": Unknown()}
        )
        == []
    )


def test_import_diff_reimports_only_changed_content():
    assert decide_import_diff(IMPORTED, IMPORT).changes is False
    renamed = {**IMPORT, "file": "utterances/travel/en/renamed.json", "timeout_seconds": 60.0}
    assert decide_import_diff(IMPORTED, renamed).changes is False
    changed = decide_import_diff(IMPORTED, {**IMPORT, "content_hash": OTHER_HASH})
    assert (changed.changes, changed.replaces) == (True, [])
    assert decide_import_diff(IMPORTED, {**IMPORT, "content_hash": Unknown()}).changes is True
    for key, value in (
        ("bot_id", BOT.replace("01", "02")),
        ("language", "de"),
        ("host", "https://bots.kore.ai"),
    ):
        diff = decide_import_diff(IMPORTED, {**IMPORT, key: value})
        assert (diff.changes, diff.replaces) == (True, [key])


def write(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


UTTERANCE = {"taskName": "Book Flight", "sentence": "Book a flight", "type": "DialogIntent", "language": "en"}


def test_read_planned_export_returns_exactly_the_verified_bytes(tmp_path):
    file = write(tmp_path / "en.json", [UTTERANCE])
    export = read_planned_export(str(file), hash_utterances(file))
    name, content, extension = export.name, export.content, export.extension
    assert (name, content, extension) == ("en.json", file.read_bytes(), "json")


def test_read_planned_export_refuses_a_file_changed_since_the_plan(tmp_path):
    file = write(tmp_path / "en.json", [UTTERANCE])
    planned = hash_utterances(file)
    write(file, [{**UTTERANCE, "sentence": "Book a plane"}])
    with pytest.raises(UtteranceFileError) as info:
        read_planned_export(str(file), planned)
    message = str(info.value)
    assert str(file) in message and planned in message and hash_utterances(file) in message
    assert "Nothing was uploaded" in message


def test_read_planned_export_errors_name_the_real_file(tmp_path):
    missing = tmp_path / "gone.json"
    with pytest.raises(UtteranceFileError, match=r"gone\.json: cannot read the file"):
        read_planned_export(str(missing), HASH)
    broken = tmp_path / "broken.json"
    broken.write_text("[{]", encoding="utf-8")
    with pytest.raises(UtteranceFileError) as info:
        read_planned_export(str(broken), HASH)
    assert info.value.path == str(broken) and info.value.line == 1


def test_export_file_is_one_file_recorded_relative_to_the_project(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert (
        export_file(ROOT / "utterances/travel/en/ml-utterances.json")
        == "utterances/travel/en/ml-utterances.json"
    )
    assert export_file("utterances/travel/de/ml-utterances.csv") == "utterances/travel/de/ml-utterances.csv"
    outside = write(tmp_path / "x.json", [UTTERANCE])
    assert export_file(outside) == outside.as_posix()
    with pytest.raises(UtteranceFileError, match="is a folder"):
        export_file("utterances/travel/en")
    with pytest.raises(UtteranceFileError, match=r"not a \.json or \.csv"):
        export_file("README.md")


def parsed(tmp_path: Path, records: list[dict]) -> list:
    file = tmp_path / f"u{len(list(tmp_path.iterdir()))}.json"
    file.write_text(json.dumps(records), encoding="utf-8")
    return read_utterances(file)


BOOK = {"taskName": "Book Flight", "sentence": "Book a flight to Rome", "language": "en"}


STATUS = {"taskName": "Flight Status", "sentence": "Is LH 123 on time?", "language": "en"}


def test_the_utterances_digest_is_what_an_import_controls(tmp_path):
    digest = utterances_digest(parsed(tmp_path, [BOOK, STATUS]))
    # order, the intent type an export fills in, and the language the import set do not count
    assert utterances_digest(parsed(tmp_path, [STATUS, {**BOOK, "type": "DialogIntent"}])) == digest
    assert utterances_digest(parsed(tmp_path, [BOOK, {**STATUS, "language": "de"}])) == digest
    # a changed text, another intent, an entity tag, a removed or added utterance do
    changed = [
        [{**BOOK, "sentence": "Book a flight to Paris"}, STATUS],
        [{**BOOK, "taskName": "Book Hotel"}, STATUS],
        [{**BOOK, "entities": [{"entityName": "Destination", "startIndex": 17, "endIndex": 21}]}, STATUS],
        [BOOK],
        [BOOK, STATUS, {**STATUS, "sentence": "Where is my flight?"}],
    ]
    assert all(utterances_digest(parsed(tmp_path, records)) != digest for records in changed)


@pytest.mark.parametrize(
    ("job", "verdict"),
    [
        (MlExportJob("ds-1", "IN_PROGRESS"), Verdict.WAITING),
        (MlExportJob("ds-1", "SUCCESS", "https://files.example/ds-1"), Verdict.FINISHED),
        (MlExportJob("ds-1", "SUCCESS", None), Verdict.WAITING),  # no download URL yet
        (MlExportJob("ds-1", "FAILED"), Verdict.FAILED),
        (MlExportJob("ds-1", "success", "https://files.example/ds-1"), Verdict.FINISHED),
    ],
)
def test_an_export_status_word_says_done_failed_or_waiting(job, verdict):
    assert export_verdict(job) is verdict


DONE = "https://files.example/file"


@pytest.mark.parametrize(
    ("ours", "baseline", "reads", "verdict"),
    [
        ("ds-1", "ds-0", [MlExportJob("ds-1", "SUCCESS", DONE)], Verdict.FINISHED),  # the POST's id
        ("ds-1", "ds-0", [MlExportJob("ds-0", "SUCCESS", DONE)], Verdict.WAITING),  # the export before
        # The status names ids of its own (undocumented whether it names the POST's): any but the older one.
        ("ds-1", "dx-0", [MlExportJob("dx-1", "SUCCESS", DONE)], Verdict.FINISHED),
        ("ds-1", None, [MlExportJob("dx-1", "SUCCESS", DONE)], Verdict.FINISHED),  # no export before ours
        # No id at all: ours once it was seen running (or after the grace period).
        ("ds-1", None, [MlExportJob(None, "SUCCESS", DONE)], Verdict.WAITING),
        (
            "ds-1",
            None,
            [MlExportJob(None, "IN_PROGRESS"), MlExportJob(None, "SUCCESS", DONE)],
            Verdict.FINISHED,
        ),
        ("ds-1", "ds-0", [MlExportJob("ds-1", "FAILED")], Verdict.FAILED),
        # SUCCESS without a URL yet (the docs' sample) is neither running nor done.
        (
            "ds-1",
            None,
            [MlExportJob(None, "SUCCESS", None), MlExportJob(None, "SUCCESS", DONE)],
            Verdict.WAITING,
        ),
    ],
)
def test_an_export_status_is_taken_for_ours_only_on_evidence(ours, baseline, reads, verdict):
    tracker = ExportTracker(ours=ours, baseline=baseline, grace_seconds=10)
    seen = [tracker.observe(read, elapsed=1) for read in reads]
    assert seen[-1] is verdict
    late = ExportTracker(ours=ours, baseline=baseline, grace_seconds=10)
    assert (
        late.observe(MlExportJob(None, "SUCCESS", DONE), elapsed=11) is Verdict.FINISHED
    )  # the grace passed
