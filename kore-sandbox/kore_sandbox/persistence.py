"""The sandbox's state on disk (`Sandbox(state_file=...)`, `kore-sandbox --state-file PATH`): what its bots
hold, so that a restart (or a reboot) finds the platform as it was, as Kore.ai's would be.

Kept: the trainings (and which bot languages' sentences changed since), the ML utterances, the variables
(and form-2 collections), the uploaded files, the ML imports, the bot definition imports and what they
brought, the publishes: everything a later `pulumi refresh` reads, and every id it may ask about. Not kept:
configuration (knobs, readings, rate limits: what the constructor or the command line says), pending
faults, the call log, rate-limit counts, seen JWT ids, and ML exports with their download links (a refresh
makes an export of its own).

The file is written after every request that changed the state, and when the sandbox stops: into a
temporary file in the same folder, flushed to disk, then renamed over the old one, so that a crash leaves
the old file or the new one, never half of one. Times on the sandbox clock are stored as they are, next to
the sandbox clock and the wall clock at the save; a load shifts them onto the new clock and counts the wall
time that passed while the sandbox was stopped (a training that was running has finished meanwhile, as it
would have on the platform). Test knobs do not survive: a restart releases hung and held trainings.

This module reads and writes the file and says what was loaded; each model dumps and loads its own part
(`dump_state`, `load_state`), reading it through `Fields`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

Choice = TypeVar("Choice", bound=str)

#: What the file's `format` says; another value is refused (a file of another kore-sandbox version).
FORMAT = "kore-sandbox-state/1"
#: How to get past a file that cannot be loaded, said by every such error.
_WAY_OUT = "fix it, or move it away to start with an empty sandbox"


class StateFileError(Exception):
    """A state file that cannot be used: unreadable, not a state file, or not loadable. The message names
    the file and what is wrong with it. The sandbox refuses to start rather than start empty."""


class Fields:
    """One JSON object of a state file, read with the types the models need. A missing or mistyped field
    raises ValueError naming where it is (`trainings.trainings[3].outcome`)."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"{where} is not a JSON object")
        self._data: dict[str, object] = data
        self.where = where

    def value(self, key: str) -> object:
        """The field as it is in the file (a record, an options object, ...)."""
        if key not in self._data:
            raise ValueError(f"{self.where}.{key} is missing")
        return self._data[key]

    def _typed(self, key: str, types: tuple[type, ...], what: str, optional: bool) -> object:
        value = self.value(key)
        if value is None and optional:
            return None
        if isinstance(value, bool) and bool not in types:
            raise ValueError(f"{self.where}.{key} is not {what}")
        if not isinstance(value, types):
            raise ValueError(f"{self.where}.{key} is not {what}")
        return value

    def text(self, key: str) -> str:
        return str(self._typed(key, (str,), "a string", False))

    def choice(self, key: str, choices: tuple[Choice, ...]) -> Choice:
        """A string field that must be one of `choices` (an outcome: "success" or "failure")."""
        value = self.text(key)
        for choice in choices:
            if value == choice:
                return choice
        raise ValueError(f"{self.where}.{key} is {value!r}, not {' or '.join(choices)}")

    def optional_text(self, key: str) -> str | None:
        value = self._typed(key, (str,), "a string or null", True)
        return None if value is None else str(value)

    def number(self, key: str) -> float:
        value = self._typed(key, (int, float), "a number", False)
        assert isinstance(value, (int, float))
        if not math.isfinite(value):
            raise ValueError(f"{self.where}.{key} is not a finite number")
        return float(value)

    def optional_number(self, key: str) -> float | None:
        return None if self.value(key) is None else self.number(key)

    def integer(self, key: str) -> int:
        value = self._typed(key, (int,), "an integer", False)
        assert isinstance(value, int)
        return value

    def flag(self, key: str) -> bool:
        return bool(self._typed(key, (bool,), "true or false", False))

    def optional_flag(self, key: str) -> bool | None:
        value = self._typed(key, (bool,), "true, false or null", True)
        return None if value is None else bool(value)

    def texts(self, key: str) -> tuple[str, ...]:
        items = self.items(key)
        if not all(isinstance(item, str) for item in items):
            raise ValueError(f"{self.where}.{key} is not a list of strings")
        return tuple(str(item) for item in items)

    def items(self, key: str) -> list[object]:
        value = self._typed(key, (list,), "a list", False)
        assert isinstance(value, list)
        return value

    def record(self, key: str) -> dict[str, object]:
        """A JSON object kept as it is (a variable, an utterance, a definition)."""
        value = self._typed(key, (dict,), "a JSON object", False)
        assert isinstance(value, dict)
        return value

    def optional_record(self, key: str) -> dict[str, object] | None:
        return None if self.value(key) is None else self.record(key)

    def records(self, key: str) -> list[dict[str, object]]:
        return [Fields(item, f"{self.where}.{key}[{i}]")._data for i, item in enumerate(self.items(key))]

    def objects(self, key: str) -> list[Fields]:
        return [Fields(item, f"{self.where}.{key}[{i}]") for i, item in enumerate(self.items(key))]

    def object(self, key: str) -> Fields:
        return Fields(self.value(key), f"{self.where}.{key}")

    def optional_object(self, key: str) -> Fields | None:
        return None if self.value(key) is None else self.object(key)


