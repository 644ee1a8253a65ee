"""2. Hashing: `hash_utterances` over a large ML utterance export vs. parsing it with the standard library
and hashing its bytes (the floor: you cannot know what a file means without reading and parsing it).

The exports are generated in the shape kore_resources/utterances.py documents (JSON array of
{taskName, sentence, type, entities, language}; CSV with the header taskName,sentence,type,language),
with realistic texts: several languages, punctuation and commas (CSV quoting), some NER tags (JSON).
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import random
import tempfile
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.common import Row, Settings, alternate, fmt_mib, fmt_s, median, progress, ratio
from kore_resources.utterances import hash_utterances

_INTENTS = [
    "Book Ticket", "Cancel Booking", "Change Seat", "Baggage Allowance", "Flight Status", "Refund Status",
    "Check-in", "Loyalty Points", "Meal Preference", "Travel Insurance", "Visa Requirements", "Lost Bag",
]  # fmt: skip
_PHRASES = {
    "en": ["I want to", "please help me", "can you", "how do I", "I need to", "is it possible to"],
    "de": ["ich möchte", "bitte hilf mir", "kannst du", "wie kann ich", "ich muss", "geht es,"],
    "fr": ["je voudrais", "aide-moi à", "peux-tu", "comment puis-je", "je dois", "est-il possible de"],
}
_OBJECTS = [
    "book a flight to {city}", "cancel my trip to {city}", "change my seat, window please",
    'check the "flex" fare to {city}', "get a refund for order {num}", "add a bag to booking {num}",
    "see my points balance", "travel to {city} on {day}", "find flights from {city} to {city2}",
]  # fmt: skip
_CITIES = ["Berlin", "München", "Paris", "Zürich", "New York", "São Paulo", "Kraków", "Lyon", "Tokyo"]
_DAYS = ["Monday", "Friday", "the 3rd of May", "next week", "tomorrow"]


def generate_records(count: int, seed: int = 5) -> list[dict[str, Any]]:
    """`count` distinct utterances as an export's records; about 1 in 8 carries an NER tag."""
    rng = random.Random(seed)
    records = []
    for i in range(count):
        language = rng.choice(("en", "en", "de", "fr"))
        city = rng.choice(_CITIES)
        obj = rng.choice(_OBJECTS).format(
            city=city, city2=rng.choice(_CITIES), num=rng.randrange(10**6), day=rng.choice(_DAYS)
        )
        sentence = f"{rng.choice(_PHRASES[language])} {obj} #{i}"
        entities = []
        if rng.random() < 0.125 and city in sentence:
            start = sentence.index(city)
            entities.append({"entityName": "City", "startIndex": start, "endIndex": start + len(city)})
        records.append(
            {
                "taskName": rng.choice(_INTENTS),
                "sentence": sentence,
                "type": "DialogIntent",
                "entities": entities,
                "language": language,
            }
        )
    return records


def write_exports(folder: Path, count: int) -> dict[str, Path]:
    records = generate_records(count)
    json_path = folder / "export.json"
    json_path.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    csv_path = folder / "export.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)  # RFC 4180: quotes fields with commas, quotes or line breaks
        writer.writerow(["taskName", "sentence", "type", "language"])
        writer.writerows([r["taskName"], r["sentence"], r["type"], r["language"]] for r in records)
    return {"JSON": json_path, "CSV": csv_path}


def floor_json(path: Path) -> str:
    data = path.read_bytes()
    json.loads(data)
    return hashlib.sha256(data).hexdigest()


def floor_csv(path: Path) -> str:
    data = path.read_bytes()
    list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    return hashlib.sha256(data).hexdigest()


def gc_paused(fn: Callable[[Path], str]) -> Callable[[Path], str]:
    """The floor at its fastest: hash_utterances pauses the cyclic GC while parsing, so the floor does too."""

    def run(path: Path) -> str:
        was = gc.isenabled()
        gc.disable()
        try:
            return fn(path)
        finally:
            if was:
                gc.enable()

    return run


def peak_bytes(fn: Callable[[], object]) -> int:
    """Peak Python heap allocated while `fn` runs (tracemalloc), over what was allocated before."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run_hashing(settings: Settings) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-utterances-") as tmp:
        progress(f"hashing: generating exports of {settings.utterances:,} utterances")
        paths = write_exports(Path(tmp), settings.utterances)
        for kind, floor_fn in (("JSON", floor_json), ("CSV", floor_csv)):
            path = paths[kind]
            progress(f"hashing: {kind} ({fmt_mib(path.stat().st_size)}), {settings.hash_rounds} rounds")
            hash_utterances(path)  # warm the page cache and imports for both
            cases: dict[str, Callable[[], object]] = {
                "hash": partial(hash_utterances, path),
                "floor": partial(gc_paused(floor_fn), path),
            }
            samples = alternate({name: [fn] for name, fn in cases.items()}, settings.hash_rounds)
            measured, floor_s = median(samples["hash"]), median(samples["floor"])
            mem, mem_floor = peak_bytes(cases["hash"]), peak_bytes(cases["floor"])
            size = path.stat().st_size
            rows.append(
                Row(
                    f"2{'a' if kind == 'JSON' else 'b'}",
                    f"Hashing: `hash_utterances` of a {settings.utterances:,}-utterance {kind} export "
                    f"({fmt_mib(size)})",
                    fmt_s(measured),
                    fmt_s(floor_s),
                    ratio(measured, floor_s),
                    "<= 2x",
                    (ratio(measured, floor_s) or 0) <= 2,
                    [
                        f"floor: read bytes, {'json.loads' if kind == 'JSON' else 'csv.reader'} (GC paused), "
                        "sha256 of the bytes",
                        f"median of {settings.hash_rounds} interleaved rounds; "
                        f"{settings.utterances / measured / 1000:.0f}k utterances/s",
                    ],
                )
            )
            rows.append(
                Row(
                    f"2{'c' if kind == 'JSON' else 'd'}",
                    f"Hashing: peak memory, {kind}",
                    fmt_mib(mem),
                    fmt_mib(mem_floor),
                    ratio(mem, mem_floor),
                    "bounded",
                    (ratio(mem, mem_floor) or 0) <= 2,
                    [f"tracemalloc peak; file {fmt_mib(size)}; judged against 2x the floor's peak"],
                )
            )
    return rows
