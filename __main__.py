"""Imports, trains and publishes each configured Kore.ai bot language whose ML utterances changed.

One program, one stack per environment: the stack config (`Pulumi.<stack>.yaml`) says which bots, on which
host, with which credentials. Promoting a bot is `pulumi up` on the next stack; with `kore:promoteFrom` a
stack deploys only utterances that its upstream stack trained successfully (docs/pipeline.md).
"""

from pathlib import Path
from typing import Any

import pulumi

from kore_resources import (
    BotPublish,
    BotPublishArgs,
    BotTraining,
    BotTrainingArgs,
    MlUtterances,
    MlUtterancesArgs,
    hash_utterances,
    settings,
)
from kore_resources.api.models import FINISHED
from kore_resources.program.bots_config import parse_bots
from kore_resources.program.import_plan import plan_imports
from kore_resources.program.promotion import HASHES_OUTPUT, check_promotion, parse_promote_from
from kore_resources.program.stack_config import bots_config, check_stack_config, user_errors_as_pulumi_errors

PROJECT_DIR = Path(__file__).resolve().parent

with user_errors_as_pulumi_errors():
    check_stack_config()
    bots = parse_bots(
        bots_config(), key=f"{pulumi.get_project()}:{settings.BOTS_KEY_NAME}", base_dir=PROJECT_DIR
    )
    #: What this stack deploys: {bot: {language: hash of the utterances folder}}.
    planned = {
        bot.name: {lang: hash_utterances(bot.utterances_folder(lang)) for lang in bot.languages}
        for bot in bots
    }
    upstream_stack = parse_promote_from(
        pulumi.Config(settings.NAMESPACE).get(settings.PROMOTE_FROM.name),
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
    )

promotion: pulumi.Output[bool] | None = None
if upstream_stack is not None:
    promote_from: str = upstream_stack

    def verify(upstream_hashes: Any) -> bool:
        with user_errors_as_pulumi_errors():
            check_promotion(planned, upstream_hashes, promote_from)  # raises PromotionRefusedError
        return True

    # Stack references resolve during `pulumi preview` too, so a refusal stops the preview. Every resource
    # takes its bot id through this check, so nothing is imported, trained or published when it refuses.
    promotion = pulumi.StackReference(promote_from).get_output(HASHES_OUTPUT).apply(verify)


def guarded(bot_id: str) -> pulumi.Input[str]:
    """The bot id, available only once the promotion guard (if any) has let this stack's utterances pass."""
    return bot_id if promotion is None else promotion.apply(lambda _: bot_id)


def after_imports(imports: list[MlUtterances], folder_hash: str) -> pulumi.Input[str]:
    """The folder's hash, available once every import of the folder is done (one file: its content_hash,
    which equals the folder's hash)."""
    if len(imports) == 1:
        return imports[0].content_hash
    return pulumi.Output.all(*(m.content_hash for m in imports)).apply(lambda _: folder_hash)


def if_trained(values: list[Any]) -> str | None:
    """A training's hash, exported only while its status says it finished: what a later stack may promote."""
    utterances_hash, status = values
    return utterances_hash if status == FINISHED else None


training_ids: dict[str, dict[str, pulumi.Output[str]]] = {}
utterances_hashes: dict[str, dict[str, pulumi.Output[str | None]]] = {}
published_at: dict[str, pulumi.Output[str]] = {}
for bot in bots:
    bot_id = guarded(bot.bot_id)
    trainings: list[BotTraining] = []
    for language in bot.languages:
        folder = bot.utterances_folder(language)
        utterances_hash: pulumi.Input[str] = planned[bot.name][language]
        if bot.import_utterances:
            imports = [
                MlUtterances(
                    f"{bot.name}-{language}-{file.relative_to(folder).as_posix()}",
                    MlUtterancesArgs(
                        bot_id=bot_id, file=file, language=language, timeout_seconds=bot.timeout_seconds
                    ),
                )
                for file in plan_imports(folder)
            ]
            utterances_hash = after_imports(imports, planned[bot.name][language])  # train after importing
        training = BotTraining(
            f"{bot.name}-{language}",
            BotTrainingArgs(
                bot_id=bot_id,
                language=language,
                utterances_hash=utterances_hash,
                timeout_seconds=bot.timeout_seconds,
                wait_for_completion=bot.wait_for_completion,
            ),
        )
        trainings.append(training)
        training_ids.setdefault(bot.name, {})[language] = training.training_id
        # The hash recorded by the last *successful* training: what a later stack may promote.
        utterances_hashes.setdefault(bot.name, {})[language] = pulumi.Output.all(
            training.utterances_hash, training.training_status
        ).apply(if_trained)
    if bot.publish is not None:
        publish = BotPublish(
            f"{bot.name}-publish",
            BotPublishArgs(
                bot_id=bot_id,
                version_comment=bot.publish.version_comment,
                triggers=[training.training_id for training in trainings],  # publish after every training
                timeout_seconds=bot.publish.timeout_seconds,
            ),
        )
        published_at[bot.name] = publish.published_at

pulumi.export("trainingIds", training_ids)
pulumi.export(HASHES_OUTPUT, utterances_hashes)
if published_at:
    pulumi.export("publishedAt", published_at)
