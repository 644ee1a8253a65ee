"""The pipeline's pure decisions, without network: job status vocabularies, when a publish is ours,
MlUtterances / BotPublish validation and diff, the promotion guard, the import plan and the config."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc

from kore_resources import PromotionRefusedError, UtteranceFileError, hash_utterances
from kore_resources.api.models import MlExportJob, MlImportJob, PublishStatus, PublishTicket, UploadedFile
from kore_resources.errors import ConfigurationError
from kore_resources.program.bots_config import PublishSpec, parse_bots
from kore_resources.program.import_plan import plan_imports, shared_intents
from kore_resources.program.promotion import check_promotion, find_refusals, parse_promote_from
from kore_resources.resources.bot_publish import (
    BotPublishInputs,
    BotPublishProvider,
    PublishTracker,
    publish_verdict,
)
from kore_resources.resources.bot_variables import DELETED_ON_BOT, VariableChanges, variable_problem
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
from kore_resources.utterances import export_files, read_utterances


def decide_import_diff(olds, news):
    return MlUtterancesProvider().diff("id", olds, news)


def decide_publish_diff(olds, news):
    return BotPublishProvider().diff("id", olds, news)


ROOT = Path(__file__).resolve().parent.parent
BOT = "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01"
HASH = "sha256:" + "ab" * 32
OTHER_HASH = "sha256:" + "cd" * 32

# -- job status vocabularies (docs/kore-api.md §11) -----------------------------------------------------


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


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        ("successful", Verdict.FINISHED),
        ("Successful", Verdict.FINISHED),
        ("in-progress", Verdict.WAITING),
        ("IN_PROGRESS", Verdict.WAITING),
        ("running", Verdict.WAITING),
        ("failed", Verdict.FAILED),
        ("failure", Verdict.FAILED),
    ],
)
def test_publish_status_vocabulary(status, verdict):
    assert publish_verdict(PublishStatus(status)) is verdict


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


def test_documented_publish_answers_parse():
    ticket = PublishTicket.from_api(
        [{"resourceType": "dialog", "resourceId": "dg-1", "status": "SUCCESS", "result": {}}]
    )
    assert [r.resource_id for r in ticket.resources] == ["dg-1"] and ticket.failed_resources == ()
    refused = PublishTicket.from_api([{"resourceType": "dialog", "resourceId": "dg-2", "status": "FAILED"}])
    assert [r.describe() for r in refused.failed_resources] == ["dialog dg-2: FAILED"]
    with pytest.raises(ValueError, match="array"):
        PublishTicket.from_api({"status": "ok"})

    sample = {
        "_id": "ds-4a1b",
        "action": "RUN",
        "jobType": "PUBLISH_BOT",
        "percentageComplete": 100,
        "status": "successful",
        "statusSummary": [{"resourceId": "NL", "resourceType": "NL", "status": "SUCCESS"}],
    }
    status = PublishStatus.from_api(sample)
    assert (status.job_id, status.percentage, publish_verdict(status)) == ("ds-4a1b", 100.0, Verdict.FINISHED)
    # a "successful" job that failed to publish a resource is not a success
    broken = {**sample, "statusSummary": [{"resourceType": "NL", "status": "FAILED", "message": "model"}]}
    assert publish_verdict(PublishStatus.from_api(broken)) is Verdict.FAILED
    assert PublishStatus.from_api(broken).failed_resources[0].describe() == "NL: FAILED (model)"
    assert PublishStatus.from_api({"status": "in-progress", "percentageComplete": True}).percentage is None
    with pytest.raises(ValueError, match="status"):
        PublishStatus.from_api({"_id": "ds-1"})


def read(status: str, job_id: str | None = "ds-old") -> PublishStatus:
    return PublishStatus(status=status, job_id=job_id)


def test_publish_tracker_accepts_a_newer_job_at_once():
    tracker = PublishTracker(baseline_id="ds-old", grace_seconds=10)
    assert tracker.observe(read("successful", "ds-new"), elapsed=1) is Verdict.FINISHED
    assert PublishTracker("ds-old").observe(read("failed", "ds-new"), elapsed=1) is Verdict.FAILED
    assert PublishTracker(None).observe(read("successful", "ds-any"), elapsed=0) is Verdict.FINISHED


def test_publish_tracker_does_not_take_the_previous_job_for_ours():
    tracker = PublishTracker(baseline_id="ds-old", grace_seconds=10)
    assert tracker.observe(read("successful"), elapsed=1) is Verdict.WAITING  # stale: the previous publish
    assert tracker.observe(read("failed"), elapsed=2) is Verdict.WAITING
    assert tracker.observe(read("successful"), elapsed=10) is Verdict.FINISHED  # rule 3: after the grace


def test_publish_tracker_after_seeing_it_run_the_next_terminal_status_is_ours():
    tracker = PublishTracker(baseline_id="ds-old", grace_seconds=10)
    assert tracker.observe(read("in-progress"), elapsed=1) is Verdict.WAITING
    assert tracker.observe(read("failed"), elapsed=2) is Verdict.FAILED  # same (reused) id, but seen running


# -- MlUtterances: validation and diff ---------------------------------------------------------------------

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


# -- BotPublish: validation and diff -----------------------------------------------------------------------

PUBLISH = {
    "bot_id": BOT,
    "version_comment": "travel: from git",
    "triggers": ["5d6f0c3a9e1b2c3d4e5f6a7b", "5d6f0c3a9e1b2c3d4e5f6a7c"],
    "host": "https://platform.kore.ai",
    "timeout_seconds": 900.0,
}
PUBLISHED = {**PUBLISH, "publish_status": "successful", "published_at": "t"}


def test_good_publish_inputs_pass_and_get_defaults():
    assert BotPublishInputs.problems(PUBLISH) == []
    assert BotPublishInputs.problems({**PUBLISH, "triggers": []}) == []
    assert (
        BotPublishInputs.problems({**PUBLISH, "triggers": ["a", Unknown()], "version_comment": Unknown()})
        == []
    )
    minimal = {k: v for k, v in PUBLISH.items() if k != "timeout_seconds"}
    assert BotPublishInputs.normalize(minimal)["timeout_seconds"] == 900


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("bot_id", "st-1"),
        ("host", "platform.kore.ai"),
        ("timeout_seconds", -1),
        ("version_comment", ""),
        ("version_comment", 12),
        ("triggers", "training-1"),
        ("triggers", [["nested"]]),
        ("triggers", [{"a": 1}]),
    ],
)
def test_each_bad_publish_input_names_the_property(prop, value):
    failures = BotPublishInputs.problems({**PUBLISH, prop: value})
    assert [p for p, _ in failures] == [prop]


@pytest.mark.parametrize("prop", ["bot_id", "version_comment", "triggers", "host"])
def test_required_publish_inputs(prop):
    failures = BotPublishInputs.problems({k: v for k, v in PUBLISH.items() if k != prop})
    assert [p for p, _ in failures] == [prop]


def test_publish_diff_republishes_when_triggers_change_not_for_the_comment_alone():
    assert decide_publish_diff(PUBLISHED, PUBLISH).changes is False
    assert decide_publish_diff(PUBLISHED, {**PUBLISH, "version_comment": "new words"}).changes is False
    assert decide_publish_diff(PUBLISHED, {**PUBLISH, "timeout_seconds": 60.0}).changes is False
    new_training = decide_publish_diff(PUBLISHED, {**PUBLISH, "triggers": [PUBLISH["triggers"][0], "new"]})
    assert (new_training.changes, new_training.replaces) == (True, [])
    assert decide_publish_diff(
        PUBLISHED, {**PUBLISH, "triggers": [PUBLISH["triggers"][0], Unknown()]}
    ).changes
    assert decide_publish_diff(PUBLISHED, {**PUBLISH, "triggers": Unknown()}).changes
    assert decide_publish_diff(PUBLISHED, {**PUBLISH, "bot_id": BOT.replace("01", "02")}).replaces == [
        "bot_id"
    ]
    assert decide_publish_diff(PUBLISHED, {**PUBLISH, "host": "https://bots.kore.ai"}).replaces == ["host"]


# -- the file the provider uploads -------------------------------------------------------------------------


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


# -- the import plan ---------------------------------------------------------------------------------------


def test_shared_intents():
    assert shared_intents({"a.json": ["X", "Y", "X"], "b.json": ["Z"]}) == {}
    assert shared_intents({"a.json": ["X", "Y"], "b.csv": ["Y"], "c.json": ["Y", "Z"]}) == {
        "Y": ["a.json", "b.csv", "c.json"]
    }


def test_plan_imports_one_file_per_intent_group(tmp_path):
    folder = tmp_path / "en"
    a = write(folder / "a.json", [UTTERANCE])
    b = write(folder / "sub" / "b.json", [{**UTTERANCE, "taskName": "Flight Status"}])
    (folder / ".hidden.json").write_text("[]", encoding="utf-8")
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    assert plan_imports(folder) == [a, b]
    assert export_files(folder) == [a, b]


def test_plan_imports_refuses_an_intent_split_across_files(tmp_path):
    folder = tmp_path / "en"
    write(folder / "a.json", [UTTERANCE])
    write(folder / "b.json", [{**UTTERANCE, "sentence": "Fly me to Rome"}])
    with pytest.raises(UtteranceFileError) as info:
        plan_imports(folder)
    message = str(info.value)
    assert "'Book Flight'" in message and "a.json" in message and "b.json" in message
    assert "one export file" in message


def test_plan_imports_of_a_missing_or_empty_folder(tmp_path):
    with pytest.raises(UtteranceFileError, match="no such folder"):
        plan_imports(tmp_path / "fr")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UtteranceFileError, match=r"no Kore\.ai ML utterance exports"):
        plan_imports(tmp_path / "empty")


# -- the promotion guard -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "  "])
def test_no_promote_from(value):
    assert parse_promote_from(value, project="kore-bots", stack="prod") is None


def test_promote_from_is_a_fully_qualified_other_stack():
    assert parse_promote_from(" acme/kore-bots/staging ", project="kore-bots", stack="prod") == (
        "acme/kore-bots/staging"
    )
    for bad in ("staging", "kore-bots/staging", "a/b/c/d", "acme/kore bots/staging"):
        with pytest.raises(ConfigurationError, match="organization/project/stack"):
            parse_promote_from(bad, project="kore-bots", stack="prod")
    with pytest.raises(ConfigurationError, match="names this stack itself"):
        parse_promote_from("acme/kore-bots/prod", project="kore-bots", stack="prod")


PLANNED = {"travel": {"en": HASH, "de": OTHER_HASH}}


def test_find_refusals():
    assert find_refusals(PLANNED, {"travel": {"en": HASH, "de": OTHER_HASH}, "other": {}}) == []
    [stale] = find_refusals(PLANNED, {"travel": {"en": OTHER_HASH, "de": OTHER_HASH}})
    assert (stale.bot, stale.language, stale.planned, stale.upstream) == ("travel", "en", HASH, OTHER_HASH)
    assert [r.upstream for r in find_refusals(PLANNED, {"travel": {"en": None}})] == [None, None]
    assert len(find_refusals(PLANNED, None)) == 2  # upstream exports no utterancesHashes
    assert len(find_refusals(PLANNED, ["not", "a", "mapping"])) == 2


def test_check_promotion_message_names_bot_language_both_hashes_and_the_fix():
    check_promotion(PLANNED, {"travel": dict(PLANNED["travel"])}, "acme/kore-bots/staging")
    with pytest.raises(PromotionRefusedError) as info:
        check_promotion(PLANNED, {"travel": {"en": OTHER_HASH}}, "acme/kore-bots/staging")
    message = str(info.value)
    upstream = "acme/kore-bots/staging"
    assert (
        f"bot travel (en): this stack would deploy {HASH}, but {upstream} last trained {OTHER_HASH}"
        in message
    )
    assert "bot travel (de)" in message and "has not trained this bot language successfully" in message
    assert "pulumi up -s staging" in message and "nothing was imported, trained or published" in message


# -- the bots config ---------------------------------------------------------------------------------------


def bots(**changes):
    entry = {
        "name": "travel",
        "botId": BOT,
        "languages": ["en"],
        "utterances": "utterances/travel",
        **changes,
    }
    return parse_bots([entry], key="kore-bots:bots", base_dir=ROOT)


def test_pipeline_keys_are_optional_and_parsed():
    [plain] = bots()
    assert (plain.import_utterances, plain.publish) == (False, None)
    [full] = bots(importUtterances=True, publish={"versionComment": "v1", "timeoutSeconds": 60})
    assert full.import_utterances is True and full.publish == PublishSpec("v1", 60)
    assert bots(publish={"versionComment": "v2"})[0].publish == PublishSpec("v2", 900)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"publish": {"timeoutSeconds": 5}}, "kore-bots:bots[0].publish.versionComment is required"),
        (
            {"publish": {"versionComment": "v", "timeoutSeconds": 0}},
            "publish.timeoutSeconds must be a positive",
        ),
        ({"publish": ["v"]}, "publish must be an object"),
        ({"publish": {"versionComment": "v"}, "waitForCompletion": False}, "needs waitForCompletion: true"),
        ({"importUtterances": 1}, "importUtterances must be true or false"),
    ],
)
def test_bad_pipeline_keys(changes, expected):
    with pytest.raises(ConfigurationError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        bots(**changes)


# -- drift of ML utterances (what refresh compares) --------------------------------------------------------


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


def test_variable_changes_name_keys_in_one_order_whatever_order_the_wire_gave():
    """Keys arrive through protobuf Structs (maps): the preview must say the same thing every time."""
    declared = {"zeta": {"value": "1"}, "alpha": {"value": "2"}, "mid": {"value": "3"}}
    recorded = {"mid": {"value": "old"}, "gone": {"value": "x"}, "also-gone": {"value": "y"}}
    changes = VariableChanges.between(recorded, declared)
    assert (changes.added, changes.changed, changes.removed) == (
        ("alpha", "zeta"),
        ("mid",),
        ("also-gone", "gone"),
    )
    reordered = VariableChanges.between(dict(reversed(recorded.items())), dict(reversed(declared.items())))
    assert reordered.describe() == changes.describe()


def through_the_plugin(props: dict) -> dict:
    """Outputs as the dynamic provider plugin serializes them into the state, and as the next call reads
    them back (pulumi/dynamic/__main__.py: `rpc.serialize_properties`, `rpc.deserialize_properties`)."""
    return rpc.deserialize_properties(asyncio.run(rpc.serialize_properties(props, {})))


def test_a_variable_deleted_on_the_bot_is_a_mark_that_survives_the_plugin_and_is_imported_again():
    """A deletion is recorded as a mark beside the recorded fields, not as value None: the plugin drops
    None values, which left an entry without a value that the next refresh crashed on."""
    assert "value" not in through_the_plugin({"variables": {"url": {"value": None}}})["variables"]["url"]
    recorded = {
        "url": {"value": "https://a", "hint": "the API", DELETED_ON_BOT: True},
        "apiKey": {"value": "s3cret", "secured": True, DELETED_ON_BOT: True},
        "greeting": {"value": {"en": "Hello"}, "variable_type": "locale", DELETED_ON_BOT: True},
        "legacy": {"hint": "recorded by an earlier release as value None"},
        "kept": {"value": "1"},
        "dropped": {"value": "x", DELETED_ON_BOT: True},
    }
    assert through_the_plugin({"variables": recorded}) == {"variables": recorded}  # the mark survives
    declared = {
        "url": {"value": "https://a", "hint": "the API"},
        "apiKey": {"value": "s3cret", "secured": True},
        "greeting": {"value": {"en": "Hello"}, "variable_type": "locale"},
        "legacy": {"value": "v", "hint": "recorded by an earlier release as value None"},
        "kept": {"value": "1"},
    }
    changes = VariableChanges.between(recorded, declared)
    assert (changes.added, changes.changed, changes.removed) == ((), (), ())
    assert changes.deleted == ("apiKey", "greeting", "legacy", "url")
    assert changes.forgotten == ("dropped",)
    assert changes.to_import == changes.deleted  # imported again: the declared values
    assert changes.describe() == (
        "deleted on the bot: apiKey, greeting, legacy, url; "
        "removed from the program and already deleted on the bot, so forgotten: dropped"
    )
    # Once imported again, the recorded entries are the declared ones: nothing to do.
    assert VariableChanges.between(declared, declared).to_import == ()
    # The mark is the provider's, never an input.
    assert "unknown field(s) deleted_on_bot" in str(
        variable_problem("url", {"value": "https://a", DELETED_ON_BOT: True})
    )
