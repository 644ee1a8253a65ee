"""A local emulator of the documented Kore.ai public API (like stripe-mock for Stripe).

Serves, as documented in docs/kore-api.md (auth, error envelopes, rate limits, status vocabularies):

    POST /api/public/bot/{BotID}/ml/train                    GET .../ml/train/status            (api.py)
    POST /api/public/uploadfile                              POST .../mlimport, GET .../mlimport/status/{id}
    POST /api/public/bot/{BotID}/publish                     GET .../publish/status        (pipeline.py)
    POST /api/public/bot/{BotID}/import                      GET /api/public/bot/import/status/{id}
                                                                                       (definitions.py)
    POST /api/1.1/public/builder/bot/{BotID}/variables/import   .../variables/export  (variables.py; also
         builder/stream/..., and both without /1.1)
    POST /api/public/bot/{BotID}/mlexport?state=&type=       GET .../mlexport/status         (export.py)
    GET  http://127.0.0.2:<port>/api/getMediaStream/market/<token>   the export file, no auth (download.py)

plus test/admin endpoints under `/_sandbox/`. Independent of the provider: stdlib only. What the endpoint
families share lives once: the request checks and routes (`api.py`: `EndpointFamily`, `Route`), the
asynchronous jobs (`jobs.py`), fault rules and duration knobs (`state.py`: `FailureRules`, `SecondsKnob`)
and the HTTP plumbing of the API and download hosts (`transport.py`).

    with Sandbox(training_seconds=0.2, queue_seconds=0.1) as sb:
        requests.post(f"{sb.url}/api/public/bot/{DEMO_BOTS[0].bot_id}/ml/train", headers={"auth": jwt})

or `python -m kore_resources.sandbox [--port 8089]` for the demo.

Admin API (no auth, loopback only, not in the call log; details in `admin.py`):
    GET  /_sandbox/info        apps (never secrets), bots, settings
    GET  /_sandbox/calls       {"calls": [...]}  (DELETE clears it)
    GET  /_sandbox/trainings   {"trainings": [...]}
    GET  /_sandbox/imports     {"imports": [...]}      GET /_sandbox/publishes  {"publishes": [...]}
    GET  /_sandbox/files       {"files": [...]}        uploaded files (never their content)
    GET  /_sandbox/definitions {"definitions": [...], "imports": [...]}  what each bot got imported
    GET  /_sandbox/variables   {"variables": {bot_id: [...]}, "collections": {...}}  (real values)
    GET  /_sandbox/utterances  {"utterances": {bot_id: {language: [...]}}}
    GET  /_sandbox/exports     {"exports": [...], "downloads": [...], "download_url", "download_fallback"}
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
                               count?}, fail_next_publish {bot_id?, count?},
                               definition_import_seconds, fail_next_definition_import {bot_id?, count?},
                               export_seconds, fail_next_export {bot_id?, count?},
                               blank_download_url {bot_id?, count?},
                               edit_utterance {bot_id, language, intent, old_sentence, new_sentence},
                               add_utterance {bot_id, language, intent, sentence, intent_type?,
                                              entities?},
                               fail_training {training_id},
                               set_variable {bot_id, key, value, language?},
                               secure_variable {bot_id, key, secured?},
                               delete_variable {bot_id, key}
                               (the object-valued ones also take a list of objects; the drift knobs are
                               checked against the state before anything in the body is applied)

Python knobs: on `Sandbox` (trainings, faults, and the drift knobs `edit_utterance`, `add_utterance`,
`fail_training`, `set_variable`, `secure_variable`, `delete_variable`; views `utterances`, `variables`,
`variable_collections`), `Sandbox.pipeline` (uploads, ML imports, publishes), `Sandbox.definitions` (bot
definition imports) and `Sandbox.ml_export` (ML exports, the download host and the requests it received).

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
 8. Unknown NLU language (not in docs/kore-api.md §2.6) or one not enabled on the bot -> 400 envelope with a
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
    "> Publish Status"). A scope is a name on the app; since 26, publish and its status also need an
    Admin Console app. Upload File needs no scope (documented: any app), no bot and either kind of app.
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
    `taskName` (checked asynchronously, like the platform reads the file; a CSV whose header row lacks
    either column, like Kore's `ImportFile_emptydata.csv`, fails with `CSV format is incorrect: ...`), or
    when `fail_next_import` says so. An unknown id, or one of another bot -> 400 `Invalid request ID`/400.
    A successful import marks the bot language's sentences changed (`isMlInSyncWithSentences` false until a
    training queued after the import finished succeeds, as in 13); this is applied before the next API
    request is handled, so a training queued after the import finished counts as after it.
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

App kinds, bot definition import, bot variables, ML export (definitions.py, variables.py, export.py,
download.py; Python knobs on `Sandbox`, `Sandbox.definitions`, `Sandbox.ml_export`):
26. App kinds: an app (`SandboxApp.kinds`) is bot-level (the default), Admin Console, or both; both stands
    for two real apps sharing one set of credentials, so the demo needs one app (`DEMO_APP`,
    `DEMO_JTI_APP`, with every scope). `DEMO_BOT_APP` is bot-level only with every App Builder scope,
    `DEMO_ADMIN_APP` Admin Console only with every Admin Console scope. Train, ML import and export (and
    their statuses) take either kind; bot import and its status, publish and its status need Admin
    Console; bot variables need bot-level. The wrong kind gets 401 `Permission denied. Scope is
    incorrect!`/4002, as for a missing scope. `linked_apps` stands for "the app's bot" (bot-level) and
    "the bots of the app's account" (Admin Console); every demo app reaches every demo bot.
27. Bot import: check order method, token, bot (an Admin Console app: unknown or outside its account ->
    400 `Invalid StreamId`/400; a bot-level-only app: 401 `Invalid SDK credentials`/4002), scope `Bot
    Import`, body, file ids, rate limit. A body that is not a JSON object with non-empty string
    `botDefinition` and `configInfo`, an optional list of file ids `botFunctions` and optional
    `importOptions` with only the documented sub-fields and values (arrays may be empty; `append` and
    `replace` any booleans) -> 412 `Validation errors/ Invalid arguments`/412; a file id never uploaded ->
    400 `Invalid file id`/400. No `importOptions` is a full import (observed). Other top-level fields
    (D1's top-level `options`, D2's `botVariables`) are ignored. Any uploaded file may be used for any
    part; contents are read asynchronously.
28. Bot import answer and status: the POST answers the documented pending object (no `streamId`, like
    the sample), its one `statusLogs` entry `importRequest` named after the target bot; `streamRefId` is
    a stable uuid per bot. The status (`GET /api/public/bot/import/status/{id}`) adds `streamId`; it is
    `pending` for `definition_import_seconds` (default 1), then `success` or `failure` (KAR's word).
    Entries come in the documented order of task types: importRequest, Bot Definition, BotFunctions (one
    per file, named after it), Dialog (one per `dialogs` entry with a `name` or `lname`, when bot tasks
    are imported), Utterences (sic; when utterances are), BotVariables (when bot variables are and
    config.json has `envVariables`), importBot. A bad definition or config fails the Bot Definition
    entry, a non-UTF-8 function file its BotFunctions entry, a bad `envVariables` entry the BotVariables
    entry, `fail_next_definition_import` the importBot entry: `status: "failed"` with a `message`, later
    entries missing. An unknown id, an ML import's id, or one of a bot the app cannot reach -> 400
    `Invalid request ID`/400.
29. A successful definition import is applied once, when it has finished (before the next request): the
    bot's imported definition (parsed definition and config, functions' text, `importOptions`) is
    replaced (`Sandbox.definitions.imported(bot_id)`); config.json's `envVariables` are upserted into the
    bot variables as in 31 when bot variables are imported (a full import, or `settings` with
    `botVariables`), except the keys in `options.botVariables.ignore`, and nothing is deleted; when
    utterances are imported (a full import, or `nlpData` with `utterances`) every language of the bot is
    marked changed as in 13. The definition's own utterances are not read into the ML utterances (34).
30. Bot variables: every path form of docs/kore-api.md §9 is served; an unknown bot or one not linked to
    the app -> 401 `Invalid SDK credentials`/4002; scopes `Import Variables` / `Export Variables`.
    The import body is form 1 (an array of variables) or form 2 (`botVariables`, with optional
    `botCollections` and `botCollectionVariables`, whose keys and refIds must match). A variable needs
    `key`, `variableType` (env|locale), `scope` (prePopulated|askOnInstall|hidden; KAR's `onInstall` is
    refused) and a string `value` (env) or a non-empty `localeData` of `{value, hint?, audioTag?}`
    (locale); `hint`, `audioTag`, `group`, `propagateValue` (bool), `vNameSpace` and `isSecured` (bool)
    are optional; any other field, an empty body or an empty list -> the observed 500 `Internal Server
    Error`/500. The answer counts the body's variables.
31. Variables semantics (undocumented): an import upserts by `key`, replacing the whole variable;
    variables missing from the body stay (a key twice in one body: the later wins, both are counted); a
    bot starts with none. The export lists them in the order they were created, with the documented
    fields and defaults (`""`, `false`, and a `default` namespace with a stable refId per bot); locale
    variables carry no top-level `value` or `hint`. Form 2's collections are kept
    (`Sandbox.variable_collections`) but not exported.
32. Secured variables: secured by `secure_variable` ("toggled in the builder") or `isSecured: true` on
    import (a field only the export documents; `false` unsecures); an import without it keeps the flag.
    A secured value exports as `""` (a locale variable's in every language). Importing a value replaces
    the secret, so re-importing an export blanks it (the risk of §9.3). `set_variable` ("changed in the
    builder") on an unknown key creates an env, prePopulated variable; `delete_variable` ("deleted in the
    builder") removes a variable of any kind, so the export no longer lists it.
33. Rate limits: bot import, variables import and variables export (its family is undocumented) use the
    train limit's numbers per bot, bot import status the status limit's per import id; each endpoint has
    its own budget.
34. ML utterances per bot language start empty. A successful ML import replaces, in that language, the
    utterances of every intent (`taskName`) in its file, keeping the intent's place; other intents stay
    (C257). A record keeps its `type` (default `DialogIntent`) and `entities` (when a list; CSV: none);
    its `language` is the import's. A failed import changes nothing.
35. ML export: either kind of app with `Utterances Export`; an unknown or unlinked bot -> 401 `Invalid SDK
    credentials`/4002. `bot-language` selects the language (absent: the bot's default; invalid: 400 as
    in 8). `type` is required (json|csv, any case) and `state` is configured (the default) or published,
    else 400; other query parameters (the docs' stray `&=&`) are ignored. `state=published` exports
    nothing (as in 9, the published copy keeps what a bot starts with). The file is taken when the export
    is requested. The answer is the documented IN_PROGRESS job (`_id: "ds-<uuid>"`, `fileType`). Rate
    limit: the train limit's numbers, per bot, its own budget.
36. ML export status reports the bot's latest export, with its POST's `_id`: `IN_PROGRESS` for
    `export_seconds` (default 1; `percentageComplete` 0 to 99), then `SUCCESS` (100) with `downloadUrl`,
    or `FAILED` (BOT's word; short of 100, no URL) after `fail_next_export`. `downloadUrl` is absent until
    `SUCCESS`; `blank_download_url` makes the next reads of a `SUCCESS` answer `""` (the docs' sample). A
    bot that never exported -> 400 `No ML utterances export found for this bot`/400. Rate limit: the
    status limit's numbers, per bot (its path has no request id), its own budget.
37. The download host is a second HTTP server on 127.0.0.2, port 0 (where 127.0.0.2 cannot be bound, e.g.
    macOS, another port of the API's address: `Sandbox.ml_export.download_fallback`). It serves
    `/api/getMediaStream/market/<random token>` (the observed path) without any credential, until a reset;
    GET and HEAD only (405 otherwise), 404 for an unknown token or an export that has not succeeded. JSON
    files are formatted like K50 (4-space indent, keys taskName, sentence, type, entities, language); CSV
    has the header `taskName,sentence,type,language`; LF line ends, no BOM. It records every request
    without secrets (`Sandbox.ml_export.downloads`: `auth_header`, `jwt_seen`, secret-looking header
    values `<redacted>`, the token `<token>`); its requests are not in the call log. The transport faults
    of 15 apply to it too.
38. Drift knobs ("changed in the builder" behind the stack's back): `edit_utterance` (the edited
    utterance loses its entity tags) and `add_utterance` (an unknown intent is created; an intent never
    holds a sentence twice) change the stored utterances and mark the bot language's sentences changed
    as in 13. `fail_training` turns the latest started training of a bot language, once finished, into
    `Failed` (status `Failed`, out of sync) until a newer training starts and finishes.
"""

