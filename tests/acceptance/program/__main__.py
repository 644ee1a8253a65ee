"""The acceptance suite's program: the whole of one scratch bot, from the files beside it (the suite copies
the repository's `definitions/travel` and `utterances/travel/<language>` next to it, so nothing in the
repository's own stacks changes).

In one `up`: a full import of the definition, then the variables (one plain, one secured), then one
`MlUtterances` per export file of each language, one `BotTraining` per language after its imports, and a
`BotPublish` after everything. Its stack config (`kore-acceptance:`): `botId`, `languages`, `apiUrl`, the
secret `apiKey`, `versionComment`, `timeoutSeconds`; `kore:host` and the credentials as for any program.
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
    hash_utterances,
)
from kore_resources.program.import_plan import plan_imports

config = pulumi.Config()
bot_id = config.require("botId")
languages: list[str] = config.require_object("languages")
timeout = config.get_float("timeoutSeconds") or 600.0
DEFINITION = Path("definitions") / "travel"
UTTERANCES = Path("utterances")

definition = BotDefinition(
    "definition",
    BotDefinitionArgs(
        bot_id=bot_id,
        definition_file=DEFINITION / "botDefinition.json",
        config_file=DEFINITION / "config.json",
        functions_files=sorted(DEFINITION.glob("*.js")),
        full_import=True,  # the bot becomes what the files hold: the rest of it is removed
        timeout_seconds=timeout,
    ),
)
variables = BotVariables(
    "variables",
    BotVariablesArgs(
        bot_id=bot_id,
        variables=[
            BotVariable(key="koreAcceptanceApi", value=config.require("apiUrl"), hint="acceptance suite"),
            BotVariable(
                key="koreAcceptanceKey",
                value=config.require_secret("apiKey"),
                secured=True,
                hint="acceptance",
            ),
        ],
        timeout_seconds=timeout,
    ),
    pulumi.ResourceOptions(depends_on=[definition]),
)


def after_imports(imports: list[MlUtterances], folder_hash: str) -> pulumi.Output[str]:
    """The language's utterances hash, once every import of its files is done (one file: its hash)."""
    if len(imports) == 1:
        return imports[0].content_hash
    return pulumi.Output.all(*(m.content_hash for m in imports)).apply(lambda _: folder_hash)


trainings: dict[str, BotTraining] = {}
imported: dict[str, Any] = {}
for language in languages:
    folder = UTTERANCES / language
    imports = [
        MlUtterances(
            f"utterances-{language}-{file.relative_to(folder).as_posix()}",
            MlUtterancesArgs(bot_id=bot_id, file=file, language=language, timeout_seconds=timeout),
            pulumi.ResourceOptions(depends_on=[variables]),
        )
        for file in plan_imports(folder)
    ]
    trainings[language] = BotTraining(
        f"training-{language}",
        BotTrainingArgs(
            bot_id=bot_id,
            language=language,
            utterances_hash=after_imports(imports, hash_utterances(folder)),
            triggers=[m.import_id for m in imports],
            timeout_seconds=timeout,
        ),
    )
    imported[language] = [m.import_id for m in imports]

publish = BotPublish(
    "publish",
    BotPublishArgs(
        bot_id=bot_id,
        version_comment=config.get("versionComment") or "kore-resources acceptance run",
        triggers=[
            *(training.training_id for training in trainings.values()),
            definition.import_id,
            variables.imported_at,
        ],
        timeout_seconds=timeout,
    ),
)

pulumi.export("trainingIds", {language: t.training_id for language, t in trainings.items()})
pulumi.export("importIds", imported)
pulumi.export("publishedAt", publish.published_at)
