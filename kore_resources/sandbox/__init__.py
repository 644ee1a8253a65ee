"""A local emulator of the documented Kore.ai public ML training API (like stripe-mock for Stripe).

Serves `POST /api/public/bot/{BotID}/ml/train` and `GET /api/public/bot/{BotID}/ml/train/status` exactly as
documented in koreai-api.md (auth, error envelopes, rate limits, status vocabulary), plus test/admin
endpoints under `/_sandbox/`. Independent of the provider: stdlib only.

    with Sandbox(training_seconds=0.2, queue_seconds=0.1) as sb:
        requests.post(f"{sb.url}/api/public/bot/{DEMO_BOTS[0].bot_id}/ml/train", headers={"auth": jwt})

or `python -m kore_resources.sandbox [--port 8089]` for the demo.

Admin API (no auth, loopback only, not in the call log; details in `admin.py`):
    GET  /_sandbox/info        apps (never secrets), bots, settings
    GET  /_sandbox/calls       {"calls": [...]}  (DELETE clears it)
    GET  /_sandbox/trainings   {"trainings": [...]}
    POST /_sandbox/reset       back to the initial state (apps and bots are kept)
    GET  /_sandbox/faults      settings and pending faults  (DELETE clears pending faults)
    POST /_sandbox/faults      all or nothing; keys: training_seconds, queue_seconds, fail_rate,
                               hang_trainings (bool), clear (bool), rate_limits {train, status},
                               fail_next_training {bot_id?, language?, count?},
                               inject_error {status, count?, method?, path_contains?, retry_after?, body?},
                               drop_connection {count?, method?, path_contains?, after_read?},
                               delay_response {seconds, count?, method?, path_contains?},
                               mark_sentences_changed {bot_id, language?}
                               (the last five also take a list of objects)

ASSUMPTIONS (where the documentation is silent; each is also marked `ASSUMPTION:` in the code):
 1. Both `/api/public/...` and `/api/1.1/public/...` are served; a trailing slash is accepted.
 2. Unknown paths get 404 `{"errors":[{"msg":"Not Found","code":404}]}`.
 3. The HTTP method is checked before authentication: a wrong method gets 405 `Method Not Allowed`/405
    (with an `Allow` header) even without a valid token.
 4. Only HS256 tokens are accepted (HS512, RS256, `none` -> 401 `Invalid SDK credentials`/4002).
 5. An expired `exp` (no leeway) or a future `nbf` -> 401 `Invalid SDK credentials`/4002. Tokens without
    `exp` are accepted by apps without "Enforce JTI"; there is no maximum lifetime for them.
 6. "Enforce JTI" apps: `jti` or `kore_jti` required; a missing one gets 401
    `error verifying the jwt: "jti" claim is required`/401 (message not documented). A missing `exp`
    counts as more than 1 hour; the hour is checked against now and, when present, `iat`. A jti is
    remembered once the token is otherwise valid, until the token expires.
 7. Check order: method, token, bot known and linked to the app, scope, language, state, rate limit.
 8. Unknown NLU language (not in koreai-api.md §7) or one not enabled on the bot -> 400 envelope with a
    clear msg, code 400. Language codes are matched case-insensitively; an empty `bot-language` header or
    `language` query counts as absent (train: `en`; status: the bot's default language, `en`).
 9. An invalid `state` -> 400 envelope, code 400. `state=published` always reports the initial completed
    training (Finished, all in sync): the sandbox models no publish flow, trainings change `configured`.
10. Rate limits: 429, the newer documented message (per-minute / hourly variant), code 429 and a
    `Retry-After` header (whole seconds until the window has room). The hourly budget is checked first.
    Only admitted requests are counted. Train is keyed per bot; status per bot + language + state (taken
    as the status API's "request_id").
11. Training timeline per bot + language: starts as one completed earlier training (Finished, in sync).
    A train POST queues a training that starts `queue_seconds` later and ends `training_seconds` after
    starting. While queued, the status still reports the previous training (a stale `Finished` right
    after "Training Queued."). Durations are taken when the training is queued (knob changes affect
    later trainings only).
12. A train POST while one is queued/running for the same bot + language queues another one that starts
    when the previous one ends (or after its own queue time, whichever is later); it gets its own
    Training_ID.
13. The status flags other than `isMlInSyncWithSentences` are always true. `isMlInSyncWithSentences` is
    false after `mark_sentences_changed` until a training queued after the change finishes successfully,
    and false when the status is `Failed`. `trainDetails` is always `{"nlpVersion":3,"trainVersion":3}`.
14. The train request body is ignored (none, `{}`, anything), with or without Content-Type. The status
    endpoint ignores the `bot-language` header; train ignores the `language` query.
15. Faults (`inject_error`, `drop_connection`, `delay_response`) apply to API paths only, one rule per
    request (the oldest matching). An injected error is answered before auth and nothing is processed;
    `delay_response` processes the request at once and delays only the answer.
16. Error responses are JSON (`Content-Type: application/json`) like successes.
17. `x-http-method-override` is ignored on the ML endpoints. Training_IDs are random 24-hex strings.
18. Admin endpoints (`/_sandbox/`) and the call log are sandbox inventions; the call log never holds the
    `auth` header, and query values whose name looks secret (auth, token, secret, jwt, key, password)
    are recorded as `<redacted>`.
"""

from __future__ import annotations

from .api import ApiRequest, ApiResponse, SandboxApi
from .auth import ApiError
from .demo import DEMO_APP, DEMO_APPS, DEMO_BOTS, DEMO_JTI_APP
from .faults import Fault
from .server import Call, Sandbox, is_loopback_host
from .state import (
    NLU_LANGUAGES,
    RATE_LIMIT_HOUR_MSG,
    RATE_LIMIT_MINUTE_MSG,
    SCOPE_TRAIN_ML,
    FailureRule,
    RateLimit,
    RateLimiter,
    SandboxApp,
    SandboxBot,
    TrainingModel,
    TrainingRecord,
)

__all__ = [
    "DEMO_APP",
    "DEMO_APPS",
    "DEMO_BOTS",
    "DEMO_JTI_APP",
    "NLU_LANGUAGES",
    "RATE_LIMIT_HOUR_MSG",
    "RATE_LIMIT_MINUTE_MSG",
    "SCOPE_TRAIN_ML",
    "ApiError",
    "ApiRequest",
    "ApiResponse",
    "Call",
    "FailureRule",
    "Fault",
    "RateLimit",
    "RateLimiter",
    "Sandbox",
    "SandboxApi",
    "SandboxApp",
    "SandboxBot",
    "TrainingModel",
    "TrainingRecord",
    "is_loopback_host",
]
