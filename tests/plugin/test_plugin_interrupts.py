"""Through the real plugin process: an interrupted `up` at each moment, a secret on every error path, and
one bot's trainings never overlapping."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from demo_values import BOT, CREDENTIALS_CONFIG, SECRET, training_inputs
from http_stub import client, deadline
from kore_resources import BotTrainingProvider
from kore_sandbox.testing import HANG_SECONDS, wait_until
from plugin_harness import MiniEngine, Plugin, PluginError

pytestmark = pytest.mark.plugin


class BackgroundUp(threading.Thread):
    """`pulumi up` of `resources` in a thread, so the test can act (interrupt, release) while it waits."""

    def __init__(self, engine: MiniEngine, resources: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.engine, self.resources = engine, resources
        self.error: BaseException | None = None
        self.steps: dict[str, str] | None = None
        self.start()

    def run(self) -> None:
        try:
            self.steps = self.engine.up(self.resources, skip_preview=True)
        except PluginError as exc:
            self.error = exc

    def finish(self) -> None:
        self.join(timeout=HANG_SECONDS)
        assert not self.is_alive(), "the up never returned"


def status_reads(sandbox) -> int:
    return len([c for c in sandbox.calls if c.method == "GET" and c.path.endswith("/ml/train/status")])


def interrupted_up(sandbox, resources, *, until, what, provider=None) -> MiniEngine:
    """An `up` whose plugin (serving `provider`, default a BotTrainingProvider) is killed (the engine's
    second Ctrl-C) once `until()` holds. Returns its engine, which must have recorded nothing."""
    first = Plugin(config=CREDENTIALS_CONFIG, provider=provider)
    engine = MiniEngine(first)
    up = BackgroundUp(engine, resources)
    wait_until(until, what)
    first.interrupt()
    up.finish()
    first.close()
    assert up.error is not None and engine.state == {}  # nothing recorded, nothing half-recorded
    return engine


def test_up_interrupted_before_its_post_queues_nothing_and_the_next_up_trains_once(sandbox):
    sandbox.hang_trainings()
    builders = client(sandbox.url).train(BOT, "en", deadline=deadline())  # running, started elsewhere
    wait_until(lambda: sandbox.trainings[0].phase == "Inprogress", "the builder's training to run")
    resources = {"travel-en": training_inputs(sandbox)}
    reads = status_reads(sandbox)
    engine = interrupted_up(
        sandbox, resources, until=lambda: status_reads(sandbox) > reads, what="the idle check's first read"
    )
    assert [t.training_id for t in sandbox.trainings] == [builders.training_id]  # it never posted

    engine.plugin = second = Plugin(config=CREDENTIALS_CONFIG)
    try:
        reads = status_reads(sandbox)
        up = BackgroundUp(engine, resources)
        wait_until(lambda: status_reads(sandbox) > reads, "the next up's idle check")
        assert len(sandbox.trainings) == 1  # it waits: the builder's training still runs
        sandbox.hang_trainings(False)
        up.finish()
    finally:
        second.close()
    assert up.error is None and up.steps == {"travel-en": "create"}
    _, ours = sandbox.trainings
    assert ours.queued_behind is None  # never two trainings of one bot language at once
    assert engine.state[engine.urn("travel-en")].outputs["training_id"] == ours.training_id


@pytest.mark.parametrize("interrupted_training", ["still running", "ended"])
def test_up_interrupted_while_its_training_runs_records_nothing_and_the_next_up_waits_for_it(
    sandbox, interrupted_training
):
    sandbox.hang_trainings()  # the interrupted training stays Inprogress until the test releases it
    resources = {"travel-en": training_inputs(sandbox)}
    engine = interrupted_up(
        sandbox,
        resources,
        until=lambda: [t.phase for t in sandbox.trainings] == ["Inprogress"],
        what="the training to run",
    )
    if interrupted_training == "ended":
        sandbox.hang_trainings(False)
        wait_until(lambda: sandbox.trainings[0].phase == "Finished", "the interrupted training to end")

    engine.plugin = second = Plugin(config=CREDENTIALS_CONFIG)
    try:
        reads = status_reads(sandbox)
        up = BackgroundUp(engine, resources)
        if interrupted_training == "still running":
            wait_until(lambda: status_reads(sandbox) > reads, "the next up's idle check")
            assert len(sandbox.trainings) == 1  # it does not queue while the interrupted one runs
            sandbox.hang_trainings(False)
        up.finish()
    finally:
        second.close()
    assert up.error is None and up.steps == {"travel-en": "create"}
    interrupted, converged = sandbox.trainings
    assert interrupted.phase == converged.phase == "Finished"
    assert converged.queued_behind is None  # queued only once the interrupted training had ended
    assert engine.state[engine.urn("travel-en")].outputs["training_id"] == converged.training_id


def test_up_interrupted_before_its_training_shows_may_queue_a_second_one_the_documented_limit(sandbox):
    # The training is queued, but the status still describes the previous one (Finished): the next up
    # cannot see it and queues its own behind it. What is promised then: nothing recorded by the
    # interrupted up, and the next up records its own training only after trainings ran after its POST.
    sandbox.hold_queue()
    resources = {"travel-en": training_inputs(sandbox)}
    patient = BotTrainingProvider()
    patient.grace_seconds = 3600.0  # no wall-clock rule may decide this test; only the sandbox's states
    engine = interrupted_up(
        sandbox,
        resources,
        until=lambda: len(sandbox.trainings) == 1,
        what="the train call",
        provider=patient,  # so a slow interrupt cannot let the grace period record the stale status
    )
    engine.plugin = second = Plugin(config=CREDENTIALS_CONFIG, provider=patient)
    try:
        up = BackgroundUp(engine, resources)
        wait_until(lambda: len(sandbox.trainings) == 2, "the next up's train call")
        interrupted, ours = sandbox.trainings
        assert ours.queued_behind == interrupted.training_id  # the limit: two trainings queued at once
        # Let the trainings run, and keep the first one running until the up has read it running (a
        # patient provider never takes a terminal status for its own without that).
        sandbox.hang_trainings()
        sandbox.hold_queue(False)
        wait_until(
            lambda: any(
                c.at >= (sandbox.trainings[0].started_at or float("inf"))
                for c in sandbox.calls
                if c.method == "GET" and c.path.endswith("/ml/train/status")
            ),
            "a status read while the first training runs",
        )
        sandbox.hang_trainings(False)
        up.finish()
    finally:
        second.close()
    assert up.error is None
    interrupted, ours = sandbox.trainings
    assert engine.state[engine.urn("travel-en")].outputs["training_id"] == ours.training_id
    assert interrupted.phase == ours.phase == "Finished"  # recorded once its own training had finished


def test_the_secret_never_leaves_on_any_error_path(sandbox):
    # After the lost train call (the 500), the provider checks for a training for the grace period before
    # it sends the call again; 1 s is plenty for the sandbox's 0.3 s queue, and this test is about output.
    quick = BotTrainingProvider()
    quick.grace_seconds = 1.0
    plugin = Plugin(config=CREDENTIALS_CONFIG, provider=quick)
    engine = MiniEngine(plugin)
    scenarios = [
        lambda: sandbox.fail_next_training(bot_id=BOT, language="en"),
        lambda: sandbox.inject_error(500, method="POST"),
        lambda: sandbox.inject_error(401, method="GET", count=1),
        lambda: sandbox.inject_error(405, method="POST"),
        lambda: sandbox.inject_error(429, method="POST", retry_after=3600),
    ]
    failures = 0
    try:
        for index, arrange in enumerate(scenarios):
            arrange()
            try:
                engine.up({"travel-en": training_inputs(sandbox, utterances_hash=f"sha256:{index:064d}")})
            except PluginError:
                failures += 1
        engine.refresh()
        engine.destroy()
    finally:
        stderr = plugin.close()
    everything = stderr + plugin.later_stdout + "".join(str(r) for r in plugin.responses)
    assert failures >= 4  # the error paths really ran
    assert SECRET not in everything
    assert "eyJ" not in everything  # no JWT (base64url of '{"') was printed or returned either
    for recorded in engine.state.values():
        assert SECRET not in repr(recorded.outputs)


def test_trainings_of_one_bot_never_overlap_through_the_plugin(sandbox):
    plugin = Plugin(config=CREDENTIALS_CONFIG)
    engine_a, engine_b = MiniEngine(plugin, stack="a"), MiniEngine(plugin, stack="b")
    try:
        threads = [
            threading.Thread(target=engine_a.up, args=({"t-en": training_inputs(sandbox, language="en")},)),
            threading.Thread(target=engine_b.up, args=({"t-de": training_inputs(sandbox, language="de")},)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        plugin.close()
    # on the sandbox's clock: the second was queued only after the first had finished
    first, second = sorted(sandbox.trainings, key=lambda t: t.queued_at)
    assert first.finished_at is not None and second.queued_at >= first.finished_at
