"""Kore.ai as it may really behave: the provider under every reading of the docs that the sandbox can play
(kore-sandbox/README.md, "Readings"), through the real plugin process. Each test switches one reading and
shows the provider working, or failing loudly with what it saw in its message (docs/kore-api.md §12)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc

import wire
from demo_values import CREDENTIALS_CONFIG, SAMPLE_UTTERANCES, SECRET
from kore_resources import (
    BotDefinitionProvider,
    BotPublishProvider,
    BotVariablesProvider,
    MlUtterancesProvider,
)
from kore_sandbox import DEMO_APP, RateLimit, Sandbox, SandboxBot
from plugin_harness import PROJECT_DIR, CheckFailed, MiniEngine, Plugin, PluginError

pytestmark = pytest.mark.plugin

BOT = wire.BOT
#: A bot with a language no list of ours knows, enabled (the sandbox takes any well-formed code).
THAI_BOT = SandboxBot(
    name="thai",
    bot_id="st-5e1d3c2b-0a9f-4e8d-8c7b-6a5f4e3d2c1b",
    languages=("en", "th"),
    linked_apps=(DEMO_APP.client_id,),
)
SHORT = {
    "training_seconds": 1.0,
    "queue_seconds": 0.2,
    "import_seconds": 0.3,
    "publish_seconds": 0.3,
    "definition_import_seconds": 0.2,
    "export_seconds": 0.2,
}


def sandbox_reading(*, export_seconds: float = SHORT["export_seconds"], **readings: str) -> Sandbox:
    """A sandbox with short jobs that plays `readings` (Python names: `publish_words` = `publish-words`)."""
    readings_on = {name.replace("_", "-"): value for name, value in readings.items()}
    return Sandbox(readings=readings_on, **{**SHORT, "export_seconds": export_seconds})


@pytest.fixture
def plugin() -> Iterator[Plugin]:
    """A plugin process of the test's own, so its stderr (the progress lines) is the test's alone."""
    plugin = Plugin(config=CREDENTIALS_CONFIG)
    yield plugin
    assert SECRET not in plugin.close()


def engine(plugin: Plugin, provider: Any = None) -> MiniEngine:
    if provider is None:
        return MiniEngine(plugin)
    kind = type(provider).__name__.removesuffix("Provider")
    return MiniEngine(
        plugin, type_=f"pulumi-python:dynamic/kore:{kind}", provider=serialize_provider(provider)
    )


@pytest.fixture
def passes() -> Iterator[MiniEngine]:
    """MlUtterances with a fresh plugin process per pass, as the engine runs them: a refresh exports a bot
    language once per process (per pass), so a second refresh must be a second process."""
    imports = engine(Plugin(config=CREDENTIALS_CONFIG), MlUtterancesProvider())
    imports.plugin_factory = lambda: Plugin(config=CREDENTIALS_CONFIG)
    yield imports
    assert SECRET not in imports.plugin.close()


def outputs(stack: MiniEngine, name: str) -> dict[str, Any]:
    return stack.state[stack.urn(name)].outputs


def failure(call: Any) -> str:
    """The message of the error the plugin reports for `call()`."""
    with pytest.raises(PluginError) as info:
        call()
    return str(info.value)


# -- training ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["400", "404", "empty", "null"])
def test_a_bot_language_never_trained_trains_however_the_status_says_there_is_no_training(plugin, answer):
    with sandbox_reading(untrained_language=answer) as sb:
        trainings = engine(plugin)
        assert trainings.up({"travel-en": wire.training(sb.url)}) == {"travel-en": "create"}
        recorded = outputs(trainings, "travel-en")
        assert recorded["training_status"] == "Finished"
        assert recorded["training_id"] == sb.trainings[0].training_id and len(sb.trainings) == 1
        assert "reports no training" in plugin.stderr() and "training it" in plugin.stderr()
        assert trainings.refresh() == {"travel-en": "same"}

        # The platform forgets every training: a refresh cannot compare, says so, and changes nothing.
        sb.reset()
        assert trainings.refresh() == {"travel-en": "same"}
        assert outputs(trainings, "travel-en") == recorded
        assert "refresh cannot compare" in plugin.stderr() and "nothing was changed" in plugin.stderr()


@pytest.mark.parametrize("queued", ["inprogress", "queued-word"])
def test_a_queued_training_shown_at_once_is_waited_for_as_ours(plugin, queued):
    with sandbox_reading(queued_training=queued) as sb:
        trainings = engine(plugin)
        assert trainings.up({"travel-en": wire.training(sb.url)}) == {"travel-en": "create"}
        assert outputs(trainings, "travel-en")["training_status"] == "Finished"
        assert [t.phase for t in sb.trainings] == ["Finished"]


def test_a_status_without_sync_flags_still_finishes_and_records_that_it_did_not_say(plugin):
    with sandbox_reading(sync_flags="none") as sb:
        trainings = engine(plugin)
        assert trainings.up({"travel-en": wire.training(sb.url)}) == {"travel-en": "create"}
        recorded = outputs(trainings, "travel-en")
        assert recorded["training_status"] == "Finished" and "model_in_sync" not in recorded
        assert trainings.refresh() == {"travel-en": "same"}


@pytest.mark.parametrize(
    ("status", "message", "retry_after"),
    [
        ("400", "legacy", "none"),
        ("403", "community", "seconds"),
        ("503", "per-window", "none"),
        ("429", "legacy", "none"),
    ],
)
def test_a_rate_limit_refusal_however_it_comes_is_named_a_rate_limit(plugin, status, message, retry_after):
    """The docs give the refusal's words, not its status or headers. Whatever the status, the refusal is
    taken for a rate limit: nothing was done, the train call is safe to send again, and when waiting for
    the window does not fit `timeout_seconds` the error says it was the rate limit, in Kore.ai's words."""
    readings = {
        "rate_limit_status": status,
        "rate_limit_message": message,
        "rate_limit_retry_after": retry_after,
    }
    with sandbox_reading(**readings) as sb:
        sb.set_rate_limits(train=RateLimit(per_minute=1), status=None)
        trainings = engine(plugin)
        assert trainings.up({"travel-en": wire.training(sb.url)}) == {"travel-en": "create"}
        refused = failure(
            lambda: trainings.up(
                {
                    "travel-en": wire.training(
                        sb.url, utterances_hash="sha256:" + "2" * 64, timeout_seconds=5.0
                    )
                }
            )
        )
        assert f"Kore.ai answered HTTP {status} 'Rate limit for this API has been reached" in refused or (
            message == "per-window" and "exceeded the per-minute rate limit" in refused
        )
        assert "That is Kore.ai's rate limit" in refused and "nothing was done" in refused
        assert (
            len(sb.trainings) == 1
        )  # the refused call queued nothing, and was not retried past the deadline


