"""Pulumi resources that ship Kore.ai bot NLU changes: `BotTraining` retrains a bot language exactly when
its ML utterances change.

    from kore_resources import BotTraining, BotTrainingArgs, hash_utterances

    BotTraining("travel-en", BotTrainingArgs(
        bot_id="st-...", language="en", utterances_hash=hash_utterances("utterances/travel/en")))

The promotion pipeline adds `MlUtterances` (import an export file into a bot language) and `BotPublish`
(publish the bot when its triggers change); see docs/pipeline.md.
"""

from .errors import (
    AuthenticationError,
    ConfigurationError,
    KoreApiError,
    KoreError,
    PromotionRefusedError,
    PublishError,
    PublishFailedError,
    PublishTimeoutError,
    RateLimitedError,
    TrainingError,
    TrainingFailedError,
    TrainingTimeoutError,
    UtteranceFileError,
    UtteranceImportError,
    UtteranceImportFailedError,
    UtteranceImportTimeoutError,
)
from .pipeline_providers import BotPublishProvider, MlUtterancesProvider
from .provider import BotTrainingProvider
from .resources import (
    BotPublish,
    BotPublishArgs,
    BotTraining,
    BotTrainingArgs,
    MlUtterances,
    MlUtterancesArgs,
)
from .utterances import hash_utterances

__all__ = [
    "AuthenticationError",
    "BotPublish",
    "BotPublishArgs",
    "BotPublishProvider",
    "BotTraining",
    "BotTrainingArgs",
    "BotTrainingProvider",
    "ConfigurationError",
    "KoreApiError",
    "KoreError",
    "MlUtterances",
    "MlUtterancesArgs",
    "MlUtterancesProvider",
    "PromotionRefusedError",
    "PublishError",
    "PublishFailedError",
    "PublishTimeoutError",
    "RateLimitedError",
    "TrainingError",
    "TrainingFailedError",
    "TrainingTimeoutError",
    "UtteranceFileError",
    "UtteranceImportError",
    "UtteranceImportFailedError",
    "UtteranceImportTimeoutError",
    "hash_utterances",
]
