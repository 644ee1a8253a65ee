"""The documented public API endpoints, independent of HTTP plumbing: a request in, a response out.

Not thread-safe by itself; `server.Sandbox` calls it under its lock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar
from urllib.parse import unquote

from .auth import CODE_AUTH, MSG_INVALID_CREDENTIALS, MSG_SCOPE, ApiError, JtiCache, authenticate, error_body
from .readings import Readings
from .state import (
    LANGUAGE_CODE_FORM,
    RATE_LIMIT_COMMUNITY_MSG,
    RATE_LIMIT_LEGACY_MSG,
    SCOPE_TRAIN_ML,
    TRAIN_STATES,
    Clock,
    RateLimited,
    RateLimiter,
    SandboxApp,
    SandboxBot,
    TrainingModel,
    TrainState,
    is_language_code,
)

RouteKind = Literal["train", "status"]

# ASSUMPTION: both `/api/public/...` and `/api/1.1/public/...` are served, and a trailing slash is accepted.
_ROUTE = re.compile(r"^/api(?:/1\.1)?/public/bot/(?P<bot>[^/]+)/ml/train(?P<status>/status)?/?$")

ALLOWED_METHOD: dict[RouteKind, str] = {"train": "POST", "status": "GET"}


KindT = TypeVar("KindT", bound=str)
ModelT = TypeVar("ModelT")


@dataclass(frozen=True)
class Route(Generic[KindT]):
    """A matched endpoint path of any family: which endpoint (`kind`), the bot and the request id in the
    path. `bot_id` is None on the paths without a bot (Upload File, bot import status)."""

    kind: KindT
    bot_id: str | None = None
    request_id: str | None = None


def path_groups(pattern: re.Pattern[str], path: str) -> dict[str, str] | None:
    """The named groups of `pattern` that took part in matching `path`, URL-decoded; None for another
    path. Every family's route matcher reads its path with this."""
    m = pattern.match(path)
    if m is None:
        return None
    return {name: unquote(value) for name, value in m.groupdict().items() if value is not None}


def match_route(path: str) -> Route[RouteKind] | None:
    groups = path_groups(_ROUTE, path)
    return None if groups is None else Route("status" if "status" in groups else "train", groups["bot"])


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # keys lower-cased
    body: bytes = b""  # read by the pipeline endpoints (pipeline.py); the train endpoints ignore it


@dataclass
class ApiResponse:
    """An answer: `body` is sent as JSON, or as it is when it is bytes (a downloaded file, `content_type`)."""

    status: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)
    bot_id: str | None = None
    language: str | None = None
    training_id: str | None = None
    content_type: str = "application/json"


def respond(response: ApiResponse, answer: Callable[[ApiResponse], object]) -> ApiResponse:
    """Run one endpoint of any family (train, pipeline, definitions, variables, export): `answer` returns
    the body (and may note the language on `response`); an `ApiError` it raises becomes the error answer,
    with the error's status, envelope and headers."""
    try:
        response.body = answer(response)
    except ApiError as err:
        response.status = err.status
        response.body = err.body()
        response.headers.update(err.headers)
    return response


def requested_language(req: ApiRequest, route: Route[RouteKind], bots: Mapping[str, SandboxBot]) -> str:
    """The language a request is about, before validation (train: `bot-language` header, absent => en;
    status: `language` query, absent => the bot's default language)."""
    if route.kind == "train":
        # ASSUMPTION: an empty `bot-language` header counts as absent; codes are matched case-insensitively.
        return req.headers.get("bot-language", "").strip().lower() or "en"
    bot = bots.get(route.bot_id) if route.bot_id is not None else None
    default = bot.default_language if bot is not None else "en"
    return req.query.get("language", "").strip().lower() or default


def check_language(bot: SandboxBot, language: str) -> None:
    """ASSUMPTION: a language that is not a well-formed code, or not enabled on the bot, gets 400 with the
    envelope, naming the language (§10.8). Any well-formed code may be enabled on a bot."""
    if not is_language_code(language):
        raise ApiError(400, f"Invalid language '{language}': not a language code ({LANGUAGE_CODE_FORM})", 400)
    if language not in bot.languages:
        raise ApiError(
            400,
            f"Language '{language}' is not enabled for this bot (enabled: {', '.join(bot.languages)})",
            400,
        )


def rate_limit_error(refused: RateLimited, readings: Readings) -> ApiError:
    """A rate-limit refusal as the readings say: `rate-limit-status` (the HTTP status and the envelope's
    code), `rate-limit-message` and `rate-limit-retry-after`."""
    status = int(readings["rate-limit-status"])
    message = {
        "per-window": refused.message,
        "legacy": RATE_LIMIT_LEGACY_MSG,
        "community": RATE_LIMIT_COMMUNITY_MSG,
    }[readings["rate-limit-message"]]
    seconds = readings["rate-limit-retry-after"] == "seconds"
    return ApiError(status, message, status, {"Retry-After": str(refused.retry_after)} if seconds else {})


def untrained_answer(untrained_language: str, language: str) -> dict[str, object]:
    """What train status answers for a bot language with no training to describe, per reading
    `untrained-language` (400 / 404 raise the error answer)."""
    if untrained_language in ("400", "404"):
        status = int(untrained_language)
        raise ApiError(status, f"No training found for the language '{language}'", status)
    return {} if untrained_language == "empty" else {"trainingStatus": None}


