"""Readings: one switch per open question about Kore.ai's API, so the sandbox can play every plausible answer.

The sandbox is a reading of Kore.ai's docs; where they are silent (or contradict each other) a real tenant
may answer otherwise. `READINGS` is the one table of those questions: each reading's name, its default
(the sandbox's ASSUMPTION), every value it may take with a one-line description, and the ASSUMPTION
(kore-sandbox/README.md) and docs it stands for. `Readings` holds the current values; each endpoint family
reads the value that concerns it where the behaviour lives. Switch them with `Sandbox(readings={...})`,
`Sandbox.set_reading`, `POST /_sandbox/readings` or `kore-sandbox --reading NAME=VALUE`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

_KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Choice:
    """One value a reading may take, and what the sandbox then does."""

    value: str
    description: str


@dataclass(frozen=True)
class Reading:
    """One open question: its `name` (kebab-case), what it decides (`question`), its `default`, every
    value it may take (`choices`) and the ASSUMPTION / docs it stands for (`stands_for`)."""

    name: str
    question: str
    default: str
    choices: tuple[Choice, ...]
    stands_for: str

    def __post_init__(self) -> None:
        if not _KEBAB.match(self.name):
            raise ValueError(f"reading {self.name!r}: a name is kebab-case")
        values = self.values
        if len(set(values)) != len(values) or self.default not in values:
            raise ValueError(f"reading {self.name}: values must be distinct and include the default")

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)

    def allowed(self) -> str:
        """`429 (default), 400, 403, 503`: what an error message lists."""
        return ", ".join(f"{v} (default)" if v == self.default else v for v in self.values)

    def to_json(self) -> list[dict[str, str]]:
        return [{"value": c.value, "description": c.description} for c in self.choices]


def _reading(name: str, question: str, stands_for: str, *choices: tuple[str, str]) -> Reading:
    """A table row; the first choice is the default."""
    return Reading(
        name=name,
        question=question,
        default=choices[0][0],
        choices=tuple(Choice(value, description) for value, description in choices),
        stands_for=stands_for,
    )


#: Every reading, in the order the README's table lists them. The first choice of each is its default.
READINGS: tuple[Reading, ...] = (
    _reading(
        "rate-limit-status",
        "the HTTP status (and envelope code) of the sandbox's own rate-limit refusals",
        "ASSUMPTION 10, 25, 33; docs/kore-api.md §5.2: no page gives an HTTP status",
        ("429", "429 Too Many Requests, the HTTP convention"),
        ("400", "400 Bad Request"),
        ("403", "403 Forbidden"),
        ("503", "503 Service Unavailable"),
    ),
    _reading(
        "rate-limit-retry-after",
        "whether a rate-limit refusal carries a Retry-After header",
        "ASSUMPTION 10; docs/kore-api.md §5.2: no page names a Retry-After header",
        ("seconds", "Retry-After in whole seconds until the window has room"),
        ("none", "no Retry-After header"),
    ),
    _reading(
        "rate-limit-message",
        "the msg of a rate-limit refusal",
        "ASSUMPTION 10; D2 rate-limit.mdx, the D1/D2 api-list note, Kore community article 3638",
        ("per-window", "the per-minute / hourly sentences of D2 rate-limit.mdx"),
        ("legacy", "'Rate limit for this API has been reached. Please try again after some time.' (D1/D2)"),
        ("community", "'Rate limit for this API has been reached. Please try again later' (community 3638)"),
    ),
    _reading(
        "untrained-language",
        "what ML train status answers for a bot language that has never been trained",
        "ASSUMPTION 11; docs/kore-api.md §6.2: the docs are silent",
        ("trained", "every bot language starts with one completed earlier training (Finished, in sync)"),
        ("400", "400 envelope 'No training found for the language ...', code 400"),
        ("404", "404 envelope 'No training found for the language ...', code 404"),
        ("empty", "200 with {}"),
        ("null", '200 with {"trainingStatus": null}'),
    ),
    _reading(
        "queued-training",
        "what ML train status answers while the latest training is queued",
        "ASSUMPTION 11; docs/kore-api.md §6.2: the docs show no queued state",
        ("stale", "the previous training's status, until the queued one starts"),
        ("inprogress", "Inprogress at once"),
        ("queued-word", 'the undocumented word "Queued"'),
    ),
    _reading(
        "sync-flags",
        "whether train status answers carry the isMlInSync* flags and trainDetails",
        "ASSUMPTION 13; docs/kore-api.md §6.2 (DEV v9-2 samples show four flags, D2 six)",
        ("all", "every isMlInSync* flag, and trainDetails when Finished"),
        ("none", "trainingStatus only"),
    ),
    _reading(
        "secured-on-import",
        "what isSecured on a variables import does",
        "ASSUMPTION 32; docs/kore-api.md §9.3: only the export documents isSecured",
        ("honoured", "isSecured secures (true) or unsecures (false) the variable"),
        ("ignored", "ignored: an existing variable keeps its flag, a new one is not secured"),
    ),
    _reading(
        "export-language",
        "which language an ML export exports",
        "ASSUMPTION 35; docs/kore-api.md §7.4: the docs name no language parameter",
        ("header", "the bot-language header's (absent: the bot's default language)"),
        ("default-language", "always the bot's default language; bot-language is ignored"),
    ),
    _reading(
        "export-status-id",
        "the _id of an ML export status answer",
        "ASSUMPTION 36; docs/kore-api.md §7.5",
        ("same", "the _id its POST answered"),
        ("own", "an _id of its own, different from the POST's, stable per export"),
        ("none", "no _id"),
    ),
    _reading(
        "publish-words",
        "the status words of Bot Publish Status",
        "ASSUMPTION 24; docs/kore-api.md §10.2; D2 and D1 bot-publish-status",
        ("documented", "inprogress, successful, failed (D2)"),
        ("hyphenated", "in-progress, successful, failed (the sandbox's older ASSUMPTION 24)"),
        ("upper", "INPROGRESS, SUCCESSFUL, FAILED (D1)"),
    ),
    _reading(
        "upload-answer",
        "the body of a successful Upload File",
        "ASSUMPTION 20; docs/kore-api.md §7.1; the developer.kore.ai v10-2 upload-file-api sample",
        ("documented", '{"fileId", "hash" (sha1 of the content), "fileName": "f-<uuid>"}'),
        ("file-id-only", '{"fileId"} only (the sandbox\'s older ASSUMPTION 20)'),
    ),
    _reading(
        "import-without-options",
        "what a bot import without importOptions does",
        "ASSUMPTION 27; docs/kore-api.md §8.2: Required in the table, absent from the sample",
        ("full", "a full import (observed: KAR)"),
        ("refused", "412 Validation errors/ Invalid arguments"),
    ),
    _reading(
        "variables-bad-body",
        "the answer to a malformed variables import body",
        "ASSUMPTION 30; docs/kore-api.md §9.1",
        ("500", "500 Internal Server Error (observed: KAR)"),
        ("400", "400 Validation errors/ Invalid arguments"),
    ),
    _reading(
        "ml-import-failure-word",
        "the status word of a failed ML import",
        "ASSUMPTION 22; docs/kore-api.md §7.3: only the success word is documented",
        ("failure", "failure (Kore's other import jobs)"),
        ("failed", "failed"),
        ("error", "error"),
    ),
    _reading(
        "bot-import-failure-word",
        "the status word of a failed bot import",
        "ASSUMPTION 28; docs/kore-api.md §8.3",
        ("failure", "failure (KAR)"),
        ("failed", "failed"),
    ),
    _reading(
        "download-host",
        "where an ML export's downloadUrl points",
        "ASSUMPTION 37; docs/kore-api.md §7.5",
        ("separate", "a second loopback host that needs no credential"),
        ("api-host", "the API host itself, which needs the auth JWT of an app linked to the bot"),
    ),
)

_BY_NAME: dict[str, Reading] = {reading.name: reading for reading in READINGS}
#: Every reading's default value.
DEFAULT_READINGS: Mapping[str, str] = MappingProxyType({r.name: r.default for r in READINGS})


def reading(name: str) -> Reading:
    """The table row of `name`, or a ValueError listing the readings there are."""
    found = _BY_NAME.get(name)
    if found is None:
        raise ValueError(f"unknown reading {name!r}; the readings are: {', '.join(_BY_NAME)}")
    return found


def check_reading(name: str, value: object) -> str:
    """`value` as the reading's value, or a ValueError naming the reading and its allowed values. A number is
    taken as its text (`429` for `"429"`)."""
    row = reading(name)
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or text not in row.values:
        raise ValueError(f"reading {name!r} cannot be {value!r}; allowed: {row.allowed()}")
    return text


def check_readings(changes: Mapping[str, object]) -> dict[str, str]:
    """Every change checked (the first bad one raises), nothing applied: what all-or-nothing callers use."""
    return {name: check_reading(name, value) for name, value in changes.items()}


class Readings:
    """The current value of every reading, shared by the sandbox's models. Never changed in place: `update`
    checks every change before it swaps in a new mapping, so a reader sees the old values or the new ones.
    Not locked by itself: the sandbox changes it under its lock (`Sandbox.set_reading`)."""

    def __init__(self, values: Mapping[str, object] | None = None) -> None:
        self._values: Mapping[str, str] = MappingProxyType(
            {**DEFAULT_READINGS, **check_readings(values or {})}
        )

    def __getitem__(self, name: str) -> str:
        value = self._values.get(name)
        if value is None:
            reading(name)  # raises, naming the readings there are
        assert value is not None
        return value

    def update(self, changes: Mapping[str, object]) -> None:
        """All or nothing: a bad name or value raises ValueError and changes nothing."""
        self._values = MappingProxyType({**self._values, **check_readings(changes)})

    def as_dict(self) -> dict[str, str]:
        return dict(self._values)

    def changed(self) -> dict[str, str]:
        """The readings that are not at their default."""
        return {name: value for name, value in self._values.items() if value != DEFAULT_READINGS[name]}

    def __repr__(self) -> str:
        return f"Readings({self.changed()!r})"

    def __deepcopy__(self, memo: dict[int, object]) -> Readings:
        # Configuration, not state: a model copied for a dry run reads the same readings.
        return self


def describe_readings(current: Mapping[str, str]) -> dict[str, object]:
    """GET /_sandbox/readings: current values, defaults, allowed values with descriptions, and sources."""
    return {
        "readings": dict(current),
        "defaults": dict(DEFAULT_READINGS),
        "allowed": {r.name: r.to_json() for r in READINGS},
        "questions": {r.name: r.question for r in READINGS},
        "stands_for": {r.name: r.stands_for for r in READINGS},
    }