def test_a_language_the_docs_do_not_list_trains_when_the_bot_has_it(plugin):
    with sandbox_reading() as sb:
        sb.add_bot(THAI_BOT)
        trainings = engine(plugin)
        thai = wire.training(sb.url, bot_id=THAI_BOT.bot_id, language="th")
        assert trainings.up({"thai-th": thai}) == {"thai-th": "create"}
        assert outputs(trainings, "thai-th")["training_status"] == "Finished"
        assert sb.trainings[0].language == "th"


def test_a_language_the_bot_does_not_have_fails_naming_it_and_the_fix(plugin):
    with sandbox_reading() as sb:
        trainings = engine(plugin)
        refused = failure(lambda: trainings.up({"travel-tr": wire.training(sb.url, language="tr")}))
        assert "Language 'tr' is not enabled for this bot" in refused
        assert "enable that language on the bot" in refused and "'tr'" in refused
        assert sb.trainings == []


# -- ML utterances import and its refresh by export -------------------------------------------------------


@pytest.fixture
def export_file(tmp_path: Path) -> Path:
    path = PROJECT_DIR / "utterances" / "travel" / "en" / "ml-utterances.json"
    assert path.is_file()
    return path.relative_to(PROJECT_DIR)


@pytest.mark.parametrize("word", ["failed", "error"])
def test_an_ml_import_failing_in_another_word_fails_loudly_with_it(plugin, export_file, word):
    with sandbox_reading(ml_import_failure_word=word) as sb:
        sb.pipeline.fail_next_import()
        imports = engine(plugin, MlUtterancesProvider())
        refused = failure(lambda: imports.up({"travel-en": wire.ml_import(sb.url, export_file)}))
        assert f"Kore.ai reports import {sb.pipeline.imports[0].import_id} as '{word}'" in refused
        assert imports.state == {}


