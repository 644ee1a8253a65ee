"""Trains each configured Kore.ai bot language whose ML utterances changed since its last training.

One program, one stack per environment: the stack config (`Pulumi.<stack>.yaml`) says which bots, on which
host, with which credentials. Promoting a bot is `pulumi up` on the next stack.
"""

from pathlib import Path

import pulumi

from kore_resources import BotTraining, BotTrainingArgs, hash_utterances
from kore_resources.bots_config import parse_bots

PROJECT_DIR = Path(__file__).resolve().parent

config = pulumi.Config()
bots = parse_bots(config.require_object("bots"), key=f"{pulumi.get_project()}:bots", base_dir=PROJECT_DIR)

training_ids: dict[str, dict[str, pulumi.Output[str]]] = {}
utterances_hashes: dict[str, dict[str, pulumi.Output[str]]] = {}
for bot in bots:
    for language in bot.languages:
        training = BotTraining(
            f"{bot.name}-{language}",
            BotTrainingArgs(
                bot_id=bot.bot_id,
                language=language,
                utterances_hash=hash_utterances(bot.utterances_folder(language)),
                timeout_seconds=bot.timeout_seconds,
                wait_for_completion=bot.wait_for_completion,
            ),
        )
        training_ids.setdefault(bot.name, {})[language] = training.training_id
        # The hash recorded by the last *successful* training: what a later stack may promote.
        utterances_hashes.setdefault(bot.name, {})[language] = training.utterances_hash

pulumi.export("trainingIds", training_ids)
pulumi.export("utterancesHashes", utterances_hashes)
