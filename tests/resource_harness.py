"""What the tests of each resource's rules and of its provider share: a configured provider, the sample
travel bot's definition and utterance files, the shipped program's parse of one bot."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, TypeVar

from pulumi.dynamic import Config, ConfigureRequest, ResourceProvider

from demo_values import BOT, CREDENTIALS_CONFIG, SAMPLE_UTTERANCES
from kore_resources import hash_definition
from kore_resources.program.bots_config import BotSpec, parse_bots

ROOT = Path(__file__).resolve().parents[1]
#: The sample travel bot's definition (botDefinition.json, config.json, flightStatus.js).
TRAVEL = ROOT / "definitions" / "travel"
#: A timestamp as the providers record it.
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")

P = TypeVar("P", bound=ResourceProvider)


def configured(cls: type[P], config: dict[str, Any] | None = None) -> P:
    """A provider of `cls` configured as the engine would, from the stack config (the demo app's
    credentials unless `config` is given)."""
    provider = cls()
    provider.configure(
        ConfigureRequest(Config(dict(CREDENTIALS_CONFIG if config is None else config), "kore-bots"))
    )
    return provider


def copy_of_travel(tmp_path: Path) -> Path:
    """A copy of definitions/travel to edit."""
    folder = tmp_path / "travel"
    shutil.copytree(TRAVEL, folder)
    return folder


def files(folder: Path) -> tuple[Path, Path, list[Path]]:
    """A definition folder's bot definition, config and bot functions, as BotDefinition takes them."""
    return folder / "botDefinition.json", folder / "config.json", [folder / "flightStatus.js"]


def hash_of(folder: Path) -> str:
    definition, config, functions = files(folder)
    return hash_definition(definition, config, functions)


def write_sample_utterances(tmp_path: Path) -> Path:
    """An ML utterance export (JSON) of SAMPLE_UTTERANCES."""
    path = tmp_path / "ml-utterances.json"
    path.write_text(json.dumps(SAMPLE_UTTERANCES), encoding="utf-8")
    return path


def bots(**changes: Any) -> list[BotSpec]:
    """The shipped program's parse of one bot (travel, English), with `changes` to its stack config entry."""
    entry = {
        "name": "travel",
        "botId": BOT,
        "languages": ["en"],
        "utterances": "utterances/travel",
        **changes,
    }
    return parse_bots([entry], key="kore-bots:bots", base_dir=ROOT)
