"""The shipped program's import plan (kore_resources/program/import_plan.py): one MlUtterances per file,
an intent in one file only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kore_resources import UtteranceFileError
from kore_resources.program.import_plan import plan_imports, shared_intents
from kore_resources.utterances import export_files

pytestmark = pytest.mark.unit


def write(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


UTTERANCE = {"taskName": "Book Flight", "sentence": "Book a flight", "type": "DialogIntent", "language": "en"}


def test_shared_intents():
    assert shared_intents({"a.json": ["X", "Y", "X"], "b.json": ["Z"]}) == {}
    assert shared_intents({"a.json": ["X", "Y"], "b.csv": ["Y"], "c.json": ["Y", "Z"]}) == {
        "Y": ["a.json", "b.csv", "c.json"]
    }


def test_plan_imports_one_file_per_intent_group(tmp_path):
    folder = tmp_path / "en"
    a = write(folder / "a.json", [UTTERANCE])
    b = write(folder / "sub" / "b.json", [{**UTTERANCE, "taskName": "Flight Status"}])
    (folder / ".hidden.json").write_text("[]", encoding="utf-8")
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    assert plan_imports(folder) == [a, b]
    assert export_files(folder) == [a, b]


def test_plan_imports_refuses_an_intent_split_across_files(tmp_path):
    folder = tmp_path / "en"
    write(folder / "a.json", [UTTERANCE])
    write(folder / "b.json", [{**UTTERANCE, "sentence": "Fly me to Rome"}])
    with pytest.raises(UtteranceFileError) as info:
        plan_imports(folder)
    message = str(info.value)
    assert "'Book Flight'" in message and "a.json" in message and "b.json" in message
    assert "one export file" in message


def test_plan_imports_of_a_missing_or_empty_folder(tmp_path):
    with pytest.raises(UtteranceFileError, match="no such folder"):
        plan_imports(tmp_path / "fr")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UtteranceFileError, match=r"no Kore\.ai ML utterance exports"):
        plan_imports(tmp_path / "empty")
