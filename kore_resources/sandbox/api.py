"""The documented public API endpoints, independent of HTTP plumbing: a request in, a response out.

Not thread-safe by itself; `server.Sandbox` calls it under its lock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote

from .auth import CODE_AUTH, MSG_INVALID_CREDENTIALS, MSG_SCOPE, ApiError, JtiCache, authenticate, error_body
from .state import (
    NLU_LANGUAGES,
    SCOPE_TRAIN_ML,
    TRAIN_STATES,
    Clock,
    RateLimiter,
    SandboxApp,
    SandboxBot,
    TrainingModel,
    TrainState,
)

RouteKind = Literal["train", "status"]

# ASSUMPTION: both `/api/public/...` and `/api/1.1/public/...` are served, and a trailing slash is accepted.
_ROUTE = re.compile(r"^/api(?:/1\.1)?/public/bot/(?P<bot>[^/]+)/ml/train(?P<status>/status)?/?$")

ALLOWED_METHOD: dict[RouteKind, str] = {"train": "POST", "status": "GET"}


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    bot_id: str


def match_route(path: str) -> Route | None:
    m = _ROUTE.match(path)
    if m is None:
        return None
    return Route("status" if m.group("status") else "train", unquote(m.group("bot")))


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # keys lower-cased
    body: bytes = b""  # read by the pipeline endpoints (pipeline.py); the train endpoints ignore it


@dataclass
class ApiResponse:
    status: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)
    bot_id: str | None = None
    language: str | None = None
    training_id: str | None = None


def requested_language(req: ApiRequest, route: Route, bots: Mapping[str, SandboxBot]) -> str:
    """The language a request is about, before validation (train: `bot-language` header, absent => en;
    status: `language` query, absent => the bot's default language)."""
    if route.kind == "train":
        # ASSUMPTION: an empty `bot-language` header counts as absent; codes are matched case-insensitively.
        return req.headers.get("bot-language", "").strip().lower() or "en"
    bot = bots.get(route.bot_id)
    default = bot.default_language if bot is not None else "en"
    return req.query.get("language", "").strip().lower() or default


class SandboxApi:
    def __init__(
        self,
        *,
        apps: dict[str, SandboxApp],
        bots: dict[str, SandboxBot],
        model: TrainingModel,
        train_limiter: RateLimiter,
        status_limiter: RateLimiter,
        wall_clock: Clock,
    ) -> None:
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
        try:
            self._handle(req, route, language, response)
        except ApiError as err:
            response.status = err.status
            response.body = err.body()
            response.headers.update(err.headers)
        return response

    def _handle(self, req: ApiRequest, route: Route, language: str, response: ApiResponse) -> None:
        allowed = ALLOWED_METHOD[route.kind]
        if req.method != allowed:
            # ASSUMPTION: the method is checked before authentication.
            raise ApiError(405, "Method Not Allowed", 405, {"Allow": allowed})
        # ASSUMPTION: check order is method, token, bot linked to the app, scope, language, state, rate limit.
        # `x-http-method-override` is ignored on these endpoints.
        app = authenticate(req.headers.get("auth"), self.apps, self._wall_clock, self.jti_cache)
        bot = self.bots.get(route.bot_id)
        if bot is None or app.client_id not in bot.linked_apps:
            raise ApiError(401, MSG_INVALID_CREDENTIALS, CODE_AUTH)
        if SCOPE_TRAIN_ML not in app.scopes:
            raise ApiError(401, MSG_SCOPE, CODE_AUTH)
        self._check_language(bot, language)
        if route.kind == "train":
            self._limit(self.train_limiter, (bot.bot_id,))
            record = self.model.queue_training(bot.bot_id, language)
            response.training_id = record.training_id
            response.body = [{"message": "Training Queued.", "Training_ID": record.training_id}]
            return
        state = req.query.get("state", "").strip() or "configured"
        if state not in TRAIN_STATES:
            # ASSUMPTION: an invalid `state` gets 400 with the envelope.
            raise ApiError(400, f"Invalid state '{state}': use 'configured' or 'published'", 400)
        checked_state: TrainState = "published" if state == "published" else "configured"
        # ASSUMPTION: the status API's rate-limit "request_id" is bot + language + state.
        self._limit(self.status_limiter, (bot.bot_id, language, checked_state))
        response.body = self.model.status(bot.bot_id, language, checked_state)

    @staticmethod
    def _check_language(bot: SandboxBot, language: str) -> None:
        # ASSUMPTION: unknown or not-enabled NLU languages get 400 with the envelope (§10.8).
        if language not in NLU_LANGUAGES:
            raise ApiError(
                400,
                f"Invalid language '{language}': not a supported NLU language "
                f"({', '.join(sorted(NLU_LANGUAGES))})",
                400,
            )
        if language not in bot.languages:
            raise ApiError(
                400,
                f"Language '{language}' is not enabled for bot {bot.bot_id} "
                f"(enabled: {', '.join(bot.languages)})",
                400,
            )

    @staticmethod
    def _limit(limiter: RateLimiter, key: tuple[str, ...]) -> None:
        refused = limiter.hit(key)
        if refused is not None:
            # ASSUMPTION: 429 with the newer documented message, code 429, and a Retry-After header.
            raise ApiError(429, refused.message, 429, {"Retry-After": str(refused.retry_after)})
