"""Recordings of what a Kore.ai host answered, and how two of them compare: the pure half of the recording
proxy (`recording_proxy.py`) and of the repository's scripts/compare-recording.py.

A recording is how a tenant's truth reaches the sandbox. For each exchange it keeps the method, the path
with every id replaced by a placeholder (`{bot_id}`, `{id}`, `{token}`), the query's names (values only of
the vocabulary parameters `language`, `state` and `type`), the bot language asked for, the status, the
names of the answer's headers, and the answer's *shape*: object keys and value types (`str`, `number`,
`bool`, `null`), recursively, with keys that look like ids replaced by `<id>`. It never keeps a value, a
header's value, a request body, a token or an id, so it can be sent to the maintainers as it is.

Two recordings compare endpoint by endpoint (method and redacted path): the statuses each answered, and
for a status both answered, every path into the answers (`$.statusLogs[].status`) with the types seen
there, over all of that endpoint's answers with that status.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

#: The `format` of a recording file this module writes and reads.
FORMAT = "kore-recording/1"

# The leaves of a shape: a JSON value's type, or what a body that is not JSON was.
STR, NUMBER, BOOL, NULL = "str", "number", "bool", "null"
EMPTY, BYTES, MULTIPART = "<empty>", "<bytes>", "<multipart>"
LEAVES = frozenset({STR, NUMBER, BOOL, NULL, EMPTY, BYTES, MULTIPART})
#: An object key that looked like an id (a map keyed by bot or job ids).
ID_KEY = "<id>"
#: A query value or a language that is not a vocabulary word.
REDACTED = "<redacted>"
#: A path segment that was an id: the bot's, a download link's token, any other.
BOT_ID_SEGMENT, TOKEN_SEGMENT, ID_SEGMENT = "{bot_id}", "{token}", "{id}"

#: A value's shape: a leaf, an object's keys and their shapes, or an array's distinct element shapes.
Shape: TypeAlias = str | dict[str, "Shape"] | list["Shape"]

#: Query parameters whose values are words of the API's vocabulary, never ids or secrets.
VOCABULARY_PARAMETERS = frozenset({"language", "state", "type"})
_VOCABULARY_WORD = re.compile(r"[A-Za-z][A-Za-z_-]{0,15}")
#: A path segment kept as it is: a route word, or an API version (`1.1`).
_ROUTE_WORD = re.compile(r"[A-Za-z]{1,40}|\d+(?:\.\d+)+")
#: The path segment before a download link's token (`/api/getMediaStream/market/<token>`).
_TOKEN_BEFORE = "market"
_ID_PATTERNS = (
    re.compile(r"[A-Za-z]{1,8}-[0-9A-Fa-f-]{8,}"),  # st-<uuid>, bir-<uuid>, ds-<uuid>, cs-<uuid>, u-<uuid>
    re.compile(r"[0-9A-Fa-f]{12,}"),  # 24-hex ids, content hashes
    re.compile(r".*[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}.*"),  # a uuid
    re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),  # a JWT
)
#: Answer headers that say nothing about the API (the connection, the clock).
_TRANSPORT_HEADERS = frozenset(
    {"connection", "content-length", "date", "keep-alive", "transfer-encoding", "proxy-connection"}
)
_IDENTIFIER = re.compile(r"[A-Za-z_$@][A-Za-z0-9_$@-]*")


class RecordingError(ValueError):
    """A recording file that is not one this module writes (or holds something other than shapes)."""


# -- redaction and shapes ------------------------------------------------------------------------------------


def looks_like_id(text: str) -> bool:
    """True for what may be an id, a token or a hash: `st-<uuid>`, 24 hex digits, a uuid, a JWT, or any
    word of 20 characters or more with a digit in it."""
    if any(pattern.fullmatch(text) for pattern in _ID_PATTERNS):
        return True
    return len(text) >= 20 and any(ch.isdigit() for ch in text) and not any(ch.isspace() for ch in text)


def redact_path(path: str) -> str:
    """The path with every segment that is not a route word replaced: `{bot_id}` for a bot id, `{token}`
    for a download link's token, `{id}` for anything else: `/api/public/bot/{bot_id}/mlimport/status/{id}`.
    """
    segments = path.split("/")
    redacted: list[str] = []
    for index, segment in enumerate(segments):
        if not segment:
            redacted.append(segment)
        elif index > 0 and segments[index - 1] == _TOKEN_BEFORE:
            redacted.append(TOKEN_SEGMENT)
        elif _ROUTE_WORD.fullmatch(segment) and not looks_like_id(segment):
            redacted.append(segment)
        elif segment.startswith("st-"):
            redacted.append(BOT_ID_SEGMENT)
        else:
            redacted.append(ID_SEGMENT)
    return "/".join(redacted)


def vocabulary_word(value: str | None) -> str | None:
    """A language code or another vocabulary word as it is; anything else `<redacted>` (None stays)."""
    if value is None:
        return None
    return value if _VOCABULARY_WORD.fullmatch(value) and not looks_like_id(value) else REDACTED


def redact_query(query: Mapping[str, str]) -> dict[str, str]:
    """The query's names, with the values of the vocabulary parameters only (`state=configured`)."""
    redacted: dict[str, str] = {}
    for name, value in query.items():
        key = ID_KEY if looks_like_id(name) else name
        redacted[key] = (vocabulary_word(value) or REDACTED) if name in VOCABULARY_PARAMETERS else REDACTED
    return dict(sorted(redacted.items()))


