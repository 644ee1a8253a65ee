"""Retrains the bot's ML model for each language whose utterances changed (kore-resources).

The utterances of a language live in `utterances/<language>/`, as Kore.ai's builder exports them (ML
utterances export, JSON or CSV). Change one and run `pulumi up`: only that language retrains.
"""

import pulumi

from kore_resources import BotTraining, BotTrainingArgs, hash_utterances

config = pulumi.Config()
bot_id = config.require("botId")
languages: list[str] = config.get_object("languages") or ["en"]

trainings = {
    language: BotTraining(
        f"bot-{language}",
        BotTrainingArgs(
            bot_id=bot_id,
            language=language,
            utterances_hash=hash_utterances(f"utterances/{language}"),  # the trigger
        ),
    )
    for language in languages
}

pulumi.export("trainingIds", {language: t.training_id for language, t in trainings.items()})
pulumi.export("utterancesHashes", {language: t.utterances_hash for language, t in trainings.items()})
