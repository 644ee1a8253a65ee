"""Read Kore.ai ML utterance exports (JSON or CSV, as the builder's ML Utterances Export and
`POST .../mlexport` produce them, and the ML import takes them back) and hash what they *mean*, so a bot is
retrained exactly when its training data changes.

Why not a hash of the files' bytes: formatting, record order, CSV quoting, line endings or how utterances
are split across files do not change what the model learns, and must not retrain. The formats, their
sources, the assumptions made where the docs show no export file, and exactly what the hash ignores are
in docs/kore-api.md, "7.6 The downloaded file and the utterance file format".
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from json.encoder import encode_basestring as _quote  # C-accelerated JSON string literal, no ASCII escaping
from operator import itemgetter
from pathlib import Path
from typing import Any, Final, cast

from .errors import UtteranceFileError
from .files import load_json, read_text

__all__ = ["Entity", "Utterance", "hash_utterances", "read_utterances"]

# Hashed first. Bump it when the canonical form below changes on purpose: every stack then retrains once.
FORMAT_TAG: Final = b"kore-resources/ml-utterances/v1\n"

EXPORT_SUFFIXES: Final = frozenset({".json", ".csv"})

_EXPECTED: Final = 'expected each utterance to have "sentence" and "taskName" (Kore.ai ML utterance export)'
_EXPECTED_JSON: Final = (
    'expected a Kore.ai ML utterance export: a JSON array of objects with "sentence" and "taskName"'
)
_CSV_HEADER: Final = ("taskName", "sentence", "type", "language")
_EXPECTED_CSV: Final = (
    f"expected a Kore.ai ML utterance CSV export whose first row is the header {','.join(_CSV_HEADER)}"
)
_ENTITY_EXPECTED: Final = (
    'expected "entities" to be an array of objects with "entityName", "startIndex" and "endIndex" '
    "(Kore.ai ML utterance export)"
)

# Keys with a meaning we model. Everything else that is not volatile goes to `extra`.
_KNOWN: Final = frozenset({"sentence", "taskName", "type", "language", "entities"})
_ENTITY_KNOWN: Final = frozenset({"entityName", "startIndex", "endIndex"})
# Ids and timestamps: they differ between bots (dev vs prod), exports and edits, not in what is trained.
_VOLATILE: Final = frozenset(
    {"_id", "id", "__v", "streamId", "taskId", "sentenceId", "createdOn", "createdBy", "modifiedOn",
     "modifiedBy", "lMod", "updatedOn", "updatedBy"}
)  # fmt: skip
_SKIP: Final = _KNOWN | _VOLATILE
# Inside an entity, `entityId` is a bot-specific id when `entityName` names the entity, and is the name
# itself when there is no `entityName` (see the module docstring): never an extra field either way.
_ENTITY_SKIP: Final = _ENTITY_KNOWN | _VOLATILE | {"entityId"}

#: The record fields `_normalise` takes column-wise, in its order: text, intent, type, language.
_COLUMNS: Final = ("sentence", "taskName", "type", "language")
_JSON_FIELDS_NAMES: Final = (*_COLUMNS, "entities")
_JSON_FIELDS: Final = itemgetter(*_JSON_FIELDS_NAMES)
_WS: Final = re.compile(r"[ \t\n\r]*")
_DECODER: Final = json.JSONDecoder()

Extra = tuple[tuple[str, str], ...]
"""Unknown fields as sorted `(key, canonical JSON text of the value)` pairs."""


@dataclass(frozen=True, slots=True)
class Entity:
    """One NER tag of an utterance, as the export has it (`entityName`, `startIndex`, `endIndex`)."""

    name: str
    start: int | None
    end: int | None
    extra: Extra = ()


@dataclass(frozen=True, slots=True)
class Utterance:
    """The meaning of one ML training utterance.

    `text` is the `sentence` with surrounding whitespace removed and line breaks as LF; `intent` is the
    `taskName`; `intent_type` the `type` (e.g. "DialogIntent"); `language` the language code; both are
    None when the export leaves them out or empty. `entities` are sorted; their offsets are relative to
    `text`. `extra` holds fields this module does not know (see the module docstring).
    """

    text: str
    intent: str
    intent_type: str | None
    language: str | None
    entities: tuple[Entity, ...] = ()
    extra: Extra = ()


@dataclass(slots=True)
class _Table:
    """The normalised utterances of one file, column-wise: sequences of equal length, one item per utterance.

    Column-wise because a 200,000-utterance export must hash in about the time it takes to parse it:
    whole columns are checked and transformed with C-level `map`/`set`/`str` calls, and only records
    that carry entities or unknown fields (or an error) are looked at one by one in Python.
    """

    texts: Sequence[str]
    intents: Sequence[str]
    types: Sequence[str]  # "" when absent (the export has no "type", or an empty one)
    languages: Sequence[str]  # "" when absent
    entities: list[tuple[Entity, ...]] | None  # None: no utterance of the file has entities
    extras: list[Extra] | None  # None: no utterance of the file has unknown fields
    tails: dict[int, str]  # index -> the canonical line's entities and extra fields, where there are any
    escape: bool  # whether some text field holds a character the canonical line must escape


def hash_utterances(path: str | os.PathLike[str]) -> str:
    """`"sha256:<hex>"` of the utterances in one export file or a folder of them (recursively)."""
    with _gc_paused():
        lines: list[str] = []
        for table in _tables(Path(path)):
            lines += _canonical_lines(table)
    # Duplicates are kept (a multiset), on purpose. Kore's docs say utterances "should be unique", but
    # whether the ML import drops repeated ones is not documented. If it does not, a duplicate weights
    # the training and is a real change; if it does, hashing it costs at most one needless retraining.
    # A set would risk the opposite, a change that trains nothing, which is the error that matters.
    lines.sort()
    digest = hashlib.sha256(FORMAT_TAG)
    # One canonical utterance per line: a canonical line never contains a raw LF (see _canonical_lines),
    # so the framing is unambiguous. Joined in batches to keep the extra memory small.
    for i in range(0, len(lines), 4096):
        digest.update(("\n".join(lines[i : i + 4096]) + "\n").encode())
    return "sha256:" + digest.hexdigest()


def read_utterances(path: str | os.PathLike[str]) -> list[Utterance]:
    """All utterances of one export file or a folder of them, in file order (files sorted by path)."""
    result: list[Utterance] = []
    with _gc_paused():
        for table in _tables(Path(path)):
            result += map(
                Utterance,
                table.texts,
                table.intents,
                [value or None for value in table.types],
                [value or None for value in table.languages],
                repeat(()) if table.entities is None else table.entities,
                repeat(()) if table.extras is None else table.extras,
            )
    return result


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a big export is parsed.

    Parsing creates hundreds of thousands of acyclic containers (JSON objects, CSV rows), and every
    automatic collection would traverse all of them again: about a third of the run time at 200,000
    utterances. Nothing here creates reference cycles; the previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# ------------------------------------------------------------------------------------------ canonical


def _canonical_lines(table: _Table) -> list[str]:
    """Each utterance as one canonical line, the unit the hash sorts and frames.

    The fields sentence, taskName, type, language, joined by NUL, with "\\", NUL and LF in them
    backslash-escaped (an absent type or language is ""); then, only for an utterance that has entities
    or unknown fields, two more: the entities as compact JSON (`[["entityName", startIndex, endIndex,
    {extra}], ...]`, sorted) and the unknown fields as compact JSON with sorted keys (`{}` if none).
    JSON never contains a raw NUL or LF. So a line splits back into its fields in exactly one way (4 or
    6 of them), and no line contains the LF that frames it. The sentence comes first so that sorting
    compares mostly distinct prefixes. Whole columns are joined with C-level map/zip: a JSON string
    encoder per field would cost twice the time of parsing a CSV export.
    """
    columns = [table.texts, table.intents, table.types, table.languages]
    if table.escape:
        columns = [_escaped(column) for column in columns]
    lines = list(map("\x00".join, zip(*columns, strict=True)))
    for index, tail in table.tails.items():
        lines[index] += tail
    return lines


def _escaped(values: Sequence[str]) -> Sequence[str]:
    """The column with "\\", NUL and LF escaped; the column itself when no value has any of them."""
    return list(map(_escape, values)) if _any_contains(values, "\\", "\x00", "\n") else values


def _any_contains(values: Sequence[str], *needles: str) -> bool:
    """Whether any value contains any needle: checked on joined chunks, at C speed, little extra memory."""
    for start in range(0, len(values), 4096):
        chunk = "".join(values[start : start + 4096])
        if any(needle in chunk for needle in needles):
            return True
    return False


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\x00", "\\0").replace("\n", "\\n")


def _canonical_entity(entity: Entity) -> str:
    start = "null" if entity.start is None else entity.start
    end = "null" if entity.end is None else entity.end
    extra = _canonical_extra(entity.extra) if entity.extra else "{}"
    return f"[{_quote(entity.name)},{start},{end},{extra}]"


def _canonical_extra(extra: Extra) -> str:
    return "{" + ",".join(f"{_quote(key)}:{value}" for key, value in extra) + "}"


# ---------------------------------------------------------------------------------------------- files


def _tables(path: Path) -> Iterator[_Table]:
    """The one parser behind both public functions: every export file under `path`, normalised."""
    for file in export_files(path):
        text = read_text(file, UtteranceFileError)
        yield _csv_table(file, text) if file.suffix.lower() == ".csv" else _json_table(file, text)


def export_files(path: Path) -> list[Path]:
    """The export files `path` stands for, in a stable order: the file itself, or every *.json and *.csv
    below the folder (recursively; hidden files and folders skipped)."""
    if path.is_dir():
        files = _walk_exports(path)
        if not files:
            raise UtteranceFileError(
                path,
                "the folder has no Kore.ai ML utterance exports; expected at least one *.json or *.csv "
                "file in it or its subfolders (hidden files and other extensions are ignored)",
            )
        return files
    if path.is_file():
        if path.suffix.lower() not in EXPORT_SUFFIXES:
            raise UtteranceFileError(
                path, "not a .json or .csv file; expected a Kore.ai ML utterance export (JSON or CSV)"
            )
        return [path]
    raise UtteranceFileError(
        path,
        "no such file or folder; expected a Kore.ai ML utterance export (*.json or *.csv) "
        "or a folder of them",
    )


def _walk_exports(folder: Path) -> list[Path]:
    """Every export file below `folder`, in a stable order, following symbolic links to folders (a shared
    set of utterances linked into a language folder is part of it), each real folder once: a link that
    leads back into a folder already being walked is refused, because its files would count twice."""
    files: list[Path] = []
    walking: dict[str, Path] = {}  # real path -> how the walk reached it, for the folders above us

    def walk(current: Path) -> None:
        real = os.path.realpath(current)
        if real in walking:
            raise UtteranceFileError(
                current,
                f"is a symbolic link back to {walking[real]}, which contains it: the folder would be read "
                "without end. Remove the link, or point it at a folder outside this one",
            )
        walking[real] = current
        try:
            entries = sorted(os.scandir(current), key=lambda entry: entry.name)
        except OSError as exc:
            raise UtteranceFileError(current, f"cannot list the folder: {exc.strerror or exc}") from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():  # follows links
                walk(Path(current, entry.name))
            elif os.path.splitext(entry.name)[1].lower() in EXPORT_SUFFIXES:
                if entry.is_symlink() and not entry.is_file():
                    raise UtteranceFileError(
                        Path(current, entry.name),
                        f"is a broken symbolic link (to {os.readlink(entry.path)}); fix or remove it",
                    )
                files.append(Path(current, entry.name))
        del walking[real]

    walk(folder)
    return files


# ----------------------------------------------------------------------------------------------- JSON


class _JsonSource:
    """Where a JSON record is: worked out only when an error needs a line number."""

    __slots__ = ("path", "text")

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, index: int, reason: str, *inner: int | str) -> UtteranceFileError:
        """The error for record `index`, at the line where it (or its key / entry `inner`) starts."""
        try:
            offset = _json_offset(self.text, (index, *inner))
        except (ValueError, IndexError):  # pragma: no cover - the text already parsed; belt and braces
            return UtteranceFileError(self.path, reason)
        return UtteranceFileError(self.path, reason, line=self.text.count("\n", 0, offset) + 1)


def _json_table(path: Path, text: str) -> _Table:
    data = load_json(path, text, UtteranceFileError, expected=_EXPECTED_JSON)
    if not isinstance(data, list):
        raise UtteranceFileError(
            path,
            f"the file holds {_json_kind(data)}, not an array; {_EXPECTED_JSON}",
            line=text.count("\n", 0, _skip_ws(text, 0)) + 1,
        )
    source = _JsonSource(path, text)
    # Fast path, the shape Kore's export writes: every record an object with exactly the five documented
    # keys. One C-level pass picks the fields, one transposes them into columns, one proves that no record
    # has a further key. Anything else (missing or unknown keys, non-objects) takes the general path.
    try:
        columns = list(zip(*map(_JSON_FIELDS, data), strict=True)) if data else [()] * 5
        exact = set(map(len, data)) <= {len(_JSON_FIELDS_NAMES)}
    except (KeyError, TypeError, IndexError):
        exact = False
    if exact:
        return _normalise(source, *columns[:4], tags=columns[4], extras=None)

    if not all(map(dict.__instancecheck__, data)):
        index = next(i for i, record in enumerate(data) if type(record) is not dict)
        kind = _json_kind(data[index])
        raise source.fail(index, f"utterance {index + 1} is {kind}, not an object; {_EXPECTED_JSON}")
    extras = None
    if not all(map(_SKIP.issuperset, data)):  # some record has a key we do not model
        extras = [() if _SKIP.issuperset(record) else _extra(record.items(), _SKIP) for record in data]

    def column(key: str) -> list[object]:
        return list(map(dict.get, data, repeat(key)))

    return _normalise(source, *map(column, _COLUMNS), tags=column("entities"), extras=extras)


def _json_offset(text: str, steps: tuple[int | str, ...]) -> int:
    """Character offset of the value reached from the document root by array indexes / object keys.

    Only used on the error path, on text that json.loads already accepted: it walks the text with the C
    scanner (`raw_decode`) to skip sibling values, so it costs about one more parse of the skipped part.
    """
    pos = _skip_ws(text, 0)
    for step in steps:
        opening = text[pos]
        pos = _skip_ws(text, pos + 1)
        if isinstance(step, int):
            if opening != "[":
                raise ValueError("not an array")
            for _ in range(step):
                _, pos = _DECODER.raw_decode(text, pos)
                pos = _skip_ws(text, _skip_ws(text, pos) + 1)  # the ","
        else:
            if opening != "{":
                raise ValueError("not an object")
            found = None
            while text[pos] != "}":
                key, pos = _DECODER.raw_decode(text, pos)
                pos = _skip_ws(text, _skip_ws(text, pos) + 1)  # the ":"
                if key == step:
                    found = pos  # keep looking: json.loads keeps the *last* duplicate key
                _, pos = _DECODER.raw_decode(text, pos)
                pos = _skip_ws(text, pos)
                if text[pos] == ",":
                    pos = _skip_ws(text, pos + 1)
            if found is None:
                raise ValueError("no such key")
            pos = found
    return pos


def _skip_ws(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


def _json_kind(value: object) -> str:
    """What a parsed JSON value is, with its article, for messages: "a string", "an array", ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# ------------------------------------------------------------------------------------------------ CSV


