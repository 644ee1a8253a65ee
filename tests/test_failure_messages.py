"""Every mistake a user can make, and every fault of the host, fails with one line that names the thing and
the fix, as fast as it can be known (issue: "Every mistake a user can make fails fast"). Time is scripted
(`VirtualClock`): where speed is the point, the test asserts how much time passed for the provider, and
no test waits for real time to pass."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from conftest import BOT, CREDENTIALS_CONFIG, make_provider, training_inputs
from kore_resources.api.auth import Credentials
from kore_resources.api.client import KoreClient
from kore_resources.errors import HostUnreachableError, JobLostError, KoreApiError
from kore_resources.resources.runtime import RUNTIME
from kore_resources.settings import resolve_credentials
from kore_sandbox import DEMO_APP, Sandbox
from kore_sandbox.testing import VirtualClock


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound by the OS, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def scripted() -> Iterator[VirtualClock]:
    clock = VirtualClock()
    with RUNTIME.use_clock(clock):
        yield clock


# -- a host that never answers, one that stops, one that restarts -------------------------------------------


def test_a_host_that_never_answered_fails_within_seconds_naming_the_host_and_kore_host(scripted):
    provider = make_provider(CREDENTIALS_CONFIG)
    host = f"http://127.0.0.1:{closed_port()}"
    inputs = {"bot_id": BOT, "utterances_hash": "sha256:" + "1" * 64, "host": host, "timeout_seconds": 300.0}
    started = scripted.now
    with pytest.raises(HostUnreachableError) as info:
        provider.create(inputs)
    assert scripted.now - started < 10  # not the 300 s of timeout_seconds
    message = str(info.value)
    assert message.startswith(f"bot {BOT} (en): Could not connect to {host} (connection refused; 3 attempts)")
    assert "kore:host" in message and "nothing has answered there" in message


def test_a_host_that_stops_answering_mid_training_is_named_as_such_not_as_a_slow_training(scripted):
    with Sandbox(training_seconds=60, queue_seconds=1, clock=scripted) as sandbox:
        provider = make_provider(CREDENTIALS_CONFIG)
        scripted.at(10, sandbox.stop)  # killed while the training runs
        with pytest.raises(HostUnreachableError) as info:
            provider.create(training_inputs(sandbox, timeout_seconds=120.0))
        [training] = sandbox.trainings
    message = str(info.value)
    assert message.startswith(f"bot {BOT} (en): training {training.training_id}: the status could not be")
    assert "stopped answering (connection refused" in message and "raise timeout_seconds" not in message
    assert "nothing was recorded" in message


def test_a_restarted_host_is_never_taken_to_have_finished_the_training(scripted):
    sandbox = Sandbox(training_seconds=60, queue_seconds=1, clock=scripted).start()
    port = sandbox.port
    restarted: list[Sandbox] = []
    scripted.at(10, sandbox.stop)
    scripted.at(
        20, lambda: restarted.append(Sandbox(port=port, clock=scripted).start())
    )  # fresh: reads Finished
    try:
        with pytest.raises(JobLostError) as info:
            make_provider(CREDENTIALS_CONFIG).create(training_inputs(sandbox, timeout_seconds=120.0))
    finally:
        for server in restarted:
            server.stop()
    message = str(info.value)
    assert "refused connections while training" in message and "cannot be taken" in message
    assert info.value.job_id == sandbox.trainings[0].training_id
    assert restarted[0].trainings == []  # the restarted host never ran it


# -- TLS and credentials -----------------------------------------------------------------------------------


def test_https_to_a_plain_http_host_names_the_protocol_mismatch_in_a_whole_message(sandbox):
    client = KoreClient(
        sandbox.url.replace("http://", "https://"), Credentials(DEMO_APP.client_id, DEMO_APP.client_secret)
    )
    with pytest.raises(KoreApiError) as info:
        client.training_status(BOT, "en", deadline=time.monotonic() + 30)
    message = str(info.value)
    assert "does not speak TLS" in message and "http://" in message
    assert "REQUESTS_CA_BUNDLE" not in message
    assert message.endswith(".")  # whole, not cut off


def test_a_client_secret_with_a_trailing_newline_is_stripped(sandbox):
    credentials = resolve_credentials(
        {"kore:clientId": DEMO_APP.client_id + "\n", "kore:clientSecret": DEMO_APP.client_secret + "\n"}.get,
        {},
    )
    assert credentials == Credentials(DEMO_APP.client_id, DEMO_APP.client_secret)
    provider = make_provider(
        {"kore:clientId": DEMO_APP.client_id, "kore:clientSecret": DEMO_APP.client_secret + "\r\n"}
    )
    assert provider.create(training_inputs(sandbox, wait_for_completion=False)).outs["training_id"]


def test_provider_errors_are_short_with_the_actionable_line_last_and_no_inner_frames():
    code = """
import traceback
from pulumi.dynamic import Config, ConfigureRequest
from kore_resources import BotTrainingProvider
p = BotTrainingProvider()
p.configure(ConfigureRequest(Config({}, "p")))
try:
    p.create({"bot_id": "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01", "utterances_hash": "x",
              "host": "http://127.0.0.1:9", "timeout_seconds": 5.0})
except Exception:
    print(traceback.format_exc())
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )
    frames = [line for line in result.stdout.splitlines() if line.strip().startswith('File "')]
    assert len(frames) <= 2, result.stdout  # the caller and the provider's entry point, nothing inside
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line.startswith(("kore_resources.errors.", "kore_resources.api.errors.ConfigurationError: "))
    assert last_line.endswith(
        "Missing the Kore.ai client id: run `pulumi config set kore:clientId cs-...` or set KORE_CLIENT_ID; "
        "and the Kore.ai client secret: run `pulumi config set --secret kore:clientSecret ...` or set "
        "KORE_CLIENT_SECRET. Both come from a JWT app of the bot (App Settings > Dev Tools) with the "
        "Train ML API scope."
    )


def test_an_auth_error_names_the_bot_and_language_first(sandbox):
    provider = make_provider({**CREDENTIALS_CONFIG, "kore:clientSecret": "not-the-secret-" + "x" * 32})
    with pytest.raises(KoreApiError) as info:
        provider.create(training_inputs(sandbox, language="de"))
    assert str(info.value).startswith(f"bot {BOT} (de): Kore.ai answered HTTP 401 'Invalid SDK credentials'")
