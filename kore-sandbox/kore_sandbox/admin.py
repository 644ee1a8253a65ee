"""The `/_sandbox/` admin API: lets another process (the demo, CLI tests) observe the sandbox and drive
its faults. No auth; the handler only serves it to loopback clients. Not recorded in the call log.

    GET    /_sandbox/info        apps (never secrets), bots, readings, settings, state_file
    GET    /_sandbox/calls       {"calls": [...]}            DELETE: clear the call log
    GET    /_sandbox/trainings   {"trainings": [...]}
    POST   /_sandbox/reset       back to the initial state
    GET    /_sandbox/faults      settings and pending faults  DELETE: clear pending faults
    POST   /_sandbox/faults      set knobs / add faults (see `FAULT_KEYS`); validated first, then applied;
                                 answers {"changed": [what each key did, in order], **the settings}
    GET    /_sandbox/imports     {"imports": [...]}     ML import requests (pipeline.py)
    GET    /_sandbox/publishes   {"publishes": [...]}   publish requests (pipeline.py)
    GET    /_sandbox/files       {"files": [...]}       uploaded files, without their content
    GET    /_sandbox/definitions {"definitions": [...], "imports": [...]}  what each bot got imported
                                 (parsed definition, config, functions' text, importOptions) and the jobs
    GET    /_sandbox/variables   {"variables": {bot_id: [...]}, "collections": {...}}  real values, secured
                                 ones included
    GET    /_sandbox/utterances  {"utterances": {bot_id: {language: [...]}}}  ML utterances per bot language
    GET    /_sandbox/exports     {"exports": [...], "downloads": [...], "download_url", "download_fallback"}
    GET    /_sandbox/readings    {"readings": current, "defaults", "allowed": {name: [{value, description}]},
                                 "questions", "stands_for"}  (readings.py)
    POST   /_sandbox/readings    {name: value, ...}: all or nothing (400 naming the bad name or value and
                                 the allowed ones); answers as GET
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from .auth import error_body
from .faults import Fault
from .readings import describe_readings
from .state import RateLimit, check_seconds

if TYPE_CHECKING:
    from .server import Sandbox

ADMIN_PREFIX = "/_sandbox"

#: A validated key's effect; a drift knob's returns what it did (`drift.py`), the others return None.
Action = Callable[[], object]
Handler = Callable[["Sandbox", bytes], object]


def handle_admin(sandbox: Sandbox, method: str, path: str, body: bytes) -> tuple[int, object]:
    """Answer one admin request: (HTTP status, JSON body)."""
    handlers = _ROUTES.get(path.rstrip("/"))
    if handlers is None:
        return 404, error_body("Not Found", 404)
    handler = handlers.get(method)
    if handler is None:
        return 405, error_body("Method Not Allowed", 405)
    try:
        return 200, handler(sandbox, body)
    except (ValueError, TypeError) as err:
        return 400, error_body(str(err), 400)


def _calls(sb: Sandbox, _body: bytes) -> object:
    return {"calls": [c.to_json() for c in sb.calls]}


def _clear_calls(sb: Sandbox, _body: bytes) -> object:
    sb.clear_calls()
    return {"ok": True}


def _trainings(sb: Sandbox, _body: bytes) -> object:
    return {"trainings": [t.to_json() for t in sb.trainings]}


def _reset(sb: Sandbox, _body: bytes) -> object:
    sb.reset()
    return {"ok": True}


def _clear_faults(sb: Sandbox, _body: bytes) -> object:
    sb.clear_faults()
    return sb.settings()


def apply_faults(sb: Sandbox, raw: bytes) -> dict[str, object]:
    """POST /_sandbox/faults: validate the whole body, then apply it (all or nothing). The answer says what
    each key did, in the body's order (`changed`: a drift knob's report, or `{"knob", "set"}` with the
    value a setting or fault rule took), then the settings as GET shows them."""
    try:
        spec = json.loads(raw or b"{}")
    except ValueError as err:
        raise ValueError(f"body is not JSON: {err}") from None
    if not isinstance(spec, dict):
        raise ValueError("body must be a JSON object")
    actions: list[tuple[str, object, Action]] = []
    for key, value in spec.items():
        parser = FAULT_KEYS.get(key)
        if parser is None:
            raise ValueError(f"unknown key {key!r}; known: {', '.join(sorted(FAULT_KEYS))}")
        items = value if isinstance(value, list) and key not in _SCALAR_KEYS else [value]
        actions.extend((key, item, parser(sb, item)) for item in items)
    if spec.get("clear") is True:  # clear first, whatever the key order
        sb.clear_faults()
    changed = [did(key, item, action()) for key, item, action in actions]
    return {"changed": changed, **sb.settings()}


def did(key: str, given: object, result: object) -> object:
    """What one applied key did: a drift knob's report, else the value the key was set to."""
    return result if isinstance(result, dict) else {"knob": key, "set": given}


