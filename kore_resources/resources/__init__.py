"""The Pulumi resources, one module each (Args, resource class, provider and status rules), on the shared
provider framework (`framework.py`, with the plugin process's shared state in `runtime.py` and the one
wait loop in `polling.py`)."""

from .bot_publish import BotPublish, BotPublishArgs, BotPublishProvider
from .bot_training import BotTraining, BotTrainingArgs, BotTrainingProvider
from .ml_utterances import MlUtterances, MlUtterancesArgs, MlUtterancesProvider

__all__ = [
    "BotPublish",
    "BotPublishArgs",
    "BotPublishProvider",
    "BotTraining",
    "BotTrainingArgs",
    "BotTrainingProvider",
    "MlUtterances",
    "MlUtterancesArgs",
    "MlUtterancesProvider",
]