class _CsvSource:
    """Where a CSV record is: the physical line its row starts on (the header row is line 1).

    Found by reading the file again on the error path only, so the happy path does no line bookkeeping.
    """

    __slots__ = ("path", "text")

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, index: int, reason: str, *inner: int | str) -> UtteranceFileError:
        reader = _csv_reader(self.text)
        next(reader)  # the header
        end = reader.line_num
        seen = -1
        for row in reader:
            start, end = end + 1, reader.line_num
            seen += bool(row)  # blank lines are not utterances
            if seen == index:
                return UtteranceFileError(self.path, reason, line=start)
        return UtteranceFileError(self.path, reason)  # pragma: no cover - index is always a parsed row


def _unclosed_quote_line(text: str) -> int | None:
    """The line where a quoted field opens that the text never closes (RFC 4180: a field that starts with
    `"` ends at a `"` not followed by another), or None when every quote closes."""
    line, opened, quoted, field_start = 1, 0, False, True
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quoted:
            if ch == '"':
                if i + 1 < n and text[i + 1] == '"':
                    i += 1  # an escaped quote
                else:
                    quoted = False
            elif ch == "\n" or (ch == "\r" and text[i + 1 : i + 2] != "\n"):
                line += 1
        elif ch == '"' and field_start:
            quoted, opened = True, line
        elif ch == "\n" or (ch == "\r" and text[i + 1 : i + 2] != "\n"):
            line += 1
        field_start = not quoted and ch in ",\r\n"
        i += 1
    return opened if quoted else None


