"""kore_resources.utterances: reading Kore.ai ML utterance exports and hashing what they mean.

Real files only (written to tmp_path), no mocks.
"""

from __future__ import annotations

import csv
import dataclasses
import gc
import hashlib
import io
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from kore_resources.errors import UtteranceFileError
from kore_resources.utterances import FORMAT_TAG, Entity, Utterance, hash_utterances, read_utterances

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "utterances" / "travel"
#: Kore's own QA upload files (tests/fixtures/kore-samples/README.md); a missing one fails the tests using it.
KORE_SAMPLES = REPO / "tests" / "fixtures" / "kore-samples"
HASH_RE = re.compile(r"sha256:[0-9a-f]{64}")
HEADER = ["taskName", "sentence", "type", "language"]


def rec(
    sentence: str,
    task: str = "Book Flight",
    entities: list[dict[str, Any]] | None = None,
    language: str = "en",
    kind: str = "DialogIntent",
) -> dict[str, Any]:
    return {
        "taskName": task,
        "sentence": sentence,
        "type": kind,
        "entities": entities or [],
        "language": language,
    }


def ent(name: str, start: int, end: int) -> dict[str, Any]:
    return {"entityName": name, "startIndex": start, "endIndex": end}


BASE = [
    rec("Book a flight from Berlin to Lisbon", entities=[ent("Source", 19, 25), ent("Destination", 29, 35)]),
    rec("I want to fly to Tokyo", entities=[ent("Destination", 17, 22)]),
    rec("book flight"),
    rec("Is flight LH 454 on time?", "Check Flight Status", [ent("FlightNumber", 10, 16)]),
    rec("What is the status of my flight?", "Check Flight Status"),
    rec("Cancel my booking", "Cancel Booking"),
    rec("Über München nach Zürich, bitte", "Book Flight", language="de"),
]
PLAIN = [{k: v for k, v in r.items() if k != "entities"} for r in BASE]  # the CSV export has no entities


def write_json(path: Path, records: list[Any], **dumps: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, **dumps), encoding="utf-8")
    return path


def write_csv(
    path: Path,
    records: list[dict[str, Any]],
    header: list[str] = HEADER,
    lineterminator: str = "\r\n",
    quoting: int = csv.QUOTE_MINIMAL,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=lineterminator, quoting=quoting)
    writer.writerow(header)
    for record in records:
        writer.writerow([record.get(name, "") for name in header])
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return path


def json_hash(tmp_path: Path, records: list[Any], name: str = "u.json", **dumps: Any) -> str:
    return hash_utterances(write_json(tmp_path / name, records, **dumps))


# ------------------------------------------------------------------------------------------ basics


def test_json_hash_has_the_sha256_format(tmp_path: Path) -> None:
    assert HASH_RE.fullmatch(json_hash(tmp_path, BASE))


def test_csv_hash_has_the_sha256_format(tmp_path: Path) -> None:
    assert HASH_RE.fullmatch(hash_utterances(write_csv(tmp_path / "u.csv", PLAIN)))


def test_hash_starts_with_the_format_version_tag(tmp_path: Path) -> None:
    # Nothing but the tag is hashed for an empty export: pins that the version tag is part of the hash.
    assert json_hash(tmp_path, []) == "sha256:" + hashlib.sha256(FORMAT_TAG).hexdigest()
    assert FORMAT_TAG.startswith(b"kore-resources/ml-utterances/v")


def test_accepts_str_and_pathlike(tmp_path: Path) -> None:
    path = write_json(tmp_path / "u.json", BASE)
    assert hash_utterances(str(path)) == hash_utterances(path)