@pytest.mark.parametrize("answer", ["documented", "file-id-only"])
def test_an_upload_answered_with_or_without_hash_and_file_name_imports(plugin, export_file, answer):
    with sandbox_reading(upload_answer=answer) as sb:
        imports = engine(plugin, MlUtterancesProvider())
        assert imports.up({"travel-en": wire.ml_import(sb.url, export_file)}) == {"travel-en": "create"}
        assert outputs(imports, "travel-en")["file_id"] == sb.pipeline.files[0].file_id


def test_an_export_that_ignores_bot_language_cannot_be_compared_and_refresh_says_so(passes, tmp_path):
    """If the export answers the bot's default language whatever `bot-language` says, every other
    language would read as drift and re-import for ever: refresh names what it saw and changes nothing."""
    german = tmp_path / "de.json"
    german.write_text(json.dumps([{**u, "language": "de"} for u in SAMPLE_UTTERANCES]), encoding="utf-8")
    english = tmp_path / "en.json"
    english.write_text(json.dumps(SAMPLE_UTTERANCES), encoding="utf-8")
    with sandbox_reading(export_language="default-language") as sb:
        imports = passes
        stack = {"travel-de": wire.ml_import(sb.url, german, language="de")}
        assert imports.up(stack) == {"travel-de": "create"}
        # The default language holds no utterances yet: an empty export tells no language at all.
        assert imports.refresh() == {"travel-de": "same"}
        assert "holds no utterances at all" in imports.plugin.stderr()
        # With English utterances on the bot, the export answers them: another language than asked.
        stack["travel-en"] = wire.ml_import(sb.url, english)
        assert imports.up(stack) == {"travel-de": "same", "travel-en": "create"}
        recorded = outputs(imports, "travel-de")
        assert imports.refresh() == {"travel-de": "same", "travel-en": "same"}
        assert outputs(imports, "travel-de") == recorded
        said = imports.plugin.stderr()
        assert "answered utterances of en" in said and "cannot compare" in said


@pytest.mark.parametrize("ids", ["own", "none"])
def test_an_export_status_with_another_id_or_none_still_finds_the_export(passes, export_file, ids):
    # With no id, exports long enough to be read running (the first read is 1 s after the POST): a running
    # status seen since the POST is what makes the next SUCCESS ours. A quicker one is taken only after the
    # grace period, 10 s of real time in the plugin per refresh (tests/resources/test_ml_utterances.py
    # covers that rule on a virtual clock); on a slow machine this one may be too, and passes as well.
    export_seconds = 2.5 if ids == "none" else SHORT["export_seconds"]
    with sandbox_reading(export_status_id=ids, export_seconds=export_seconds) as sb:
        imports = passes
        assert imports.up({"travel-en": wire.ml_import(sb.url, export_file)}) == {"travel-en": "create"}
        assert imports.refresh() == {"travel-en": "same"}
        sb.edit_utterance(BOT, "en", "Book Flight", "Book a flight from Berlin to Lisbon", "Get me to Lisbon")
        assert imports.refresh() == {"travel-en": "update"}
        assert "Book Flight (1 not in the file, 1 gone from the bot)" in imports.plugin.stderr()


def test_an_export_file_served_by_the_api_host_is_fetched_with_the_token_there(passes, export_file):
    with sandbox_reading(download_host="api-host") as sb:
        imports = passes
        assert imports.up({"travel-en": wire.ml_import(sb.url, export_file)}) == {"travel-en": "create"}
        assert imports.refresh() == {"travel-en": "same"}
        downloads = [c for c in sb.calls if "getMediaStream" in c.path]
        assert downloads and all(c.status == 200 for c in downloads)


# -- bot definition --------------------------------------------------------------------------------------


