"""Pulumi resources that ship Kore.ai bot NLU changes: `BotTraining` retrains a bot language exactly when
its ML utterances change.

    from kore_resources import BotTraining, BotTrainingArgs, hash_utterances

    BotTraining("travel-en", BotTrainingArgs(
        bot_id="st-...", language="en", utterances_hash=hash_utterances("utterances/travel/en")))

The promotion pipeline adds `MlUtterances` (import an export file into a bot language) and `BotPublish`
(publish the bot when its triggers change); see docs/pipeline.md. The exceptions are those of
`kore_resources.errors`.
"""

#: The package version (README, "Versions and compatibility"); pyproject.toml reads it from here.
__version__ = "0.3.0"

from . import errors, resources
from .errors import *  # noqa: F403 - the exception hierarchy, errors.__all__
from .resources import *  # noqa: F403 - the resources, their Args and providers, resources.__all__
from .utterances import hash_utterances

__all__ = [*errors.__all__, *resources.__all__, "__version__", "hash_utterances"]  # noqa: PLE0604 - names, all str
