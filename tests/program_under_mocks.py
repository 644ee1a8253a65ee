"""Run the project's `__main__.py` for one stack under `pulumi.runtime.set_mocks` and print, as JSON, the
resources it registered and the stack outputs.

Run in a subprocess per stack (the Pulumi runtime keeps process-wide state):
    python tests/program_under_mocks.py <stack> [<extra config as JSON> [<upstream outputs as JSON>]]
Mocks never call the provider: this checks the program's wiring (names, type token, inputs, exports).
A `pulumi.StackReference` (the promotion guard's `kore:promoteFrom`) reads the upstream outputs given, or by
default outputs in which upstream trained exactly the utterances this stack deploys.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks, set_mocks

ROOT = Path(__file__).resolve().parent.parent
# The Python language host runs the program with its directory on sys.path; do the same.
sys.path.insert(0, str(ROOT))


STACK_REFERENCE = "pulumi:pulumi:StackReference"
PROVIDER = "pulumi:providers:pulumi-python"
#: Outputs the mocked provider "returns" per dynamic resource type (besides echoing the inputs).
PIPELINE_OUTPUTS: dict[str, dict[str, Any]] = {
    "pulumi-python:dynamic/kore:MlUtterances": {
        "file_id": "file-1",
        "import_id": "bir-1",
        "import_status": "success",
        "imported_at": "2026-11-28T00:00:00Z",
    },
    "pulumi-python:dynamic/kore:BotPublish": {
        "publish_status": "successful",
        "published_at": "2026-11-28T00:00:00Z",
    },
    "pulumi-python:dynamic/kore:BotDefinition": {
        "import_id": "bir-definition-1",
        "import_status": "success",
        "imported_at": "2026-11-28T00:00:00Z",
    },
    "pulumi-python:dynamic/kore:BotVariables": {
        "imported_at": "2026-11-28T00:00:00Z",
        "import_message": "1 Variables imported/updated successfully.",
    },
}


def run_program(
    stack: str, extra: dict | None = None, env: dict | None = None, upstream: dict | None = None
) -> subprocess.CompletedProcess[str]:
    """This module run for `stack` in a subprocess (the Pulumi runtime keeps process-wide state)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("KORE_", "PULUMI_"))}
    environment.update(env or {})
    upstream_arg = [json.dumps(upstream)] if upstream is not None else []
    return subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            stack,
            json.dumps(extra or {}),
            *upstream_arg,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )


def program_result(
    stack: str, extra: dict | None = None, env: dict | None = None, upstream: dict | None = None
) -> dict[str, Any]:
    """What the program registered and exported for `stack`; fails the test if it failed."""
    result = run_program(stack, extra, env, upstream)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


class RecordingMocks(Mocks):
    def __init__(self, upstream: dict[str, Any] | None = None) -> None:
        self.resources: list[dict[str, Any]] = []
        #: The explicit providers the program made (kore_resources.Provider), with their inputs.
        self.providers: list[dict[str, Any]] = []
        self.stack_references: list[str] = []
        self.upstream = upstream or {}

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == PROVIDER:
            self.providers.append({"name": args.name, "inputs": dict(args.inputs)})
            return f"provider-{args.name}", dict(args.inputs)
        if args.typ == STACK_REFERENCE:
            self.stack_references.append(args.name)
            return args.name, {"name": args.name, "outputs": self.upstream, "secretOutputNames": []}
        inputs = {k: v for k, v in args.inputs.items() if k != "__provider"}
        self.resources.append(
            {
                "type": args.typ,
                "name": args.name,
                "inputs": inputs,
                "has_provider": "__provider" in args.inputs,
                "provider": args.provider,
            }
        )
        if args.typ in PIPELINE_OUTPUTS:
            return f"{inputs.get('bot_id')}/{args.name}", {**inputs, **PIPELINE_OUTPUTS[args.typ]}
        outputs = {
            **inputs,
            "training_id": f"training-of-{args.name}",
            "training_status": "Finished",
            "trained_at": "2026-11-28T00:00:00Z",
        }
        return f"{inputs.get('bot_id')}/{inputs.get('language')}", outputs

    def call(self, args: MockCallArgs) -> dict[str, Any]:
        return {}


#: What a `secure:` value of a stack file decrypts to here (the mocks have no secrets provider).
DECRYPTED = "decrypted-secret"


def decrypted(value: Any) -> tuple[Any, bool]:
    """`value` with every `{secure: ...}` replaced as the engine would decrypt it; whether there was one."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return DECRYPTED, True
    if isinstance(value, dict):
        pairs = {k: decrypted(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [decrypted(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def stack_config(stack: str, extra: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The stack's config as the engine hands it to the program, and its secret keys."""
    raw = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    raw.update(extra)  # a null in `extra` removes the key, as if it were never set
    config, secret_keys = {}, []
    for key, value in raw.items():
        if value is None:
            continue
        plain, secret = decrypted(value)
        if secret:
            secret_keys.append(key)  # the engine marks the whole key secret for one secret value in it
        # The engine hands the program every config value as a string; objects as JSON.
        config[key] = plain if isinstance(plain, str) else json.dumps(plain)
    return config, secret_keys


def trained_everything(config: dict[str, str]) -> dict[str, Any]:
    """Upstream outputs in which every bot language of this stack was trained with these utterances, and
    every bot definition imported."""
    from kore_resources import hash_definition, hash_utterances
    from kore_resources.program.bots_config import parse_bots

    bots = parse_bots(json.loads(config["kore-bots:bots"]), key="kore-bots:bots", base_dir=ROOT)
    return {
        "utterancesHashes": {
            bot.name: {lang: hash_utterances(bot.utterances_folder(lang)) for lang in bot.languages}
            for bot in bots
        },
        "definitionHashes": {
            bot.name: hash_definition(
                bot.definition.definition_file, bot.definition.config_file, bot.definition.functions_files
            )
            for bot in bots
            if bot.definition is not None
        },
    }


def main() -> None:
    stack = sys.argv[1]
    extra = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    config, secret_keys = stack_config(stack, extra)
    upstream = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    if upstream is None and "kore:promoteFrom" in config:
        upstream = trained_everything(config)
    mocks = RecordingMocks(upstream)
    set_mocks(mocks, project="kore-bots", stack=stack, preview=False)
    pulumi.runtime.set_all_config(config, secret_keys)
    os.chdir(ROOT)
    program = runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
    exports = pulumi.Output.all(
        program["training_ids"],
        program["utterances_hashes"],
        program.get("published_at", {}),
        program.get("definition_hashes", {}),
    )

    @pulumi.runtime.test
    def report() -> pulumi.Output[None]:
        def emit(values: list[Any]) -> None:
            print(
                json.dumps(
                    {
                        "resources": mocks.resources,
                        "providers": mocks.providers,
                        "trainingIds": values[0],
                        "utterancesHashes": values[1],
                        "publishedAt": values[2],
                        "definitionHashes": values[3],
                        "stackReferences": mocks.stack_references,
                    }
                )
            )

        return exports.apply(emit)

    try:
        report()
    except Exception as exc:  # e.g. the promotion guard refused: report what was registered before it
        registered = {"resources": mocks.resources, "stackReferences": mocks.stack_references}
        print(json.dumps({"error": str(exc), **registered}))
        raise


if __name__ == "__main__":
    main()