def _csv_reader(text: str) -> Any:
    # newline="": the csv module sees "\r\n" and line breaks inside quoted fields as they are, and
    # line_num counts physical lines (CRLF, LF and CR each end one line).
    return csv.reader(io.StringIO(text, newline=""), strict=True)


def _csv_table(path: Path, text: str) -> _Table:
    reader = _csv_reader(text)
    try:
        header = next(reader, None)
        if header is None:
            raise UtteranceFileError(path, f"the file is empty; {_EXPECTED_CSV}", line=1)
        rows: list[list[str]] = list(filter(None, reader))  # filter: blank lines are not utterances
    except csv.Error as exc:
        opened = _unclosed_quote_line(text)
        if opened is not None:
            raise UtteranceFileError(
                path,
                'malformed CSV: unclosed quote: the quoted field that starts here never ends (a " is '
                f'missing, or a " inside a field is not doubled as ""); {_EXPECTED_CSV}',
                line=opened,
            ) from None
        raise UtteranceFileError(
            path, f"malformed CSV: {exc}; {_EXPECTED_CSV} (RFC 4180 quoting)", line=reader.line_num
        ) from None
    columns = [name.strip() for name in header]
    missing = [name for name in ("taskName", "sentence") if name not in columns]
    duplicated = sorted({name for name in columns if columns.count(name) > 1})
    if missing or duplicated:
        problem = (
            f"no {' or '.join(repr(name) for name in missing)} column"
            if missing
            else f"duplicate column {', '.join(repr(name) for name in duplicated)}"
        )
        raise UtteranceFileError(
            path,
            f"wrong header row {','.join(columns)!r}: {problem}; {_EXPECTED_CSV} "
            "(type and language are optional; column names are case-sensitive)",
            line=1,
        )
    source = _CsvSource(path, text)
    width = len(columns)
    if rows and set(map(len, rows)) != {width}:
        index = next(i for i, row in enumerate(rows) if len(row) != width)
        count = len(rows[index])
        raise source.fail(
            index,
            f"utterance {index + 1} has {count} field{'s' if count != 1 else ''} but the header has "
            f"{width}; expected every row to have the columns {','.join(columns)} "
            '(quote fields that contain commas, e.g. "Berlin, Germany")',
        )

    def column(name: str) -> list[str]:
        if name not in columns:
            return [""] * len(rows)
        return list(map(itemgetter(columns.index(name)), rows))

    # An empty cell is an absent value, like a JSON record without that key. Entities: the CSV export has
    # none; an "entities" column would be kept as an unknown column.
    others = [(i, name) for i, name in enumerate(columns) if name not in _SKIP]
    extras = None
    if others:
        extras = [_extra([(name, row[i]) for i, name in others if row[i]], _SKIP) for row in rows]
    return _normalise(source, *map(column, _COLUMNS), tags=None, extras=extras)


