"""The Kore.ai operations the providers call, as one table (docs/kore-api.md §6-§10): what each sends, what
its answer parses into, and what a failure of it means for the deploy.

An `Endpoint` is data, not code: the client's one request path (`transport.Transport`) sends every one of
them the same way, so a new call is a row here and a one-line method on `KoreClient`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .models import (
    BotImportJob,
    ExportedVariable,
    MlExportJob,
    MlImportJob,
    PublishStatus,
    PublishTicket,
    TrainingStatus,
    TrainingTicket,
    UploadedFile,
)
from .retry import RETRYABLE_STATUSES

Answer = TypeVar("Answer")


@dataclass(frozen=True, kw_only=True)
class Endpoint(Generic[Answer]):
    """One Kore.ai API operation."""

    #: In messages: "the train call".
    name: str
    method: str
    #: Below the host, with `{bot_id}` and `{job_id}` filled in from checked values.
    path: str
    #: The API scope (and kind of app) the call needs, for the advice on a 401.
    scope: str
    #: Safe to send twice (reads; upserts). Starting a job is not: a second POST starts a second job.
    idempotent: bool
    #: The rate-limit family (docs/kore-api.md §5.1): "bot" (the training and definition APIs) or "status".
    budget: str
    #: What the next `pulumi up` does again after this call failed, e.g. "train".
    redo: str
    #: The answer as a typed value (`models`), or the ValueError the client turns into a KoreApiError.
    parse: Callable[[Any], Answer]
    #: HTTP statuses worth sending an idempotent request again for.
    retry_statuses: frozenset[int] = RETRYABLE_STATUSES
    #: What an HTTP 500 from this endpoint means, when it is not "a transient platform fault" (None).
    permanent_500: str | None = None
    #: Where the call takes the bot language: the `bot-language` header, the `language` query, or nowhere.
    language_in: str | None = None


def _message(body: Any) -> str:
    """The `message` of an answer that is just one ("2 Variables imported/updated successfully.")."""
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) else ""


SCOPE_TRAIN = "Train ML"
SCOPE_IMPORT = "Utterances Import"
SCOPE_EXPORT = "Utterances Export"
SCOPE_BOT_IMPORT = "Bot Definition > Bot Import, which only an Admin Console app has"
SCOPE_PUBLISH = "Bot Publish > Publish and Publish Status, which only an Admin Console app has"
SCOPE_IMPORT_VARIABLES = "Import Variables (a bot-level app)"
SCOPE_EXPORT_VARIABLES = "Export Variables (a bot-level app)"
BOT = "/api/public/bot/{bot_id}"
BUILDER = "/api/1.1/public/builder/bot/{bot_id}"

TRAIN = Endpoint(
    name="the train call",
    method="POST",
    path=f"{BOT}/ml/train",
    scope=SCOPE_TRAIN,
    idempotent=False,
    budget="bot",
    redo="train",
    parse=TrainingTicket.from_api,
    language_in="header",
)
TRAIN_STATUS = Endpoint(
    name="the training status call",
    method="GET",
    path=f"{BOT}/ml/train/status",
    scope=SCOPE_TRAIN,
    idempotent=True,
    budget="status",
    redo="train",
    parse=TrainingStatus.from_api,
    language_in="query",
)
UPLOAD = Endpoint(
    name="the file upload",
    method="POST",
    path="/api/public/uploadfile",
    scope=SCOPE_IMPORT,
    idempotent=False,
    budget="bot",
    redo="upload and import",
    parse=UploadedFile.from_api,
)
ML_IMPORT = Endpoint(
    name="the ML import call",
    method="POST",
    path=f"{BOT}/mlimport",
    scope=SCOPE_IMPORT,
    idempotent=False,
    budget="bot",
    redo="upload and import",
    parse=MlImportJob.from_api,
    language_in="header",
)
ML_IMPORT_STATUS = Endpoint(
    name="the ML import status call",
    method="GET",
    path=f"{BOT}/mlimport/status/{{job_id}}",
    scope=SCOPE_IMPORT,
    idempotent=True,
    budget="status",
    redo="upload and import",
    parse=MlImportJob.from_api,
)
ML_EXPORT = Endpoint(
    name="the ML export call",
    method="POST",
    path=f"{BOT}/mlexport",
    scope=SCOPE_EXPORT,
    idempotent=True,  # an export changes nothing on the bot; a second one only makes another file
    budget="bot",
    redo="refresh",
    parse=MlExportJob.from_api,
    language_in="header",
)
ML_EXPORT_STATUS = Endpoint(
    name="the ML export status call",
    method="GET",
    path=f"{BOT}/mlexport/status",
    scope=SCOPE_EXPORT,
    idempotent=True,
    budget="status",
    redo="refresh",
    parse=MlExportJob.from_api,
)
DOWNLOAD = Endpoint(
    name="the download of the export file",
    method="GET",
    path="",  # the export's `downloadUrl`, whole
    scope="none",
    idempotent=True,
    budget="download",
    redo="refresh",
    parse=bytes,
)
BOT_IMPORT = Endpoint(
    name="the bot import call",
    method="POST",
    path=f"{BOT}/import",
    scope=SCOPE_BOT_IMPORT,
    idempotent=False,
    budget="bot",
    redo="upload and import the definition",
    parse=BotImportJob.from_api,
)
BOT_IMPORT_STATUS = Endpoint(
    name="the bot import status call",
    method="GET",
    path="/api/public/bot/import/status/{job_id}",  # names no bot
    scope=SCOPE_BOT_IMPORT,
    idempotent=True,
    budget="status",
    redo="import the definition",
    parse=BotImportJob.from_api,
)
VARIABLES_IMPORT = Endpoint(
    name="the bot variables import call",
    method="POST",
    path=f"{BUILDER}/variables/import",
    scope=SCOPE_IMPORT_VARIABLES,
    # An import upserts by key (docs/kore-api.md §9.3): sending it twice does no harm.
    idempotent=True,
    budget="bot",
    redo="import the variables",
    parse=_message,
    # Kore's own QA gets 500 for a body the import cannot read (docs/kore-api.md §9.1): sending the same
    # body again cannot help, and a user would wait through every retry before hearing of it.
    retry_statuses=RETRYABLE_STATUSES - {500},
    permanent_500=(
        "Kore.ai answers HTTP 500 to a variables import whose body it cannot read (docs/kore-api.md "
        '§9.1), so it was not sent again: check the variables\' keys, types and scopes ("BotVariable"), '
        "and that the bot's app may import variables"
    ),
)
VARIABLES_EXPORT = Endpoint(
    name="the bot variables export call",
    method="POST",  # a POST that only reads
    path=f"{BUILDER}/variables/export",
    scope=SCOPE_EXPORT_VARIABLES,
    idempotent=True,
    budget="bot",
    redo="refresh",
    parse=ExportedVariable.list_from_api,
)
PUBLISH = Endpoint(
    name="the publish call",
    method="POST",
    path=f"{BOT}/publish",
    scope=SCOPE_PUBLISH,
    idempotent=False,
    budget="bot",
    redo="publish",
    parse=PublishTicket.from_api,
)
PUBLISH_STATUS = Endpoint(
    name="the publish status call",
    method="GET",
    path=f"{BOT}/publish/status",
    scope=SCOPE_PUBLISH,
    idempotent=True,
    budget="status",
    redo="publish",
    parse=PublishStatus.from_api,
)
