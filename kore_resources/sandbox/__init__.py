"""A local emulator of the documented Kore.ai public ML training API (like stripe-mock for Stripe).

Serves `POST /api/public/bot/{BotID}/ml/train` and `GET /api/public/bot/{BotID}/ml/train/status` exactly as
documented in koreai-api.md (auth, error envelopes, rate limits, status vocabulary), the promotion pipeline
(`POST /api/public/uploadfile`, `POST .../mlimport`, `GET .../mlimport/status/{id}`, `POST .../publish`,
`GET .../publish/status`; see `pipeline.py`), plus test/admin endpoints under `/_sandbox/`. Independent of
the provider: stdlib only.

    with Sandbox(training_seconds=0.2, queue_seconds=0.1) as sb:
        requests.post(f"{sb.url}/api/public/bot/{DEMO_BOTS[0].bot_id}/ml/train", headers={"auth": jwt})

or `python -m kore_resources.sandbox [--port 8089]` for the demo.

Admin API (no auth, loopback only, not in the call log; details in `admin.py`):
    GET  /_sandbox/info        apps (never secrets), bots, settings
    GET  /_sandbox/calls       {"calls": [...]}  (DELETE clears it)
    GET  /_sandbox/trainings   {"trainings": [...]}
    GET  /_sandbox/imports     {"imports": [...]}      GET /_sandbox/publishes  {"publishes": [...]}
    GET  /_sandbox/files       {"files": [...]}        uploaded files (never their content)
    POST /_sandbox/reset       back to the initial state (apps and bots are kept)
    GET  /_sandbox/faults      settings and pending faults  (DELETE clears pending faults)
    POST /_sandbox/faults      all or nothing; keys: training_seconds, queue_seconds, fail_rate,
                               hang_trainings (bool), hold_queue (bool), clear (bool),
                               rate_limits {train, status},
                               fail_next_training {bot_id?, language?, count?},
                               inject_error {status, count?, method?, path_contains?, retry_after?, body?,
                                             every? (every n-th match only: a flapping endpoint)},
                               drop_connection {count?, method?, path_contains?, after_read?},
                               delay_response {seconds, count?, method?, path_contains?},
                               mark_sentences_changed {bot_id, language?},
                               import_seconds, publish_seconds, fail_next_import {bot_id?, language?,
                               count?}, fail_next_publish {bot_id?, count?}
                               (the object-valued ones also take a list of objects)

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
    training (Finished, all in sync): trainings change `configured`, and a publish (19-25) does not copy
    the configured training status to `published`.
10. Rate limits: 429, the newer documented message (per-minute / hourly variant), code 429 and a
    `Retry-After` header (whole seconds until the window has room). The hourly budget is checked first.
    Only admitted requests are counted. Train is keyed per bot; status per bot + language + state (taken
    as the status API's "request_id").
11. Training timeline per bot + language: starts as one completed earlier training (Finished, in sync).
    A train POST queues a training that starts `queue_seconds` later and ends `training_seconds` after
    starting. While queued, the status still reports the previous training (a stale `Finished` right
    after "Training Queued."). Durations are taken when the training is queued (knob changes affect
    later trainings only). `hold_queue` keeps trainings in that queued state until released, and
    `hang_trainings` keeps them `Inprogress` (test knobs, no platform behaviour).
12. A train POST while one is queued/running for the same bot + language queues another one that starts
    when the previous one ends (or after its own queue time, whichever is later); it gets its own
    Training_ID. Its record names the training it waited behind (`queued_behind`).
13. The status flags other than `isMlInSyncWithSentences` are always true. `isMlInSyncWithSentences` is
    false after `mark_sentences_changed` until a training queued after the change finishes successfully,
    and false when the status is `Failed`. `trainDetails` is always `{"nlpVersion":3,"trainVersion":3}`.
14. The train request body is ignored (none, `{}`, anything), with or without Content-Type. The status
    endpoint ignores the `bot-language` header; train ignores the `language` query.
15. Faults (`inject_error`, `drop_connection`, `delay_response`) apply to API paths only, one rule per
    request (the oldest matching). An injected error is answered before auth and nothing is processed;
    `delay_response` processes the request at once and delays only the answer, until its time is up or
    `Sandbox.release_delayed_responses()` (or `stop()`) sends it.
16. Error responses are JSON (`Content-Type: application/json`) like successes.
17. `x-http-method-override` is ignored on the ML endpoints. Training_IDs are random 24-hex strings.
18. Admin endpoints (`/_sandbox/`) and the call log are sandbox inventions; the call log never holds the
    `auth` header, and query values whose name looks secret (auth, token, secret, jwt, key, password)
    are recorded as `<redacted>`.

The promotion pipeline (`pipeline.py`; Python knobs on `Sandbox.pipeline`):
19. Scopes: ML import and its status need `Utterances Import` (documented); publish needs `Bot Publish`
    and publish status `Bot Publish Status` (documented as Admin Console "Bot Publish > Publish" and
    "> Publish Status"). App kinds (bot-level vs Admin Console) are not modelled: a scope is a name on the
    app; the demo apps have all four. Upload File needs no scope (documented: any app) and no bot.
20. Upload File: multipart/form-data with a `file` part, `fileContext=bulkImport` and `fileExtension` one
    of json, js, csv, png, zip (a leading dot is accepted). Anything else -> 412 `Validation errors/
    Invalid arguments`/412. The answer is `{"fileId": "<24 hex>"}` and nothing else (the docs show no
    sample). Bodies up to 16 MiB are accepted (413 above). Any app may import any uploaded file.
21. ML import: a body that is not a JSON object with non-empty string `fileName` and `fileId` -> 412
    `Validation errors/ Invalid arguments`/412; an unknown `fileId` -> 400 `Invalid file id`/400. The
    import applies to the language in the `bot-language` header (as on train; absent: the bot's default
    language; unknown or disabled: 400 as in 8). The answer is the documented pending object with
    `_id: "bir-<uuid>"`; `createdBy` is a stable `u-<uuid>` per app.
22. ML import status: `pending` for `import_seconds` (default 1), then `success` with `message: "File
    imported completed. <n> utterances copied successfully"`, or `failure` with `message: "File import
    failed. <reason>"` when the file is not a JSON array / CSV of utterances with non-empty `sentence` and
    `taskName` (checked asynchronously, like the platform reads the file), or when `fail_next_import`
    says so. An unknown id, or one of another bot -> 400 `Invalid request ID`/400. A successful import
    marks the bot language's sentences changed (`isMlInSyncWithSentences` false until a training queued
    after the import finished succeeds, as in 13); this is applied before the next API request is
    handled, so a training queued after the import finished counts as after it.
23. Publish: `versionComment` must be a non-empty string and `initiateTraining`, when present, a boolean,
    else 412 `Validation errors/ Invalid arguments`/412. It is recorded (`Sandbox.pipeline.publishes`) but
    no training is modelled for `initiateTraining: true`, and no channel needs to be enabled. The answer is
    the documented per-resource array with one dialog (`resourceType`, `resourceId`, `sbResourceId`,
    `status: "SUCCESS"`, a small `result`).
24. Publish status reports the bot's latest publish job (`_id: "ds-<uuid>"`, `action: "RUN"`, `jobType:
    "PUBLISH_BOT"`, `percentageComplete`, `requestedTime`, `initiatedOn`, `lastModifiedOn`, ...). Every bot
    starts with one earlier `successful` publish. A new job is visible at once: `status: "in-progress"`
    with `percentageComplete` growing from 0 and an empty `statusSummary` for `publish_seconds` (default
    2), then `successful` (100, every `statusSummary` entry `SUCCESS`) or, after `fail_next_publish`,
    `failed` (under 100, the `NL` entry `FAILED` with a `message`). The in-progress and failure words are
    not documented; `successful` is.
25. Rate limits: upload, import and publish use the train limit's numbers and status reads the status
    limit's, each endpoint with its own budget: upload per app, import and publish per bot, import status
    per import id, publish status per bot (its path has no request id). Wrong methods get 405 as in 3.
"""

from __future__ import annotations

from .api import ApiRequest, ApiResponse, SandboxApi
from .auth import ApiError
from .demo import DEMO_APP, DEMO_APPS, DEMO_BOTS, DEMO_JTI_APP
from .faults import Fault
from .pipeline import (
    SCOPE_ML_IMPORT,
    SCOPE_PUBLISH,
    SCOPE_PUBLISH_STATUS,
    ImportRecord,
    PipelineControls,
    PipelineModel,
    PublishRecord,
    UploadedFile,
)
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
    "SCOPE_ML_IMPORT",
    "SCOPE_PUBLISH",
    "SCOPE_PUBLISH_STATUS",
    "SCOPE_TRAIN_ML",
    "ApiError",
    "ApiRequest",
    "ApiResponse",
    "Call",
    "FailureRule",
    "Fault",
    "ImportRecord",
    "PipelineControls",
    "PipelineModel",
    "PublishRecord",
    "RateLimit",
    "RateLimiter",
    "Sandbox",
    "SandboxApi",
    "SandboxApp",
    "SandboxBot",
    "TrainingModel",
    "TrainingRecord",
    "UploadedFile",
    "is_loopback_host",
]