# -------------------------------------------------------------------------------------- normalisation


def _normalise(
    source: _JsonSource | _CsvSource,
    raw_texts: Sequence[object],
    raw_intents: Sequence[object],
    raw_types: Sequence[object],
    raw_languages: Sequence[object],
    *,
    tags: Sequence[object] | None,
    extras: list[Extra] | None,
) -> _Table:
    """The shared normalisation of one file's records, given column-wise (JSON and CSV alike).

    A good file costs about one C-level pass per column: `str.strip` over the sentences (it raises
    TypeError on a value that is not a string, which doubles as the type check), one scan of them for
    characters that need work, and a `set` of each low-cardinality column (intent, type, language),
    whose few distinct values are checked and stripped one by one. Only a bad file is searched record
    by record, to name the first bad record in the message.
    """
    raw = cast("Sequence[str]", raw_texts)  # checked by str.strip just below
    try:
        texts = list(map(str.strip, raw))
    except TypeError:
        raise _column_problem(raw_texts, "sentence", None, source) from None
    escape = False
    if _any_contains(raw, "\r", "\\", "\x00", "\n"):
        if _any_contains(raw, "\r"):  # line-break normalisation only when some text has a CR
            texts = list(map(_clean, raw))
        escape = _any_contains(texts, "\\", "\x00", "\n")
    if "" in texts:
        raise _column_problem(raw_texts, "sentence", None, source)
    intents, escape_intents = _distinct_strings(raw_intents, "taskName", None, source)
    types, escape_types = _distinct_strings(raw_types, "type", '"DialogIntent"', source)
    languages, escape_languages = _distinct_strings(raw_languages, "language", '"en"', source)

    entities: list[tuple[Entity, ...]] | None = None
    entity_json: dict[int, str] = {}
    if tags is not None:
        if not set(map(type, tags)) <= {list, type(None)}:
            index = next(i for i, value in enumerate(tags) if value is not None and type(value) is not list)
            raise source.fail(index, _entities_problem(index, tags[index]), "entities")
        tagged = list(compress(range(len(tags)), tags))  # absent, null and [] all mean "no entities"
        if tagged:
            entities = [()] * len(tags)
            for index in tagged:
                entities[index], entity_json[index] = _entities(
                    cast("list[Any]", tags[index]), raw[index], texts[index], source, index
                )
    tails: dict[int, str] = {}
    extra_indexes = list(compress(range(len(extras)), extras)) if extras is not None else []
    for index in sorted({*entity_json, *extra_indexes}):
        extra_json = _canonical_extra(extras[index]) if extras is not None else "{}"
        tails[index] = f"\x00{entity_json.get(index, '[]')}\x00{extra_json}"
    escape = escape or escape_intents or escape_types or escape_languages
    return _Table(texts, intents, types, languages, entities, extras, tails, escape)


