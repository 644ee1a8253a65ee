"""Reading the text and JSON files a program declares (utterance exports, bot definitions): every failure
names the file and, where there is one, the line, and says what is expected instead."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import InputFileError


def project_relative(path: str | os.PathLike[str]) -> Path:
    """`path` relative to the working directory (the project: where Pulumi runs the program and the
    provider plugin) when it is inside it, so messages and state name `utterances/travel/en/x.json`, not
    where the project happens to be checked out; a path outside the project stays absolute."""
    given = Path(path)
    try:
        return given.absolute().relative_to(Path.cwd()) if given.is_absolute() else given
    except ValueError:
        return given


def read_text(path: Path, error: type[InputFileError] = InputFileError) -> str:
    """The text of a UTF-8 file (a BOM is not content), or `error` naming the file, the line and the
    encoding it is in instead."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(path, f"cannot read the file: {exc.strerror or exc}") from None
    encoding = wide_encoding(data)
    if encoding is not None:
        raise error(
            path, f"the file is {encoding} encoded; expected UTF-8 (re-save or export it as UTF-8)", line=1
        )
    try:
        return data.decode("utf-8-sig")  # -sig: a leading BOM (Excel, Notepad) is not content
    except UnicodeDecodeError as exc:
        raise error(
            path,
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); expected a "
            "UTF-8 encoded Kore.ai export (re-save it as UTF-8; it may be Latin-1 / Windows-1252)",
            line=data.count(b"\n", 0, exc.start) + 1,
        ) from None


def wide_encoding(data: bytes) -> str | None:
    """The name of a 16- or 32-bit Unicode encoding `data` is in, or None. With a byte-order mark that is
    certain; without one, NUL bytes give it away: a text export never contains NUL, while UTF-16 text of
    Latin script is every other byte NUL (and would otherwise decode as "UTF-8" full of NULs)."""
    for bom, name in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32")):
        if data.startswith(bom):
            return name
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    if b"\x00" in data[:4096]:
        zeros = data[:4096].count(b"\x00")
        return (
            "UTF-32 (no byte-order mark)"
            if zeros * 4 >= len(data[:4096]) * 3 - 4
            else ("UTF-16 (no byte-order mark)")
        )
    return None


def load_json(path: Path, text: str, error: type[InputFileError] = InputFileError, *, expected: str) -> Any:
    """The JSON value of `text` (read from `path`); invalid JSON is `error` at its line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(
            path, f"invalid JSON: {exc.msg} (column {exc.colno}); {expected}", line=exc.lineno
        ) from None
    except RecursionError:
        raise error(
            path, f"the JSON is nested too deeply to read (thousands of levels); {expected}"
        ) from None