def header_names(names: Iterable[str]) -> tuple[str, ...]:
    """The answer's header names that belong to the API (`retry-after`), lower case; never a value."""
    kept = {name.lower() for name in names} - _TRANSPORT_HEADERS
    return tuple(sorted(name for name in kept if not looks_like_id(name)))


def canonical(shape: Shape) -> str:
    """One text per shape, to tell shapes apart and order them."""
    return json.dumps(shape, sort_keys=True, separators=(",", ":"))


def shape_of(value: object) -> Shape:
    """The shape of a JSON value: its type, an object's keys (an id-like key as `<id>`) with their shapes,
    an array's distinct element shapes. No value survives."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int | float):
        return NUMBER
    if isinstance(value, str):
        return STR
    if isinstance(value, list):
        return _distinct(shape_of(item) for item in value)
    if isinstance(value, dict):
        shaped: dict[str, Shape] = {}
        for key, item in value.items():
            name = ID_KEY if looks_like_id(str(key)) else str(key)
            shape = shape_of(item)
            # Several id keys: keep one shape, the same whatever the ids were.
            if name not in shaped or canonical(shape) < canonical(shaped[name]):
                shaped[name] = shape
        return dict(sorted(shaped.items()))
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _distinct(shapes: Iterable[Shape]) -> list[Shape]:
    by_text = {canonical(shape): shape for shape in shapes}
    return [by_text[text] for text in sorted(by_text)]


def body_shape(body: bytes, content_type: str | None) -> Shape:
    """The shape of an HTTP body: its JSON's, or `<empty>`, `<multipart>` or `<bytes>` (a file, text)."""
    if not body:
        return EMPTY
    if (content_type or "").lower().startswith("multipart/"):
        return MULTIPART
    try:
        return shape_of(json.loads(body.decode("utf-8")))
    except (UnicodeDecodeError, ValueError):
        return BYTES


def shape_problem(shape: object, at: str = "$") -> str | None:
    """Why `shape` is not a shape (a leaf that is not a type name: a value, never quoted), or None."""
    if isinstance(shape, str):
        return None if shape in LEAVES else f"{at} holds a value, not one of {', '.join(sorted(LEAVES))}"
    if isinstance(shape, list):
        problems = (shape_problem(item, f"{at}[]") for item in shape)
    elif isinstance(shape, dict):
        problems = (shape_problem(item, _child(at, str(key))) for key, item in shape.items())
    else:
        return f"{at} is a {type(shape).__name__}, not a shape"
    return next((problem for problem in problems if problem is not None), None)


def _child(at: str, key: str) -> str:
    return f"{at}.{key}" if _IDENTIFIER.fullmatch(key) else f"{at}[{json.dumps(key)}]"


# -- exchanges and recordings --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Exchange:
    """One request and its answer, redacted: nothing in it is a value."""

    #: What the client was doing (the acceptance suite's step: `up`, `refresh`, ...), if said.
    step: str | None
    method: str
    path: str
    query: dict[str, str]
    #: The `bot-language` header, when it is a language code.
    language: str | None
    #: None: no answer (the target could not be reached).
    status: int | None
    answer: Shape
    headers: tuple[str, ...]

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path}"

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "language": self.language,
            "status": self.status,
            "headers": list(self.headers),
            "answer": self.answer,
        }

    @classmethod
    def from_json(cls, data: object, where: str) -> Exchange:
        """Read one exchange back, refusing anything that is not a redacted one (RecordingError)."""
        if not isinstance(data, dict):
            raise RecordingError(f"{where}: not an object")
        fields = {
            "step": (str, type(None)),
            "method": (str,),
            "path": (str,),
            "query": (dict,),
            "language": (str, type(None)),
            "status": (int, type(None)),
            "headers": (list,),
        }
        for name, types in fields.items():
            if not isinstance(data.get(name), types) or isinstance(data.get(name), bool):
                raise RecordingError(f"{where}: {name} is missing or of the wrong type")
        problem = shape_problem(data.get("answer"))
        if problem is not None:
            raise RecordingError(f"{where}: answer: {problem}")
        if not all(isinstance(v, str) for v in [*data["query"].values(), *data["headers"]]):
            raise RecordingError(f"{where}: query values and header names must be strings")
        return cls(
            step=data["step"],
            method=data["method"],
            path=data["path"],
            query=dict(data["query"]),
            language=data["language"],
            status=data["status"],
            answer=data["answer"],
            headers=tuple(data["headers"]),
        )