def _distinct_strings(
    values: Sequence[object], field: str, example: str | None, source: _JsonSource | _CsvSource
) -> tuple[Sequence[str], bool]:
    """A low-cardinality column (intent, type, language), stripped, "" for absent; and whether it needs
    escaping in canonical lines. `example` None: the field is required (non-empty).

    Works on the column's few distinct values: one C-level `set` pass for the whole column, and a second
    pass (a dict lookup per value) only when some value must change (surrounding whitespace, null).
    """
    try:
        distinct = set(values)
    except TypeError:  # an unhashable value: a JSON array or object
        raise _column_problem(values, field, example, source) from None
    mapping: dict[object, str] = {}
    for value in distinct:
        if type(value) is str and (value.strip() or example is not None):
            mapping[value] = value.strip()
        elif value is None and example is not None:
            mapping[value] = ""
        else:
            raise _column_problem(values, field, example, source)
    escape = any("\\" in value or "\x00" in value or "\n" in value for value in mapping.values())
    if all(key is value for key, value in mapping.items()):  # strip() returns the very same str
        return cast("Sequence[str]", values), escape
    return list(map(mapping.__getitem__, values)), escape


def _column_problem(
    values: Sequence[object], field: str, example: str | None, source: _JsonSource | _CsvSource
) -> UtteranceFileError:
    """The error for the first unusable value of a column (`example` None: a required field)."""
    expected = _EXPECTED if example is None else f"expected a string such as {example}"
    for index, value in enumerate(values):
        if value is None:
            if example is None:
                return source.fail(index, f'utterance {index + 1} has no "{field}" field; {expected}')
        elif type(value) is not str:
            kind = _json_kind(value)
            if example is None:
                reason = f'utterance {index + 1} has {kind} as "{field}", not a string; {expected}'
            else:
                reason = f'utterance {index + 1} has {kind} as "{field}"; {expected}'
            return source.fail(index, reason, field)
        elif example is None and not value.strip():
            return source.fail(index, f'utterance {index + 1} has an empty "{field}"; {expected}', field)
    raise AssertionError("no bad value in the column")  # pragma: no cover


