"""The plugin protocol: the real `python -u -m pulumi.dynamic` process, driven over gRPC as the engine
drives it, against the Kore.ai sandbox. See tests/plugin_harness.py for what is emulated."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from demo_values import BOT, CREDENTIALS_CONFIG, OTHER_BOT, SECRET, training_inputs
from kore_sandbox import Sandbox
from plugin_harness import UNKNOWN, CheckFailed, MiniEngine, Plugin, PluginError

pytestmark = pytest.mark.plugin

NEW_HASH = "sha256:" + "9" * 64


@pytest.fixture(scope="module")
def plugin() -> Iterator[Plugin]:
    plugin = Plugin(config=CREDENTIALS_CONFIG)
    yield plugin
    stderr = plugin.close()
    # Whatever happened in this module, the client secret never reached the plugin's output.
    assert SECRET not in stderr


@pytest.fixture
def engine(plugin: Plugin) -> MiniEngine:
    return MiniEngine(plugin)


def stack(sandbox: Sandbox, **per_resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resources = {
        "travel-en": training_inputs(sandbox, language="en"),
        "travel-de": training_inputs(sandbox, language="de"),
    }
    for name, changes in per_resource.items():
        resources[name.replace("_", "-")] = {**resources[name.replace("_", "-")], **changes}
    return resources


def posts(sandbox: Sandbox) -> list[tuple[str | None, str | None]]:
    return [(c.bot_id, c.language) for c in sandbox.calls if c.method == "POST"]


@pytest.mark.parametrize("processes", ["one plugin process", "a plugin process per pass, as the engine"])
def test_create_noop_update_replace_refresh_destroy(sandbox, engine, processes):
    if processes != "one plugin process":
        engine = MiniEngine(Plugin(config=CREDENTIALS_CONFIG))
        engine.plugin_factory = lambda: Plugin(config=CREDENTIALS_CONFIG)
    # create: one training per language, full outputs recorded
    assert engine.up(stack(sandbox)) == {"travel-en": "create", "travel-de": "create"}
    assert sorted(posts(sandbox)) == [(BOT, "de"), (BOT, "en")]
    en = engine.state[engine.urn("travel-en")]
    assert en.id == f"{BOT}/en"
    assert en.outputs["training_status"] == "Finished"
    trained = {t.training_id for t in sandbox.trainings}
    assert {r.outputs["training_id"] for r in engine.state.values()} == trained
    assert set(en.outputs) >= {
        "bot_id",
        "utterances_hash",
        "language",
        "host",
        "wait_for_completion",
        "timeout_seconds",
        "training_id",
        "training_status",
        "trained_at",
    }

    # nothing changed: preview and up plan nothing and call nothing
    sandbox.clear_calls()
    assert engine.plan(stack(sandbox)) == {"travel-en": "same", "travel-de": "same"}
    assert engine.up(stack(sandbox)) == {"travel-en": "same", "travel-de": "same"}
    assert sandbox.calls == []

    # new utterances for en: an in-place update that trains en only, keeping the id and every output
    before = dict(en.outputs)
    changed = stack(sandbox, travel_en={"utterances_hash": NEW_HASH})
    assert engine.plan(changed) == {"travel-en": "update", "travel-de": "same"}
    assert engine.up(changed) == {"travel-en": "update", "travel-de": "same"}
    assert posts(sandbox) == [(BOT, "en")]
    en = engine.state[engine.urn("travel-en")]
    assert en.id == f"{BOT}/en"
    assert en.outputs["utterances_hash"] == NEW_HASH
    assert en.outputs["training_id"] != before["training_id"]
    assert set(en.outputs) == set(before)

    # another bot for de: a replacement (create the new one, then forget the old one)
    sandbox.clear_calls()
    moved = stack(sandbox, travel_en={"utterances_hash": NEW_HASH}, travel_de={"bot_id": OTHER_BOT})
    assert engine.up(moved) == {"travel-en": "same", "travel-de": "replace"}
    assert posts(sandbox) == [(OTHER_BOT, "de")]
    assert engine.state[engine.urn("travel-de")].id == f"{OTHER_BOT}/de"

    # refresh: reads the status, keeps every recorded output
    recorded = {urn: dict(r.outputs) for urn, r in engine.state.items()}
    sandbox.clear_calls()
    assert engine.refresh() == {"travel-en": "same", "travel-de": "same"}  # no drift shown
    assert {c.method for c in sandbox.calls} == {"GET"}
    for urn, outputs in recorded.items():
        assert engine.state[urn].outputs == outputs

    # destroy: a training cannot be undone, so nothing is called
    sandbox.clear_calls()
    engine.destroy()
    assert engine.state == {}
    assert sandbox.calls == []
    if engine.plugin_factory is not None:
        assert SECRET not in engine.plugin.close()


def test_failed_training_records_nothing_and_the_next_up_converges(sandbox, engine):
    engine.up(stack(sandbox))
    before = dict(engine.state[engine.urn("travel-en")].outputs)
    sandbox.fail_next_training(bot_id=BOT, language="en")
    changed = stack(sandbox, travel_en={"utterances_hash": NEW_HASH})

    with pytest.raises(PluginError) as info:
        engine.up(changed)
    failed_id = sandbox.trainings[-1].training_id
    assert BOT in info.value.details and "(en)" in info.value.details and failed_id in info.value.details
    assert engine.state[engine.urn("travel-en")].outputs == before  # nothing half-recorded

    # the hash still differs from the recorded one, so the next up trains again, and succeeds
    assert engine.plan(changed)["travel-en"] == "update"
    engine.up(changed)
    assert engine.state[engine.urn("travel-en")].outputs["utterances_hash"] == NEW_HASH
    assert engine.state[engine.urn("travel-en")].outputs["training_id"] == sandbox.trainings[-1].training_id


def test_check_failures_come_back_per_property(sandbox, plugin):
    bad = training_inputs(
        sandbox, bot_id="bot-42", language="english", host="http://kore.example.com", timeout_seconds=0
    )
    _, failures = plugin.check("urn:pulumi:test::kore-bots::x::bad", {}, bad)
    assert sorted(p for p, _ in failures) == ["bot_id", "host", "language", "timeout_seconds"]
    assert sandbox.calls == []


def test_preview_with_unknown_inputs_plans_an_update_without_calls(sandbox, engine):
    engine.up(stack(sandbox))
    sandbox.clear_calls()
    assert engine.plan(stack(sandbox, travel_en={"utterances_hash": UNKNOWN})) == {
        "travel-en": "update",
        "travel-de": "same",
    }
    assert engine.plan(stack(sandbox, travel_de={"bot_id": UNKNOWN}))["travel-de"] == "replace"
    assert sandbox.calls == []


def test_new_provider_code_does_not_retrain(sandbox, engine):
    engine.up(stack(sandbox))
    for recorded in engine.state.values():
        recorded.outputs["__provider"] = "c2VyaWFsaXplZCBieSBhbiBvbGRlciB2ZXJzaW9u"  # an older pickle
    sandbox.clear_calls()
    assert set(engine.up(stack(sandbox)).values()) == {"same"}
    assert sandbox.calls == []


def test_invalid_input_stops_the_up_before_any_call(sandbox, engine):
    with pytest.raises(CheckFailed, match="language"):
        engine.up(stack(sandbox, travel_de={"language": "de!"}))
    assert sandbox.calls == []


def test_missing_credentials_error_names_config_key_and_env_var(sandbox):
    plugin = Plugin(config={})
    try:
        engine = MiniEngine(plugin)
        with pytest.raises(PluginError) as info:
            engine.up(stack(sandbox))
        for name in ("kore:clientId", "KORE_CLIENT_ID", "kore:clientSecret", "KORE_CLIENT_SECRET"):
            assert name in info.value.details
        assert sandbox.calls == []
    finally:
        plugin.close()


def test_wrong_secret_fails_with_advice_and_never_prints_a_secret(sandbox):
    wrong_secret = "wrong-secret-that-must-never-be-printed-0123456789"
    plugin = Plugin(config={**CREDENTIALS_CONFIG, "kore:clientSecret": wrong_secret})
    try:
        with pytest.raises(PluginError) as info:
            MiniEngine(plugin).up(stack(sandbox))
        assert "Invalid SDK credentials" in info.value.details and "kore:clientSecret" in info.value.details
    finally:
        stderr = plugin.close()
    assert wrong_secret not in stderr and wrong_secret not in info.value.details


def test_credentials_stay_out_of_state_outputs_and_the_serialized_provider(sandbox, engine, plugin):
    engine.up(stack(sandbox))
    for recorded in engine.state.values():
        assert SECRET not in repr(recorded.inputs) + repr(recorded.outputs)
        assert not {"clientId", "clientSecret", "client_id", "client_secret"} & set(recorded.outputs)
    pickle = base64.b64decode(plugin.provider)
    assert SECRET.encode() not in pickle
    assert b"kore_resources.resources.bot_training" in pickle  # by reference: small, no captured state
    assert len(plugin.provider) < 1000
    assert SECRET not in "".join(str(r) for r in plugin.responses)
    assert SECRET not in plugin.stderr()


def test_progress_is_logged_on_stderr(sandbox, engine, plugin):
    engine.up(stack(sandbox))
    training_id = engine.state[engine.urn("travel-en")].outputs["training_id"]
    log = plugin.stderr()
    assert f"training {training_id} queued" in log
    assert f"training {training_id} finished" in log
