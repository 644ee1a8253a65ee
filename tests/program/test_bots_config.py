"""The shipped program's `<project>:bots` stack config (kore_resources/program/bots_config.py): the pipeline
keys, parsed or refused naming the key."""

from __future__ import annotations

import pytest

from kore_resources.errors import ConfigurationError
from kore_resources.program.bots_config import PublishSpec
from resource_harness import bots

pytestmark = pytest.mark.unit


BOT = "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01"


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
        (
            {"timeoutSeconds": 999999999},
            "timeoutSeconds: 999999999 seconds is more than 7 days, longer than any Kore.ai job takes: the "
            "timeout is in seconds, not milliseconds",
        ),
    ],
)
def test_bad_pipeline_keys(changes, expected):
    with pytest.raises(ConfigurationError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        bots(**changes)