class SandboxApi:
    """The train endpoints, and what every endpoint family shares: apps, bots, JWT checks, rate limiters and
    the readings (`readings.py`)."""

    def __init__(
        self,
        *,
        apps: dict[str, SandboxApp],
        bots: dict[str, SandboxBot],
        model: TrainingModel,
        train_limiter: RateLimiter,
        status_limiter: RateLimiter,
        wall_clock: Clock,
        readings: Readings | None = None,
    ) -> None:
        self.readings = readings if readings is not None else Readings()
        self.apps = apps
        self.bots = bots
        self.model = model
        self.train_limiter = train_limiter
        self.status_limiter = status_limiter
        self.jti_cache = JtiCache()
        self._wall_clock = wall_clock

    def handle(self, req: ApiRequest) -> ApiResponse:
        route = match_route(req.path)
        if route is None:
            # ASSUMPTION: unknown paths get a 404 error envelope (no 404 is documented).
            return ApiResponse(404, error_body("Not Found", 404))
        language = requested_language(req, route, self.bots)
        response = ApiResponse(200, None, bot_id=route.bot_id, language=language)
        return respond(response, lambda response: self._handle(req, route, language, response))

    def _handle(
        self, req: ApiRequest, route: Route[RouteKind], language: str, response: ApiResponse
    ) -> object:
        # ASSUMPTION: check order is method, token, bot linked to the app, scope, language, state, rate limit.
        # `x-http-method-override` is ignored on these endpoints.
        app = self.caller(req, ALLOWED_METHOD[route.kind])
        bot = self.linked_bot(app, route.bot_id)
        if SCOPE_TRAIN_ML not in app.scopes:
            raise ApiError(401, MSG_SCOPE, CODE_AUTH)
        check_language(bot, language)
        if route.kind == "train":
            self.rate_limit(self.train_limiter, (bot.bot_id,))
            record = self.model.queue_training(bot.bot_id, language)
            response.training_id = record.training_id
            return [{"message": "Training Queued.", "Training_ID": record.training_id}]
        state = req.query.get("state", "").strip() or "configured"
        if state not in TRAIN_STATES:
            # ASSUMPTION: an invalid `state` gets 400 with the envelope.
            raise ApiError(400, f"Invalid state '{state}': use 'configured' or 'published'", 400)
        checked_state: TrainState = "published" if state == "published" else "configured"
        # ASSUMPTION: the status API's rate-limit "request_id" is bot + language + state.
        self.rate_limit(self.status_limiter, (bot.bot_id, language, checked_state))
        return self.train_status(bot.bot_id, language, checked_state)

    def train_status(self, bot_id: str, language: str, state: TrainState) -> dict[str, object]:
        """The train status body; `ApiError` where reading `untrained-language` answers an error."""
        body = self.model.status(bot_id, language, state)
        return body if body is not None else untrained_answer(self.readings["untrained-language"], language)

    # -- the checks every endpoint family shares --------------------------------------------------------
    def caller(self, req: ApiRequest, allowed_method: str) -> SandboxApp:
        """The app whose JWT the request carries. ASSUMPTION: the method is checked before the token."""
        if req.method != allowed_method:
            raise ApiError(405, "Method Not Allowed", 405, {"Allow": allowed_method})
        return authenticate(req.headers.get("auth"), self.apps, self._wall_clock, self.jti_cache)

    def reaches(self, app: SandboxApp, bot_id: str | None) -> bool:
        """Whether the bot exists and is linked to the app."""
        bot = self.bots.get(bot_id) if bot_id is not None else None
        return bot is not None and app.client_id in bot.linked_apps

    def linked_bot(self, app: SandboxApp, bot_id: str | None) -> SandboxBot:
        """The bot, if linked to the app; an unknown or unlinked bot gets the documented 401."""
        if bot_id is None or not self.reaches(app, bot_id):
            raise ApiError(401, MSG_INVALID_CREDENTIALS, CODE_AUTH)
        return self.bots[bot_id]

    def header_language(self, req: ApiRequest, bot: SandboxBot, response: ApiResponse) -> str:
        """The language named by the `bot-language` header (as on train), else the bot's default; noted on
        the response (the call log shows it) and checked like train's (ASSUMPTION, for ML import and
        export)."""
        language = req.headers.get("bot-language", "").strip().lower() or bot.default_language
        response.language = language
        check_language(bot, language)
        return language

    def rate_limit(self, limiter: RateLimiter, key: tuple[str, ...]) -> None:
        """Count one request for `key`, or refuse it. ASSUMPTION: 429 with the newer documented message,
        code 429, and a Retry-After header; the rate-limit readings play the other answers."""
        refused = limiter.hit(key)
        if refused is not None:
            raise rate_limit_error(refused, self.readings)


class EndpointFamily(Generic[KindT, ModelT]):
    """A family of endpoints beside train (pipeline, definitions, variables, export): its state (`model`)
    and the train endpoints' apps, bots, JWT checks and rate limiters (`core`). A subclass gives its path
    matcher (`route`) and answers its matched routes in `_answer`."""

    #: The family's route for a path, or None when the path is none of its endpoints'.
    route: Callable[[str], Route[KindT] | None]

    def __init__(self, core: SandboxApi, model: ModelT) -> None:
        self.core = core
        self.model = model

    def handle(self, req: ApiRequest) -> ApiResponse | None:
        """The answer, or None when the path is none of this family's."""
        route = self.route(req.path)
        if route is None:
            return None
        response = ApiResponse(200, None, bot_id=route.bot_id)
        return respond(response, lambda response: self._answer(req, route, response))

    def _answer(self, req: ApiRequest, route: Route[KindT], response: ApiResponse) -> object:
        """The body of a successful answer; raise `ApiError` for an error answer."""
        raise NotImplementedError
