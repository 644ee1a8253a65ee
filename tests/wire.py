"""Each resource's inputs as its provider receives them from the engine after Check: wire names, numbers as
floats, the files relative to the project (the plugin runs there) and hashed as the program hashes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from demo_values import BOT
from kore_resources import hash_definition, hash_utterances

PROJECT_DIR = Path(__file__).resolve().parent.parent
#: The sample travel bot's definition (definitions/travel), as BotDefinition records it.
DEFINITION_FILES = {
    "definition_file": "definitions/travel/botDefinition.json",
    "config_file": "definitions/travel/config.json",
    "functions_files": ["definitions/travel/flightStatus.js"],
}


def training(url: str, **changes: Any) -> dict[str, Any]:
    return {
        "bot_id": BOT,
        "utterances_hash": "sha256:" + "1" * 64,
        "language": "en",
        "host": url,
        "wait_for_completion": True,
        "timeout_seconds": 60.0,
        "triggers": [],
        **changes,
    }


def ml_import(url: str, file: Path | str, **changes: Any) -> dict[str, Any]:
    return {
        "bot_id": BOT,
        "file": str(file),
        "language": "en",
        "host": url,
        "content_hash": hash_utterances(PROJECT_DIR / file),
        "timeout_seconds": 60.0,
        **changes,
    }


def definition(url: str, **changes: Any) -> dict[str, Any]:
    files = {**DEFINITION_FILES, **{k: v for k, v in changes.items() if k in DEFINITION_FILES}}
    return {
        "bot_id": BOT,
        **files,
        "import_options": None,
        "full_import": changes.get("import_options") is None,  # a full import unless told otherwise
        "host": url,
        "timeout_seconds": 60.0,
        "content_hash": hash_definition(
            PROJECT_DIR / files["definition_file"],
            PROJECT_DIR / files["config_file"],
            [PROJECT_DIR / f for f in files["functions_files"]],
        ),
        **changes,
    }


def variables(url: str, declared: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {"bot_id": BOT, "variables": declared, "host": url, "timeout_seconds": 60.0, **changes}


def publish(url: str, triggers: list[Any], **changes: Any) -> dict[str, Any]:
    return {
        "bot_id": BOT,
        "version_comment": "travel: from git",
        "triggers": triggers,
        "host": url,
        "timeout_seconds": 60.0,
        **changes,
    }
