"""Pulumi resources that ship Kore.ai bot NLU changes: `BotTraining` retrains a bot language exactly when
its ML utterances change.

    from kore_resources import BotTraining, BotTrainingArgs, hash_utterances

    BotTraining("travel-en", BotTrainingArgs(
        bot_id="st-...", language="en", utterances_hash=hash_utterances("utterances/travel/en")))
"""

from .errors import (
    AuthenticationError,
    ConfigurationError,
    KoreApiError,
    KoreError,
    RateLimitedError,
    TrainingError,
    TrainingFailedError,
    TrainingTimeoutError,
    UtteranceFileError,
)
from .provider import BotTrainingProvider
from .resources import BotTraining, BotTrainingArgs
from .utterances import hash_utterances

__all__ = [
    "AuthenticationError",
    "BotTraining",
    "BotTrainingArgs",
    "BotTrainingProvider",
    "ConfigurationError",
    "KoreApiError",
    "KoreError",
    "RateLimitedError",
    "TrainingError",
    "TrainingFailedError",
    "TrainingTimeoutError",
    "UtteranceFileError",
    "hash_utterances",
]
