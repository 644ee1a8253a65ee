"""Compatibility: the import path of `BotTrainingProvider` in stacks recorded by kore-resources 0.1.

Every stack's state holds each resource's provider, pickled by reference (`__provider`: module and class
name), and `pulumi refresh` and `pulumi destroy` unpickle the one recorded in the state. Stacks made by
0.1 name `kore_resources.provider.BotTrainingProvider`, so this path must keep importing, for as long as
such stacks may exist (README, "Versions and compatibility"). The class lives in
`kore_resources.resources.bot_training`; tests/plugin/test_compatibility.py replays 0.1's recorded providers.
"""

from .resources.bot_training import BotTrainingProvider

__all__ = ["BotTrainingProvider"]
