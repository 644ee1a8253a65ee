"""The resource classes a Pulumi program uses."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import Resource

from .errors import ConfigurationError, UtteranceFileError
from .pipeline_providers import (
    DEFAULT_IMPORT_TIMEOUT_SECONDS,
    DEFAULT_PUBLISH_TIMEOUT_SECONDS,
    EXPORT_SUFFIXES,
    BotPublishProvider,
    MlUtterancesProvider,
)
from .provider import DEFAULT_LANGUAGE, DEFAULT_TIMEOUT_SECONDS, BotTrainingProvider
from .utterances import hash_utterances

HOST_KEY = "kore:host"
HOST_ENV = "KORE_HOST"


def default_host() -> str:
    """The Kore.ai host from stack config `kore:host`, else the environment variable `KORE_HOST`."""
    host = pulumi.Config("kore").get("host") or os.environ.get(HOST_ENV)
    if not host:
        raise ConfigurationError(
            f"No Kore.ai host: run `pulumi config set {HOST_KEY} https://platform.kore.ai` (or your "
            f"region's host), set {HOST_ENV}, or pass host= to BotTrainingArgs."
        )
    return host


@dataclass
class BotTrainingArgs:
    """Inputs of a `BotTraining`. Each field takes a plain value or a `pulumi.Input`.

    - `bot_id`: the Kore.ai bot (stream) id, `st-<uuid>`.
    - `utterances_hash`: what was trained; a change retrains. Usually `hash_utterances(folder)`.
    - `language`: the NLU language code to train (`en`, `de`, `pt_pt`, `zh_cn`, ...); sent as `bot-language`.
    - `host`: the platform's base URL, e.g. `https://platform.kore.ai`. None: stack config `kore:host`,
      then the environment variable `KORE_HOST`.
    - `wait_for_completion`: wait until Kore.ai reports the training finished (or failed). False records the
      training as `Queued` as soon as Kore.ai accepted it.
    - `timeout_seconds`: deadline for the whole operation (queueing, retries and waiting). Pulumi's
      `custom_timeouts` do not reach dynamic providers, so this is the knob.
    """

    bot_id: pulumi.Input[str]
    utterances_hash: pulumi.Input[str]
    language: pulumi.Input[str] = DEFAULT_LANGUAGE
    host: pulumi.Input[str] | None = None
    wait_for_completion: pulumi.Input[bool] = True
    timeout_seconds: pulumi.Input[int] = DEFAULT_TIMEOUT_SECONDS


class BotTraining(Resource, module="kore", name="BotTraining"):
    """An ML training of one language of a Kore.ai bot, redone whenever `utterances_hash` changes.

    Like pulumi-command's `triggers`, the hash is the trigger: `pulumi up` trains only the bot languages
    whose hash differs from the one recorded at their last successful training, and records the returned
    `training_id`. Another `bot_id`, `language` or `host` replaces the resource (it is another training).
    Destroying it makes no API call: a training cannot be undone.

    Credentials come from stack config `kore:clientId` / `kore:clientSecret` (set the secret with
    `--secret`), or `KORE_CLIENT_ID` / `KORE_CLIENT_SECRET`; they are never inputs or outputs.
    """

    bot_id: pulumi.Output[str]
    utterances_hash: pulumi.Output[str]
    language: pulumi.Output[str]
    host: pulumi.Output[str]
    wait_for_completion: pulumi.Output[bool]
    timeout_seconds: pulumi.Output[float]
    #: The `Training_ID` Kore.ai returned for the last successful training.
    training_id: pulumi.Output[str]
    #: `Finished`, `Queued` (when not waiting), or after `pulumi refresh` the bot language's current status.
    training_status: pulumi.Output[str]
    #: When the training was recorded (ISO 8601, UTC).
    trained_at: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        args: BotTrainingArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "bot_id": args.bot_id,
            "utterances_hash": args.utterances_hash,
            "language": args.language,
            "host": args.host if args.host is not None else default_host(),
            "wait_for_completion": args.wait_for_completion,
            "timeout_seconds": args.timeout_seconds,
            # Outputs: declared here so they resolve (unknown during preview of a change).
            "training_id": None,
            "training_status": None,
            "trained_at": None,
        }
        super().__init__(BotTrainingProvider(), resource_name, props, opts)


def export_file(file: str | os.PathLike[str]) -> str:
    """The path of one ML utterance export as MlUtterances records it: relative to the project directory
    (the working directory of both the program and the provider plugin) when the file is inside it, so
    the state does not depend on where the project is checked out."""
    path = Path(file)
    if path.is_dir():
        raise UtteranceFileError(
            path,
            "is a folder; MlUtterances imports one export file (the import API takes one file): declare "
            "one MlUtterances per *.json or *.csv file",
        )
    if path.suffix.lower() not in EXPORT_SUFFIXES:
        raise UtteranceFileError(path, "not a .json or .csv file; expected a Kore.ai ML utterance export")
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        path = path.relative_to(Path.cwd())  # else outside the project: keep it absolute
    return path.as_posix()


@dataclass
class MlUtterancesArgs:
    """Inputs of an `MlUtterances`.

    - `bot_id`: the Kore.ai bot (stream) id, `st-<uuid>`.
    - `file`: one ML utterance export (`*.json` or `*.csv`), as Kore.ai's builder exports it. A plain path
      (not a `pulumi.Input`): it is hashed when the program runs. Relative paths start from the project.
    - `language`: the bot language to import into (`en`, `de`, ...), sent as `bot-language`.
    - `host`: the platform's base URL. None: stack config `kore:host`, then `KORE_HOST`.
    - `timeout_seconds`: deadline for the whole operation (upload, import, waiting).
    """

    bot_id: pulumi.Input[str]
    file: str | os.PathLike[str]
    language: pulumi.Input[str] = DEFAULT_LANGUAGE
    host: pulumi.Input[str] | None = None
    timeout_seconds: pulumi.Input[int] = DEFAULT_IMPORT_TIMEOUT_SECONDS


class MlUtterances(Resource, module="kore", name="MlUtterances"):
    """The ML utterances of one export file, imported into one language of a Kore.ai bot, imported again
    whenever the file's content changes.

    The file is hashed with `hash_utterances` when the program runs; that `content_hash` is the trigger,
    so reformatting or reordering the export imports nothing. `pulumi up` uploads the file
    (`/api/public/uploadfile`), imports it (`/api/public/bot/{id}/mlimport`) and waits for the import to
    succeed; the provider re-hashes the file before uploading and fails if it changed since the program
    ran. Another `bot_id`, `language` or `host` replaces the resource. Destroying it makes no API call:
    an import cannot be undone. Give a `BotTraining` `utterances_hash=mlu.content_hash` to train after it.
    """

    bot_id: pulumi.Output[str]
    file: pulumi.Output[str]
    language: pulumi.Output[str]
    host: pulumi.Output[str]
    #: `hash_utterances(file)` when the program ran; what the last successful import imported.
    content_hash: pulumi.Output[str]
    timeout_seconds: pulumi.Output[float]
    #: The `fileId` Upload File returned.
    file_id: pulumi.Output[str]
    #: The `bir-...` id of the import request.
    import_id: pulumi.Output[str]
    #: `success`, or after `pulumi refresh` what the import status reports.
    import_status: pulumi.Output[str]
    #: When the import was recorded (ISO 8601, UTC).
    imported_at: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        args: MlUtterancesArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        file = export_file(args.file)
        props = {
            "bot_id": args.bot_id,
            "file": file,
            "language": args.language,
            "host": args.host if args.host is not None else default_host(),
            "content_hash": hash_utterances(file),
            "timeout_seconds": args.timeout_seconds,
            "file_id": None,
            "import_id": None,
            "import_status": None,
            "imported_at": None,
        }
        super().__init__(MlUtterancesProvider(), resource_name, props, opts)


@dataclass
class BotPublishArgs:
    """Inputs of a `BotPublish`.

    - `bot_id`: the Kore.ai bot (stream) id, `st-<uuid>`.
    - `version_comment`: the comment of the published version. Changing it alone does not publish.
    - `triggers`: a list of values; when it changes, the bot is published again. Usually the
      `training_id`s of the bot's `BotTraining`s, so a publish follows every successful training.
    - `host`: the platform's base URL. None: stack config `kore:host`, then `KORE_HOST`.
    - `timeout_seconds`: deadline for the whole operation (publish call and waiting).
    """

    bot_id: pulumi.Input[str]
    version_comment: pulumi.Input[str]
    triggers: pulumi.Input[Sequence[pulumi.Input[Any]]]
    host: pulumi.Input[str] | None = None
    timeout_seconds: pulumi.Input[int] = DEFAULT_PUBLISH_TIMEOUT_SECONDS


class BotPublish(Resource, module="kore", name="BotPublish"):
    """A publish of a Kore.ai bot, redone whenever `triggers` change.

    `pulumi up` calls `/api/public/bot/{id}/publish` with the `version_comment` and
    `initiateTraining: false` (the bot's `BotTraining`s trained it already), then waits for
    `/api/public/bot/{id}/publish/status` to report `successful`. Another `bot_id` or `host` replaces the
    resource. Destroying it makes no API call: the public API cannot unpublish. Publishing needs an
    Admin Console app with the Bot Publish scopes.
    """

    bot_id: pulumi.Output[str]
    version_comment: pulumi.Output[str]
    triggers: pulumi.Output[list[Any]]
    host: pulumi.Output[str]
    timeout_seconds: pulumi.Output[float]
    #: `successful`, or after `pulumi refresh` the status of the bot's latest publish.
    publish_status: pulumi.Output[str]
    #: When the publish was recorded (ISO 8601, UTC).
    published_at: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        args: BotPublishArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "bot_id": args.bot_id,
            "version_comment": args.version_comment,
            "triggers": args.triggers,
            "host": args.host if args.host is not None else default_host(),
            "timeout_seconds": args.timeout_seconds,
            "publish_status": None,
            "published_at": None,
        }
        super().__init__(BotPublishProvider(), resource_name, props, opts)
