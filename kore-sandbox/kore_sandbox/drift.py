"""What a drift knob did ("changed in the builder", behind the stack's back): the report each knob's Python
method returns and `POST /_sandbox/faults` answers under `changed`. It names the bot, what changed from what
to what, and in `summary` (one sentence) what a later read of the bot will show. Pure functions."""

from __future__ import annotations

from .state import SandboxBot, TrainingRecord

#: What an utterance change does to the training status (ASSUMPTION 13 of kore-sandbox/README.md).
_OUT_OF_SYNC = (
    "the bot language's sentences changed, so its train status reads isMlInSyncWithSentences false until a "
    "training queued from now on succeeds"
)


def _report(knob: str, bot: SandboxBot, summary: str, fields: dict[str, object]) -> dict[str, object]:
    return {"knob": knob, "bot_id": bot.bot_id, "bot": bot.name, **fields, "summary": summary}


def edited_utterance(
    bot: SandboxBot,
    *,
    language: str,
    intent: str,
    old_sentence: str,
    new_sentence: str,
    entities_dropped: int,
) -> dict[str, object]:
    dropped = f"; it lost its {entities_dropped} entity tag(s)" if entities_dropped else ""
    return _report(
        "edit_utterance",
        bot,
        f"{bot.name} ({language}), intent {intent!r}: {old_sentence!r} is now {new_sentence!r}{dropped}; "
        f"{_OUT_OF_SYNC}",
        {
            "language": language,
            "intent": intent,
            "old_sentence": old_sentence,
            "new_sentence": new_sentence,
            "entities_dropped": entities_dropped,
        },
    )


def added_utterance(
    bot: SandboxBot, *, language: str, intent: str, sentence: str, intent_type: str, new_intent: bool
) -> dict[str, object]:
    target = f"the new intent {intent!r}" if new_intent else f"intent {intent!r}"
    return _report(
        "add_utterance",
        bot,
        f"{bot.name} ({language}): {sentence!r} added to {target}; {_OUT_OF_SYNC}",
        {
            "language": language,
            "intent": intent,
            "sentence": sentence,
            "intent_type": intent_type,
            "new_intent": new_intent,
        },
    )


def failed_training(bot: SandboxBot, training: TrainingRecord, changed: bool) -> dict[str, object]:
    what = f"training {training.training_id} of {bot.name} ({training.language})"
    summary = (
        f"{what} finished successfully and now reads Failed (out of sync) until a newer training of that "
        "language finishes"
        if changed
        else f"{what} had failed already: nothing changed"
    )
    return _report(
        "fail_training",
        bot,
        summary,
        {"training_id": training.training_id, "language": training.language, "changed": changed},
    )


def set_variable(
    bot: SandboxBot, *, key: str, language: str | None, old_value: str | None, new_value: str
) -> dict[str, object]:
    name = f"variable {key!r}" + (f" ({language})" if language else "")
    summary = (
        f"{bot.name}: {name} created with the value {new_value!r}"
        if old_value is None
        else f"{bot.name}: {name} is now {new_value!r} (it was {old_value!r})"
    )
    return _report(
        "set_variable",
        bot,
        summary,
        {"key": key, "language": language, "old_value": old_value, "new_value": new_value},
    )


def secured_variable(bot: SandboxBot, *, key: str, secured: bool, was_secured: bool) -> dict[str, object]:
    state = 'secured (its value exports as "")' if secured else "not secured (its value exports as it is)"
    before = "as it was already" if secured == was_secured else "it was not" if secured else "it was"
    return _report(
        "secure_variable",
        bot,
        f"{bot.name}: variable {key!r} is {state}; {before}",
        {"key": key, "secured": secured, "was_secured": was_secured},
    )


def deleted_variable(bot: SandboxBot, *, key: str, variable_type: str) -> dict[str, object]:
    return _report(
        "delete_variable",
        bot,
        f"{bot.name}: {variable_type} variable {key!r} deleted; the variables export no longer lists it",
        {"key": key, "variable_type": variable_type},
    )


def sentences_changed(bot: SandboxBot, languages: tuple[str, ...]) -> dict[str, object]:
    return _report(
        "mark_sentences_changed",
        bot,
        f"{bot.name} ({', '.join(languages)}): {_OUT_OF_SYNC}",
        {"languages": list(languages)},
    )
