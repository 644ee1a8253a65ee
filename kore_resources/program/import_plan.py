"""Which export files the program imports for one bot language: one `MlUtterances` per file.

The import API takes one file, and an import replaces the utterances of the intents (tasks) the file
contains (Kore.ai community, "ML utterances export/import behavior"). Files that each hold their own
intents therefore compose, in any order; two files with the same intent would overwrite each other's
utterances of it, depending on which import ran last. So the plan refuses a folder where an intent appears
in more than one file, naming the intent and the files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import UtteranceFileError
from ..utterances import export_files, read_utterances


def shared_intents(intents_by_file: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Intent -> the files it appears in, for every intent found in more than one file."""
    seen: dict[str, list[str]] = {}
    for file, intents in intents_by_file.items():
        for intent in sorted(set(intents)):
            seen.setdefault(intent, []).append(file)
    return {intent: files for intent, files in seen.items() if len(files) > 1}


def plan_imports(folder: Path) -> list[Path]:
    """The files to import for one bot language, each holding its own intents."""
    if not folder.is_dir():
        raise UtteranceFileError(folder, "no such folder; expected a folder of Kore.ai ML utterance exports")
    files = export_files(folder)
    if len(files) > 1:
        intents = {file.as_posix(): [u.intent for u in read_utterances(file)] for file in files}
        shared = shared_intents(intents)
        if shared:
            intent, where = sorted(shared.items())[0]
            more = f"; {len(shared) - 1} more intents are split the same way" if len(shared) > 1 else ""
            raise UtteranceFileError(
                folder,
                f"the intent {intent!r} has utterances in {' and '.join(where)}; an import replaces an "
                "intent's utterances, so each intent must live in one export file of the folder: move "
                f"its utterances into one file{more}",
            )
    return files
