"""Deploys each configured Kore.ai bot from git: its definition, its variables, its ML utterances (a training
per language whose utterances changed), and a publish.

One program, one stack per environment: the stack config (`Pulumi.<stack>.yaml`) says which bots, on which
host, with which credentials. Promoting a bot is `pulumi up` on the next stack; with `kore:promoteFrom` a
stack deploys only the definitions and utterances its upstream stack deployed successfully
(docs/pipeline.md). In one `up`, per bot: definition, then variables, then the ML imports, the trainings,
and the publish.
"""

from pathlib import Path
from typing import Any

import pulumi

from kore_resources import (
    BotDefinition,
    BotDefinitionArgs,
    BotPublish,
    BotPublishArgs,
    BotTraining,
    BotTrainingArgs,
    BotVariable,
    BotVariables,
    BotVariablesArgs,
    MlUtterances,
    MlUtterancesArgs,
    Provider,
    hash_definition,
    hash_utterances,
    settings,
)
from kore_resources.api.models import FINISHED, IMPORT_SUCCESS
from kore_resources.errors import ConfigurationError
from kore_resources.program.bots_config import BotSpec, parse_bots
from kore_resources.program.import_plan import plan_imports
from kore_resources.program.promotion import (
    DEFINITIONS_OUTPUT,
    HASHES_OUTPUT,
    check_promotion,
    parse_promote_from,
)
from kore_resources.program.stack_config import (
    bots_config,
    bots_config_is_secret,
    check_stack_config,
    plaintext_variables_problem,
    user_errors_as_pulumi_errors,
)

PROJECT_DIR = Path(__file__).resolve().parent

with user_errors_as_pulumi_errors():
    check_stack_config()
    bots = parse_bots(
        bots_config(), key=f"{pulumi.get_project()}:{settings.BOTS_KEY_NAME}", base_dir=PROJECT_DIR
    )
    #: What this stack deploys: {bot: {language: hash of the utterances folder}}, {bot: definition hash}.
    planned = {
        bot.name: {lang: hash_utterances(bot.utterances_folder(lang)) for lang in bot.languages}
        for bot in bots
    }
    secured_problem = plaintext_variables_problem(
        [(i, v.key) for i, bot in enumerate(bots) for v in bot.variables if v.secured],
        key=f"{pulumi.get_project()}:{settings.BOTS_KEY_NAME}",
        is_secret=bots_config_is_secret(),
        stack=pulumi.get_stack(),
    )
    if secured_problem:
        raise ConfigurationError(secured_problem)
    planned_definitions = {
        bot.name: hash_definition(
            bot.definition.definition_file, bot.definition.config_file, bot.definition.functions_files
        )
        for bot in bots
        if bot.definition is not None
    }
    upstream_stack = parse_promote_from(
        pulumi.Config(settings.NAMESPACE).get(settings.PROMOTE_FROM.name),
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
    )

promotion: pulumi.Output[bool] | None = None
if upstream_stack is not None:
    promote_from: str = upstream_stack

    def verify(upstream: list[Any]) -> bool:
        upstream_hashes, upstream_definitions = upstream
        with user_errors_as_pulumi_errors():  # raises PromotionRefusedError
            check_promotion(
                planned,
                upstream_hashes,
                promote_from,
                planned_definitions=planned_definitions,
                upstream_definitions=upstream_definitions,
            )
        return True

    # Stack references resolve during `pulumi preview` too, so a refusal stops the preview. Every resource
    # takes its bot id through this check, so nothing is imported, trained or published when it refuses.
    reference = pulumi.StackReference(promote_from)
    promotion = pulumi.Output.all(
        reference.get_output(HASHES_OUTPUT), reference.get_output(DEFINITIONS_OUTPUT)
    ).apply(verify)


def guarded(bot_id: str) -> pulumi.Input[str]:
    """The bot id, available only once the promotion guard (if any) has let this stack's bot pass."""
    return bot_id if promotion is None else promotion.apply(lambda _: bot_id)


def after_imports(imports: list[MlUtterances], folder_hash: str) -> pulumi.Input[str]:
    """The folder's hash, available once every import of the folder is done (one file: its content_hash,
    which equals the folder's hash)."""
    if len(imports) == 1:
        return imports[0].content_hash
    return pulumi.Output.all(*(m.content_hash for m in imports)).apply(lambda _: folder_hash)


def if_done(expected: str) -> Any:
    """A hash, exported only while its job's status says it succeeded: what a later stack may promote."""

    def exported(values: list[Any]) -> str | None:
        value, status = values
        return value if status == expected else None

    return exported


