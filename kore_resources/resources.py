"""The resource classes a Pulumi program uses."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pulumi
from pulumi.dynamic import Resource

from .errors import ConfigurationError
from .provider import DEFAULT_LANGUAGE, DEFAULT_TIMEOUT_SECONDS, BotTrainingProvider

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