def _readings(sb: Sandbox, _body: bytes) -> object:
    return describe_readings(sb.readings)


def _set_readings(sb: Sandbox, raw: bytes) -> object:
    """POST /_sandbox/readings: every name and value checked before any is switched."""
    try:
        changes = json.loads(raw or b"{}")
    except ValueError as err:
        raise ValueError(f"body is not JSON: {err}") from None
    if not isinstance(changes, dict):
        raise ValueError('body must be a JSON object of readings, e.g. {"publish-words": "hyphenated"}')
    sb.set_readings(changes)
    return _readings(sb, b"")


_ROUTES: dict[str, dict[str, Handler]] = {
    ADMIN_PREFIX: {"GET": lambda sb, _b: sb.info()},
    f"{ADMIN_PREFIX}/info": {"GET": lambda sb, _b: sb.info()},
    f"{ADMIN_PREFIX}/calls": {"GET": _calls, "DELETE": _clear_calls},
    f"{ADMIN_PREFIX}/trainings": {"GET": _trainings},
    f"{ADMIN_PREFIX}/reset": {"POST": _reset},
    f"{ADMIN_PREFIX}/faults": {
        "GET": lambda sb, _b: sb.settings(),
        "POST": apply_faults,
        "DELETE": _clear_faults,
    },
    f"{ADMIN_PREFIX}/imports": {
        "GET": lambda sb, _b: {"imports": [i.to_json() for i in sb.pipeline.imports]}
    },
    f"{ADMIN_PREFIX}/publishes": {
        "GET": lambda sb, _b: {"publishes": [p.to_json() for p in sb.pipeline.publishes]}
    },
    f"{ADMIN_PREFIX}/files": {"GET": lambda sb, _b: {"files": [f.to_json() for f in sb.pipeline.files]}},
    f"{ADMIN_PREFIX}/definitions": {"GET": lambda sb, _b: _definitions(sb)},
    f"{ADMIN_PREFIX}/variables": {"GET": lambda sb, _b: _variables(sb)},
    f"{ADMIN_PREFIX}/utterances": {"GET": lambda sb, _b: _utterances(sb)},
    f"{ADMIN_PREFIX}/exports": {"GET": lambda sb, _b: _exports(sb)},
    f"{ADMIN_PREFIX}/readings": {"GET": _readings, "POST": _set_readings},
}


def _definitions(sb: Sandbox) -> object:
    controls = sb.definitions
    return {
        "definitions": [d.to_json() for d in controls.all_imported.values()],
        "imports": [i.to_json() for i in controls.imports],
    }


def _variables(sb: Sandbox) -> object:
    return {
        "variables": {bot.bot_id: sb.variables(bot.bot_id) for bot in sb.bots if sb.variables(bot.bot_id)},
        "collections": {
            bot.bot_id: collections
            for bot in sb.bots
            if (collections := sb.variable_collections(bot.bot_id)) is not None
        },
    }


def _utterances(sb: Sandbox) -> object:
    out: dict[str, dict[str, object]] = {}
    for bot in sb.bots:
        for language in bot.languages:
            records = sb.utterances(bot.bot_id, language)
            if records:
                out.setdefault(bot.bot_id, {})[language] = records
    return {"utterances": out}


def _exports(sb: Sandbox) -> object:
    controls = sb.ml_export
    return {
        "exports": [e.to_json() for e in controls.exports],
        "downloads": [d.to_json() for d in controls.downloads],
        "download_url": controls.download_base_url,
        "download_fallback": controls.download_fallback,
    }


# -- POST /_sandbox/faults body parsing: each parser validates and returns the action to run -----------
def _obj(value: object, key: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise ValueError(f"{key!r} must be a JSON object")
    return value


def _get_str(d: Mapping[str, object], name: str) -> str | None:
    v = d.get(name)
    if v is not None and not isinstance(v, str):
        raise ValueError(f"{name!r} must be a string")
    return v


def _get_num(d: Mapping[str, object], name: str) -> float:
    v = d.get(name)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"{name!r} must be a number")
    return float(v)