def _clean(raw: str) -> str:
    """Meaning-preserving normalisation of utterance text: CRLF/CR line breaks to LF, outer whitespace.

    Nothing else: no lower-casing (Kore's ML considers case and punctuation; a CRF NER model uses
    capitalisation as a feature; "US" is not "us") and no inner-whitespace or Unicode (NFC) folding,
    which would also move entity offsets.
    """
    return _newlines(raw).strip()


def _newlines(raw: str) -> str:
    return raw.replace("\r\n", "\n").replace("\r", "\n") if "\r" in raw else raw


def _entities(
    tags: list[Any], raw: str, text: str, source: _JsonSource | _CsvSource, index: int
) -> tuple[tuple[Entity, ...], str]:
    """One utterance's NER tags, checked and sorted, and their canonical JSON for the hash."""
    length = len(raw)
    keyed: list[tuple[str, Entity]] = []
    for number, tag in enumerate(tags):
        if type(tag) is not dict:
            raise _entity_problem(source, index, number, f"is {_json_kind(tag)}")
        name = tag.get("entityName")
        if name is None:
            name = tag.get("entityId")
        start = tag.get("startIndex")
        end = tag.get("endIndex")
        if not (
            type(name) is str
            and name.strip()
            and (start is None or (type(start) is int and 0 <= start <= length))
            and (end is None or (type(end) is int and 0 <= end <= length))
            and (start is None or end is None or start <= end)
        ):
            raise _bad_entity(name, start, end, length, source, index, number)
        if text is not raw and text != raw:  # offsets refer to the raw sentence: move them with the text
            start, end = _shift(raw, text, start), _shift(raw, text, end)
        extra = () if _ENTITY_SKIP.issuperset(tag) else _extra(tag.items(), _ENTITY_SKIP)
        entity = Entity(name.strip(), start, end, extra)
        keyed.append((_canonical_entity(entity), entity))
    if len(keyed) == 1:  # the common case
        line, entity = keyed[0]
        return (entity,), f"[{line}]"
    keyed.sort(key=itemgetter(0))
    return tuple(entity for _, entity in keyed), f"[{','.join(line for line, _ in keyed)}]"


