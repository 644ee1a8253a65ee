"""The sandbox's readings (kore-sandbox/kore_sandbox/readings.py): the table of open questions about
Kore.ai's API and its validation. Nothing from kore_resources is imported except the sandbox."""

from __future__ import annotations

import pytest

from kore_sandbox import (
    DEFAULT_READINGS,
    READINGS,
    Readings,
    check_reading,
)


# -- the table and its validation ----------------------------------------------------------------------
def test_every_reading_is_kebab_case_with_distinct_described_values_including_its_default() -> None:
    assert len(READINGS) == len({r.name for r in READINGS}) == 16
    for reading in READINGS:
        assert reading.name == reading.name.lower() and " " not in reading.name and "_" not in reading.name
        assert reading.default in reading.values and len(set(reading.values)) == len(reading.values) >= 2
        assert all(choice.description.strip() for choice in reading.choices), reading.name
        assert reading.question.strip() and "ASSUMPTION" in reading.stands_for, reading.name
        assert DEFAULT_READINGS[reading.name] == reading.default


def test_the_defaults_are_the_assumptions_and_now_the_documented_publish_words_and_upload_answer() -> None:
    assert dict(DEFAULT_READINGS) == {
        "rate-limit-status": "429",
        "rate-limit-retry-after": "seconds",
        "rate-limit-message": "per-window",
        "untrained-language": "trained",
        "queued-training": "stale",
        "sync-flags": "all",
        "secured-on-import": "honoured",
        "export-language": "header",
        "export-status-id": "same",
        "publish-words": "documented",
        "upload-answer": "documented",
        "import-without-options": "full",
        "variables-bad-body": "500",
        "ml-import-failure-word": "failure",
        "bot-import-failure-word": "failure",
        "download-host": "separate",
    }


def test_a_bad_value_is_a_value_error_naming_the_reading_and_its_allowed_values() -> None:
    with pytest.raises(ValueError) as bad_value:
        Readings({"publish-words": "in-progress"})
    assert str(bad_value.value) == (
        "reading 'publish-words' cannot be 'in-progress'; allowed: documented (default), hyphenated, upper"
    )
    with pytest.raises(
        ValueError, match=r"unknown reading 'publish-word'; the readings are: rate-limit-status, "
    ):
        Readings({"publish-word": "upper"})
    with pytest.raises(ValueError, match="'rate-limit-status' cannot be True"):
        check_reading("rate-limit-status", True)


def test_a_number_is_taken_as_its_text() -> None:
    assert check_reading("rate-limit-status", 503) == "503"
    assert Readings({"variables-bad-body": 400})["variables-bad-body"] == "400"


def test_an_update_is_all_or_nothing() -> None:
    readings = Readings({"sync-flags": "none"})
    with pytest.raises(ValueError, match="download-host"):
        readings.update({"publish-words": "upper", "download-host": "cdn"})
    assert readings.as_dict() == {**DEFAULT_READINGS, "sync-flags": "none"}
    assert readings.changed() == {"sync-flags": "none"}
    readings.update({"publish-words": "upper"})
    assert readings["publish-words"] == "upper"
    with pytest.raises(ValueError, match="unknown reading 'nope'"):
        readings["nope"]