def _get_bool(d: Mapping[str, object], name: str, default: bool) -> bool:
    v = d.get(name, default)
    if not isinstance(v, bool):
        raise ValueError(f"{name!r} must be true or false")
    return v


def _get_count(d: Mapping[str, object]) -> int:
    v = d.get("count", 1)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError("'count' must be an integer >= 1")
    return v


def _check_keys(d: Mapping[str, object], what: str, allowed: set[str]) -> None:
    extra = set(d) - allowed
    if extra:
        raise ValueError(f"{what}: unknown keys {sorted(extra)}; allowed: {sorted(allowed)}")


def _training_seconds(sb: Sandbox, value: object) -> Action:
    seconds = check_seconds("training_seconds", _get_num({"training_seconds": value}, "training_seconds"))
    return lambda: sb.set_training_seconds(seconds)


def _queue_seconds(sb: Sandbox, value: object) -> Action:
    seconds = check_seconds("queue_seconds", _get_num({"queue_seconds": value}, "queue_seconds"))
    return lambda: sb.set_queue_seconds(seconds)


def _fail_rate(sb: Sandbox, value: object) -> Action:
    rate = _get_num({"fail_rate": value}, "fail_rate")
    if not 0 <= rate <= 1:
        raise ValueError("'fail_rate' must be between 0 and 1")
    return lambda: sb.set_fail_rate(rate)


def _hang(sb: Sandbox, value: object) -> Action:
    hang = _get_bool({"hang_trainings": value}, "hang_trainings", False)
    return lambda: sb.hang_trainings(hang)


def _hold(sb: Sandbox, value: object) -> Action:
    hold = _get_bool({"hold_queue": value}, "hold_queue", False)
    return lambda: sb.hold_queue(hold)


def _clear(sb: Sandbox, value: object) -> Action:
    _get_bool({"clear": value}, "clear", False)
    return lambda: None  # applied before every other action by apply_faults


def _fail_next(sb: Sandbox, value: object) -> Action:
    d = _obj({} if value is True else value, "fail_next_training")
    _check_keys(d, "fail_next_training", {"bot_id", "language", "count"})
    bot_id, language, count = _get_str(d, "bot_id"), _get_str(d, "language"), _get_count(d)
    return lambda: sb.fail_next_training(bot_id, language, count)


def _matching(d: Mapping[str, object]) -> tuple[int, str | None, str | None]:
    return _get_count(d), _get_str(d, "method"), _get_str(d, "path_contains")


def _inject_error(sb: Sandbox, value: object) -> Action:
    d = _obj(value, "inject_error")
    _check_keys(
        d, "inject_error", {"status", "count", "method", "path_contains", "retry_after", "body", "every"}
    )
    status = d.get("status")
    if isinstance(status, bool) or not isinstance(status, int):
        raise ValueError("inject_error: 'status' must be an integer")
    retry = d.get("retry_after")
    if retry is not None and (isinstance(retry, bool) or not isinstance(retry, (int, float, str))):
        raise ValueError("inject_error: 'retry_after' must be a number or a string")
    count, method, contains = _matching(d)
    every = d.get("every", 1)
    if isinstance(every, bool) or not isinstance(every, int):
        raise ValueError("inject_error: 'every' must be an integer")
    fault = Fault(
        "error", count, method, contains, status=status, retry_after=retry, body=d.get("body"), every=every
    )
    return lambda: sb.add_fault(fault)


def _drop_connection(sb: Sandbox, value: object) -> Action:
    d = _obj({} if value is True else value, "drop_connection")
    _check_keys(d, "drop_connection", {"count", "method", "path_contains", "after_read"})
    count, method, contains = _matching(d)
    fault = Fault("drop", count, method, contains, after_read=_get_bool(d, "after_read", True))
    return lambda: sb.add_fault(fault)


def _delay_response(sb: Sandbox, value: object) -> Action:
    d = _obj(value, "delay_response")
    _check_keys(d, "delay_response", {"seconds", "count", "method", "path_contains"})
    count, method, contains = _matching(d)
    fault = Fault("delay", count, method, contains, seconds=_get_num(d, "seconds"))
    return lambda: sb.add_fault(fault)