def _bad_entity(
    name: object,
    start: object,
    end: object,
    length: int,
    source: _JsonSource | _CsvSource,
    index: int,
    number: int,
) -> UtteranceFileError:
    if type(name) is not str or not name.strip():
        problem = "has no" if name is None else "has an empty or non-string"
        return _entity_problem(source, index, number, f'{problem} "entityName"')
    for key, value in (("startIndex", start), ("endIndex", end)):
        if value is not None and not (
            isinstance(value, int) and type(value) is not bool and 0 <= value <= length
        ):
            reason = (
                f'has "{key}" {json.dumps(value)}; expected a character offset into the "sentence" '
                f"(a whole number from 0 to {length}, its length)"
            )
            return _entity_problem(source, index, number, reason, key)
    return _entity_problem(source, index, number, f'has "endIndex" {end} before "startIndex" {start}')


def _entity_problem(
    source: _JsonSource | _CsvSource, index: int, number: int, problem: str, *key: str
) -> UtteranceFileError:
    reason = f"entity {number + 1} of utterance {index + 1} {problem}"
    if "offset" not in problem:
        reason += f"; {_ENTITY_EXPECTED}"
    return source.fail(index, reason, "entities", number, *key)


def _shift(raw: str, text: str, offset: int | None) -> int | None:
    """An offset into the raw sentence, as an offset into `text` (`_clean(raw)`), kept inside it."""
    if offset is None:
        return None
    whole = _newlines(raw)
    lead = len(whole) - len(whole.lstrip())  # what `_clean` strips in front
    return min(max(len(_newlines(raw[:offset])) - lead, 0), len(text))


def _extra(items: Iterable[tuple[str, Any]], skip: frozenset[str]) -> Extra:
    """Unknown, non-volatile, non-null fields as sorted (key, canonical JSON) pairs."""
    return tuple(
        sorted(
            (key, json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
            for key, value in items
            if key not in skip and value is not None
        )
    )


def _entities_problem(index: int, tags: object) -> str:
    return f'utterance {index + 1} has {_json_kind(tags)} as "entities"; {_ENTITY_EXPECTED}'
