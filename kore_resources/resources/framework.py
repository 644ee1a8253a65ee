"""The provider framework: what every kore_resources resource does the same way, written once.

A resource module declares its fields once, as two frozen dataclasses: its inputs (on `KoreInputs`: the
field names are the wire names in state, defaults and types included) and its outputs (the inputs plus
what its job records, as pulumi-command's state embeds its args). Everything else is derived: the wire
keys, the defaults, the output keys, and the program's side of the resource (its `...Args` and its output
attributes, generated into the module by `scripts/generate_resources.py`). The provider then states
only what differs: which inputs replace the resource and which redo its job, the job itself (given one
`Run`), what a refresh reads, and what forgetting it means.

The engine's calls, the same for every resource (README, "How it works"; the long story per call is in
../../docs/reliability.md):
- `check`: every invalid input is a CheckFailure naming the property; valid inputs are normalized
  (defaults filled in, the host in canonical form). Unknown values (preview) are not judged.
- `diff`: the recorded outputs against the new inputs: a replace key replaces, a trigger key redoes the job
  in place, nothing else does (not credentials, not the provider's code, not `timeout_seconds`).
- `create`/`update`: the job under the bot's lock within one deadline; full outputs, because the engine
  keeps nothing else. A job that does not succeed raises, so nothing is recorded.
- `read` (refresh): the recorded outputs, updated with what the platform reports now.
- `delete`: Kore.ai cannot undo trainings, imports or publishes: the resource is forgotten.

Providers carry no instance state: they are pickled into every stack's state by reference (module and
class name), so nothing may be set on them before serialization; `configure` runs in the plugin process.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, Self, TypeVar

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

from .. import settings
from ..api.errors import AuthenticationError, KoreError
from ..api.languages import language_problem, undocumented_language
from ..api.validation import bot_id_problem, host_problem, normalize_host
from ..errors import ConfigurationError, JobError, JobTimeoutError
from .polling import Verdict, wait_for
from .runtime import RUNTIME, log

if TYPE_CHECKING:
    from ..api.client import KoreClient

_Call = TypeVar("_Call", bound=Callable[..., Any])
_JobError = TypeVar("_JobError", bound=JobError)

# -- declaring fields ---------------------------------------------------------------------------------------

#: The metadata key of a field's program side (`program`).
PROGRAM = "kore_resources.program"


@dataclass(frozen=True)
class ProgramSide:
    """How an input appears in the program's `...Args`, when not as `pulumi.Input[<its type>]` with its
    default and its `#:` comment (scripts/generate_resources.py). `type` and `default` are Python source;
    `doc` replaces the comment where the program passes something else than the wire records; `computed`:
    the resource class computes it (a content hash), so it is no argument at all."""

    type: str | None = None
    default: str | None = None
    doc: str | None = None
    computed: bool = False


def program(
    *, type: str | None = None, default: str | None = None, doc: str | None = None, computed: bool = False
) -> Any:
    """Field metadata for an input whose program side differs (see `ProgramSide`)."""
    return {PROGRAM: ProgramSide(type=type, default=default, doc=doc, computed=computed)}


@dataclass(frozen=True, kw_only=True)
class KoreInputs:
    """The inputs every resource has. A resource's inputs subclass it (a frozen, keyword-only dataclass),
    and the `#:` comment above each field documents it, for the program's `...Args` too: the generator
    (scripts/generate_resources.py) writes the Args and their docstring from the fields."""

    #: The resource's id, formatted with the inputs.
    RESOURCE_ID: ClassVar[str] = "{bot_id}"
    #: The resource in messages, formatted with the inputs (`bot {bot_id} ({language})`).
    DESCRIBE: ClassVar[str]
    #: What the resource's job is called in errors and logs (`JobError.job`): "training", "publish", ...
    JOB: ClassVar[str]

    #: The Kore.ai bot (stream) id, `st-<uuid>`.
    bot_id: str
    #: The platform's base URL, e.g. `https://platform.kore.ai`. None: the host of the resource's `Provider`,
    #: else stack config `kore:host`, then the environment variable `KORE_HOST`.
    host: str = field(metadata=program(default="None", type="pulumi.Input[str] | None"))
    #: Deadline for the whole operation, in seconds. Pulumi's `custom_timeouts` do not reach dynamic
    #: providers, so this is the knob.
    timeout_seconds: float

    # -- derived from the fields ---------------------------------------------------------------------

    @classmethod
    def wire_keys(cls) -> tuple[str, ...]:
        """The inputs' names, as they appear on the wire, in state, and echoed in the outputs."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """The default of every input that has one (filled in by `normalize`)."""
        found: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                found[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                found[f.name] = f.default_factory()
        return found

    @classmethod
    def normalize(cls, news: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults filled in and the host in canonical form, so state compares equal across spellings."""
        inputs = {**cls.defaults(), **news}
        host = inputs.get("host")
        if isinstance(host, str) and host_problem(host) is None:
            inputs["host"] = normalize_host(host)
        return inputs

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> Self:
        """The typed inputs of checked (or recorded) properties."""
        values = cls.normalize(props)
        return cls(**{key: values[key] for key in cls.wire_keys()})

    @classmethod
    def problems(cls, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(property, reason) for every invalid input. Pure; unknown values (preview) are not judged. This
        checks what every resource has (`bot_id`, `host`, `timeout_seconds`, and `language` where there is
        one); a resource adds its own."""
        failures: list[tuple[str, str]] = []
        if news.get("bot_id") is None:
            failures.append(("bot_id", "bot_id is required: the Kore.ai bot (stream) id, st-<uuid>"))
        elif known(news, "bot_id") and (problem := bot_id_problem(news["bot_id"])):
            failures.append(("bot_id", problem))
        language = news.get("language", cls.defaults().get("language"))
        if (
            "language" in cls.wire_keys()
            and known(news, "language")
            and (problem := language_problem(language))
        ):
            failures.append(("language", problem))
        host = news.get("host")
        if host is None:
            failures.append(
                ("host", f"host is required: set stack config {settings.HOST.key} or {settings.HOST.env}")
            )
        elif known(news, "host"):
            issue = host_problem(host) if isinstance(host, str) else f"{host!r} is not a string"
            if issue:
                failures.append(("host", issue))
        if known(news, "timeout_seconds"):
            timeout = news.get("timeout_seconds", cls.defaults()["timeout_seconds"])
            if problem := settings.timeout_problem(timeout):
                failures.append(("timeout_seconds", problem))
        return failures

    # -- in messages ------------------------------------------------------------------------------------

    @property
    def resource_id(self) -> str:
        return self.RESOURCE_ID.format_map(vars(self))

    @property
    def describe(self) -> str:
        """The resource in messages: `bot st-... (en)`."""
        return self.DESCRIBE.format_map(vars(self))

    def job_error(self, error: type[_JobError], message: str, *, job_id: str | None) -> _JobError:
        """An error of this resource's job: the resource named first (`describe`), then `message`; it carries
        the job's kind, the bot, the job's id where known, and the language of a resource of one bot
        language."""
        return error(
            f"{self.describe}: {message}",
            job=self.JOB,
            bot_id=self.bot_id,
            job_id=job_id,
            language=getattr(self, "language", None),
        )

    def timeout_error(self, job: str, last_status: str | None, redo: str, *, job_id: str | None) -> JobError:
        """The one wording of every job's timeout: which job (`import bir-…`), the last status read, that
        nothing was recorded so the next `pulumi up` `redo`es it (`imports`, `trains`), and the fix."""
        return self.job_error(
            JobTimeoutError,
            f"{job} did not finish within timeout_seconds={self.timeout_seconds:g} (last status: "
            f"{last_status or 'none read'}). It may still finish on Kore.ai; nothing was recorded, so the "
            f"next `pulumi up` {redo} again. Raise timeout_seconds for large bots.",
            job_id=job_id,
        )


@dataclass(frozen=True, kw_only=True)
class ImportJobOutputs:
    """What a resource whose job is one import (MlUtterances, BotDefinition) records of it."""

    #: The `bir-...` id of the import request.
    import_id: str | None = None
    #: `success`, or after `pulumi refresh` what the import status reports.
    import_status: str | None = None
    #: When the import was recorded (ISO 8601, UTC).
    imported_at: str | None = None


Inputs = TypeVar("Inputs", bound=KoreInputs)
Outputs = TypeVar("Outputs", bound=KoreInputs)
Prepared = TypeVar("Prepared")


def output_keys(outputs_type: type[KoreInputs], inputs_type: type[KoreInputs]) -> tuple[str, ...]:
    """What a resource's job adds to its inputs: the outputs' fields that are not inputs."""
    return tuple(key for key in outputs_type.wire_keys() if key not in inputs_type.wire_keys())


def to_wire(outputs: KoreInputs) -> dict[str, Any]:
    """Full outputs on the wire: every field (inputs echoed: the engine diffs new inputs against the
    recorded *outputs*), whole seconds kept whole (protobuf Structs carry only doubles)."""
    wire = {f.name: getattr(outputs, f.name) for f in dataclasses.fields(outputs)}
    wire["timeout_seconds"] = whole_seconds(outputs.timeout_seconds)
    return wire


def from_recorded(outputs_type: type[Outputs], props: Mapping[str, Any]) -> Outputs:
    """The typed outputs a stack recorded. Every output has a default (None): a record may lack what its
    job records (one added in a later release, or a resource read without a job, as `pulumi import`
    does), and reads as one that did not say. A record without a required input is not a record of this
    resource."""
    values = outputs_type.normalize(props)
    missing = [
        f.name
        for f in dataclasses.fields(outputs_type)
        if f.name not in values
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigurationError(
            f"the recorded state of {props.get('bot_id')} lacks {', '.join(missing)}: it was not written by "
            "this resource's provider. Run `pulumi refresh` after an `up`, or remove the resource from the "
            "state (`pulumi state delete`)."
        )
    return outputs_type(
        **{f.name: values[f.name] for f in dataclasses.fields(outputs_type) if f.name in values}
    )


# -- pure decisions shared by every resource ----------------------------------------------------------------


def known(news: Mapping[str, Any], key: str) -> bool:
    """`key` is present and not an unknown value (preview)."""
    return key in news and not isinstance(news[key], Unknown)


def differs(old: Any, new: Any) -> bool:
    # An unknown new value (preview) may differ: report the change, as the engine would.
    return isinstance(new, Unknown) or old != new


def decide_diff(
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    replace_keys: tuple[str, ...],
    trigger_keys: tuple[str, ...],
) -> DiffResult:
    """Compare the recorded outputs (`olds`) with the new inputs: replace on a replace key, redo the job in
    place on a trigger key, nothing otherwise."""
    replaces = [key for key in replace_keys if differs(olds.get(key), news.get(key))]
    redo = any(differs(olds.get(key), news.get(key)) for key in trigger_keys)
    return DiffResult(changes=bool(replaces) or redo, replaces=replaces, delete_before_replace=False)


def whole_seconds(value: float) -> float | int:
    """Protobuf Structs carry only doubles; keep whole seconds whole in state."""
    return int(value) if float(value).is_integer() else value


@dataclass(frozen=True)
class Deadline:
    """When an operation started, and by when it must be done (on the runtime's clock)."""

    started: float
    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        now = RUNTIME.clock.monotonic()
        return cls(now, now + seconds)

    @property
    def elapsed(self) -> float:
        return RUNTIME.clock.monotonic() - self.started


class ImportJobRead(Protocol):
    """A read of an import job (`MlImportJob`, `BotImportJob`): its id and status."""

    @property
    def import_id(self) -> str: ...

    @property
    def status(self) -> str: ...


_ImportJob = TypeVar("_ImportJob", bound=ImportJobRead)


@dataclass(frozen=True)
class Run(Generic[Inputs, Outputs, Prepared]):
    """One create or update, as a resource's `job` sees it."""

    inputs: Inputs
    #: An HTTP client for the inputs' host (`KoreProvider.client`).
    client: KoreClient
    #: The operation's one deadline, `timeout_seconds` after it started.
    deadline: Deadline
    #: What `prepare` returned (work that needed no turn on the bot, e.g. the uploaded files).
    prepared: Prepared
    #: The outputs recorded before (None on create).
    recorded: Outputs | None

    def wait_for_import_job(
        self,
        job: _ImportJob,
        read: Callable[[], _ImportJob],
        verdict: Callable[[_ImportJob], Verdict],
        *,
        since: float,
    ) -> _ImportJob:
        """Read an import job's status until `verdict` says it is no longer waiting, logging progress; the
        last status read. At the deadline: the one wording of every job's timeout."""
        if verdict(job) is not Verdict.WAITING:
            return job
        inputs = self.inputs

        def timed_out(last: _ImportJob | None) -> Exception:
            status = (last or job).status
            return inputs.timeout_error(f"import {job.import_id}", status, "imports", job_id=job.import_id)

        _, last = wait_for(
            read,
            lambda status, _elapsed: verdict(status),
            clock=RUNTIME.clock,
            since=since,
            deadline=self.deadline.at,
            timed_out=timed_out,
            progress=lambda status: f"import {status.import_id} {status.status}",
            log=lambda message: log(f"{inputs.describe}: {message}"),
            describe=f"{inputs.describe}: import {job.import_id}",
        )
        return last


@contextmanager
def naming(inputs: KoreInputs) -> Iterator[None]:
    """Every error of a resource's operation names the resource first (`bot st-... (en): ...`): an error of
    the HTTP layer (a 401, a refused connection, missing credentials) knows the call, not the resource."""
    try:
        yield
    except KoreError as error:
        message = str(error)
        if not message.startswith(inputs.describe):
            error.args = (f"{inputs.describe}: {message}", *error.args[1:])
        raise


@contextmanager
def stale_credentials_hint() -> Iterator[None]:
    """A 401 in a refresh says what a user cannot guess: the engine configured the refresh from the
    credentials the last `up` recorded, not from the stack config as it is now."""
    try:
        yield
    except AuthenticationError as error:
        error.args = (
            f"{error} During `pulumi refresh` the engine configures the provider with the credentials the "
            "last `pulumi up` recorded, not the stack config as it is now: after fixing kore:clientId or "
            "kore:clientSecret, run `pulumi refresh --run-program`, or `pulumi up` first (KORE_* environment "
            "variables are read as they are now).",
            *error.args[1:],
        )
        raise


def short_errors(call: _Call) -> _Call:
    """The plugin reports an exception to the engine as its whole traceback, which `pulumi up` prints as
    the resource's error. Re-raising our own errors from here drops the frames inside kore_resources, so
    the error is as short as the SDK allows and ends with the one line that says what to do."""

    @functools.wraps(call)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except KoreError as error:
            raise error.with_traceback(None) from None

    return wrapper  # type: ignore[return-value]


# -- the provider -------------------------------------------------------------------------------------------


class KoreProvider(ResourceProvider, Generic[Inputs, Outputs, Prepared]):
    """The shared lifecycle of every kore_resources provider; see the module docstring."""

    # Nothing secret is captured in the pickle (credentials come from config or the environment at run
    # time), so `__provider` need not be encrypted in state; encrypting it costs every operation.
    serialize_as_secret_always = False

    #: The resource's inputs and outputs (the outputs embed the inputs).
    inputs_type: type[Inputs]
    outputs_type: type[Outputs]
    #: Another value of any of these is another resource: replace.
    replace_keys: ClassVar[tuple[str, ...]] = ()
    #: A new value of any of these redoes the job in place.
    trigger_keys: ClassVar[tuple[str, ...]] = ()
    #: The calls need an Admin Console app (bot import, publish): the admin credentials, if set.
    admin: ClassVar[bool] = False
    #: What deleting the resource means, for the log; formatted with the recorded outputs (`{bot_id}` ...).
    #: Kore.ai cannot undo trainings, imports or publishes, so forgetting is all there is.
    forgotten: ClassVar[str] = "bot {bot_id}: forgetting the resource"

    # -- what each resource states ---------------------------------------------------------------------

    def prepare(self, inputs: Inputs, client: KoreClient, deadline: Deadline) -> Prepared:
        """Work that needs no turn on the bot (e.g. uploading a file); its result goes to `job`."""
        return None  # type: ignore[return-value]  # a resource with work to prepare overrides this

    def job(self, run: Run[Inputs, Outputs, Prepared]) -> Outputs:
        """The job, run under the bot's lock. Returns full outputs; raises unless the job succeeded."""
        raise NotImplementedError

    def refresh(self, inputs: Inputs, recorded: Outputs, client: KoreClient, deadline: Deadline) -> Outputs:
        """The recorded outputs, updated with what the platform reports now (default: unchanged)."""
        return recorded

    # -- the engine's calls ----------------------------------------------------------------------------

    def configure(self, req: ConfigureRequest) -> None:
        # Runs in the plugin process, after unpickling: nothing read here is ever serialized into state.
        self._config_get: Callable[[str], Any] = req.config.get

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [CheckFailure(prop, reason) for prop, reason in self.inputs_type.problems(news)]
        return CheckResult(self.inputs_type.normalize(news) if not failures else news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return decide_diff(olds, news, self.replace_keys, self.trigger_keys)

    @short_errors
    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs_type.from_props(props)
        return CreateResult(inputs.resource_id, to_wire(self._run(inputs, None)))

    @short_errors
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        recorded = from_recorded(self.outputs_type, olds)
        return UpdateResult(to_wire(self._run(self.inputs_type.from_props(news), recorded)))

    @short_errors
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = self.inputs_type.from_props(props)
        deadline = Deadline.after(min(inputs.timeout_seconds, settings.REFRESH_READ_SECONDS))
        with naming(inputs), stale_credentials_hint():
            recorded = from_recorded(self.outputs_type, props)
            refreshed = to_wire(self.refresh(inputs, recorded, self.client(inputs.host), deadline))
        # What a record lacks stays absent unless the refresh read it: a refresh never invents a change.
        outputs = output_keys(self.outputs_type, self.inputs_type)
        read = {k: v for k, v in refreshed.items() if k in props or (k in outputs and v is not None)}
        return ReadResult(id_, read)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        log(self.forgotten.format_map(defaultdict(lambda: None, props)))

    # -- plumbing --------------------------------------------------------------------------------------

    def _run(self, inputs: Inputs, recorded: Outputs | None) -> Outputs:
        deadline = Deadline.after(inputs.timeout_seconds)
        with naming(inputs):
            client = self.client(inputs.host)
            prepared = self.prepare(inputs, client, deadline)
            with RUNTIME.one_job_per_bot(
                inputs.host, inputs.bot_id, deadline.at, lambda: self.turn_timed_out(inputs)
            ):
                return self.job(Run(inputs, client, deadline, prepared, recorded))

    @staticmethod
    def turn_timed_out(inputs: KoreInputs) -> KoreError:
        """Why a job never started: the bot's other jobs in this process took until the deadline."""
        return inputs.job_error(
            JobTimeoutError,
            f"timed out after timeout_seconds={inputs.timeout_seconds:g} waiting for another training, "
            "import or publish of this bot to finish first. Nothing was sent or recorded; raise "
            "timeout_seconds.",
            job_id=None,
        )

    def client(self, host: str) -> KoreClient:
        """An HTTP client for `host` with the credentials from stack config or the environment, on this
        worker thread's keep-alive session, sharing the process's rate budget and clock."""
        from ..api.client import KoreClient  # first use: see Runtime.session()

        config_get = getattr(self, "_config_get", lambda _key: None)
        return KoreClient(
            host,
            settings.resolve_credentials(config_get, admin=self.admin),
            session=RUNTIME.session(),
            budget=RUNTIME.budget,
            reachability=RUNTIME.reachability(),
            sleep=RUNTIME.clock.sleep,
            clock=RUNTIME.clock.monotonic,
        )


# -- the program's side -------------------------------------------------------------------------------------


def program_config_get(key: str) -> Any:
    """A namespaced stack config value as the program sees it (`kore:host` -> `pulumi.Config("kore")`)."""
    namespace, name = key.split(":", 1)
    return pulumi.Config(namespace).get(name)


def default_host() -> str:
    """For a resource whose `host` is None: `kore:host`, else `KORE_HOST` (settings.resolve_host)."""
    return settings.resolve_host(program_config_get)


# -- generated by scripts/generate_resources.py (do not edit): KoreArgs, KoreAttributes, ImportJobAttributes


@dataclass(kw_only=True)
class KoreArgs:
    """What every resource's `...Args` takes, each a plain value or a `pulumi.Input`.

    - `bot_id`: The Kore.ai bot (stream) id, `st-<uuid>`.
    - `host`: The platform's base URL, e.g. `https://platform.kore.ai`. None: the host of the resource's
      `Provider`, else stack config `kore:host`, then the environment variable `KORE_HOST`.
    - `timeout_seconds`: Deadline for the whole operation, in seconds. Pulumi's `custom_timeouts` do not reach
      dynamic providers, so this is the knob.
    """

    bot_id: pulumi.Input[str]
    host: pulumi.Input[str] | None = None
    timeout_seconds: pulumi.Input[float]


class KoreAttributes:
    """The outputs every resource has: the inputs every resource has."""

    bot_id: pulumi.Output[str]
    host: pulumi.Output[str]
    timeout_seconds: pulumi.Output[float]


class ImportJobAttributes:
    """The outputs of a resource whose job is one import: what `ImportJobOutputs` records."""

    import_id: pulumi.Output[str | None]
    import_status: pulumi.Output[str | None]
    imported_at: pulumi.Output[str | None]


# -- end of the generated part --


_Args = TypeVar("_Args")


class KoreResource(Resource, Generic[_Args]):
    """The resource class every kore_resources resource shares: its properties are its `...Args` fields
    (the wire names), with the host defaulted from the stack config and every output declared (as None,
    so it resolves, unknown during a preview that plans a change). A resource states its provider, and in
    `wire_inputs` the properties that are not its Args fields as given (paths made project-relative,
    content hashed when the program runs)."""

    #: The resource's provider; an instance of it is pickled into every resource's state.
    provider_class: ClassVar[type[KoreProvider[Any, Any, Any]]]

    def __init__(self, resource_name: str, args: _Args, opts: pulumi.ResourceOptions | None = None) -> None:
        provider = self.provider_class
        props = {f.name: getattr(args, f.name) for f in dataclasses.fields(args)}  # type: ignore[arg-type]
        props |= self.wire_inputs(resource_name, args)
        if props.get("host") is None:
            # The resource's explicit Provider's host (kore_provider.Provider), else the stack's.
            props["host"] = getattr(opts.provider if opts else None, "host", None) or default_host()
        props |= dict.fromkeys(output_keys(provider.outputs_type, provider.inputs_type))
        super().__init__(provider(), resource_name, props, opts)
        if "language" in props:
            pulumi.Output.from_input(props["language"]).apply(self._warn_of_an_undocumented_language)

    def _warn_of_an_undocumented_language(self, language: object) -> None:
        """At preview, on the resource's row: a language code Kore.ai's docs do not list (it may still be
        the bot's: the platform decides, and its refusal names the language)."""
        well_formed = isinstance(language, str) and language_problem(language) is None
        if well_formed and (warning := undocumented_language(str(language))):
            pulumi.log.warn(warning, resource=self)

    @classmethod
    def wire_inputs(cls, resource_name: str, args: _Args) -> dict[str, Any]:
        """The properties that differ from the Args fields as given (default: none)."""
        return {}
