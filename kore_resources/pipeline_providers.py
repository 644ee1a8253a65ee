"""Compatibility: the import paths of `MlUtterancesProvider` and `BotPublishProvider` in stacks recorded by
kore-resources 0.1 (see `kore_resources.provider` for why they must keep importing). The classes live in
`kore_resources.resources.ml_utterances` and `kore_resources.resources.bot_publish`."""

from .resources.bot_publish import BotPublishProvider
from .resources.ml_utterances import MlUtterancesProvider

__all__ = ["BotPublishProvider", "MlUtterancesProvider"]