def shifted(value: float | None, shift: float) -> float | None:
    """A time on the old sandbox clock, on the new one."""
    return None if value is None else value + shift


@dataclass(frozen=True)
class StoredState:
    """A state file as read: the models' parts (`models`), and the clocks at the save."""

    path: Path
    models: Fields
    saved_clock: float
    saved_wall: float
    saved_at: str

    def shift(self, clock_now: float, wall_now: float) -> float:
        """What moves a time of the saved sandbox clock onto the clock of now: the wall time that passed
        since the save counts (never less than none, should the wall clock have gone back)."""
        return clock_now - self.saved_clock - max(0.0, wall_now - self.saved_wall)


def check_state_path(path: Path) -> None:
    """Before anything starts: the file's folder exists and can be written in (the file need not exist)."""
    folder = path.parent
    if not folder.is_dir():
        raise StateFileError(f"cannot keep the sandbox state in {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StateFileError(f"cannot keep the sandbox state in {path}: the folder {folder} is not writable")


def read_state_file(path: Path) -> StoredState | None:
    """The state file at `path`; None when there is none. StateFileError names the file and what is wrong
    with it: unreadable, not JSON, not a state file, or of another format."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise StateFileError(f"cannot read the sandbox state file {path}: {err}; {_WAY_OUT}") from None
    try:
        document = json.loads(text)
    except ValueError as err:
        raise StateFileError(
            f"the sandbox state file {path} is not JSON ({err}); it may have been cut short or edited; "
            f"{_WAY_OUT}"
        ) from None
    if not isinstance(document, dict) or "format" not in document:
        raise StateFileError(f"{path} is not a kore-sandbox state file (no format); {_WAY_OUT}")
    if document["format"] != FORMAT:
        raise StateFileError(
            f"{path} is a state file of another kore-sandbox version (format {document['format']!r}; this "
            f"one reads {FORMAT!r}); {_WAY_OUT}"
        )
    try:
        header = Fields(document, "the file")
        return StoredState(
            path=path,
            models=header.object("state"),
            saved_clock=header.number("saved_clock"),
            saved_wall=header.number("saved_wall"),
            saved_at=header.text("saved_at"),
        )
    except ValueError as err:
        raise StateFileError(f"cannot load the sandbox state from {path}: {err}; {_WAY_OUT}") from None


def not_loadable(path: Path, err: Exception) -> StateFileError:
    """The error for a state file whose content a model could not load (a ValueError naming the field)."""
    return StateFileError(f"cannot load the sandbox state from {path}: {err}; {_WAY_OUT}")


def state_document(models: str, *, saved_clock: float, saved_wall: float, saved_at: str) -> str:
    """The file's text: the format, the clocks at the save, and the models' parts (`models`, JSON already:
    the sandbox compares it with what it wrote last, to write only what changed)."""
    header = json.dumps(
        {"format": FORMAT, "saved_at": saved_at, "saved_clock": saved_clock, "saved_wall": saved_wall},
        indent=1,
    )
    return header[: header.rindex("}")].rstrip() + ',\n "state": ' + models + "\n}\n"


def write_state_file(path: Path, text: str) -> None:
    """Replace the file at `path` with `text` at once: a temporary file in the same folder, flushed to disk,
    then renamed over it (atomic on POSIX and Windows). Readable by its owner only: it holds the values of
    secured variables."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def state_line(path: Path | None, loaded: StoredState | None, counts: Mapping[str, int]) -> str:
    """The banner's line about the state: kept in memory only, starting empty, or loaded (and what)."""
    if path is None:
        return "state: in memory only, lost when the sandbox stops (--state-file PATH keeps it)"
    if loaded is None:
        return f"state: no state file at {path} yet: starting empty; saved there after every change"
    held = ", ".join(f"{count} {what}" for what, count in counts.items() if count) or "nothing"
    return f"state: loaded from {path} (saved {loaded.saved_at}): {held}; saved there after every change"
