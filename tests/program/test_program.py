"""The Pulumi program's wiring for every shipped stack, under `pulumi.runtime.set_mocks`.

Each stack runs in its own subprocess (tests/program_under_mocks.py). Mocks do not call the provider;
what is checked here is what the program declares: resource names, type token, inputs, exports.
"""

import json
from pathlib import Path

import pytest
import yaml

from kore_resources import hash_definition, hash_utterances
from program_under_mocks import program_result, run_program

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
STACKS = ["local", "dev", "staging", "prod"]
TYPE = "pulumi-python:dynamic/kore:BotTraining"


def stack_file(stack: str) -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


@pytest.fixture(scope="module")
def results() -> dict[str, dict]:
    return {stack: program_result(stack) for stack in STACKS}


@pytest.mark.parametrize("stack", STACKS)
def test_one_training_per_bot_language_with_the_stack_s_bot_and_host(results, stack):
    config = stack_file(stack)
    bots = config["kore-bots:bots"]
    resources = {r["name"]: r for r in results[stack]["resources"] if r["type"] == TYPE}
    expected = {f"{bot['name']}-{lang}": (bot, lang) for bot in bots for lang in bot["languages"]}
    assert set(resources) == set(expected)
    for name, (bot, lang) in expected.items():
        resource = resources[name]
        assert resource["has_provider"]
        inputs = resource["inputs"]
        assert inputs["bot_id"] == bot["botId"]
        assert inputs["language"] == lang
        assert inputs["host"] == config["kore:host"]
        assert inputs["utterances_hash"] == hash_utterances(ROOT / bot["utterances"] / lang)
        assert inputs["wait_for_completion"] is True
        assert inputs["timeout_seconds"] == bot.get("timeoutSeconds", 1800)
        assert not {"clientId", "clientSecret", "client_secret"} & set(inputs)


@pytest.mark.parametrize("stack", STACKS)
def test_exports_training_ids_and_hashes_per_bot_and_language(results, stack):
    result = results[stack]
    assert result["trainingIds"] == {"travel": {"en": "training-of-travel-en", "de": "training-of-travel-de"}}
    assert result["utterancesHashes"]["travel"]["en"] == hash_utterances(ROOT / "utterances/travel/en")
    assert result["utterancesHashes"]["travel"]["de"] == hash_utterances(ROOT / "utterances/travel/de")


def test_promotion_trains_the_same_utterances_on_other_bots_and_hosts(results):
    hashes = {stack: results[stack]["utterancesHashes"] for stack in STACKS}
    assert all(h == hashes["local"] for h in hashes.values())
    bot_ids = {stack: {r["inputs"]["bot_id"] for r in results[stack]["resources"]} for stack in STACKS}
    assert len({frozenset(ids) for ids in bot_ids.values()}) == len(STACKS)
    assert {results[s]["resources"][0]["inputs"]["host"] for s in STACKS} >= {
        "http://127.0.0.1:8089",
        "https://platform.kore.ai",
    }


def test_host_falls_back_to_kore_host_env():
    result = program_result("local", {"kore:host": None}, env={"KORE_HOST": "https://env.kore.example"})
    assert {r["inputs"]["host"] for r in result["resources"]} == {"https://env.kore.example"}


def test_missing_host_names_the_config_key_and_env_var():
    result = run_program("local", {"kore:host": None})
    assert result.returncode != 0
    assert "kore:host" in result.stderr and "KORE_HOST" in result.stderr


def test_bad_bots_config_names_the_key():
    result = run_program(
        "local",
        {"kore-bots:bots": [{"name": "travel", "languages": ["en"], "utterances": "utterances/travel"}]},
    )
    assert result.returncode != 0
    assert "kore-bots:bots[0].botId" in result.stderr


def test_missing_utterances_folder_names_it():
    bots = [
        {
            "name": "travel",
            "botId": "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01",
            "languages": ["fr"],
            "utterances": "utterances/travel",
        }
    ]
    result = run_program("local", {"kore-bots:bots": bots})
    assert result.returncode != 0
    assert "utterances/travel/fr" in result.stderr


# -- the promotion pipeline: import -> train -> publish, and the promotion guard -------------------------
MLU = "pulumi-python:dynamic/kore:MlUtterances"
PUBLISH = "pulumi-python:dynamic/kore:BotPublish"
UPSTREAM = {"staging": "organization/kore-bots/dev", "prod": "organization/kore-bots/staging"}
SECRET_SIG, SECRET_VALUE_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"
DEFINITION = "pulumi-python:dynamic/kore:BotDefinition"
VARIABLES = "pulumi-python:dynamic/kore:BotVariables"
HASH_EN = hash_utterances(ROOT / "utterances/travel/en")
HASH_DE = hash_utterances(ROOT / "utterances/travel/de")
TRAVEL = ROOT / "definitions/travel"
HASH_DEFINITION = hash_definition(
    TRAVEL / "botDefinition.json", TRAVEL / "config.json", [TRAVEL / "flightStatus.js"]
)


