"""State compatibility is part of the version contract (README, "Versions and compatibility").

Every stack's state holds each resource's pickled provider (`__provider`, by module path and class name),
the wire property names, and hashes made by `hash_utterances`. `tests/fixtures/state/<release>/` holds what
a release recorded (`pulumi stack export` of the demo's stack, made with the real CLI, and the utterances it
was made from). Here the current code replays it through the real plugin process, as the engine would
after an upgrade: Check and Diff (no change, with the recorded provider and with today's), Read (refresh:
the recorded providers unpickle, every recorded output is kept) and Delete (destroy: no API call).
The same fixtures go through the real CLI in tests/cli/test_cli_e2e.py.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from demo_values import CREDENTIALS_CONFIG
from kore_resources import hash_definition, hash_utterances
from kore_sandbox import Sandbox
from plugin_harness import Plugin, deploy_as_recorded, with_plain_secrets
from state_fixtures import FIXTURES, PLAIN_SECRETS, RECORDED_HOST, RELEASES

pytestmark = pytest.mark.plugin

#: Every provider path a release has recorded; each must keep importing (kore_resources/provider.py keeps
#: 0.1's, kore_resources/resources/ holds 0.2's).
PROVIDER_PATHS = {
    "v0.1.0": {
        "pulumi-python:dynamic/kore:BotTraining": b"kore_resources.provider",
        "pulumi-python:dynamic/kore:MlUtterances": b"kore_resources.pipeline_providers",
        "pulumi-python:dynamic/kore:BotPublish": b"kore_resources.pipeline_providers",
    },
    "v0.2.0": {
        "pulumi-python:dynamic/kore:BotDefinition": b"kore_resources.resources.bot_definition",
        "pulumi-python:dynamic/kore:BotVariables": b"kore_resources.resources.bot_variables",
        "pulumi-python:dynamic/kore:MlUtterances": b"kore_resources.resources.ml_utterances",
        "pulumi-python:dynamic/kore:BotTraining": b"kore_resources.resources.bot_training",
        "pulumi-python:dynamic/kore:BotPublish": b"kore_resources.resources.bot_publish",
    },
}


def recorded_resources(release: str, host: str) -> list[dict[str, Any]]:
    """The release's dynamic resources as its stack recorded them, pointed at `host`, with its secrets in
    plain text (as the engine sends them to the plugin)."""
    text = (FIXTURES / release / "deployment.json").read_text(encoding="utf-8").replace(RECORDED_HOST, host)
    resources = json.loads(text)["deployment"]["resources"]
    # A ciphertext cannot be pointed elsewhere: its plain value stays what the release recorded.
    plain = PLAIN_SECRETS[release]
    return [with_plain_secrets(r, plain) for r in resources if r["type"].startswith("pulumi-python:dynamic/")]


@pytest.mark.parametrize("release", RELEASES)
def test_the_recorded_providers_are_those_the_release_wrote(release: str) -> None:
    resources = recorded_resources(release, RECORDED_HOST)
    assert {r["type"] for r in resources} == set(PROVIDER_PATHS[release])
    for resource in resources:
        pickle = base64.b64decode(resource["outputs"]["__provider"])
        assert PROVIDER_PATHS[release][resource["type"]] in pickle, resource["urn"]


@pytest.mark.parametrize("release", RELEASES)
def test_the_recorded_hashes_are_still_what_hash_utterances_makes(release: str) -> None:
    """A change of hash semantics would retrain every bot once: it is a breaking change (CHANGELOG)."""
    utterances = FIXTURES / release / "utterances" / "travel"
    hashes = {
        r["urn"].rsplit("::", 1)[1]: r["outputs"].get("utterances_hash") or r["outputs"].get("content_hash")
        for r in recorded_resources(release, RECORDED_HOST)
    }
    assert hashes["travel-en"] == hash_utterances(utterances / "en")
    assert hashes["travel-de"] == hash_utterances(utterances / "de")
    assert hashes["travel-en-ml-utterances.json"] == hash_utterances(utterances / "en" / "ml-utterances.json")
    if "travel-definition" in hashes:  # since 0.2: the definition's hash of its files' meaning
        definition = FIXTURES / release / "definitions" / "travel"
        assert hashes["travel-definition"] == hash_definition(
            definition / "botDefinition.json", definition / "config.json", [definition / "flightStatus.js"]
        )


#: Outputs a release added to a resource; a refresh of an older record may add them.
ADDED_OUTPUTS = {
    "v0.1.0": {
        "pulumi-python:dynamic/kore:BotTraining": {"model_in_sync"},
        "pulumi-python:dynamic/kore:MlUtterances": set(),
        "pulumi-python:dynamic/kore:BotPublish": set(),
    },
    "v0.2.0": {type_: set() for type_ in PROVIDER_PATHS["v0.2.0"]},
}


@pytest.mark.parametrize("release", RELEASES)
def test_the_current_code_checks_diffs_reads_and_deletes_what_the_release_recorded(release: str) -> None:
    # Trainings long enough to be seen in progress at the first status read (1 s): one that finished before
    # it is believed only after the grace period (bot_training.py, rule 3), which would slow this test.
    with Sandbox(training_seconds=2.5, queue_seconds=0.1) as sandbox:
        # The plugin runs in the release's project, so the recorded relative paths are its files.
        plugin = Plugin(config=CREDENTIALS_CONFIG, cwd=FIXTURES / release)
        try:
            deploy_as_recorded(plugin, recorded_resources(release, sandbox.url))
            for resource in recorded_resources(release, sandbox.url):
                urn, id_ = resource["urn"], resource["id"]
                inputs, outputs = resource["inputs"], resource["outputs"]
                old_provider = outputs["__provider"]
                # An `up` of unchanged code: Check with the recorded inputs; Diff against the recorded
                # outputs, with the provider the state names and with the one today's program serializes.
                news = upgraded({k: v for k, v in inputs.items() if k != "__provider"}, resource["type"])
                for provider in (old_provider, today_provider(plugin, resource["type"])):
                    checked, failures = plugin.check(urn, inputs, news, provider)
                    assert failures == [], (urn, failures)
                    diff = plugin.diff(id_, urn, outputs, checked, inputs)
                    assert diff.changes == diff.DIFF_NONE, (urn, provider)
                # refresh: Read with the recorded provider keeps every recorded output, adds only what this
                # release records, and invents no change: the next Diff is still empty.
                read_id, refreshed = plugin.read(id_, urn, outputs, inputs)
                assert read_id == id_
                assert {k: v for k, v in refreshed.items() if k in outputs and not k.endswith("_status")} == {
                    k: v for k, v in outputs.items() if not k.endswith("_status")
                }
                assert set(refreshed) - set(outputs) <= ADDED_OUTPUTS[release][resource["type"]], urn
                checked, _ = plugin.check(urn, inputs, news, old_provider)
                assert plugin.diff(id_, urn, refreshed, checked, inputs).changes == diff.DIFF_NONE, urn
                # destroy: Delete with the recorded provider calls nothing
                sandbox.clear_calls()
                plugin.delete(id_, urn, outputs)
                assert sandbox.calls == []
        finally:
            plugin.close()


def upgraded(inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    """What a program sends after the upgrade steps CHANGELOG lists: since 0.3 a definition says it is a
    full import (`full_import=True`) where 0.2 sent no `import_options`."""
    if type_.endswith(":BotDefinition") and "full_import" not in inputs:
        return {**inputs, "full_import": inputs.get("import_options") is None}
    return inputs


def today_provider(plugin: Plugin, type_: str) -> str:
    """The `__provider` today's program writes for a resource of `type_`."""
    from pulumi.dynamic.dynamic import serialize_provider

    import kore_resources

    provider = getattr(kore_resources, type_.rsplit(":", 1)[1] + "Provider")()
    return str(serialize_provider(provider))
