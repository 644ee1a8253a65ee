"""The sandbox's Bot Variables endpoints (docs/kore-api.md §9): import and export a bot's variables.

    POST /api/1.1/public/builder/bot/{BotID}/variables/import    [variable, ...]  (or {"botVariables": [...]})
    POST /api/1.1/public/builder/bot/{BotID}/variables/export

Also served: `builder/stream/...` instead of `builder/bot/...`, and both without `/1.1` (§9.1, §9.2: the
documented, older and observed forms). Both need a *bot-level* app (§3.2: Admin Console "Not Applicable")
with "Import Variables" / "Export Variables". The import is synchronous; a malformed body gets the observed
500 `Internal Server Error`/500 (KAR), not a 4xx.

`VariablesModel` is the state, pure (no I/O, no locks). `VariablesApi` turns requests into responses with
`SandboxApi`'s apps, bots, JWT checks and rate limiters. The thread-safe handles are `Sandbox.variables()`,
`Sandbox.set_variable()`, `Sandbox.secure_variable()` and `Sandbox.delete_variable()`.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from .api import ApiRequest, ApiResponse, EndpointFamily, Route, path_groups
from .auth import ApiError, require_scope
from .persistence import Fields
from .pipeline import MSG_VALIDATION
from .readings import Readings
from .state import APP_KIND_BOT, SandboxBot

#: App Builder scopes of Bot Variables Import and Export (docs/kore-api.md §3.2).
SCOPE_IMPORT_VARIABLES = "Import Variables"
SCOPE_EXPORT_VARIABLES = "Export Variables"

MSG_INTERNAL_ERROR = "Internal Server Error"

VARIABLE_TYPES = ("env", "locale")
VARIABLE_SCOPES = ("prePopulated", "askOnInstall", "hidden")
#: The documented fields of a variable object (§9.1), plus `isSecured` (ASSUMPTION, see `parse_variable`).
VARIABLE_FIELDS = frozenset(
    {
        "key",
        "value",
        "hint",
        "variableType",
        "scope",
        "localeData",
        "audioTag",
        "group",
        "propagateValue",
        "vNameSpace",
        "isSecured",
    }
)
LOCALE_FIELDS = frozenset({"value", "hint", "audioTag"})

RouteKind = Literal["variables_import", "variables_export"]

# ASSUMPTION: as everywhere, a trailing slash is accepted. `builder/bot` and `builder/stream`, with and
# without `/1.1`, are all served (docs/kore-api.md §9.1, §9.2).
_VARIABLES = re.compile(
    r"^/api(?:/1\.1)?/public/builder/(?:bot|stream)/(?P<bot>[^/]+)/variables/(?P<op>import|export)/?$"
)


VariablesRoute = Route[RouteKind]


def match_variables_route(path: str) -> VariablesRoute | None:
    groups = path_groups(_VARIABLES, path)
    if groups is None:
        return None
    kind: RouteKind = "variables_import" if groups["op"] == "import" else "variables_export"
    return VariablesRoute(kind, groups["bot"])


class VariableError(ValueError):
    """A variable object or import body that the platform would refuse."""


def _string(obj: Mapping[str, object], name: str, *, required: bool = False) -> str:
    value = obj.get(name)
    if value is None:
        if required:
            raise VariableError(f"{name!r} is required")
        return ""
    if not isinstance(value, str):
        raise VariableError(f"{name!r} must be a string")
    return value


def _namespaces(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(n, dict)
        and set(n) <= {"name", "refId"}
        and all(isinstance(n.get(f), str) for f in ("name", "refId"))
        for n in value
    )


def parse_variable(obj: object) -> dict[str, object]:
    """One variable object of an import body (docs/kore-api.md §9.1), normalized for storage.

    Required: `key` (a non-empty string), `variableType` (`env` or `locale`) and `scope` (`prePopulated`,
    `askOnInstall` or `hidden`); `env` variables need a string `value`, `locale` ones a non-empty
    `localeData` of `{"<locale>": {"value": "...", "hint"?: "...", "audioTag"?: "..."}}`. Optional: `hint`,
    `audioTag`, `group` (strings), `propagateValue` (boolean), `vNameSpace` (a list of `{name, refId}`).
    ASSUMPTIONS: `hint` is optional (the docs' own locale sample omits it); an unknown field is an error;
    `isSecured` (a boolean) is accepted on import, though only the export documents it. `isSecured` is None
    in the result when the object leaves it out.
    """
    if not isinstance(obj, dict):
        raise VariableError("a variable must be a JSON object")
    unknown = sorted(set(obj) - VARIABLE_FIELDS)
    if unknown:
        raise VariableError(f"unknown fields {unknown}")
    key = _string(obj, "key", required=True)
    if not key.strip():
        raise VariableError("'key' must not be empty")
    variable_type = obj.get("variableType")
    if variable_type not in VARIABLE_TYPES:
        raise VariableError(f"variable {key}: 'variableType' must be one of {list(VARIABLE_TYPES)}")
    scope = obj.get("scope")
    if scope not in VARIABLE_SCOPES:
        raise VariableError(f"variable {key}: 'scope' must be one of {list(VARIABLE_SCOPES)}")
    propagate = obj.get("propagateValue", False)
    if not isinstance(propagate, bool):
        raise VariableError(f"variable {key}: 'propagateValue' must be a boolean")
    secured = obj.get("isSecured")
    if secured is not None and not isinstance(secured, bool):
        raise VariableError(f"variable {key}: 'isSecured' must be a boolean")
    namespaces = obj.get("vNameSpace")
    if namespaces is not None and not _namespaces(namespaces):
        raise VariableError(f"variable {key}: 'vNameSpace' must be a list of {{name, refId}} strings")
    variable: dict[str, object] = {
        "key": key,
        "variableType": variable_type,
        "scope": scope,
        "hint": _string(obj, "hint"),
        "audioTag": _string(obj, "audioTag"),
        "group": _string(obj, "group"),
        "propagateValue": propagate,
        "vNameSpace": copy.deepcopy(namespaces),
        "isSecured": secured,
    }
    if variable_type == "env":
        if "localeData" in obj:
            raise VariableError(f"variable {key}: 'localeData' is for locale variables only")
        variable["value"] = _string(obj, "value", required=True)
        return variable
    locale_data = obj.get("localeData")
    if not isinstance(locale_data, dict) or not locale_data:
        raise VariableError(f"variable {key}: a locale variable needs a non-empty 'localeData' object")
    locales: dict[str, dict[str, str]] = {}
    for locale, entry in locale_data.items():
        if not locale.strip() or not isinstance(entry, dict):
            raise VariableError(f"variable {key}: 'localeData' maps locale codes to objects")
        if set(entry) - LOCALE_FIELDS:
            raise VariableError(f"variable {key}: localeData.{locale} has unknown fields")
        locales[locale] = {
            "value": _string(entry, "value", required=True),
            "hint": _string(entry, "hint"),
            "audioTag": _string(entry, "audioTag"),
        }
    if "value" in obj:
        _string(obj, "value")  # ASSUMPTION: tolerated on a locale variable, but the locale values count
    variable["localeData"] = locales
    return variable


@dataclass(frozen=True)
class VariablesImport:
    """A parsed import body: the variables, and (form 2) the collections and their values."""

    variables: tuple[dict[str, object], ...]
    collections: tuple[dict[str, object], ...] = ()
    collection_values: tuple[dict[str, object], ...] = ()


def parse_import_body(body: bytes) -> VariablesImport:
    """The import body, form 1 (an array of variables) or form 2 (`{"botVariables": [...],
    "botCollections"?: [...], "botCollectionVariables"?: [...]}`), or `VariableError`.

    ASSUMPTION: an empty array (like an empty body, KAR) is refused. In form 2 every collection needs a
    string `name` and `refId` (`description` optional), and every collection value a `key` of a variable
    in `botVariables`, a string `value`, an optional `audioTag` and the `refId` of a collection (§9.1).
    """
    try:
        payload = json.loads(body)
    except ValueError:
        raise VariableError("the body is not JSON") from None
    items: object
    collections: object = []
    values: object = []
    if isinstance(payload, list):
        items = payload
    elif isinstance(payload, dict):
        extra = sorted(set(payload) - {"botVariables", "botCollections", "botCollectionVariables"})
        if extra:
            raise VariableError(f"unknown fields {extra}")
        items = payload.get("botVariables")
        collections = payload.get("botCollections", [])
        values = payload.get("botCollectionVariables", [])
    else:
        raise VariableError("the body must be an array of variables or an object with botVariables")
    if not isinstance(items, list) or not isinstance(collections, list) or not isinstance(values, list):
        raise VariableError("botVariables, botCollections and botCollectionVariables must be arrays")
    if not items:
        raise VariableError("no variables to import")
    variables = [parse_variable(item) for item in items]
    keys = {str(v["key"]) for v in variables}
    refs: set[str] = set()
    for collection in collections:
        if not (
            isinstance(collection, dict)
            and set(collection) <= {"name", "description", "refId"}
            and isinstance(collection.get("name"), str)
            and isinstance(collection.get("refId"), str)
            and isinstance(collection.get("description", ""), str)
        ):
            raise VariableError("a collection needs a string name and refId (and an optional description)")
        refs.add(str(collection["refId"]))
    for value in values:
        if not (
            isinstance(value, dict)
            and set(value) <= {"key", "value", "audioTag", "refId"}
            and all(isinstance(value.get(f), str) for f in ("key", "value", "refId"))
            and isinstance(value.get("audioTag", ""), str)
        ):
            raise VariableError("a collection value needs string key, value and refId")
        if value["key"] not in keys or value["refId"] not in refs:
            raise VariableError(f"collection value {value['key']!r} names an unknown variable or collection")
    return VariablesImport(
        tuple(variables),
        tuple(copy.deepcopy(c) for c in collections),
        tuple(copy.deepcopy(v) for v in values),
    )


class VariablesModel:
    """Each bot's variables, keyed by `key` in the order they were first created (pure: no I/O, no locks).

    ASSUMPTIONS (the API's semantics are undocumented, docs/kore-api.md §9.3): an import upserts by `key`,
    replacing the whole variable, and variables missing from the body stay; a bot starts with none. An
    imported variable keeps its secured flag unless the import says `isSecured`; importing a value for a
    secured variable replaces the secret, so re-importing an export (`"value": ""`) blanks it. Form 2's
    collections are kept per bot but not exported (how an export shows them is undocumented). Under reading
    `secured-on-import=ignored` an import never changes the flag: a new variable is not secured.
    """

    def __init__(self, readings: Readings | None = None) -> None:
        self._readings = readings if readings is not None else Readings()
        self._variables: dict[str, dict[str, dict[str, object]]] = {}
        self._collections: dict[str, VariablesImport] = {}

    def reset(self) -> None:
        self._variables.clear()
        self._collections.clear()

    # -- the state file (persistence.py) ---------------------------------------------------------------
    def dump_state(self) -> dict[str, object]:
        """Each bot's variables as stored (real values, in creation order) and collections, JSON-able."""
        return {
            "variables": {bot: list(variables.values()) for bot, variables in self._variables.items()},
            "collections": {
                bot: {
                    "variables": list(parsed.variables),
                    "collections": list(parsed.collections),
                    "collection_values": list(parsed.collection_values),
                }
                for bot, parsed in self._collections.items()
            },
        }

    def load_state(self, state: Fields) -> None:
        """What `dump_state` wrote. Each variable is checked as an import would check it."""
        variables = state.object("variables")
        for bot in state.record("variables"):
            stored = self._variables.setdefault(bot, {})
            for i, variable in enumerate(variables.records(bot)):
                try:
                    parsed = parse_variable({k: v for k, v in variable.items() if k != "isSecured"})
                except VariableError as err:
                    raise ValueError(f"{variables.where}.{bot}[{i}]: {err}") from None
                secured = Fields(variable, f"{variables.where}.{bot}[{i}]").flag("isSecured")
                stored[str(parsed["key"])] = parsed | {"isSecured": secured}
        collections = state.object("collections")
        for bot in state.record("collections"):
            parsed_import = collections.object(bot)
            self._collections[bot] = VariablesImport(
                tuple(parsed_import.records("variables")),
                tuple(parsed_import.records("collections")),
                tuple(parsed_import.records("collection_values")),
            )

    # -- API operations -------------------------------------------------------------------------------
    def import_variables(self, bot_id: str, parsed: VariablesImport) -> int:
        stored = self._variables.setdefault(bot_id, {})
        honoured = self._readings["secured-on-import"] == "honoured"
        for variable in parsed.variables:
            key = str(variable["key"])
            new = copy.deepcopy(variable)
            if new["isSecured"] is None or not honoured:
                old = stored.get(key)
                new["isSecured"] = bool(old["isSecured"]) if old is not None else False
            stored[key] = new
        if parsed.collections or parsed.collection_values:
            self._collections[bot_id] = parsed
        return len(parsed.variables)

    def export(self, bot_id: str) -> list[dict[str, object]]:
        """The documented export array: secured values are `""` (docs/kore-api.md §9.2)."""
        return [self._exported(bot_id, v) for v in self._variables.get(bot_id, {}).values()]

    # -- observation and drift knobs ------------------------------------------------------------------
    def variables(self, bot_id: str) -> list[dict[str, object]]:
        """The stored variables with their real values (secured ones included)."""
        return [self._exported(bot_id, v, reveal=True) for v in self._variables.get(bot_id, {}).values()]

    def collections(self, bot_id: str) -> dict[str, object] | None:
        parsed = self._collections.get(bot_id)
        if parsed is None:
            return None
        return {
            "botCollections": copy.deepcopy(list(parsed.collections)),
            "botCollectionVariables": copy.deepcopy(list(parsed.collection_values)),
        }

    def bots(self) -> list[str]:
        return [bot for bot, variables in self._variables.items() if variables]

    def set_variable(self, bot_id: str, key: str, value: str, language: str | None = None) -> str | None:
        """ "Changed in the builder": a new value for a variable (a locale variable's value in `language`);
        the value it had (None: the variable, or that language's value, is new).
        ASSUMPTION: an unknown key creates an `env`, `prePopulated` variable, as the builder can."""
        if not isinstance(value, str):
            raise ValueError(f"the value of {key!r} must be a string")
        if not isinstance(key, str) or not key.strip():
            raise ValueError("the key must be a non-empty string")
        stored = self._variables.setdefault(bot_id, {})
        variable = stored.get(key)
        if variable is None:
            if language is not None:
                raise ValueError(f"variable {key!r} does not exist; language is for locale variables only")
            stored[key] = parse_variable(
                {"key": key, "value": value, "variableType": "env", "scope": "prePopulated"}
            ) | {"isSecured": False}
            return None
        if variable["variableType"] == "env":
            if language is not None:
                raise ValueError(f"variable {key!r} is an env variable: it has no per-language value")
            previous = str(variable["value"])
            variable["value"] = value
            return previous
        if language is None:
            raise ValueError(f"variable {key!r} is a locale variable: name the language of the value")
        locales = variable["localeData"]
        assert isinstance(locales, dict)
        entry = locales.get(language)
        old = None if entry is None else str(entry["value"])
        locales.setdefault(language, {"value": "", "hint": "", "audioTag": ""})["value"] = value
        return old

    def secure_variable(self, bot_id: str, key: str, secured: bool = True) -> bool:
        """ "Toggled in the builder": the variable's value is secured (exported as `""`) or not; whether it
        was secured before."""
        variable = self._variables.get(bot_id, {}).get(key)
        if variable is None:
            raise ValueError(self._missing(bot_id, key))
        was = bool(variable["isSecured"])
        variable["isSecured"] = bool(secured)
        return was

    def delete_variable(self, bot_id: str, key: str) -> dict[str, object]:
        """ "Deleted in the builder" (Manage Variables > More > Delete): the variable is gone, so the export
        no longer lists it; whatever its kind. The variable as it was."""
        stored = self._variables.get(bot_id, {})
        if key not in stored:
            raise ValueError(self._missing(bot_id, key))
        return stored.pop(key)

    def _missing(self, bot_id: str, key: str) -> str:
        keys = list(self._variables.get(bot_id, {}))
        known = f"its variables: {', '.join(map(repr, keys))}" if keys else "it has no variables at all"
        return f"bot {bot_id} has no variable {key!r}; {known}"

    def has_variable(self, bot_id: str, key: str) -> bool:
        return key in self._variables.get(bot_id, {})

    # -- internals ------------------------------------------------------------------------------------
    @staticmethod
    def _exported(bot_id: str, variable: Mapping[str, object], reveal: bool = False) -> dict[str, object]:
        secured = bool(variable["isSecured"]) and not reveal
        namespaces = variable["vNameSpace"]
        if namespaces is None:
            # ASSUMPTION: a variable imported without `vNameSpace` is in the bot's `default` namespace.
            refid = str(uuid.uuid5(uuid.NAMESPACE_URL, "kore-sandbox/namespace/" + bot_id))
            namespaces = [{"name": "default", "refId": refid}]
        common: dict[str, object] = {
            "key": variable["key"],
            "audioTag": variable["audioTag"],
            "variableType": variable["variableType"],
            "scope": variable["scope"],
            "group": variable["group"],
            "propagateValue": variable["propagateValue"],
            "vNameSpace": copy.deepcopy(namespaces),
            "isSecured": bool(variable["isSecured"]),
        }
        if variable["variableType"] == "env":
            value = "" if secured else variable["value"]
            return {"key": variable["key"], "value": value, "hint": variable["hint"]} | common
        locales = variable["localeData"]
        assert isinstance(locales, dict)
        # ASSUMPTION: a secured locale variable exports every language's value as "" (the docs show only
        # a secured env variable).
        common["localeData"] = {
            locale: {**entry, "value": "" if secured else entry["value"]} for locale, entry in locales.items()
        }
        return common


class VariablesApi(EndpointFamily[RouteKind, VariablesModel]):
    """Answers the variables endpoints (import and export; synchronous)."""

    route = staticmethod(match_variables_route)

    def _answer(self, req: ApiRequest, route: VariablesRoute, response: ApiResponse) -> object:
        core = self.core
        app = core.caller(req, "POST")
        bot = core.linked_bot(app, route.bot_id)
        bot_level = frozenset({APP_KIND_BOT})
        if route.kind == "variables_export":
            require_scope(app, SCOPE_EXPORT_VARIABLES, bot_level)
            # ASSUMPTION: export is in the `bot` rate family (undocumented, docs/kore-api.md §5.1).
            core.rate_limit(core.train_limiter, ("variables-export", bot.bot_id))
            return self.model.export(bot.bot_id)
        require_scope(app, SCOPE_IMPORT_VARIABLES, bot_level)
        return self._import(req, bot)

    def _import(self, req: ApiRequest, bot: SandboxBot) -> object:
        try:
            parsed = parse_import_body(req.body)
        except VariableError:
            # Observed (KAR): an empty or wrong body gets 500, not a 4xx (reading `variables-bad-body`).
            if self.core.readings["variables-bad-body"] == "400":
                raise ApiError(400, MSG_VALIDATION, 400) from None
            raise ApiError(500, MSG_INTERNAL_ERROR, 500) from None
        self.core.rate_limit(self.core.train_limiter, ("variables-import", bot.bot_id))
        count = self.model.import_variables(bot.bot_id, parsed)
        return {"message": f"{count} Variables imported/updated successfully."}