def test_read_utterances_returns_the_meaning(tmp_path: Path) -> None:
    records = [
        {
            "language": "en",
            "entities": [ent("Destination", 21, 26), ent("Source", 14, 17)],
            "type": "DialogIntent",
            "sentence": "  Fly me from LAX to Paris  ",
            "taskName": " Book Flight ",
        },
        {"sentence": "cancel", "taskName": "Cancel Booking"},
    ]
    first, second = read_utterances(write_json(tmp_path / "u.json", records))
    assert first == Utterance(
        text="Fly me from LAX to Paris",
        intent="Book Flight",
        intent_type="DialogIntent",
        language="en",
        entities=(Entity("Destination", 19, 24), Entity("Source", 12, 15)),
    )
    # offsets move with the stripped text and still cover the same words
    assert [first.text[e.start : e.end] for e in first.entities] == ["Paris", "LAX"]  # type: ignore[misc]
    assert second == Utterance("cancel", "Cancel Booking", None, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.text = "other"  # type: ignore[misc]


def test_read_utterances_of_a_folder_covers_every_file(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", BASE[:3])
    write_csv(tmp_path / "sub" / "b.csv", PLAIN[3:])
    texts = sorted(u.text for u in read_utterances(tmp_path))
    assert texts == sorted(r["sentence"] for r in BASE)


# ------------------------------------------------------------------------------- same meaning, same hash


def test_record_order_does_not_matter(tmp_path: Path) -> None:
    shuffled = BASE[:]
    random.Random(7).shuffle(shuffled)
    assert shuffled != BASE
    assert json_hash(tmp_path, BASE, "a.json") == json_hash(tmp_path, shuffled, "b.json")
    assert json_hash(tmp_path, BASE, "a.json") == json_hash(tmp_path, BASE[::-1], "c.json")
    assert hash_utterances(write_csv(tmp_path / "a.csv", PLAIN)) == hash_utterances(
        write_csv(tmp_path / "b.csv", PLAIN[::-1])
    )


def test_entity_order_does_not_matter(tmp_path: Path) -> None:
    swapped = [dict(r, entities=r["entities"][::-1]) for r in BASE]
    assert swapped[0]["entities"] != BASE[0]["entities"]
    assert json_hash(tmp_path, BASE, "a.json") == json_hash(tmp_path, swapped, "b.json")


def test_json_formatting_key_order_and_escaping_do_not_matter(tmp_path: Path) -> None:
    reference = json_hash(tmp_path, BASE, "ref.json")
    reordered = [dict(reversed(list(r.items()))) for r in BASE]
    for r in reordered:
        r["entities"] = [dict(reversed(list(e.items()))) for e in r["entities"]]
    variants = {
        "compact.json": ({"separators": (",", ":")}, BASE),
        "indent4.json": ({"indent": 4}, BASE),
        "tabs.json": ({"indent": "\t"}, BASE),
        "ascii.json": ({"ensure_ascii": True, "indent": 1}, BASE),  # "\u00dc" escapes vs raw "Ü"
        "sorted.json": ({"sort_keys": True}, BASE),
        "reordered.json": ({"indent": 2}, reordered),
    }
    for name, (dumps, records) in variants.items():
        assert json_hash(tmp_path, records, name, **dumps) == reference, name


def test_crlf_and_lf_give_the_same_hash(tmp_path: Path) -> None:
    text = json.dumps(BASE, indent=2)
    (tmp_path / "lf.json").write_bytes(text.encode())
    (tmp_path / "crlf.json").write_bytes(text.replace("\n", "\r\n").encode())
    assert hash_utterances(tmp_path / "lf.json") == hash_utterances(tmp_path / "crlf.json")

    multiline = [*PLAIN, dict(PLAIN[0], sentence="first line\nsecond line")]
    lf = write_csv(tmp_path / "lf.csv", multiline, lineterminator="\n")
    crlf = tmp_path / "crlf.csv"  # every line break CRLF, also the one inside the quoted field
    crlf.write_bytes(lf.read_bytes().replace(b"\n", b"\r\n"))
    assert b'"first line\r\nsecond line"' in crlf.read_bytes()
    assert hash_utterances(lf) == hash_utterances(crlf)


def test_a_utf8_bom_does_not_matter(tmp_path: Path) -> None:
    plain = write_json(tmp_path / "plain.json", BASE)
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert hash_utterances(plain) == hash_utterances(bom)

    plain_csv = write_csv(tmp_path / "plain.csv", PLAIN)
    bom_csv = tmp_path / "bom.csv"  # Excel's "CSV UTF-8": the BOM sits right before "taskName"
    bom_csv.write_bytes(b"\xef\xbb\xbf" + plain_csv.read_bytes())
    assert hash_utterances(plain_csv) == hash_utterances(bom_csv)


def test_csv_quoting_does_not_matter(tmp_path: Path) -> None:
    minimal = write_csv(tmp_path / "minimal.csv", PLAIN, quoting=csv.QUOTE_MINIMAL)
    quoted = write_csv(tmp_path / "all.csv", PLAIN, quoting=csv.QUOTE_ALL)
    assert minimal.read_bytes() != quoted.read_bytes()
    assert hash_utterances(minimal) == hash_utterances(quoted)


def test_surrounding_whitespace_and_line_breaks_inside_a_sentence_are_normalised(tmp_path: Path) -> None:
    a = json_hash(tmp_path, [rec("Cancel my booking"), rec("line one\nline two")], "a.json")
    b = json_hash(tmp_path, [rec("  Cancel my booking \t"), rec("line one\r\nline two")], "b.json")
    assert a == b


def test_json_and_csv_with_the_same_information_hash_the_same(tmp_path: Path) -> None:
    # The CSV export has no entities; a JSON export without entities carries exactly the same information.
    no_entities = [dict(r, entities=[]) for r in BASE]
    assert json_hash(tmp_path, no_entities) == hash_utterances(write_csv(tmp_path / "u.csv", PLAIN))
    # ...also when the JSON leaves out "entities" entirely, or the CSV has no type / language columns.
    bare = [{"sentence": r["sentence"], "taskName": r["taskName"]} for r in BASE]
    bare_csv = write_csv(tmp_path / "bare.csv", bare, header=["sentence", "taskName"])
    assert json_hash(tmp_path, bare, "bare.json") == hash_utterances(bare_csv)
    # Entities are training data: the JSON export with NER tags differs from the CSV one.
    assert json_hash(tmp_path, BASE, "tagged.json") != hash_utterances(tmp_path / "u.csv")


def test_volatile_ids_and_timestamps_are_ignored(tmp_path: Path) -> None:
    stamped = [
        dict(r, _id=f"ml-{i}", createdOn="2024-05-01T10:00:00Z", lMod="2024-05-02T10:00:00Z", streamId="st-1")
        for i, r in enumerate(BASE)
    ]
    assert json_hash(tmp_path, BASE, "a.json") == json_hash(tmp_path, stamped, "b.json")


def test_absent_null_and_empty_type_or_language_are_the_same(tmp_path: Path) -> None:
    absent = [{"sentence": "book flight", "taskName": "Book Flight"}]
    null = [{"sentence": "book flight", "taskName": "Book Flight", "type": None, "language": None}]
    empty = [{"sentence": "book flight", "taskName": "Book Flight", "type": " ", "language": ""}]
    hashes = {json_hash(tmp_path, records, f"{i}.json") for i, records in enumerate((absent, null, empty))}
    assert len(hashes) == 1
    assert read_utterances(tmp_path / "1.json") == [Utterance("book flight", "Book Flight", None, None)]


def test_the_plain_and_the_general_json_path_agree(tmp_path: Path) -> None:
    # Records with exactly the five export keys take a fast path; one record with an extra (volatile)
    # key sends the whole file down the general path. Same meaning, so the same hash and utterances.
    plain = write_json(tmp_path / "plain.json", BASE)
    general = write_json(tmp_path / "general.json", [*BASE[:-1], dict(BASE[-1], _id="ml-1")])
    assert hash_utterances(plain) == hash_utterances(general)
    assert read_utterances(plain) == read_utterances(general)


# ---------------------------------------------------------------------------------- folders


def test_a_folder_is_the_union_of_its_files_however_they_are_split(tmp_path: Path) -> None:
    one = write_json(tmp_path / "one" / "all.json", BASE).parent
    write_json(tmp_path / "three" / "a.json", BASE[:2])
    write_json(tmp_path / "three" / "b.json", BASE[2:5], indent=2)
    write_json(tmp_path / "three" / "nested" / "deeper" / "c.json", BASE[5:])
    mixed = tmp_path / "mixed"  # JSON for the tagged utterances, CSV for the untagged ones
    write_json(mixed / "tagged.json", [r for r in BASE if r["entities"]])
    write_csv(mixed / "plain.csv", [p for p, r in zip(PLAIN, BASE, strict=True) if not r["entities"]])
    expected = hash_utterances(one)
    assert hash_utterances(tmp_path / "three") == expected
    assert hash_utterances(mixed) == expected
    assert hash_utterances(one / "all.json") == expected  # a folder of one file = that file


def test_folder_file_names_and_order_do_not_matter(tmp_path: Path) -> None:
    write_json(tmp_path / "x" / "a.json", BASE[:3])
    write_json(tmp_path / "x" / "b.json", BASE[3:])
    write_json(tmp_path / "y" / "zz.json", BASE[:3])
    write_json(tmp_path / "y" / "00.json", BASE[3:])
    assert hash_utterances(tmp_path / "x") == hash_utterances(tmp_path / "y")


def test_hidden_files_and_other_extensions_are_ignored(tmp_path: Path) -> None:
    folder = write_json(tmp_path / "bot" / "u.json", BASE).parent
    before = hash_utterances(folder)
    (folder / "README.md").write_text("# not an export")
    (folder / "notes.txt").write_text("garbage, garbage")
    (folder / ".draft.json").write_text("{ not json")
    (folder / ".git").mkdir()
    (folder / ".git" / "x.json").write_text("{ not json")
    write_json(folder / ".cache" / "old.json", [rec("an old utterance")])
    assert hash_utterances(folder) == before


def test_upper_case_extensions_count(tmp_path: Path) -> None:
    write_json(tmp_path / "a" / "U.JSON", BASE)
    write_json(tmp_path / "b" / "u.json", BASE)
    assert hash_utterances(tmp_path / "a") == hash_utterances(tmp_path / "b")


# ---------------------------------------------------------------------- changed meaning, changed hash


def _mutations() -> dict[str, list[dict[str, Any]]]:
    def changed(index: int, **fields: Any) -> list[dict[str, Any]]:
        records = [json.loads(json.dumps(r)) for r in BASE]
        records[index].update(fields)
        return records

    def entity(index: int, number: int, **fields: Any) -> list[dict[str, Any]]:
        records = [json.loads(json.dumps(r)) for r in BASE]
        records[index]["entities"][number].update(fields)
        return records

    first = BASE[0]["entities"]
    return {
        "text": changed(2, sentence="book a flight"),
        "text case": changed(2, sentence="Book flight"),
        "text punctuation": changed(2, sentence="book flight!"),
        "text inner whitespace": changed(2, sentence="book  flight"),
        "intent": changed(2, taskName="Check Flight Status"),
        "intent case": changed(2, taskName="book flight"),
        "type": changed(2, type="SubIntent"),
        "language": changed(2, language="de"),
        "entity name": entity(0, 0, entityName="Origin"),
        "entity start": entity(0, 0, startIndex=18),
        "entity end": entity(0, 0, endIndex=24),
        "entity removed": changed(0, entities=first[:1]),
        "entity added": changed(2, entities=[ent("Action", 0, 4)]),
        "unknown field": changed(2, priority=1),
        "duplicate utterance": [*BASE, BASE[2]],
        "utterance removed": BASE[:-1],
        "utterance moved to another intent": changed(5, taskName="Book Flight"),
    }


def test_every_change_of_meaning_changes_the_hash(tmp_path: Path) -> None:
    hashes = {"base": json_hash(tmp_path, BASE, "base.json")}
    for name, records in _mutations().items():
        hashes[name] = json_hash(tmp_path, records, f"{len(hashes)}.json")
    assert all(HASH_RE.fullmatch(h) for h in hashes.values())
    duplicates = {h for h in hashes.values() if list(hashes.values()).count(h) > 1}
    assert not duplicates, {name: h for name, h in hashes.items() if h in duplicates}


def test_a_csv_change_changes_the_hash(tmp_path: Path) -> None:
    base = hash_utterances(write_csv(tmp_path / "a.csv", PLAIN))
    assert base != hash_utterances(
        write_csv(tmp_path / "b.csv", [*PLAIN[:-1], dict(PLAIN[-1], sentence="Über")])
    )
    assert base != hash_utterances(
        write_csv(tmp_path / "c.csv", [*PLAIN[:-1], dict(PLAIN[-1], language="en")])
    )
    assert base != hash_utterances(write_csv(tmp_path / "d.csv", [*PLAIN, PLAIN[0]]))


def test_field_boundaries_cannot_be_confused(tmp_path: Path) -> None:
    # Separators, escapes and line breaks inside values must not let two different exports collide.
    cases = [
        [rec("a\u0000b", "T")],
        [rec("a", "b\u0000T")],
        [rec("a\\0b", "T")],
        [rec("a\\", "0b\u0000T")],
        [rec("a\nb", "T")],
        [rec("a\\nb", "T")],
        [rec("a", "T"), rec("b", "T")],
        [rec("a\nb\u0000T", "T")],
        [rec("x", "T", kind="", language="")],
        [rec("x", "T", kind="en", language="")],
        [rec("x", "T", kind="", language="en")],
    ]
    hashes = [json_hash(tmp_path, records, f"{i}.json") for i, records in enumerate(cases)]
    assert len(set(hashes)) == len(cases)


def test_duplicates_are_kept(tmp_path: Path) -> None:
    once = read_utterances(write_json(tmp_path / "a.json", [rec("book flight")]))
    twice = read_utterances(write_json(tmp_path / "b.json", [rec("book flight"), rec(" book flight ")]))
    assert len(once) == 1
    assert len(twice) == 2
    assert twice[0] == twice[1]


# ---------------------------------------------------------------------------------------- errors


def raises(path: Path) -> UtteranceFileError:
    with pytest.raises(UtteranceFileError) as info:
        hash_utterances(path)
    with pytest.raises(UtteranceFileError):
        read_utterances(path)  # the same parser: the same failure
    return info.value


def test_malformed_json_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "travel" / "en" / "flights.json"
    path.parent.mkdir(parents=True)
    lines = json.dumps(BASE[:2], indent=2).splitlines()
    assert lines[5] == '    "entities": ['
    lines[5] += ","  # '"entities": [,' on line 6: a value is missing
    path.write_text("\n".join(lines))
    error = raises(path)
    assert error.path == str(path)
    assert error.line == 6
    assert str(error).startswith(f"{path}:{error.line}: invalid JSON")
    assert "JSON array of objects" in str(error)


def test_truncated_json_names_the_last_line(tmp_path: Path) -> None:
    path = tmp_path / "u.json"
    path.write_text('[\n  {"sentence": "a", "taskName": "T"},\n  {"sentence": "b",\n')
    error = raises(path)
    assert error.line == 4
    assert "invalid JSON" in error.reason


def test_a_missing_field_names_the_file_and_the_line_of_the_record(tmp_path: Path) -> None:
    records = [dict(r) for r in BASE[:4]]
    del records[2]["sentence"]
    path = write_json(tmp_path / "travel" / "en" / "flights.json", records, indent=2)
    text = path.read_text()
    error = raises(path)
    # utterance 3 starts at the third top-level "{"
    openings = [n for n, line in enumerate(text.splitlines(), 1) if line == "  {"]
    assert error.line == openings[2]
    assert str(error) == (
        f'{path}:{openings[2]}: utterance 3 has no "sentence" field; expected each utterance to have '
        '"sentence" and "taskName" (Kore.ai ML utterance export)'
    )


def test_a_missing_field_in_compact_json_still_gets_a_line(tmp_path: Path) -> None:
    path = tmp_path / "u.json"
    path.write_text(
        '[{"sentence": "a", "taskName": "T"},\n{"sentence": "b", "taskName": "T"},\n{"sentence": "c"}]'
    )
    error = raises(path)
    assert error.line == 3
    assert 'utterance 3 has no "taskName" field' in error.reason


def test_a_wrong_type_points_at_the_field(tmp_path: Path) -> None:
    records = [dict(r) for r in BASE[:3]]
    records[1]["language"] = 7
    path = write_json(tmp_path / "u.json", records, indent=2)
    error = raises(path)
    line = path.read_text().splitlines()[error.line - 1]  # type: ignore[operator]
    assert line.strip() == '"language": 7'
    assert 'utterance 2 has a number as "language"; expected a string such as "en"' in error.reason

    records[1]["language"] = "en"
    records[1]["taskName"] = 5
    error = raises(write_json(tmp_path / "t.json", records, indent=2))
    assert 'utterance 2 has a number as "taskName", not a string' in error.reason
    records[1]["taskName"] = ["Book Flight"]  # unhashable: found without the set() shortcut
    error = raises(write_json(tmp_path / "l.json", records, indent=2))
    assert 'utterance 2 has an array as "taskName", not a string' in error.reason

    records[1]["taskName"] = "Book Flight"
    records[1]["sentence"] = ["not", "a", "string"]
    error = raises(write_json(tmp_path / "v.json", records, indent=2))
    assert 'utterance 2 has an array as "sentence", not a string' in error.reason
    assert error.line is not None


def test_bad_entities_point_at_the_entity(tmp_path: Path) -> None:
    records = [json.loads(json.dumps(r)) for r in BASE[:2]]
    records[1]["entities"][0]["endIndex"] = 99
    path = write_json(tmp_path / "u.json", records, indent=2)
    error = raises(path)
    assert path.read_text().splitlines()[error.line - 1].strip() == '"endIndex": 99'  # type: ignore[operator]
    assert 'entity 1 of utterance 2 has "endIndex" 99' in error.reason
    assert "from 0 to 22" in error.reason

    for bad in (30, -1, 2.5, "3", True):
        records[1]["entities"][0] = {"entityName": "Destination", "startIndex": bad}
        error = raises(write_json(tmp_path / "s.json", records, indent=2))
        assert f'entity 1 of utterance 2 has "startIndex" {json.dumps(bad)}' in error.reason, bad

    records[1]["entities"][0] = {"startIndex": 1, "endIndex": 2}
    error = raises(write_json(tmp_path / "v.json", records, indent=2))
    assert 'entity 1 of utterance 2 has no "entityName"' in error.reason

    records[1]["entities"] = "Destination"
    error = raises(write_json(tmp_path / "w.json", records, indent=2))
    assert 'utterance 2 has a string as "entities"' in error.reason

    records[1]["entities"] = [ent("Destination", 17, 22), ent("Destination", 20, 18)]
    path = write_json(tmp_path / "x.json", records, indent=2)
    error = raises(path)
    assert 'entity 2 of utterance 2 has "endIndex" 18 before "startIndex" 20' in error.reason
    lines = path.read_text().splitlines()
    brace = lines.index('        "startIndex": 20,') - 2  # 0-based index of the second entity's "{"
    assert lines[brace] == "      {"
    assert error.line == brace + 1

    records[1]["entities"] = ["Destination"]
    error = raises(write_json(tmp_path / "y.json", records, indent=2))
    assert "entity 1 of utterance 2 is a string" in error.reason


def test_entity_id_names_an_entity_only_when_there_is_no_entity_name(tmp_path: Path) -> None:
    by_name = [rec("fly to Rome", entities=[ent("Destination", 7, 11)])]
    with_id = [rec("fly to Rome", entities=[dict(ent("Destination", 7, 11), entityId="dc-1234")])]
    only_id = [rec("fly to Rome", entities=[{"entityId": "dc-1234", "startIndex": 7, "endIndex": 11}])]
    assert json_hash(tmp_path, by_name, "a.json") == json_hash(tmp_path, with_id, "b.json")
    assert read_utterances(tmp_path / "b.json")[0].entities == (Entity("Destination", 7, 11),)
    assert read_utterances(write_json(tmp_path / "c.json", only_id))[0].entities == (
        Entity("dc-1234", 7, 11),
    )


def test_json_that_is_not_an_array_of_objects_is_rejected(tmp_path: Path) -> None:
    error = raises(write_json(tmp_path / "a.json", {"utterances": BASE}))
    assert error.line == 1
    assert "the file holds an object, not an array" in error.reason
    path = write_json(tmp_path / "b.json", [BASE[0], "book flight"], indent=2)
    error = raises(path)
    assert path.read_text().splitlines()[error.line - 1] == '  "book flight"'  # type: ignore[operator]
    assert "utterance 2 is a string, not an object" in error.reason


def test_an_empty_sentence_is_rejected(tmp_path: Path) -> None:
    error = raises(write_json(tmp_path / "a.json", [BASE[0], rec("   ")]))
    assert 'utterance 2 has an empty "sentence"' in error.reason


def test_a_wrong_csv_header_names_line_1(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "de.csv", PLAIN, header=["intent", "utterance", "type", "language"])
    error = raises(path)
    assert error.path == str(path)
    assert error.line == 1
    assert "wrong header row" in error.reason
    assert "taskName,sentence,type,language" in error.reason

    headerless = tmp_path / "headerless.csv"  # data where the header should be
    headerless.write_text("Book Flight,book flight,DialogIntent,en\n")
    assert raises(headerless).line == 1

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "the file is empty" in raises(empty).reason


def test_a_short_csv_row_after_a_multiline_field_names_its_physical_line(tmp_path: Path) -> None:
    for newline in ("\n", "\r\n"):
        path = tmp_path / f"u{len(newline)}.csv"
        content = [
            "taskName,sentence,type,language",  # 1
            'Book Flight,"a sentence over',  # 2
            "three lines,",  # 3
            '""quoted"" and all",DialogIntent,en',  # 4
            "",  # 5 (blank lines are skipped, but counted)
            "Cancel Booking,cancel it,DialogIntent,en",  # 6
            "Cancel Booking,cancel my trip",  # 7: two fields short
            "Cancel Booking,stop,DialogIntent,en",  # 8
        ]
        path.write_bytes(newline.join(content).encode())
        error = raises(path)
        assert error.line == 7, newline
        assert str(error).startswith(f"{path}:7: utterance 3 has 2 fields but the header has 4")


def test_csv_rows_read_correctly_around_multiline_fields(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text(
        'taskName,sentence\nBook Flight,"line one\nline two, ""quoted"""\nCancel Booking,cancel\n'
    )
    assert [u.text for u in read_utterances(path)] == ['line one\nline two, "quoted"', "cancel"]


def test_a_long_csv_row_and_an_empty_cell_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text(
        "taskName,sentence,type,language\nBook Flight,book,DialogIntent,en\nA,Berlin, Germany,x,en\n"
    )
    error = raises(path)
    assert error.line == 3
    assert "has 5 fields but the header has 4" in error.reason
    assert "quote fields that contain commas" in error.reason

    path.write_text(
        "taskName,sentence,type,language\nBook Flight,book,DialogIntent,en\n,book it,DialogIntent,en\n"
    )
    error = raises(path)
    assert error.line == 3
    assert 'utterance 2 has an empty "taskName"' in error.reason


def test_bad_csv_quoting_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text('taskName,sentence\nBook Flight,book\nBook Flight,"book" it\n')
    error = raises(path)
    assert error.line == 3
    assert "malformed CSV" in error.reason


def test_an_empty_folder_is_an_error_naming_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "travel" / "fr"
    folder.mkdir(parents=True)
    error = raises(folder)
    assert error.path == str(folder)
    assert error.line is None
    assert "no Kore.ai ML utterance exports" in error.reason
    (folder / "notes.txt").write_text("nothing here")
    (folder / ".hidden.json").write_text("[]")
    assert raises(folder).path == str(folder)


def test_a_missing_path_or_other_file_type_is_an_error(tmp_path: Path) -> None:
    assert "no such file or folder" in raises(tmp_path / "nope").reason
    other = tmp_path / "u.txt"
    other.write_text("book flight")
    assert "not a .json or .csv file" in raises(other).reason


def test_a_non_utf8_file_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "de.csv"
    path.write_bytes(
        "taskName,sentence\nBook Flight,Flug buchen\nBook Flight,Flüge nach Zürich\n".encode("cp1252")
    )
    error = raises(path)
    assert error.path == str(path)
    assert error.line == 3
    assert "not valid UTF-8" in error.reason
    assert "byte 0xfc" in error.reason

    utf16 = tmp_path / "u.json"
    utf16.write_bytes(json.dumps(BASE).encode("utf-16"))
    assert "UTF-16" in raises(utf16).reason


def test_the_first_bad_file_of_a_folder_is_named(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", BASE)
    bad = tmp_path / "b.json"
    bad.write_text("[{]")
    assert raises(tmp_path).path == str(bad)


def test_the_garbage_collector_is_left_as_it_was(tmp_path: Path) -> None:
    path = write_json(tmp_path / "u.json", BASE)
    assert gc.isenabled()
    hash_utterances(path)
    assert gc.isenabled()
    bad = tmp_path / "bad.json"
    bad.write_text("[")
    raises(bad)
    assert gc.isenabled()
    gc.disable()
    try:
        hash_utterances(path)
        assert not gc.isenabled()
    finally:
        gc.enable()


# ------------------------------------------------------------------------------------- shipped samples


def test_the_shipped_sample_folders_hash_and_differ_by_language() -> None:
    en, de = SAMPLES / "en", SAMPLES / "de"
    assert sorted(p.suffix for p in en.iterdir()) == [".json"]
    assert sorted(p.suffix for p in de.iterdir()) == [".csv"]
    en_hash, de_hash = hash_utterances(en), hash_utterances(de)
    assert HASH_RE.fullmatch(en_hash)
    assert HASH_RE.fullmatch(de_hash)
    assert en_hash != de_hash


def test_the_shipped_samples_look_like_real_exports() -> None:
    en = read_utterances(SAMPLES / "en")
    de = read_utterances(SAMPLES / "de")
    assert 15 <= len(en) <= 25
    assert 10 <= len(de) <= 20
    assert {u.language for u in en} == {"en"}
    assert {u.language for u in de} == {"de"}
    assert {u.intent for u in en} == {u.intent for u in de}
    assert 3 <= len({u.intent for u in en}) <= 4
    assert any("ü" in u.text or "ö" in u.text or "ä" in u.text for u in de)
    tagged = [u for u in en if u.entities]
    assert len(tagged) >= 5
    for u in tagged:
        for e in u.entities:
            assert e.start is not None and e.end is not None
            covered = u.text[e.start : e.end]
            assert covered and covered == covered.strip(), (u.text, e)


# ------------------------------------------------------------------------------- Kore's own QA files


def test_kores_json_import_file_reads_as_the_records_it_holds() -> None:
    path = KORE_SAMPLES / "Import_MLUtterances50.json"
    records = json.loads(path.read_bytes())
    utterances = read_utterances(path)
    assert len(utterances) == len(records) == 48
    assert utterances == [
        Utterance(r["sentence"], r["taskName"], r["type"], r["language"]) for r in records
    ], "every record, in order; no entities, no extra fields"
    assert {u.intent for u in utterances} == {"Book Ticket", "Mobile Enquiry"}
    assert {(u.intent_type, u.language) for u in utterances} == {("DialogIntent", "en")}
    assert HASH_RE.fullmatch(hash_utterances(path))


def test_kores_csv_upload_file_reads_and_hashes_like_the_same_records_in_json(tmp_path: Path) -> None:
    path = KORE_SAMPLES / "fileupload_MLUtterances.csv"
    with path.open(encoding="utf-8", newline="") as f:
        records = list(csv.DictReader(f))
    utterances = read_utterances(path)
    assert len(utterances) == 124, "KAR 3.3: 124 utterances copied successfully"
    assert [(u.intent, u.text) for u in utterances] == [(r["taskName"], r["sentence"]) for r in records]
    assert {(u.intent_type, u.language, u.entities) for u in utterances} == {("DialogIntent", "en", ())}
    assert hash_utterances(path) == hash_utterances(write_json(tmp_path / "same.json", records))


def test_kores_junk_csv_is_refused_naming_the_file_and_line_1() -> None:
    path = KORE_SAMPLES / "ImportFile_emptydata.csv"
    assert path.read_bytes() == b",jkkjkjkj\n", "the fixture is Kore's file: a header row and nothing else"
    for read in (read_utterances, hash_utterances):
        with pytest.raises(UtteranceFileError) as info:
            read(path)
        error = info.value
        assert (error.path, error.line) == (str(path), 1)
        assert str(error).startswith(
            f"{path}:1: wrong header row ',jkkjkjkj': no 'taskName' or 'sentence' column"
        )
        assert "taskName,sentence,type,language" in error.reason