def exchange_of(
    *,
    step: str | None,
    method: str,
    path: str,
    query: Mapping[str, str],
    language: str | None,
    status: int | None,
    answer_headers: Iterable[tuple[str, str]],
    answer: bytes,
) -> Exchange:
    """The redacted record of one exchange, from what went over the wire."""
    content_type = next((value for name, value in answer_headers if name.lower() == "content-type"), None)
    return Exchange(
        step=step,
        method=method.upper(),
        path=redact_path(path),
        query=redact_query(query),
        language=vocabulary_word(language),
        status=status,
        answer=body_shape(answer, content_type) if status is not None else EMPTY,
        headers=header_names(name for name, _ in answer_headers),
    )


@dataclass(frozen=True)
class Recording:
    """A run's exchanges, in the order they were answered; `target` says against what (`sandbox`,
    `tenant`)."""

    target: str
    exchanges: tuple[Exchange, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "about": (
                "What a Kore.ai host answered, redacted: per exchange the method, the path with ids "
                "replaced, the query's names, the status, the answer's header names and the shape of its "
                "body (keys and value types). No values, ids, tokens or secrets."
            ),
            "target": self.target,
            "exchanges": [exchange.to_json() for exchange in self.exchanges],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1) + "\n"

    @classmethod
    def loads(cls, text: str) -> Recording:
        """A recording from its file's text (RecordingError naming what is wrong)."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise RecordingError(f"not JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise RecordingError(f"not a recording: its format is not {FORMAT!r}")
        target, exchanges = data.get("target"), data.get("exchanges")
        if not isinstance(target, str) or not isinstance(exchanges, list):
            raise RecordingError("a recording needs a target (a string) and exchanges (a list)")
        return cls(
            target,
            tuple(Exchange.from_json(item, f"exchanges[{i}]") for i, item in enumerate(exchanges)),
        )


def words_of(recording: Recording) -> list[str]:
    """Every string a recording holds besides the type names: endpoints, steps, query names and values,
    languages, header names and keys. Reading them is how to see that it holds no secret."""
    words: set[str] = {recording.target}
    for exchange in recording.exchanges:
        words.add(exchange.endpoint)
        words.update(w for w in (exchange.step, exchange.language) if w is not None)
        words.update(f"{name}={value}" for name, value in exchange.query.items())
        words.update(exchange.headers)
        words.update(_keys_of(exchange.answer))
    return sorted(words)


def _keys_of(shape: Shape) -> set[str]:
    if isinstance(shape, dict):
        return set(shape).union(*(_keys_of(item) for item in shape.values()))
    if isinstance(shape, list):
        return set().union(*(_keys_of(item) for item in shape))
    return set()


# -- comparison ----------------------------------------------------------------------------------------------


@dataclass
class _Place:
    """A path into answers: the types seen there, and the container it is in (None for `$`)."""

    types: set[str]
    parent: str | None
    container: str | None


def answer_paths(shape: Shape, at: str = "$") -> dict[str, _Place]:
    """Every path into a shape with the types seen there: `$` object, `$.statusLogs` array,
    `$.statusLogs[]` object, `$.statusLogs[].status` str."""
    places: dict[str, _Place] = {}
    _walk(shape, at, None, None, places)
    return places


def _walk(
    shape: Shape, at: str, parent: str | None, container: str | None, places: dict[str, _Place]
) -> None:
    kind = "object" if isinstance(shape, dict) else "array" if isinstance(shape, list) else shape
    places.setdefault(at, _Place(set(), parent, container)).types.add(kind)
    if isinstance(shape, dict):
        for key, item in shape.items():
            _walk(item, _child(at, key), at, "object", places)
    elif isinstance(shape, list):
        for item in shape:
            _walk(item, f"{at}[]", at, "array", places)


def _answers_by_endpoint(recording: Recording) -> dict[str, dict[int | None, dict[str, _Place]]]:
    """endpoint -> status -> path -> the types seen there, over every answer with that status."""
    found: dict[str, dict[int | None, dict[str, _Place]]] = {}
    for exchange in recording.exchanges:
        places = found.setdefault(exchange.endpoint, {}).setdefault(exchange.status, {})
        for path, place in answer_paths(exchange.answer).items():
            places.setdefault(path, _Place(set(), place.parent, place.container)).types.update(place.types)
    return found


DifferenceKind = Literal[
    "endpoint only recorded", "endpoint only in sandbox", "status", "missing", "extra", "type"
]


@dataclass(frozen=True, kw_only=True)
class Difference:
    """One way the sandbox's answers differ from a recording's."""

    endpoint: str
    kind: DifferenceKind
    #: The status whose answers differ (None for a difference of the endpoint or its statuses).
    status: int | None = None
    path: str | None = None
    #: What the recording holds there (statuses, types), and what the sandbox answered.
    recorded: str = ""
    sandbox: str = ""

    def describe(self) -> str:
        where = f"{self.endpoint} ({_status_text(self.status)})" if self.status is not None else self.endpoint
        if self.kind == "endpoint only recorded":
            return f"{where}: called in the recording, never in the sandbox's run"
        if self.kind == "endpoint only in sandbox":
            return f"{where}: called in the sandbox's run, never in the recording"
        if self.kind == "status":
            return f"{where}: status {self.recorded} in the recording, {self.sandbox} from the sandbox"
        if self.kind == "missing":
            return f"{where}: {self.path} ({self.recorded}) is in the recording, missing from the sandbox"
        if self.kind == "extra":
            return f"{where}: {self.path} ({self.sandbox}) is extra in the sandbox, not in the recording"
        return f"{where}: {self.path} is {self.recorded} in the recording, {self.sandbox} from the sandbox"


def _status_text(status: int | None) -> str:
    return "no answer" if status is None else str(status)


def _statuses_text(statuses: Iterable[int | None]) -> str:
    return ", ".join(_status_text(s) for s in sorted(statuses, key=lambda s: -1 if s is None else s))


def compare(recorded: Recording, sandbox: Recording) -> list[Difference]:
    """Every difference between a recording (the truth) and the sandbox's answers to the same calls:
    endpoints called on one side only, statuses answered on one side only, and for each status both
    answered, paths into the answers found on one side only or with other types. A path under one found
    on one side only is not listed again."""
    theirs, ours = _answers_by_endpoint(recorded), _answers_by_endpoint(sandbox)
    differences: list[Difference] = []
    for endpoint in sorted(theirs.keys() | ours.keys()):
        if endpoint not in ours:
            differences.append(Difference(endpoint=endpoint, kind="endpoint only recorded"))
            continue
        if endpoint not in theirs:
            differences.append(Difference(endpoint=endpoint, kind="endpoint only in sandbox"))
            continue
        if theirs[endpoint].keys() != ours[endpoint].keys():
            differences.append(
                Difference(
                    endpoint=endpoint,
                    kind="status",
                    recorded=_statuses_text(theirs[endpoint]),
                    sandbox=_statuses_text(ours[endpoint]),
                )
            )
        for status in sorted(theirs[endpoint].keys() & ours[endpoint].keys(), key=lambda s: s or 0):
            differences += _compare_places(endpoint, status, theirs[endpoint][status], ours[endpoint][status])
    return differences


def _compare_places(
    endpoint: str, status: int | None, theirs: dict[str, _Place], ours: dict[str, _Place]
) -> list[Difference]:
    def reported(place: _Place) -> bool:
        """A path on one side only is listed when its container is on both sides (else that is)."""
        parent = place.parent
        if parent is None or place.container is None:
            return True
        return all(parent in side and place.container in side[parent].types for side in (theirs, ours))

    differences = []
    for path in sorted(theirs.keys() | ours.keys()):
        mine, other = ours.get(path), theirs.get(path)
        if other is not None and mine is None:
            if reported(other):
                differences.append(
                    Difference(
                        endpoint=endpoint, kind="missing", status=status, path=path, recorded=_types(other)
                    )
                )
        elif mine is not None and other is None:
            if reported(mine):
                differences.append(
                    Difference(
                        endpoint=endpoint, kind="extra", status=status, path=path, sandbox=_types(mine)
                    )
                )
        elif mine is not None and other is not None and mine.types != other.types:
            differences.append(
                Difference(
                    endpoint=endpoint,
                    kind="type",
                    status=status,
                    path=path,
                    recorded=_types(other),
                    sandbox=_types(mine),
                )
            )
    return differences


def _types(place: _Place) -> str:
    return "|".join(sorted(place.types))