def of_type(result: dict, type_: str) -> dict[str, dict]:
    return {r["name"]: r for r in result["resources"] if r["type"] == type_}


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_imports_every_export_file_then_trains_then_publishes(results, stack):
    config = stack_file(stack)
    [bot] = config["kore-bots:bots"]
    assert bot["importUtterances"] is True and bot["publish"]["versionComment"]
    imports, trainings = of_type(results[stack], MLU), of_type(results[stack], TYPE)
    expected_files = {
        f"travel-{lang}-{file.name}": (lang, file.relative_to(ROOT).as_posix())
        for lang in bot["languages"]
        for file in sorted((ROOT / bot["utterances"] / lang).iterdir())
        if file.suffix in (".json", ".csv")
    }
    assert set(imports) == set(expected_files)
    for name, (lang, file) in expected_files.items():
        inputs = imports[name]["inputs"]
        assert imports[name]["has_provider"]
        assert (inputs["bot_id"], inputs["language"], inputs["host"]) == (
            bot["botId"],
            lang,
            config["kore:host"],
        )
        assert inputs["file"] == file  # relative to the project: the plugin runs there
        assert inputs["content_hash"] == hash_utterances(ROOT / file)
        # the training of that language takes the import's content hash, so it runs after the import
        assert trainings[f"travel-{lang}"]["inputs"]["utterances_hash"] == inputs["content_hash"]
    [publish] = of_type(results[stack], PUBLISH).values()
    assert publish["name"] == "travel-publish" and publish["has_provider"]
    assert publish["inputs"]["bot_id"] == bot["botId"] and publish["inputs"]["host"] == config["kore:host"]
    assert publish["inputs"]["version_comment"] == bot["publish"]["versionComment"]
    # publish after every training, the definition import and the variables import
    trained = [f"training-of-travel-{lang}" for lang in bot["languages"]]
    assert publish["inputs"]["triggers"] == [*trained, "bir-definition-1", "2026-11-28T00:00:00Z"]
    assert results[stack]["publishedAt"] == {"travel": "2026-11-28T00:00:00Z"}


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_imports_the_bot_definition_and_its_variables(results, stack):
    config = stack_file(stack)
    [bot] = config["kore-bots:bots"]
    [definition] = of_type(results[stack], DEFINITION).values()
    assert definition["name"] == "travel-definition" and definition["has_provider"]
    inputs = definition["inputs"]
    assert (inputs["definition_file"], inputs["config_file"], inputs["functions_files"]) == (
        "definitions/travel/botDefinition.json",
        "definitions/travel/config.json",
        ["definitions/travel/flightStatus.js"],
    )
    assert inputs["content_hash"] == HASH_DEFINITION and inputs["bot_id"] == bot["botId"]
    assert "import_options" not in inputs  # a full import
    [variables] = of_type(results[stack], VARIABLES).values()
    declared = variables["inputs"]["variables"]
    secured = any(isinstance(v, dict) and v.get("secured") for v in bot["variables"].values())
    if secured:  # a secured value makes the program send the variables as a secret: never plain in state
        assert declared[SECRET_SIG] == SECRET_VALUE_SIG
        declared = declared["value"]
    assert set(declared) == set(bot["variables"])
    assert results[stack]["definitionHashes"] == {"travel": HASH_DEFINITION}


@pytest.mark.parametrize("stack", STACKS)
def test_staging_promotes_from_dev_and_prod_from_staging(results, stack):
    expected = [UPSTREAM[stack]] if stack in UPSTREAM else []
    assert results[stack]["stackReferences"] == expected
    assert stack_file(stack).get("kore:promoteFrom") == (UPSTREAM.get(stack))


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_guard_lets_through_what_upstream_trained(stack):
    upstream = {
        "utterancesHashes": {"travel": {"en": HASH_EN, "de": HASH_DE}},
        "definitionHashes": {"travel": HASH_DEFINITION},
        "trainingIds": {},
    }
    result = program_result(stack, upstream=upstream)
    assert result["stackReferences"] == [UPSTREAM[stack]]
    assert (
        len(of_type(result, TYPE)) == 2
        and len(of_type(result, MLU)) == 2
        and len(of_type(result, PUBLISH)) == 1
    )