def test_a_platform_that_requires_import_options_refuses_a_full_import_loudly(plugin):
    with sandbox_reading(import_without_options="refused") as sb:
        definitions = engine(plugin, BotDefinitionProvider())
        refused = failure(lambda: definitions.up({"travel": wire.definition(sb.url)}))
        assert "Kore.ai answered HTTP 412 'Validation errors/ Invalid arguments'" in refused
        assert definitions.state == {}
        incremental = wire.definition(sb.url, full_import=False, import_options={"tasks": ["botTask"]})
        assert definitions.up({"travel": incremental}) == {"travel": "create"}


def test_a_definition_import_that_says_neither_full_nor_incremental_is_refused_at_check(plugin):
    with sandbox_reading() as sb:
        definitions = engine(plugin, BotDefinitionProvider())
        with pytest.raises(CheckFailed) as info:
            definitions.plan({"travel": wire.definition(sb.url, full_import=False)})
        [(prop, reason)] = info.value.failures
        assert prop == "import_options" and "full_import=True for a full import" in reason
        assert sb.calls == []


def test_a_definition_import_failing_in_another_word_fails_loudly_with_it(plugin):
    with sandbox_reading(bot_import_failure_word="failed") as sb:
        sb.definitions.fail_next_import()
        definitions = engine(plugin, BotDefinitionProvider())
        refused = failure(lambda: definitions.up({"travel": wire.definition(sb.url)}))
        assert f"Kore.ai reports import {sb.definitions.imports[0].import_id} as 'failed'" in refused


# -- bot variables -----------------------------------------------------------------------------------------

SECURED = {
    "flightApiKey": {"value": rpc.wrap_rpc_secret("k-" + "7" * 20), "secured": True},
    "flightApi": {"value": "https://flights.example.com/v1"},
}


def test_a_platform_that_ignores_is_secured_fails_the_import_naming_the_variable_and_the_fix(plugin):
    """Only the export documents `isSecured`. If the import ignores it, the secret is stored in clear and
    the import still answers success: the read-back catches it, and nothing is recorded."""
    with sandbox_reading(secured_on_import="ignored") as sb:
        variables = engine(plugin, BotVariablesProvider())
        refused = failure(lambda: variables.up({"travel": wire.variables(sb.url, SECURED)}))
        assert "flightApiKey: not secured (isSecured false)" in refused and "flightApi:" not in refused
        assert "Secure the variable in the builder" in refused and "k-7777" not in refused
        assert variables.state == {}

        sb.secure_variable(BOT, "flightApiKey")  # what the message says to do
        assert variables.up({"travel": wire.variables(sb.url, SECURED)}) == {"travel": "create"}


@pytest.mark.parametrize("status", [500, 400])
def test_a_variables_import_refused_with_a_500_or_a_400_is_sent_once(plugin, status):
    """Kore's QA shows a malformed body answering 500: sending it again cannot help."""
    with sandbox_reading(variables_bad_body=str(status)) as sb:
        sb.inject_error(status, method="POST", path_contains="/variables/import")
        variables = engine(plugin, BotVariablesProvider())
        refused = failure(lambda: variables.up({"travel": wire.variables(sb.url, SECURED)}))
        assert f"Kore.ai answered HTTP {status}" in refused
        assert len([c for c in sb.calls if c.path.endswith("/variables/import")]) == 1
        if status == 500:
            assert "so it was not sent again" in refused


# -- publish ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("words", ["documented", "hyphenated", "upper"])
def test_a_publish_in_any_spelling_of_its_words_finishes_or_fails_loudly(plugin, words):
    with sandbox_reading(publish_words=words) as sb:
        publishes = engine(plugin, BotPublishProvider())
        assert publishes.up({"travel": wire.publish(sb.url, ["t-1"])}) == {"travel": "create"}
        assert outputs(publishes, "travel")["publish_status"].lower() == "successful"
        sb.pipeline.fail_next_publish()
        refused = failure(lambda: publishes.up({"travel": wire.publish(sb.url, ["t-2"])}))
        failed = {"documented": "'failed'", "hyphenated": "'failed'", "upper": "'FAILED'"}[words]
        assert f"as {failed}" in refused
