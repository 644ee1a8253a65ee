"""BotPublishProvider against the sandbox over real HTTP, on a virtual clock shared with the sandbox:
publish, wait, refresh, failures."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from demo_values import BOT
from kore_resources import (
    AuthenticationError,
    BotPublishProvider,
    JobFailedError,
    JobTimeoutError,
)
from kore_sandbox import SCOPE_TRAIN_ML, Sandbox, SandboxApp
from resource_harness import ISO_UTC, configured

pytestmark = pytest.mark.sandbox


@pytest.fixture
def sandbox(pipeline_sandbox: Sandbox) -> Sandbox:
    return pipeline_sandbox


def publish_inputs(sandbox: Sandbox, **changes: Any) -> dict[str, Any]:
    return {
        "bot_id": BOT,
        "version_comment": "travel: from git",
        "triggers": ["training-1"],
        "host": sandbox.url,
        "timeout_seconds": 30.0,
        **changes,
    }


def calls(sandbox: Sandbox, method: str | None = None, contains: str = "") -> list[Any]:
    return [c for c in sandbox.calls if (method is None or c.method == method) and contains in c.path]


def test_publish_without_training_waits_and_returns_full_outputs(sandbox, capfd):
    inputs = publish_inputs(sandbox)
    result = configured(BotPublishProvider).create(inputs)
    [record] = sandbox.pipeline.publishes
    assert (record.bot_id, record.version_comment, record.initiate_training, record.status) == (
        BOT,
        "travel: from git",
        False,
        "successful",
    )
    assert result.id == BOT
    assert result.outs == {
        **inputs,
        "timeout_seconds": 30,
        "publish_status": "successful",
        "published_at": result.outs["published_at"],
    }
    assert ISO_UTC.fullmatch(result.outs["published_at"])
    # the status was read before publishing (to tell our job from the previous one), then polled
    methods = [c.method for c in sandbox.calls]
    assert methods[:2] == ["GET", "POST"] and set(methods[2:]) == {"GET"}
    assert f"publish {record.publish_id} successful" in capfd.readouterr().err


def test_update_publishes_again_and_keeps_every_output(sandbox):
    provider = configured(BotPublishProvider)
    created = provider.create(publish_inputs(sandbox))
    updated = provider.update(created.id, created.outs, publish_inputs(sandbox, triggers=["training-2"]))
    assert updated.outs["triggers"] == ["training-2"] and set(updated.outs) == set(created.outs)
    assert len(sandbox.pipeline.publishes) == 2


def test_failed_publish_raises_naming_bot_job_and_resource(sandbox):
    sandbox.pipeline.fail_next_publish(BOT)
    with pytest.raises(JobFailedError) as info:
        configured(BotPublishProvider).create(publish_inputs(sandbox))
    [record] = sandbox.pipeline.publishes
    message = str(info.value)
    assert BOT in message and record.publish_id in message and "'failed'" in message
    assert "NL: FAILED" in message and "next `pulumi up` publishes again" in message
    assert info.value.job_id == record.publish_id


def test_publish_that_never_finishes_times_out(sandbox, virtual_clock):
    sandbox.pipeline.set_publish_seconds(3600)
    started = virtual_clock.monotonic()
    with pytest.raises(JobTimeoutError) as info:
        configured(BotPublishProvider).create(publish_inputs(sandbox, timeout_seconds=250.5))
    assert virtual_clock.monotonic() - started >= 250.5
    assert sum(virtual_clock.sleeps) <= 250.5 + 1e-6
    assert "timeout_seconds=250.5" in str(info.value) and "inprogress" in str(info.value)  # D2's word


def test_publish_read_and_delete(sandbox, capfd):
    provider = configured(BotPublishProvider)
    created = provider.create(publish_inputs(sandbox))
    sandbox.pipeline.fail_next_publish(BOT)
    with pytest.raises(JobFailedError):
        provider.update(created.id, created.outs, publish_inputs(sandbox, triggers=["training-2"]))
    # refresh reports the bot's latest publish (the failed one); everything else stays as recorded
    assert provider.read(created.id, created.outs).outs == {**created.outs, "publish_status": "failed"}
    sandbox.clear_calls()
    provider.delete(created.id, created.outs)
    assert sandbox.calls == []
    assert "forgetting the publish" in capfd.readouterr().err


def test_missing_publish_scope_names_the_scope_to_add(sandbox):
    train_only = SandboxApp(
        "train-only", "cs-00000000-0000-4000-8000-0000000000e2", "f" * 40, frozenset({SCOPE_TRAIN_ML})
    )
    sandbox.add_app(train_only)
    sandbox.add_bot(dataclasses.replace(sandbox.bot(BOT), linked_apps=(train_only.client_id,)))
    provider = configured(
        BotPublishProvider,
        {"kore:clientId": train_only.client_id, "kore:clientSecret": train_only.client_secret},
    )
    with pytest.raises(AuthenticationError) as info:
        provider.create(publish_inputs(sandbox))
    assert "Bot Publish" in str(info.value) and "Admin Console app" in str(info.value)
    assert sandbox.pipeline.publishes == []