from __future__ import annotations

from .api import ApiRequest, ApiResponse, SandboxApi
from .auth import ApiError
from .definitions import (
    SCOPE_BOT_IMPORT,
    BotFunctionFile,
    DefinitionControls,
    DefinitionImportRecord,
    DefinitionModel,
    ImportedDefinition,
)
from .demo import DEMO_ADMIN_APP, DEMO_APP, DEMO_APPS, DEMO_BOT_APP, DEMO_BOTS, DEMO_JTI_APP
from .export import (
    SCOPE_ML_EXPORT,
    DownloadRequest,
    ExportControls,
    ExportModel,
    ExportRecord,
    UtteranceStore,
)
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
    ANY_APP_KIND,
    APP_KIND_ADMIN,
    APP_KIND_BOT,
    NLU_LANGUAGES,
    RATE_LIMIT_HOUR_MSG,
    RATE_LIMIT_MINUTE_MSG,
    SCOPE_TRAIN_ML,
    AppKind,
    FailureRule,
    RateLimit,
    RateLimiter,
    SandboxApp,
    SandboxBot,
    TrainingModel,
    TrainingRecord,
)
from .variables import SCOPE_EXPORT_VARIABLES, SCOPE_IMPORT_VARIABLES, VariablesModel

__all__ = [
    "ANY_APP_KIND",
    "APP_KIND_ADMIN",
    "APP_KIND_BOT",
    "DEMO_ADMIN_APP",
    "DEMO_APP",
    "DEMO_APPS",
    "DEMO_BOTS",
    "DEMO_BOT_APP",
    "DEMO_JTI_APP",
    "NLU_LANGUAGES",
    "RATE_LIMIT_HOUR_MSG",
    "RATE_LIMIT_MINUTE_MSG",
    "SCOPE_BOT_IMPORT",
    "SCOPE_EXPORT_VARIABLES",
    "SCOPE_IMPORT_VARIABLES",
    "SCOPE_ML_EXPORT",
    "SCOPE_ML_IMPORT",
    "SCOPE_PUBLISH",
    "SCOPE_PUBLISH_STATUS",
    "SCOPE_TRAIN_ML",
    "ApiError",
    "ApiRequest",
    "ApiResponse",
    "AppKind",
    "BotFunctionFile",
    "Call",
    "DefinitionControls",
    "DefinitionImportRecord",
    "DefinitionModel",
    "DownloadRequest",
    "ExportControls",
    "ExportModel",
    "ExportRecord",
    "FailureRule",
    "Fault",
    "ImportRecord",
    "ImportedDefinition",
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
    "UtteranceStore",
    "VariablesModel",
    "is_loopback_host",
]
