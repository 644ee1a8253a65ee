"""The drift knobs answer what they did: `POST /_sandbox/faults` (the README's curl) says which bot, language,
intent, old and new sentence (and so on for every knob) under `changed`, and a knob that cannot find what
it names is a 400 naming it and what there is instead. Real sockets and JWTs; time on a virtual clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from documented import token
from kore_sandbox import DEMO_BOTS, Sandbox
from kore_sandbox.testing import VirtualClock

pytestmark = pytest.mark.sandbox

BOT = DEMO_BOTS[0]
#: The README's drift example, on the repository's sample utterances (utterances/travel/en).
EDIT = {
    "bot_id": BOT.bot_id,
    "language": "en",
    "intent": "Book Flight",
    "old_sentence": "Book a flight from Berlin to Lisbon",
    "new_sentence": "Get me to Lisbon",
}
SAMPLE = Path(__file__).resolve().parents[2] / "utterances" / "travel" / "en" / "ml-utterances.json"


@pytest.fixture
def sb(clock: VirtualClock) -> Iterator[Sandbox]:
    with Sandbox(training_seconds=10, queue_seconds=1, import_seconds=1, clock=clock) as sandbox:
        yield sandbox


def auth() -> dict[str, str]:
    return {"auth": token()}


def import_sample(sb: Sandbox, clock: VirtualClock) -> None:
    file_id = requests.post(
        f"{sb.url}/api/public/uploadfile",
        headers=auth(),
        files={"file": ("ml-utterances.json", SAMPLE.read_bytes())},
        data={"fileContext": "bulkImport", "fileExtension": "json"},
        timeout=30,
    ).json()["fileId"]
    started = requests.post(
        f"{sb.url}/api/public/bot/{BOT.bot_id}/mlimport",
        headers={**auth(), "bot-language": "en"},
        json={"fileName": "ml-utterances.json", "fileId": file_id},
        timeout=30,
    )
    assert started.status_code == 200, started.text
    clock.advance(1)
    assert sb.pipeline.imports[-1].status == "success"


def train(sb: Sandbox, clock: VirtualClock) -> str:
    answer = requests.post(
        f"{sb.url}/api/public/bot/{BOT.bot_id}/ml/train", headers={**auth(), "bot-language": "en"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    clock.advance(11)
    return str(answer.json()[0]["Training_ID"])


def faults(sb: Sandbox, body: object) -> requests.Response:
    return requests.post(f"{sb.url}/_sandbox/faults", json=body, timeout=30)


def import_variables(sb: Sandbox) -> None:
    answer = requests.post(
        f"{sb.url}/api/1.1/public/builder/bot/{BOT.bot_id}/variables/import",
        headers=auth(),
        json=[
            {"key": "flightApi", "value": "http://flights", "variableType": "env", "scope": "prePopulated"},
            {"key": "apiKey", "value": "k1", "variableType": "env", "scope": "hidden", "isSecured": True},
        ],
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def test_the_readme_s_edit_answers_the_edit_it_made(sb: Sandbox, clock: VirtualClock) -> None:
    import_sample(sb, clock)
    answer = faults(sb, {"edit_utterance": EDIT})
    assert answer.status_code == 200, answer.text
    [edit] = answer.json()["changed"]
    assert edit == {
        "knob": "edit_utterance",
        "bot_id": BOT.bot_id,
        "bot": BOT.name,
        "language": "en",
        "intent": "Book Flight",
        "old_sentence": "Book a flight from Berlin to Lisbon",
        "new_sentence": "Get me to Lisbon",
        "entities_dropped": 2,
        "summary": edit["summary"],
    }
    assert (
        "travel-local (en), intent 'Book Flight': 'Book a flight from Berlin to Lisbon' is now "
        "'Get me to Lisbon'; it lost its 2 entity tag(s)" in edit["summary"]
    )
    assert "isMlInSyncWithSentences false" in edit["summary"]
    assert answer.json()["training_seconds"] == 10, "the settings follow, as GET /_sandbox/faults shows them"
    sentences = [u["sentence"] for u in sb.utterances(BOT.bot_id, "en")]
    assert "Get me to Lisbon" in sentences and EDIT["old_sentence"] not in sentences


def test_every_drift_knob_answers_what_it_did_in_the_order_given(sb: Sandbox, clock: VirtualClock) -> None:
    import_sample(sb, clock)
    training = train(sb, clock)
    import_variables(sb)
    answer = faults(
        sb,
        {
            "training_seconds": 2,
            "add_utterance": [
                {"bot_id": BOT.bot_id, "language": "en", "intent": "Book Flight", "sentence": "Fly me away"},
                {"bot_id": BOT.bot_id, "language": "de", "intent": "Gepäck", "sentence": "Wo ist er?"},
            ],
            "fail_training": {"training_id": training},
            "set_variable": [
                {"bot_id": BOT.bot_id, "key": "flightApi", "value": "http://changed"},
                {"bot_id": BOT.bot_id, "key": "brandNew", "value": "x"},
            ],
            "secure_variable": {"bot_id": BOT.bot_id, "key": "flightApi"},
            "delete_variable": {"bot_id": BOT.bot_id, "key": "apiKey"},
            "mark_sentences_changed": {"bot_id": BOT.bot_id},
        },
    )
    assert answer.status_code == 200, answer.text
    changed: list[dict[str, Any]] = answer.json()["changed"]
    assert [c["knob"] for c in changed] == [
        "training_seconds",
        "add_utterance",
        "add_utterance",
        "fail_training",
        "set_variable",
        "set_variable",
        "secure_variable",
        "delete_variable",
        "mark_sentences_changed",
    ]
    setting, added, new_intent, failed, set_old, created, secured, deleted, marked = changed
    assert setting == {"knob": "training_seconds", "set": 2}
    assert all(c["bot_id"] == BOT.bot_id and c["bot"] == BOT.name for c in changed[1:])
    assert (added["intent"], added["sentence"], added["new_intent"]) == ("Book Flight", "Fly me away", False)
    assert (new_intent["language"], new_intent["new_intent"]) == ("de", True)
    assert "'Wo ist er?' added to the new intent 'Gepäck'" in new_intent["summary"]
    assert (failed["training_id"], failed["language"], failed["changed"]) == (training, "en", True)
    assert "now reads Failed" in failed["summary"]
    assert (set_old["key"], set_old["old_value"], set_old["new_value"]) == (
        "flightApi",
        "http://flights",
        "http://changed",
    )
    assert "is now 'http://changed' (it was 'http://flights')" in set_old["summary"]
    assert (created["old_value"], "created with the value 'x'" in created["summary"]) == (None, True)
    assert (secured["secured"], secured["was_secured"]) == (True, False)
    assert (deleted["key"], deleted["variable_type"]) == ("apiKey", "env")
    assert marked["languages"] == ["en", "de"]
    assert sb.training_status(BOT.bot_id)["trainingStatus"] == "Failed"
    assert [v["key"] for v in sb.variables(BOT.bot_id)] == ["flightApi", "brandNew"]

    again = faults(sb, {"fail_training": {"training_id": training}}).json()["changed"]
    assert again[0]["changed"] is False and "had failed already: nothing changed" in again[0]["summary"]


def test_the_python_knobs_return_the_same_reports(sb: Sandbox, clock: VirtualClock) -> None:
    import_sample(sb, clock)
    report = sb.edit_utterance(**EDIT)
    assert report["knob"] == "edit_utterance" and report["new_sentence"] == "Get me to Lisbon"
    dry = sb.add_utterance(BOT.bot_id, "en", "Book Flight", "Once more", dry_run=True)
    assert dry["sentence"] == "Once more"
    assert "Once more" not in [u["sentence"] for u in sb.utterances(BOT.bot_id)], "a dry run changes nothing"


@pytest.mark.parametrize(
    ("knob", "names"),
    [
        (
            {"edit_utterance": {**EDIT, "bot_id": "st-unknown"}},
            ["unknown bot 'st-unknown'", f"this sandbox serves {BOT.bot_id} (travel-local)"],
        ),
        (
            {"edit_utterance": {**EDIT, "intent": "Book Hotel"}},
            [
                "has no intent 'Book Hotel'",
                "its intents: 'Book Flight', 'Check Flight Status', 'Cancel Booking', 'Baggage Allowance'",
            ],
        ),
        (
            {"edit_utterance": {**EDIT, "old_sentence": "Take me to Rome"}},
            ["has no utterance 'Take me to Rome'", "'I need a flight to New York next Friday'"],
        ),
        (
            {"edit_utterance": {**EDIT, "language": "de"}},
            ["has no intent 'Book Flight': it has no ML utterances in de at all"],
        ),
        (
            {"delete_variable": {"bot_id": BOT.bot_id, "key": "missing"}},
            ["has no variable 'missing'", "it has no variables at all"],
        ),
        ({"fail_training": {"training_id": "0" * 24}}, ["unknown training '000000000000000000000000'"]),
    ],
)
def test_a_knob_that_cannot_find_what_it_names_says_so(
    sb: Sandbox, clock: VirtualClock, knob: dict[str, object], names: list[str]
) -> None:
    import_sample(sb, clock)
    before = sb.utterances(BOT.bot_id)
    answer = faults(sb, {"training_seconds": 3, **knob})
    assert answer.status_code == 400, answer.text
    message = answer.json()["errors"][0]["msg"]
    for name in names:
        assert name in message, message
    assert sb.utterances(BOT.bot_id) == before and sb.training_seconds == 10, "all or nothing"


def test_an_edit_on_an_empty_sandbox_says_the_language_has_no_utterances(sb: Sandbox) -> None:
    """What a newcomer met after a restart lost the state: the edit names the emptiness, not a setting."""
    answer = faults(sb, {"edit_utterance": EDIT})
    assert answer.status_code == 400
    assert "it has no ML utterances in en at all (nothing was imported into that language yet)" in json.dumps(
        answer.json()
    )