def test_guard_refuses_at_preview_naming_bot_language_and_both_hashes():
    stale = "sha256:" + "0" * 64
    result = run_program("prod", upstream={"utterancesHashes": {"travel": {"en": stale, "de": None}}})
    assert result.returncode != 0
    assert "RunError: Refusing to deploy" in result.stderr  # a clean Pulumi error, not a crash
    message = result.stderr
    upstream = "organization/kore-bots/staging"
    assert (
        f"bot travel (en): this stack would deploy {HASH_EN}, but {upstream} last trained {stale}" in message
    )
    assert f"bot travel (de): this stack would deploy {HASH_DE}, but {upstream} has not trained" in message
    assert "pulumi up -s staging" in message
    # nothing was registered: no import, no training, no publish
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["resources"] == [] and report["stackReferences"] == ["organization/kore-bots/staging"]


def test_guard_refuses_one_changed_language_and_an_upstream_without_exports():
    one_changed = run_program(
        "staging", upstream={"utterancesHashes": {"travel": {"en": HASH_EN, "de": HASH_EN}}}
    )
    assert one_changed.returncode != 0 and "bot travel (de)" in one_changed.stderr
    assert "bot travel (en)" not in one_changed.stderr
    nothing = run_program("staging", upstream={})
    assert nothing.returncode != 0
    assert "bot travel (en)" in nothing.stderr and "bot travel (de)" in nothing.stderr
    assert "organization/kore-bots/dev has not trained this bot language successfully" in nothing.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [("dev", "organization/project/stack"), ("organization/kore-bots/staging", "names this stack itself")],
)
def test_bad_promote_from_names_the_key(value, expected):
    result = run_program("staging", {"kore:promoteFrom": value})
    assert result.returncode != 0
    assert "kore:promoteFrom" in result.stderr and expected in result.stderr


def test_without_promote_from_no_stack_is_read():
    result = program_result("prod", {"kore:promoteFrom": None})
    assert result["stackReferences"] == []
    assert len(of_type(result, TYPE)) == 2


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"publish": {}}, "kore-bots:bots[0].publish.versionComment"),
        ({"publish": "yes"}, "kore-bots:bots[0].publish must be an object"),
        (
            {"publish": {"versionComment": "x", "comment": "y"}},
            "kore-bots:bots[0].publish has unknown key(s) comment",
        ),
        (
            {"publish": {"versionComment": "x"}, "waitForCompletion": False},
            "publish needs waitForCompletion: true",
        ),
        ({"importUtterances": "yes"}, "kore-bots:bots[0].importUtterances must be true or false"),
    ],
)
def test_bad_pipeline_config_names_the_key(change, expected):
    bots = [{**stack_file("local")["kore-bots:bots"][0], **change}]
    result = run_program("local", {"kore-bots:bots": bots})
    assert result.returncode != 0
    assert expected in result.stderr


def test_stack_without_import_or_publish_only_trains():
    bots = [
        {
            k: v
            for k, v in stack_file("local")["kore-bots:bots"][0].items()
            if k not in ("importUtterances", "publish")
        }
    ]
    result = program_result("local", {"kore-bots:bots": bots})
    assert set(of_type(result, TYPE)) == {"travel-en", "travel-de"}
    assert of_type(result, MLU) == {} and of_type(result, PUBLISH) == {}
    assert result["utterancesHashes"]["travel"] == {"en": HASH_EN, "de": HASH_DE}


def test_guard_refuses_a_definition_upstream_has_not_imported():
    upstream = {"utterancesHashes": {"travel": {"en": HASH_EN, "de": HASH_DE}}, "definitionHashes": {}}
    result = run_program("staging", upstream=upstream)
    assert result.returncode != 0
    message = result.stderr.rsplit("RunError: ", 1)[1]
    assert (
        f"bot travel (definition): this stack would deploy {HASH_DEFINITION}, but organization/kore-bots/dev "
        "has not imported this definition successfully"
    ) in message
    assert "(en)" not in message  # the utterances are what dev trained


def test_each_bot_has_a_provider_of_its_own_that_takes_the_stacks_kore_config(results):
    """One plugin process per bot (README, "A fleet of bots"): every resource of a bot on its provider,
    which carries the stack's `kore:host` and no credential the stack config does not hold."""
    for stack in STACKS:
        result = results[stack]
        providers = {p["name"]: p["inputs"] for p in result["providers"]}
        bots = {r["inputs"]["bot_id"] for r in result["resources"]}
        assert len(providers) == len(bots), stack
        for name, inputs in providers.items():
            on_it = [r for r in result["resources"] if r["provider"].endswith(f"::{name}::provider-{name}")]
            assert on_it and len({r["inputs"]["bot_id"] for r in on_it}) == 1, (stack, name)
            assert {r["inputs"]["host"] for r in on_it} == {inputs["kore:host"]}, (stack, name)
            assert "kore:clientSecret" not in inputs  # the stacks leave credentials to the environment
        assert all(r["provider"] for r in result["resources"]), stack