def bot_variables(bot: BotSpec, bot_id: pulumi.Input[str], options: pulumi.ResourceOptions) -> BotVariables:
    # A value set with `pulumi config set --secret --path ...` makes the whole bots key secret, and the
    # program cannot tell which value it was: then every value is kept secret.
    secret = bots_config_is_secret()
    return BotVariables(
        f"{bot.name}-variables",
        BotVariablesArgs(
            bot_id=bot_id,
            variables=[
                BotVariable(
                    key=v.key,
                    value=pulumi.Output.secret(v.value) if secret and not v.secured else v.value,
                    hint=v.hint,
                    variable_type=v.variable_type,
                    scope=v.scope,
                    group=v.group,
                    secured=v.secured,
                )
                for v in bot.variables
            ],
        ),
        options,
    )


training_ids: dict[str, dict[str, pulumi.Output[str | None]]] = {}
utterances_hashes: dict[str, dict[str, pulumi.Output[str | None]]] = {}
definition_hashes: dict[str, pulumi.Output[str | None]] = {}
published_at: dict[str, pulumi.Output[str | None]] = {}
for bot in bots:
    bot_id = guarded(bot.bot_id)
    # One plugin process per bot: every bot trains at once, and each bot's jobs stay in one process, whose
    # per-bot lock and rate budget keep them apart and within Kore.ai's per-bot limits
    # (README, "A fleet of bots"). It takes the stack's kore: config, so moving a bot onto it replaces
    # nothing.
    on_bot = pulumi.ResourceOptions(provider=Provider(bot.name))
    configured: list[pulumi.Resource] = []  # definition, then variables: before the utterances
    publish_triggers: list[pulumi.Input[Any]] = []
    if bot.definition is not None:
        definition = BotDefinition(
            f"{bot.name}-definition",
            BotDefinitionArgs(
                bot_id=bot_id,
                definition_file=bot.definition.definition_file,
                config_file=bot.definition.config_file,
                functions_files=bot.definition.functions_files,
                import_options=bot.definition.import_options,
                full_import=bot.definition.full_import,
                timeout_seconds=bot.definition.timeout_seconds,
            ),
            on_bot,
        )
        configured.append(definition)
        publish_triggers.append(definition.import_id)
        definition_hashes[bot.name] = pulumi.Output.all(
            definition.content_hash, definition.import_status
        ).apply(if_done(IMPORT_SUCCESS))
    if bot.variables:
        variables = bot_variables(
            bot,
            bot_id,
            pulumi.ResourceOptions.merge(on_bot, pulumi.ResourceOptions(depends_on=list(configured))),
        )
        configured.append(variables)
        publish_triggers.append(variables.imported_at)
    after_config = pulumi.ResourceOptions.merge(on_bot, pulumi.ResourceOptions(depends_on=configured))
    trainings: list[BotTraining] = []
    for language in bot.languages:
        folder = bot.utterances_folder(language)
        utterances_hash: pulumi.Input[str] = planned[bot.name][language]
        imports: list[MlUtterances] = []
        if bot.import_utterances:
            imports = [
                MlUtterances(
                    f"{bot.name}-{language}-{file.relative_to(folder).as_posix()}",
                    MlUtterancesArgs(
                        bot_id=bot_id, file=file, language=language, timeout_seconds=bot.timeout_seconds
                    ),
                    after_config,
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
                # An import that re-ran changed the bot's sentences, even one that restored git's version
                # after an edit in the builder (same hash): retrain.
                triggers=[m.import_id for m in imports],
            ),
            after_config,
        )
        trainings.append(training)
        training_ids.setdefault(bot.name, {})[language] = training.training_id
        # The hash recorded by the last *successful* training: what a later stack may promote.
        utterances_hashes.setdefault(bot.name, {})[language] = pulumi.Output.all(
            training.utterances_hash, training.training_status
        ).apply(if_done(FINISHED))
    if bot.publish is not None:
        publish = BotPublish(
            f"{bot.name}-publish",
            BotPublishArgs(
                bot_id=bot_id,
                version_comment=bot.publish.version_comment,
                # publish after every training, definition import and variables import
                triggers=[*(training.training_id for training in trainings), *publish_triggers],
                timeout_seconds=bot.publish.timeout_seconds,
            ),
            on_bot,
        )
        published_at[bot.name] = publish.published_at

pulumi.export("trainingIds", training_ids)
pulumi.export(HASHES_OUTPUT, utterances_hashes)
if definition_hashes:
    pulumi.export(DEFINITIONS_OUTPUT, definition_hashes)
if published_at:
    pulumi.export("publishedAt", published_at)
