"""Every mistake a user can make with an input file fails fast, with one line that names the file, the line
and the fix (issue: "Every mistake a user can make fails fast"). One test per mistake; each fails without
its fix."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from demo_values import SAMPLE_UTTERANCES
from kore_resources import hash_utterances
from kore_resources.errors import UtteranceFileError
from kore_resources.program.import_plan import plan_imports

pytestmark = pytest.mark.unit


def write_json(path: Path, records: list[dict[str, object]] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records if records is not None else SAMPLE_UTTERANCES), encoding="utf-8")
    return path


# -- symbolic links ------------------------------------------------------------------------------------------


def test_a_symlinked_folder_inside_a_language_folder_is_followed(tmp_path: Path) -> None:
    shared = write_json(tmp_path / "shared" / "faq.json", [{**SAMPLE_UTTERANCES[0], "taskName": "FAQ"}])
    language = tmp_path / "utterances" / "en"
    write_json(language / "main.json")
    (language / "shared").symlink_to(shared.parent, target_is_directory=True)

    with_link = hash_utterances(language)
    (language / "shared").unlink()
    write_json(language / "copied" / "faq.json", [{**SAMPLE_UTTERANCES[0], "taskName": "FAQ"}])
    assert with_link == hash_utterances(language)  # the linked utterances count like copied ones
    assert [p.name for p in plan_imports(tmp_path / "shared")] == ["faq.json"]


def test_a_symlink_loop_is_refused_naming_the_link(tmp_path: Path) -> None:
    language = tmp_path / "en"
    write_json(language / "main.json")
    (language / "nested").mkdir()
    (language / "nested" / "back").symlink_to(language, target_is_directory=True)
    with pytest.raises(UtteranceFileError) as info:
        hash_utterances(language)
    assert info.value.path == str(language / "nested" / "back")
    assert "symbolic link back to" in str(info.value)


def test_a_broken_symlinked_export_is_named(tmp_path: Path) -> None:
    language = tmp_path / "en"
    write_json(language / "main.json")
    (language / "gone.json").symlink_to(tmp_path / "nowhere.json")
    with pytest.raises(UtteranceFileError, match="broken symbolic link") as info:
        hash_utterances(language)
    assert info.value.path.endswith("gone.json")


# -- CSV quoting ---------------------------------------------------------------------------------------------


def test_an_unclosed_csv_quote_names_the_line_where_it_opens(tmp_path: Path) -> None:
    rows = ["taskName,sentence,type,language"]
    rows += [f"Book Flight,Book flight number {n},DialogIntent,en" for n in range(2, 1002)]
    rows[3] = 'Book Flight,"Book a flight to Lisbon,DialogIntent,en'  # line 4: the quote never closes
    export = tmp_path / "export.csv"
    export.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(UtteranceFileError) as info:
        hash_utterances(export)
    assert info.value.line == 4
    assert "unclosed quote" in str(info.value)
    assert str(info.value).startswith(f"{export}:4: ")


def test_quotes_that_close_on_a_later_line_are_not_an_error(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text('taskName,sentence\nBook Flight,"two\nlines and ""quotes"""\n', encoding="utf-8")
    assert hash_utterances(export).startswith("sha256:")


# -- encodings and nesting -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "named"),
    [
        ("utf-16-le", "UTF-16 (no byte-order mark)"),
        ("utf-16-be", "UTF-16 (no byte-order mark)"),
        ("utf-16", "UTF-16"),
        ("utf-32-le", "UTF-32 (no byte-order mark)"),
        ("utf-32", "UTF-32"),
    ],
)
def test_a_file_in_a_wide_encoding_names_the_encoding(tmp_path: Path, encoding: str, named: str) -> None:
    export = tmp_path / "export.json"
    export.write_bytes(json.dumps(SAMPLE_UTTERANCES).encode(encoding))
    with pytest.raises(UtteranceFileError) as info:
        hash_utterances(export)
    assert f"the file is {named} encoded; expected UTF-8" in str(info.value)
    assert info.value.path == str(export)


def test_deeply_nested_json_names_the_file(tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(UtteranceFileError) as info:
        hash_utterances(export)
    assert info.value.path == str(export) and "nested too deeply" in str(info.value)


def test_a_utf8_file_with_a_bom_still_reads(tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_bytes(b"\xef\xbb\xbf" + json.dumps(SAMPLE_UTTERANCES).encode())
    plain = write_json(tmp_path / "plain.json")
    assert hash_utterances(export) == hash_utterances(plain)


def test_these_errors_are_value_errors_too() -> None:
    assert issubclass(UtteranceFileError, ValueError)


def test_paths_stay_as_the_user_gave_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_json(Path("utterances/en/bad.json"), [])
    Path("utterances/en/bad.json").write_text("[", encoding="utf-8")
    with pytest.raises(UtteranceFileError) as info:
        hash_utterances("utterances/en")
    assert str(info.value).startswith(f"utterances{os.sep}en{os.sep}bad.json:1: ")