def _sentences_changed(sb: Sandbox, value: object) -> Action:
    d = _obj(value, "mark_sentences_changed")
    _check_keys(d, "mark_sentences_changed", {"bot_id", "language"})
    bot_id, language = _get_str(d, "bot_id"), _get_str(d, "language")
    if bot_id is None:
        raise ValueError("mark_sentences_changed: 'bot_id' is required")
    bot = sb.bot(bot_id)
    if language is not None and language not in bot.languages:
        raise ValueError(f"language {language!r} is not enabled for bot {bot_id}")
    return lambda: sb.mark_sentences_changed(bot_id, language)


def _limit(value: object, what: str) -> RateLimit | None:
    if value is None:
        return None
    d = _obj(value, what)
    _check_keys(d, what, {"per_minute", "per_hour"})
    per_minute, per_hour = d.get("per_minute", 60), d.get("per_hour", 1800)
    if isinstance(per_minute, bool) or isinstance(per_hour, bool):
        raise ValueError(f"{what}: limits must be integers")
    if not isinstance(per_minute, int) or not isinstance(per_hour, int):
        raise ValueError(f"{what}: limits must be integers")
    return RateLimit(per_minute, per_hour)


def _rate_limits(sb: Sandbox, value: object) -> Action:
    d = _obj(value, "rate_limits")
    _check_keys(d, "rate_limits", {"train", "status"})
    train, status = sb.rate_limits
    if "train" in d:
        train = _limit(d["train"], "rate_limits.train")
    if "status" in d:
        status = _limit(d["status"], "rate_limits.status")
    return lambda: sb.set_rate_limits(train=train, status=status)


def _import_seconds(sb: Sandbox, value: object) -> Action:
    seconds = check_seconds("import_seconds", _get_num({"import_seconds": value}, "import_seconds"))
    return lambda: sb.pipeline.set_import_seconds(seconds)


def _publish_seconds(sb: Sandbox, value: object) -> Action:
    seconds = check_seconds("publish_seconds", _get_num({"publish_seconds": value}, "publish_seconds"))
    return lambda: sb.pipeline.set_publish_seconds(seconds)


def _fail_next_import(sb: Sandbox, value: object) -> Action:
    d = _obj({} if value is True else value, "fail_next_import")
    _check_keys(d, "fail_next_import", {"bot_id", "language", "count"})
    bot_id, language, count = _get_str(d, "bot_id"), _get_str(d, "language"), _get_count(d)
    return lambda: sb.pipeline.fail_next_import(bot_id, language, count)


def _fail_next_publish(sb: Sandbox, value: object) -> Action:
    d = _obj({} if value is True else value, "fail_next_publish")
    _check_keys(d, "fail_next_publish", {"bot_id", "count"})
    bot_id, count = _get_str(d, "bot_id"), _get_count(d)
    return lambda: sb.pipeline.fail_next_publish(bot_id, count)


def _scalar_seconds(
    name: str, setter: Callable[[Sandbox, float], None]
) -> Callable[[Sandbox, object], Action]:
    def parse(sb: Sandbox, value: object) -> Action:
        seconds = check_seconds(name, _get_num({name: value}, name))
        return lambda: setter(sb, seconds)

    return parse


def _bot_count_rule(
    name: str, apply: Callable[[Sandbox, str | None, int], None]
) -> Callable[[Sandbox, object], Action]:
    def parse(sb: Sandbox, value: object) -> Action:
        d = _obj({} if value is True else value, name)
        _check_keys(d, name, {"bot_id", "count"})
        bot_id, count = _get_str(d, "bot_id"), _get_count(d)
        return lambda: apply(sb, bot_id, count)

    return parse


def _required_str(d: Mapping[str, object], what: str, name: str) -> str:
    value = _get_str(d, name)
    if value is None:
        raise ValueError(f"{what}: {name!r} is required")
    return value


def _edit_utterance(sb: Sandbox, value: object) -> Action:
    what = "edit_utterance"
    d = _obj(value, what)
    names = ("bot_id", "language", "intent", "old_sentence", "new_sentence")
    _check_keys(d, what, set(names))
    bot_id, language, intent, old, new = (_required_str(d, what, n) for n in names)
    sb.edit_utterance(bot_id, language, intent, old, new, dry_run=True)
    return lambda: sb.edit_utterance(bot_id, language, intent, old, new)


