"""What the acceptance suite (test_acceptance.py) runs against and how: the target (the sandbox by default, a
tenant's scratch bot when `KORE_ACCEPTANCE_HOST` is set), what it tells a tenant it will change before it
changes anything, where the redacted recording goes, and a run of the suite's own program through the real
CLI with `kore:host` pointing at the recording proxy (kore_sandbox.recording_proxy).

The decisions (the target from the environment, the announcement, what a recording must not hold) are pure
functions; `AcceptanceRun` is the thin I/O around the CLI.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from cli_harness import Cli
from kore_resources.utterances import read_utterances
from kore_sandbox import DEMO_APP, DEMO_BOTS, Sandbox, is_loopback_host
from kore_sandbox.recording import Exchange, looks_like_id
from kore_sandbox.recording_proxy import RecordingProxy

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = Path(__file__).resolve().parent / "program"
STACK = "acceptance"

HOST = "KORE_ACCEPTANCE_HOST"
CLIENT_ID = "KORE_ACCEPTANCE_CLIENT_ID"
CLIENT_SECRET = "KORE_ACCEPTANCE_CLIENT_SECRET"
ADMIN_CLIENT_ID = "KORE_ACCEPTANCE_ADMIN_CLIENT_ID"
ADMIN_CLIENT_SECRET = "KORE_ACCEPTANCE_ADMIN_CLIENT_SECRET"
BOT_ID = "KORE_ACCEPTANCE_BOT_ID"
LANGUAGES = "KORE_ACCEPTANCE_LANGUAGES"
RECORDING = "KORE_ACCEPTANCE_RECORDING"
#: The variables that choose a tenant; RECORDING is not one of them (a sandbox run may be recorded too).
TENANT_VARIABLES = (HOST, CLIENT_ID, CLIENT_SECRET, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, BOT_ID, LANGUAGES)

#: The utterances the suite imports, per language (the repository's sample bot's).
FIXTURE_UTTERANCES = {
    "en": ROOT / "utterances" / "travel" / "en",
    "de": ROOT / "utterances" / "travel" / "de",
}
DEFINITION = ROOT / "definitions" / "travel"
#: Where a tenant run's recording goes unless KORE_ACCEPTANCE_RECORDING says otherwise (git ignores it).
TENANT_RECORDING = ROOT / ".pulumi-state" / "acceptance" / "recording.json"
#: The variables the program sets (a plain one and a secured one), and the plain one's value.
VARIABLE_KEYS = (("koreAcceptanceApi", False), ("koreAcceptanceKey", True))
API_URL = "https://kore-acceptance.invalid/api"
VERSION_COMMENT = "kore-resources acceptance run"
_BOT_ID = re.compile(r"st-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class TargetError(Exception):
    """The environment asks for a tenant but does not say enough (the message names the variables)."""


@dataclass(frozen=True, kw_only=True)
class Target:
    """What the suite runs against. `host` is None for the sandbox, which the suite starts itself."""

    kind: Literal["sandbox", "tenant"]
    host: str | None
    client_id: str
    client_secret: str
    admin_client_id: str | None
    admin_client_secret: str | None
    bot_id: str
    languages: tuple[str, ...]

    def credentials_env(self) -> dict[str, str]:
        """The CLI's environment for the credentials (the provider's env fallbacks: never in the state)."""
        env = {"KORE_CLIENT_ID": self.client_id, "KORE_CLIENT_SECRET": self.client_secret}
        if self.admin_client_id is not None and self.admin_client_secret is not None:
            env |= {
                "KORE_ADMIN_CLIENT_ID": self.admin_client_id,
                "KORE_ADMIN_CLIENT_SECRET": self.admin_client_secret,
            }
        return env

    def secrets(self) -> dict[str, str]:
        """What must never reach a recording, by name (the names go into messages, never the values)."""
        named = {
            "the client id": self.client_id,
            "the client secret": self.client_secret,
            "the bot id": self.bot_id,
        }
        if self.admin_client_id is not None and self.admin_client_secret is not None:
            named |= {
                "the admin client id": self.admin_client_id,
                "the admin client secret": self.admin_client_secret,
            }
        return named


#: The sandbox target: the sandbox's demo app and first demo bot, both of its languages.
SANDBOX = Target(
    kind="sandbox",
    host=None,
    client_id=DEMO_APP.client_id,
    client_secret=DEMO_APP.client_secret,
    admin_client_id=None,
    admin_client_secret=None,
    bot_id=DEMO_BOTS[0].bot_id,
    languages=("en", "de"),
)


def target_from_environment(environ: Mapping[str, str]) -> Target:
    """The sandbox without KORE_ACCEPTANCE_HOST; with it, the tenant the variables describe. TargetError
    naming every variable that is missing or wrong (and no secret's value)."""
    given = {name: environ.get(name, "").strip() for name in TENANT_VARIABLES}
    if not given[HOST]:
        stray = [name for name in TENANT_VARIABLES if given[name]]
        if stray:
            raise TargetError(
                f"{', '.join(stray)} {'is' if len(stray) == 1 else 'are'} set but {HOST} is not: set {HOST} "
                f"to your tenant's host (https://...) to run the acceptance suite against it, or unset "
                f"{'it' if len(stray) == 1 else 'them'} to run it against the sandbox"
            )
        return SANDBOX
    problems = []
    host_problem = _host_problem(given[HOST])
    if host_problem is not None:
        problems.append(f"{HOST}={given[HOST]!r}: {host_problem}")
    if not given[BOT_ID]:
        problems.append(
            f"{BOT_ID} is not set: the suite changes the bot it runs against (a full import of a definition "
            "removes everything the definition does not hold), so it runs only against a scratch bot you "
            f"name: {BOT_ID}=st-..."
        )
    elif not _BOT_ID.fullmatch(given[BOT_ID]):
        problems.append(f"{BOT_ID}={given[BOT_ID]!r} is not a bot id: expected st- followed by a UUID")
    for name in (CLIENT_ID, CLIENT_SECRET):
        if not given[name]:
            problems.append(f"{name} is not set: the client id and secret of the bot's app (Train ML, ...)")
    if bool(given[ADMIN_CLIENT_ID]) != bool(given[ADMIN_CLIENT_SECRET]):
        missing = ADMIN_CLIENT_SECRET if given[ADMIN_CLIENT_ID] else ADMIN_CLIENT_ID
        problems.append(f"{missing} is not set: give both admin variables, or neither")
    languages = tuple(part for part in re.split(r"[\s,]+", given[LANGUAGES] or "en") if part)
    unknown = [language for language in languages if language not in FIXTURE_UTTERANCES]
    if unknown or not languages:
        problems.append(
            f"{LANGUAGES}={given[LANGUAGES]!r}: the suite has utterances for {', '.join(FIXTURE_UTTERANCES)} "
            f"only (not {', '.join(unknown) or 'none'})"
        )
    if problems:
        raise TargetError("the acceptance suite's tenant is misconfigured:\n- " + "\n- ".join(problems))
    return Target(
        kind="tenant",
        host=given[HOST].rstrip("/"),
        client_id=given[CLIENT_ID],
        client_secret=given[CLIENT_SECRET],
        admin_client_id=given[ADMIN_CLIENT_ID] or None,
        admin_client_secret=given[ADMIN_CLIENT_SECRET] or None,
        bot_id=given[BOT_ID],
        languages=tuple(dict.fromkeys(languages)),
    )


def _host_problem(host: str) -> str | None:
    parts = urlsplit(host)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "expected the tenant's base URL, e.g. https://platform.kore.ai"
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        return "plain http:// would send the token unencrypted; use https://"
    if parts.path.strip("/") or parts.query:
        return "expected the base URL alone, without a path or query (https://platform.kore.ai)"
    return None


def recording_path(environ: Mapping[str, str], target: Target, scratch: Path) -> Path:
    """KORE_ACCEPTANCE_RECORDING, else `.pulumi-state/acceptance/recording.json` for a tenant (git ignores
    it) and the test's temporary folder for the sandbox."""
    given = environ.get(RECORDING, "").strip()
    if given:
        return Path(given).expanduser().resolve()
    return TENANT_RECORDING if target.kind == "tenant" else scratch / "recording.json"


# -- what a run changes --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class UtteranceFile:
    """One export file the run imports."""

    language: str
    name: str
    utterances: int
    intents: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What a run of the suite's program does to the bot, as the announcement tells it."""

    definition_files: tuple[str, ...]
    dialogs: tuple[str, ...]
    variables: tuple[tuple[str, bool], ...]
    files: tuple[UtteranceFile, ...]
    edited_language: str
    version_comment: str


def plan_of(languages: Sequence[str]) -> Plan:
    """The plan, read from the fixture files."""
    definition = json.loads((DEFINITION / "botDefinition.json").read_text(encoding="utf-8"))
    files = []
    for language in languages:
        for path in sorted(
            p for p in FIXTURE_UTTERANCES[language].iterdir() if p.suffix in (".json", ".csv")
        ):
            read = read_utterances(path)
            intents = tuple(dict.fromkeys(u.intent for u in read))
            files.append(
                UtteranceFile(language=language, name=path.name, utterances=len(read), intents=intents)
            )
    return Plan(
        definition_files=tuple(sorted(p.name for p in DEFINITION.iterdir() if p.is_file())),
        dialogs=tuple(d.get("name", "?") for d in definition.get("dialogs", [])),
        variables=VARIABLE_KEYS,
        files=tuple(files),
        edited_language=languages[0],
        version_comment=VERSION_COMMENT,
    )


def announcement(target: Target, plan: Plan, recording: Path) -> str:
    """What the run will change on the bot, said before anything is changed."""
    where = target.host or "the sandbox"
    variables = ", ".join(
        f"{key} ({'secured, a random value' if secured else 'plain'})" for key, secured in plan.variables
    )
    files = "; ".join(
        f"{f.language}: {f.name} ({f.utterances} utterances of {', '.join(f.intents)})" for f in plan.files
    )
    edited = next(f for f in plan.files if f.language == plan.edited_language)
    trainings = ", ".join(dict.fromkeys(f.language for f in plan.files))
    return "\n".join(
        [
            f"kore-resources acceptance suite: this run changes bot {target.bot_id} on {where} "
            f"(languages {', '.join(target.languages)}):",
            f"  1. A FULL import of the definition definitions/travel ({', '.join(plan.definition_files)}): "
            f"the bot becomes what these files hold (dialogs {', '.join(plan.dialogs)}); every other dialog, "
            "intent, entity and setting of the bot is removed (only the webhook channel stays).",
            f"  2. Bot variables set (created or overwritten): {variables}. No variable is deleted.",
            f"  3. ML utterances imported: {files}. Each import replaces the utterances of the intents in "
            f"its file. Then one {edited.language} utterance is edited and {edited.name} is imported again.",
            f"  4. Trainings of {trainings}; then of {edited.language} again after the edit.",
            f"  5. A publish ({plan.version_comment!r}); then another one after the edit.",
            "  Then a refresh, which reads only, and a destroy, which calls nothing: nothing is undone, as "
            "Kore.ai has no API to undo an import, a training or a publish.",
            f"  Every exchange is recorded, redacted (shapes only: no values, ids or secrets), to:\n"
            f"  {recording}",
        ]
    )


def leaks(text: str, named: Mapping[str, str]) -> list[str]:
    """The names of the values that `text` holds (never the values themselves), and any JWT's."""
    found = [name for name, value in named.items() if value and value in text]
    if re.search(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.", text):
        found.append("a JWT")
    return found


#: The key that marks a secret in a stack export (its value is encrypted afresh by every update).
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"


def masked(value: Any) -> Any:
    """`value` with each secret of a stack export (its ciphertext) as `<secret>`."""
    if isinstance(value, dict):
        return "<secret>" if SECRET_SIGNATURE in value else {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def ids_in(outputs: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Every id-like string of the resources' outputs, named `<resource>.<output>` (import, training and
    file ids, hashes, timestamps excepted): none of them may be in a recording."""
    found = {}
    for resource, values in outputs.items():
        for key, value in values.items():
            if isinstance(value, str) and looks_like_id(value) and not value.startswith("sha256:"):
                found[f"{resource}.{key}"] = value
    return found


# -- the run -------------------------------------------------------------------------------------------------


def copy_program(scratch: Path, languages: Sequence[str]) -> Path:
    """The suite's program in `scratch/program`, with kore_resources, the definition and the utterances it
    imports, so a run edits only its own copy; the venv is the repository's."""
    project = scratch / "program"
    shutil.copytree(PROGRAM, project, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "requirements.txt", project / "requirements.txt")
    shutil.copytree(
        ROOT / "kore_resources", project / "kore_resources", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(DEFINITION, project / "definitions" / "travel")
    for language in languages:
        shutil.copytree(FIXTURE_UTTERANCES[language], project / "utterances" / language)
    (project / "venv").symlink_to(ROOT / "venv")
    return project


@contextmanager
def target_host(target: Target) -> Iterator[tuple[str, Sandbox | None]]:
    """The host to forward to: the tenant's, or a sandbox started here with short jobs (each shorter than
    the provider's first status read, a second, so the status answers seen do not depend on timing; a
    training long enough to be seen running)."""
    if target.host is not None:
        yield target.host, None
        return
    with Sandbox(
        training_seconds=1.5,
        queue_seconds=0.2,
        import_seconds=0.2,
        publish_seconds=0.3,
        definition_import_seconds=0.2,
        export_seconds=0.2,
    ) as sandbox:
        yield sandbox.url, sandbox


class AcceptanceRun:
    """The suite's program in a scratch copy, its `acceptance` stack on a file backend, the CLI with the
    target's credentials, and `kore:host` pointing at the recording proxy."""

    def __init__(self, target: Target, scratch: Path, proxy: RecordingProxy, api_key: str) -> None:
        self.target = target
        self.proxy = proxy
        self.api_key = api_key
        self.project = copy_program(scratch, target.languages)
        self.cli = Cli(self.project, scratch, target.credentials_env())
        config = {
            "kore:host": proxy.url,
            "kore-acceptance:botId": target.bot_id,
            "kore-acceptance:languages": list(target.languages),
            "kore-acceptance:apiUrl": API_URL,
            "kore-acceptance:versionComment": VERSION_COMMENT,
            "kore-acceptance:timeoutSeconds": 600 if target.kind == "sandbox" else 1800,
        }
        (self.project / f"Pulumi.{STACK}.yaml").write_text(
            yaml.safe_dump({"config": config}), encoding="utf-8"
        )
        self.cli("stack", "init", STACK)
        self.cli("config", "set", "--secret", "kore-acceptance:apiKey", api_key, "--stack", STACK)

    def during(self, step: str, *args: str) -> tuple[subprocess.CompletedProcess[str], list[Exchange]]:
        """`pulumi <args>` on the stack, and the exchanges the proxy saw meanwhile (marked `step`)."""
        self.proxy.begin_step(step)
        try:
            result = self.cli(*args, "--stack", STACK)
        finally:
            self.proxy.begin_step(None)
        return result, self.proxy.exchanges_in(step)

    def resources(self) -> dict[str, dict[str, Any]]:
        """Each kore resource's outputs, by name, from `pulumi stack export` (secrets as `<secret>`)."""
        deployment = json.loads(self.cli("stack", "export", "--stack", STACK).stdout)["deployment"]
        return {
            r["urn"].rsplit("::", 1)[1]: masked(r.get("outputs", {}))
            for r in deployment.get("resources", [])
            if ":dynamic/kore:" in r["urn"]
        }

    def planned_steps(self) -> dict[str, str]:
        """What `pulumi preview` would do to each kore resource that is not `same`."""
        preview = json.loads(self.during("preview of the change", "preview", "--json")[0].stdout)
        return {
            step["urn"].rsplit("::", 1)[1]: step["op"]
            for step in preview.get("steps", [])
            if ":dynamic/kore:" in step["urn"] and step["op"] != "same"
        }

    def edit_an_utterance(self) -> tuple[str, str, str]:
        """Edit the first utterance of the first language's first file: (file, intent, new sentence)."""
        language = self.target.languages[0]
        path = sorted(
            p for p in (self.project / "utterances" / language).iterdir() if p.suffix in (".json", ".csv")
        )[0]
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            records = json.loads(text)
            records[0]["sentence"] += " please"  # appended: the entities' offsets stay right
            intent, sentence = records[0]["taskName"], records[0]["sentence"]
            path.write_text(json.dumps(records, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
        else:
            rows = list(csv.DictReader(io.StringIO(text)))
            rows[0]["sentence"] += " bitte"
            intent, sentence = rows[0]["taskName"], rows[0]["sentence"]
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            path.write_text(out.getvalue(), encoding="utf-8")
        return path.name, intent, sentence
