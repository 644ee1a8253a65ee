"""The Pulumi resources, one module each (Args, resource class, provider and status rules), on the shared
provider framework (`framework.py`, with the plugin process's shared state in `runtime.py` and the one
wait loop in `polling.py`)."""

from .bot_definition import BotDefinition, BotDefinitionArgs, BotDefinitionProvider, hash_definition
from .bot_publish import BotPublish, BotPublishArgs, BotPublishProvider
from .bot_training import BotTraining, BotTrainingArgs, BotTrainingProvider
from .bot_variables import BotVariable, BotVariables, BotVariablesArgs, BotVariablesProvider
from .kore_provider import Provider
from .ml_utterances import MlUtterances, MlUtterancesArgs, MlUtterancesProvider

__all__ = [
    "BotDefinition",
    "BotDefinitionArgs",
    "BotDefinitionProvider",
    "BotPublish",
    "BotPublishArgs",
    "BotPublishProvider",
    "BotTraining",
    "BotTrainingArgs",
    "BotTrainingProvider",
    "BotVariable",
    "BotVariables",
    "BotVariablesArgs",
    "BotVariablesProvider",
    "MlUtterances",
    "MlUtterancesArgs",
    "MlUtterancesProvider",
    "Provider",
    "hash_definition",
]