def _add_utterance(sb: Sandbox, value: object) -> Action:
    what = "add_utterance"
    d = _obj(value, what)
    _check_keys(d, what, {"bot_id", "language", "intent", "sentence", "intent_type", "entities"})
    bot_id, language, intent, sentence = (
        _required_str(d, what, n) for n in ("bot_id", "language", "intent", "sentence")
    )
    intent_type = _get_str(d, "intent_type") or "DialogIntent"
    entities = d.get("entities", [])
    if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
        raise ValueError(f"{what}: 'entities' must be a list of objects")
    sb.add_utterance(
        bot_id, language, intent, sentence, intent_type=intent_type, entities=entities, dry_run=True
    )
    return lambda: sb.add_utterance(
        bot_id, language, intent, sentence, intent_type=intent_type, entities=entities
    )


def _fail_training(sb: Sandbox, value: object) -> Action:
    d = _obj(value, "fail_training")
    _check_keys(d, "fail_training", {"training_id"})
    training_id = _required_str(d, "fail_training", "training_id")
    sb.fail_training(training_id, dry_run=True)
    return lambda: sb.fail_training(training_id)


def _set_variable(sb: Sandbox, value: object) -> Action:
    what = "set_variable"
    d = _obj(value, what)
    _check_keys(d, what, {"bot_id", "key", "value", "language"})
    bot_id, key, new_value = (_required_str(d, what, n) for n in ("bot_id", "key", "value"))
    language = _get_str(d, "language")
    sb.set_variable(bot_id, key, new_value, language=language, dry_run=True)
    return lambda: sb.set_variable(bot_id, key, new_value, language=language)


def _secure_variable(sb: Sandbox, value: object) -> Action:
    what = "secure_variable"
    d = _obj(value, what)
    _check_keys(d, what, {"bot_id", "key", "secured"})
    bot_id, key = (_required_str(d, what, n) for n in ("bot_id", "key"))
    secured = _get_bool(d, "secured", True)
    sb.secure_variable(bot_id, key, secured, dry_run=True)
    return lambda: sb.secure_variable(bot_id, key, secured)


def _delete_variable(sb: Sandbox, value: object) -> Action:
    what = "delete_variable"
    d = _obj(value, what)
    _check_keys(d, what, {"bot_id", "key"})
    bot_id, key = (_required_str(d, what, n) for n in ("bot_id", "key"))
    sb.delete_variable(bot_id, key, dry_run=True)
    return lambda: sb.delete_variable(bot_id, key)


#: The keys POST /_sandbox/faults understands (object-valued ones also take a list of objects).
FAULT_KEYS: dict[str, Callable[[Sandbox, object], Action]] = {
    "training_seconds": _training_seconds,
    "queue_seconds": _queue_seconds,
    "fail_rate": _fail_rate,
    "hang_trainings": _hang,
    "hold_queue": _hold,
    "clear": _clear,
    "fail_next_training": _fail_next,
    "inject_error": _inject_error,
    "drop_connection": _drop_connection,
    "delay_response": _delay_response,
    "mark_sentences_changed": _sentences_changed,
    "rate_limits": _rate_limits,
    "import_seconds": _import_seconds,
    "publish_seconds": _publish_seconds,
    "fail_next_import": _fail_next_import,
    "fail_next_publish": _fail_next_publish,
    "definition_import_seconds": _scalar_seconds(
        "definition_import_seconds", lambda sb, s: sb.definitions.set_import_seconds(s)
    ),
    "export_seconds": _scalar_seconds("export_seconds", lambda sb, s: sb.ml_export.set_export_seconds(s)),
    "fail_next_definition_import": _bot_count_rule(
        "fail_next_definition_import", lambda sb, bot, n: sb.definitions.fail_next_import(bot, n)
    ),
    "fail_next_export": _bot_count_rule(
        "fail_next_export", lambda sb, bot, n: sb.ml_export.fail_next_export(bot, n)
    ),
    "blank_download_url": _bot_count_rule(
        "blank_download_url", lambda sb, bot, n: sb.ml_export.blank_download_url(bot, n)
    ),
    "edit_utterance": _edit_utterance,
    "add_utterance": _add_utterance,
    "fail_training": _fail_training,
    "set_variable": _set_variable,
    "secure_variable": _secure_variable,
    "delete_variable": _delete_variable,
}
_SCALAR_KEYS = {
    "training_seconds",
    "queue_seconds",
    "fail_rate",
    "hang_trainings",
    "hold_queue",
    "clear",
    "rate_limits",
    "import_seconds",
    "publish_seconds",
    "definition_import_seconds",
    "export_seconds",
}
