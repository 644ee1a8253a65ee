"""The sandbox's demo bots and app as the tests use them, and the inputs and files made from them.

A module of its own, not conftest.py: `from conftest import ...` finds whichever conftest.py pytest
imported last, and kore-sandbox/tests has one too."""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import Config, ConfigureRequest

from kore_resources import BotTrainingProvider
from kore_sandbox import DEMO_APP, DEMO_BOTS, Sandbox

BOT = DEMO_BOTS[0].bot_id
OTHER_BOT = DEMO_BOTS[1].bot_id
SECRET = DEMO_APP.client_secret
CREDENTIALS_CONFIG = {"kore:clientId": DEMO_APP.client_id, "kore:clientSecret": DEMO_APP.client_secret}


#: Two utterances of an ML utterance export (the JSON shape), for tests that write export files.
SAMPLE_UTTERANCES = [
    {
        "taskName": "Book Flight",
        "sentence": "Book a flight to Lisbon",
        "type": "DialogIntent",
        "language": "en",
    },
    {
        "taskName": "Flight Status",
        "sentence": "Is my flight on time?",
        "type": "DialogIntent",
        "language": "en",
    },
]


def training_inputs(sandbox: Sandbox, **changes: Any) -> dict[str, Any]:
    """Inputs as they arrive from the engine after Check (numbers are floats on the wire)."""
    return {
        "bot_id": BOT,
        "utterances_hash": "sha256:" + "1" * 64,
        "language": "en",
        "host": sandbox.url,
        "wait_for_completion": True,
        "timeout_seconds": 60.0,
        "triggers": [],
        **changes,
    }


def make_provider(config: dict[str, Any] | None = None) -> BotTrainingProvider:
    provider = BotTrainingProvider()
    provider.configure(ConfigureRequest(Config(dict(config or {}), "kore-bots")))
    return provider
