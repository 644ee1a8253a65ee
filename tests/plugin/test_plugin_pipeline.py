"""The promotion pipeline through the real plugin process (`python -u -m pulumi.dynamic`, driven over gRPC
as the engine drives it; tests/plugin_harness.py) against the Kore.ai sandbox: MlUtterances and BotPublish
create / no-op / change / failure, and import -> train -> publish end to end."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

import wire
from demo_values import BOT, CREDENTIALS_CONFIG, SAMPLE_UTTERANCES, SECRET
from kore_resources import BotPublishProvider, MlUtterancesProvider, hash_utterances
from kore_sandbox import Sandbox
from plugin_harness import PROJECT_DIR, UNKNOWN, CheckFailed, MiniEngine, Plugin, PluginError

pytestmark = pytest.mark.plugin

MLU_TYPE = "pulumi-python:dynamic/kore:MlUtterances"
PUBLISH_TYPE = "pulumi-python:dynamic/kore:BotPublish"
UTTERANCES = SAMPLE_UTTERANCES


@pytest.fixture(scope="module")
def plugin() -> Iterator[Plugin]:
    plugin = Plugin(config=CREDENTIALS_CONFIG)
    yield plugin
    stderr = plugin.close()
    assert SECRET not in stderr  # whatever happened, the client secret never reached the plugin's output


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(training_seconds=1.0, queue_seconds=0.2, import_seconds=0.4, publish_seconds=0.6) as sb:
        yield sb


@pytest.fixture
def imports(plugin: Plugin) -> MiniEngine:
    return MiniEngine(plugin, type_=MLU_TYPE, provider=serialize_provider(MlUtterancesProvider()))


@pytest.fixture
def trainings(plugin: Plugin) -> MiniEngine:
    return MiniEngine(plugin)


@pytest.fixture
def publishes(plugin: Plugin) -> MiniEngine:
    return MiniEngine(plugin, type_=PUBLISH_TYPE, provider=serialize_provider(BotPublishProvider()))


def write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


# -- MlUtterances ------------------------------------------------------------------------------------------
def test_ml_utterances_create_noop_change_and_replace(sandbox, imports, tmp_path):
    export = write(tmp_path / "en.json", UTTERANCES)
    stack = {"travel-en": wire.ml_import(sandbox.url, export)}

    assert imports.up(stack) == {"travel-en": "create"}
    recorded = imports.state[imports.urn("travel-en")]
    [job] = sandbox.pipeline.imports
    assert recorded.id == f"{BOT}/en/en.json"
    assert recorded.outputs["import_id"] == job.import_id and recorded.outputs["import_status"] == "success"
    assert recorded.outputs["file_id"] == sandbox.pipeline.files[0].file_id
    assert recorded.outputs["content_hash"] == hash_utterances(export)

    # nothing changed (also not after reformatting the file): no calls
    export.write_text(json.dumps(list(reversed(UTTERANCES)), indent=4), encoding="utf-8")
    sandbox.clear_calls()
    assert imports.plan({"travel-en": wire.ml_import(sandbox.url, export)}) == {"travel-en": "same"}
    assert imports.up({"travel-en": wire.ml_import(sandbox.url, export)}) == {"travel-en": "same"}
    assert sandbox.calls == []

    # a changed utterance: imported again, in place
    write(export, [*UTTERANCES, {**UTTERANCES[0], "sentence": "Fly me to Rome"}])
    changed = {"travel-en": wire.ml_import(sandbox.url, export)}
    assert imports.plan(changed) == {"travel-en": "update"}
    assert imports.up(changed) == {"travel-en": "update"}
    after = imports.state[imports.urn("travel-en")]
    assert after.id == recorded.id and after.outputs["import_id"] == sandbox.pipeline.imports[-1].import_id
    assert set(after.outputs) == set(recorded.outputs)

    # the same content under another name imports nothing; another language is another import
    moved = shutil.copy(export, tmp_path / "renamed.json")
    assert imports.plan({"travel-en": wire.ml_import(sandbox.url, moved)}) == {"travel-en": "same"}
    sandbox.clear_calls()
    assert imports.up({"travel-en": wire.ml_import(sandbox.url, export, language="de")}) == {
        "travel-en": "replace"
    }
    assert sandbox.pipeline.imports[-1].language == "de"

    # destroy: an import cannot be undone, so nothing is called
    sandbox.clear_calls()
    imports.destroy()
    assert sandbox.calls == []


def test_failed_import_records_nothing_and_the_next_up_converges(sandbox, imports, tmp_path):
    export = write(tmp_path / "en.json", UTTERANCES)
    imports.up({"travel-en": wire.ml_import(sandbox.url, export)})
    before = dict(imports.state[imports.urn("travel-en")].outputs)
    write(export, UTTERANCES[:1])
    changed = {"travel-en": wire.ml_import(sandbox.url, export)}
    sandbox.pipeline.fail_next_import(BOT, "en")

    with pytest.raises(PluginError) as info:
        imports.up(changed)
    failed = sandbox.pipeline.imports[-1]
    assert failed.status == "failure"
    for part in (BOT, "(en)", str(export), failed.import_id, "next `pulumi up` imports again"):
        assert part in info.value.details
    assert imports.state[imports.urn("travel-en")].outputs == before

    assert imports.plan(changed) == {"travel-en": "update"}
    imports.up(changed)
    assert imports.state[imports.urn("travel-en")].outputs["content_hash"] == hash_utterances(export)


def test_a_file_edited_between_preview_and_up_is_refused(sandbox, imports, tmp_path):
    export = write(tmp_path / "en.json", UTTERANCES)
    planned = {"travel-en": wire.ml_import(sandbox.url, export)}
    assert imports.plan(planned) == {"travel-en": "create"}
    write(export, UTTERANCES[:1])  # edited after the program hashed it
    with pytest.raises(PluginError) as info:
        imports.up(planned, skip_preview=True)
    assert "the file changed after the program read it" in info.value.details
    assert planned["travel-en"]["content_hash"] in info.value.details
    assert sandbox.calls == [] and imports.state == {}


# -- BotPublish --------------------------------------------------------------------------------------------
def test_bot_publish_create_noop_change_and_comment_alone(sandbox, publishes):
    assert publishes.up({"travel": wire.publish(sandbox.url, ["t-1", "t-2"])}) == {"travel": "create"}
    [record] = sandbox.pipeline.publishes
    assert (record.initiate_training, record.status, record.version_comment) == (
        False,
        "successful",
        "travel: from git",
    )
    recorded = publishes.state[publishes.urn("travel")]
    assert recorded.id == BOT and recorded.outputs["publish_status"] == "successful"
    assert recorded.outputs["triggers"] == ["t-1", "t-2"]

    sandbox.clear_calls()
    assert publishes.up({"travel": wire.publish(sandbox.url, ["t-1", "t-2"])}) == {"travel": "same"}
    # a new comment alone does not publish
    reworded = {"travel": wire.publish(sandbox.url, ["t-1", "t-2"], version_comment="new words")}
    assert publishes.up(reworded) == {"travel": "same"}
    assert sandbox.calls == []

    # a new training id among the triggers publishes again, in place, with the current comment
    assert publishes.up({"travel": wire.publish(sandbox.url, ["t-1", "t-3"], version_comment="v2")}) == {
        "travel": "update"
    }
    assert [p.version_comment for p in sandbox.pipeline.publishes] == ["travel: from git", "v2"]
    assert publishes.state[publishes.urn("travel")].id == BOT

    sandbox.clear_calls()
    publishes.destroy()
    assert sandbox.calls == []


def test_failed_publish_records_nothing_and_the_next_up_converges(sandbox, publishes):
    publishes.up({"travel": wire.publish(sandbox.url, ["t-1"])})
    before = dict(publishes.state[publishes.urn("travel")].outputs)
    sandbox.pipeline.fail_next_publish(BOT)
    with pytest.raises(PluginError) as info:
        publishes.up({"travel": wire.publish(sandbox.url, ["t-2"])})
    failed = sandbox.pipeline.publishes[-1]
    assert failed.status == "failed"
    for part in (BOT, failed.publish_id, "NL: FAILED", "next `pulumi up` publishes again"):
        assert part in info.value.details
    assert publishes.state[publishes.urn("travel")].outputs == before
    assert publishes.up({"travel": wire.publish(sandbox.url, ["t-2"])}) == {"travel": "update"}
    assert sandbox.pipeline.publishes[-1].status == "successful"


def test_check_failures_and_unknowns_make_no_calls(sandbox, imports, publishes, tmp_path):
    export = write(tmp_path / "en.json", UTTERANCES)
    with pytest.raises(CheckFailed) as bad_import:
        imports.up({"x": {**wire.ml_import(sandbox.url, export, language="e n"), "file": str(tmp_path)}})
    assert sorted(p for p, _ in bad_import.value.failures) == ["file", "language"]
    with pytest.raises(CheckFailed) as bad_publish:
        publishes.up({"x": wire.publish(sandbox.url, "t-1", version_comment="")})  # type: ignore[arg-type]
    assert sorted(p for p, _ in bad_publish.value.failures) == ["triggers", "version_comment"]

    imports.up({"travel-en": wire.ml_import(sandbox.url, export)})
    publishes.up({"travel": wire.publish(sandbox.url, ["t-1"])})
    sandbox.clear_calls()
    # preview with values not known yet (e.g. a training that will change): planned, nothing called
    assert imports.plan({"travel-en": wire.ml_import(sandbox.url, export, content_hash=UNKNOWN)}) == {
        "travel-en": "update"
    }
    assert publishes.plan({"travel": wire.publish(sandbox.url, ["t-1", UNKNOWN])}) == {"travel": "update"}
    assert publishes.plan({"travel": wire.publish(sandbox.url, ["t-1"], bot_id=UNKNOWN)}) == {
        "travel": "replace"
    }
    assert sandbox.calls == []


# -- the whole pipeline ------------------------------------------------------------------------------------
def test_import_train_publish_end_to_end(sandbox, imports, trainings, publishes, tmp_path, plugin):
    """What `pulumi up` does with the shipped program: each language's export is imported, then trained
    (the training takes the import's content_hash), then the bot is published (triggered by the training
    ids). Run again: nothing. Change an English utterance: en is imported, trained and the bot published."""
    folder = tmp_path / "utterances"
    shutil.copytree(PROJECT_DIR / "utterances/travel", folder)
    en, de = folder / "en/ml-utterances.json", folder / "de/ml-utterances.csv"

    def up() -> dict[str, str]:
        steps = imports.up(
            {
                "travel-en-ml-utterances.json": wire.ml_import(sandbox.url, en, language="en"),
                "travel-de-ml-utterances.csv": wire.ml_import(sandbox.url, de, language="de"),
            }
        )
        hashes = {
            lang: imports.state[imports.urn(f"travel-{lang}-{file}")].outputs["content_hash"]
            for lang, file in (("en", "ml-utterances.json"), ("de", "ml-utterances.csv"))
        }
        steps |= trainings.up(
            {
                f"travel-{lang}": {
                    "bot_id": BOT,
                    "utterances_hash": hashes[lang],
                    "language": lang,
                    "host": sandbox.url,
                    "wait_for_completion": True,
                    "timeout_seconds": 60,
                }
                for lang in ("en", "de")
            }
        )
        training_ids = [
            trainings.state[trainings.urn(f"travel-{lang}")].outputs["training_id"] for lang in ("en", "de")
        ]
        steps |= publishes.up({"travel-publish": wire.publish(sandbox.url, training_ids)})
        return steps

    assert set(up().values()) == {"create"}
    [import_en, import_de] = sandbox.pipeline.imports
    assert {(i.language, i.status) for i in (import_en, import_de)} == {("en", "success"), ("de", "success")}
    assert sorted(t.language for t in sandbox.trainings) == ["de", "en"]
    assert all(t.phase == "Finished" for t in sandbox.trainings)
    [published] = sandbox.pipeline.publishes
    assert published.status == "successful" and published.initiate_training is False
    # the order the dependencies impose: every import before the trainings, every training before the publish
    posts = [c for c in sandbox.calls if c.method == "POST"]
    kinds = [c.path.rsplit("/", 2)[-1] if "ml/train" not in c.path else "train" for c in posts]
    assert kinds == ["uploadfile", "mlimport", "uploadfile", "mlimport", "train", "train", "publish"]
    publish_post = posts[-1]
    # on the sandbox's clock: the publish was sent only after every training had finished
    assert all(t.finished_at is not None and t.finished_at <= publish_post.at for t in sandbox.trainings)
    # the trainings ran after the imports changed the sentences, so the model is in sync again
    for language in ("en", "de"):
        assert sandbox.training_status(BOT, language)["isMlInSyncWithSentences"] is True

    # run again: nothing is planned, nothing is called
    sandbox.clear_calls()
    assert set(up().values()) == {"same"}
    assert sandbox.calls == []

    # change one English utterance (in git): en imports and trains again, the bot is published again
    records = json.loads(en.read_text(encoding="utf-8"))
    write(en, [*records, {**records[-1], "sentence": "Any flights to Porto tomorrow?", "entities": []}])
    steps = up()
    assert steps == {
        "travel-en-ml-utterances.json": "update",
        "travel-de-ml-utterances.csv": "same",
        "travel-en": "update",
        "travel-de": "same",
        "travel-publish": "update",
    }
    assert [(c.bot_id, c.language) for c in sandbox.calls if c.method == "POST" and c.language] == [
        (BOT, "en"),
        (BOT, "en"),
    ]  # one import and one training, both English
    assert len(sandbox.pipeline.publishes) == 2
    log = plugin.stderr()
    assert f"import {sandbox.pipeline.imports[-1].import_id} finished" in log
    assert f"publish {sandbox.pipeline.publishes[-1].publish_id} successful" in log
