"""The provider framework: what every kore_resources provider does the same way, written once.

A resource module states only what differs: its inputs (a frozen dataclass on `WireInputs`: its fields,
defaults, validation, id and name in messages), which inputs replace it and which redo its job
(`replace_keys`, `trigger_keys`), what its job adds to the outputs (`output_keys`), its job (`job`, given
one `Run`: run under the bot's lock within one deadline), what a refresh reads (`refresh`), and what
forgetting it means (`forgotten`). Its resource class (`KoreResource`) names the provider, and any
property that is not an Args field as given (`wire_inputs`). The framework turns that into the engine's
calls:

- `check`: every invalid input is a CheckFailure naming the property; valid inputs are normalized
  (defaults filled in, the host in canonical form), so state compares equal across spellings. Unknown
  values (preview) are not judged. No network call.
- `diff`: the recorded *outputs* (what the engine sends as `olds`) against the new inputs. Another value of
  a replace key is another resource: replace (create the new one first, then forget the old one). A new
  value of a trigger key redoes the job in place. Nothing else does: not credentials (never inputs), not
  the provider's code (`__provider`), not how to wait (`timeout_seconds`). No network call.
- `create`/`update`: the job, under the bot's lock (`RUNTIME.one_job_per_bot`) with one deadline of
  `timeout_seconds`; full outputs (the inputs echoed, plus what the job recorded), because the engine keeps
  nothing else. A job that does not succeed raises, so nothing is recorded and the next `up` retries.
- `read` (refresh): the recorded outputs, updated with what the platform reports now.
- `delete`: Kore.ai cannot undo trainings, imports or publishes; the resource is forgotten, with a line
  saying so.

Providers carry no instance state: they are pickled into every stack's state (by reference: module and
class name), so nothing may be set on them before serialization; `configure` runs in the plugin process.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
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
from ..api.errors import KoreError
from ..api.validation import bot_id_problem, host_problem, language_problem, normalize_host
from ..errors import JobError, JobTimeoutError
from .polling import Verdict, wait_for
from .runtime import RUNTIME, log

if TYPE_CHECKING:
    from ..api.client import KoreClient

_Call = TypeVar("_Call", bound=Callable[..., Any])
_Args = TypeVar("_Args")
_JobError = TypeVar("_JobError", bound=JobError)


class ImportStatus(Protocol):
    """A read of an import job's status, as the API layer types them (`ImportJob`, `BotImportJob`)."""

    @property
    def import_id(self) -> str: ...

    @property
    def status(self) -> str: ...


_Import = TypeVar("_Import", bound=ImportStatus)


class WireInputs:
    """Base of a resource's checked inputs, a frozen dataclass whose field names are the wire names (in
    state, on the wire, and echoed in the outputs). A resource states its validation (`validate`), its
    defaults (`DEFAULTS`), its id and its name in messages (`RESOURCE_ID`, `DESCRIBE`); the rest is
    shared."""

    #: Filled in by `normalize` where an input is absent.
    DEFAULTS: ClassVar[Mapping[str, Any]] = {}
    #: The resource's id, formatted with the inputs (`{bot_id}/{language}`).
    RESOURCE_ID: ClassVar[str] = "{bot_id}"
    #: The resource in messages, formatted with the inputs (`bot {bot_id} ({language})`).
    DESCRIBE: ClassVar[str]

    bot_id: str
    host: str
    timeout_seconds: float

    @classmethod
    def validate(cls, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(property, reason) for every invalid input. Pure; unknown values (preview) are not judged."""
        raise NotImplementedError

    @classmethod
    def normalize(cls, news: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults filled in and the host in canonical form, so state compares equal across spellings."""
        return normalized(news, cls.DEFAULTS)

    @classmethod
    def wire_keys(cls) -> tuple[str, ...]:
        """The inputs' names, as they appear on the wire, in state, and echoed in the outputs."""
        return tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> Self:
        """The typed inputs of checked (or recorded) properties."""
        values = cls.normalize(props)
        return cls(**{key: values[key] for key in cls.wire_keys()})

    @property
    def resource_id(self) -> str:
        return self.RESOURCE_ID.format_map(vars(self))

    @property
    def describe(self) -> str:
        """The resource in messages: `bot st-... (en)`."""
        return self.DESCRIBE.format_map(vars(self))

    def job_error(self, error: type[_JobError], message: str, *, job_id: str | None) -> _JobError:
        """An error of this resource's job: the resource named first (`describe`), then `message`; it carries
        the bot, the job's id where known, and the language of a resource of one bot language."""
        return error(
            f"{self.describe}: {message}",
            bot_id=self.bot_id,
            job_id=job_id,
            language=getattr(self, "language", None),
        )

    def timeout_error(
        self, error: type[_JobError], job: str, last_status: str | None, redo: str, *, job_id: str | None
    ) -> _JobError:
        """The one wording of every job's timeout: which job (`import bir-…`), the last status read, that
        nothing was recorded so the next `pulumi up` `redo`es it (`imports`, `trains`), and the fix."""
        return self.job_error(
            error,
            f"{job} did not finish within timeout_seconds={self.timeout_seconds:g} (last status: "
            f"{last_status or 'none read'}). It may still finish on Kore.ai; nothing was recorded, so the "
            f"next `pulumi up` {redo} again. Raise timeout_seconds for large bots.",
            job_id=job_id,
        )

    def outputs(self, **recorded: Any) -> dict[str, Any]:
        """Full outputs: every input echoed (the engine diffs new inputs against the recorded *outputs*),
        plus what the job recorded."""
        wire = {key: getattr(self, key) for key in self.wire_keys()}
        return {**wire, "timeout_seconds": whole_seconds(self.timeout_seconds), **recorded}


Inputs = TypeVar("Inputs", bound=WireInputs)

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


def common_failures(news: Mapping[str, Any], inputs_type: type[WireInputs]) -> list[tuple[str, str]]:
    """(property, reason) for the inputs every resource shares: `bot_id`, `language`, `host` and
    `timeout_seconds`, those that `inputs_type` has. Unknown values (preview) are not judged."""
    keys = inputs_type.wire_keys()
    default_timeout = inputs_type.DEFAULTS["timeout_seconds"]
    failures: list[tuple[str, str]] = []
    if "bot_id" in keys:
        if news.get("bot_id") is None:
            failures.append(("bot_id", "bot_id is required: the Kore.ai bot (stream) id, st-<uuid>"))
        elif known(news, "bot_id") and (problem := bot_id_problem(news["bot_id"])):
            failures.append(("bot_id", problem))
    if "language" in keys and known(news, "language") and (problem := language_problem(news["language"])):
        failures.append(("language", problem))
    if "host" in keys:
        host = news.get("host")
        if host is None:
            failures.append(
                ("host", f"host is required: set stack config {settings.HOST.key} or {settings.HOST.env}")
            )
        elif known(news, "host"):
            issue = host_problem(host) if isinstance(host, str) else f"{host!r} is not a string"
            if issue:
                failures.append(("host", issue))
    if "timeout_seconds" in keys:
        timeout = news.get("timeout_seconds", default_timeout)
        if known(news, "timeout_seconds") and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0
        ):
            failures.append(("timeout_seconds", f"{timeout!r} is not a positive number of seconds"))
    return failures


def normalized(news: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults filled in and the host in canonical form, so state compares equal across spellings."""
    inputs = {**defaults, **news}
    host = inputs.get("host")
    if isinstance(host, str) and host_problem(host) is None:
        inputs["host"] = normalize_host(host)
    return inputs


def kept_outputs(props: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The recorded values of `keys` (refresh keeps them; `__provider` and anything else is dropped)."""
    return {key: props[key] for key in keys if key in props}


def turn_timeout_message(inputs: WireInputs) -> str:
    """Why a job never started: the bot's other jobs in this process took until the deadline."""
    return (
        f"timed out after timeout_seconds={inputs.timeout_seconds:g} waiting for another training, import "
        "or publish of this bot to finish first. Nothing was sent or recorded; raise timeout_seconds."
    )


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


@dataclass(frozen=True)
class Run(Generic[Inputs]):
    """One create or update, as a resource's `job` sees it."""

    inputs: Inputs
    #: An HTTP client for the inputs' host (`KoreProvider.client`).
    client: KoreClient
    #: The operation's one deadline, `timeout_seconds` after it started.
    deadline: Deadline
    #: What `prepare` returned.
    prepared: Any
    #: The outputs recorded before (None on create).
    recorded: Mapping[str, Any] | None

    def wait_for_import(
        self,
        job: _Import,
        read: Callable[[], _Import],
        verdict: Callable[[_Import], Verdict],
        timeout_error: type[JobTimeoutError],
        *,
        since: float,
    ) -> _Import:
        """Read an import job's status (ML import, bot import: `import_id`, `status`) until `verdict` says it
        is no longer waiting, logging progress; the last status read. The deadline raises `timeout_error`
        in the one wording of every job's timeout."""
        if verdict(job) is not Verdict.WAITING:
            return job
        inputs = self.inputs

        def timed_out(last: _Import | None) -> Exception:
            return inputs.timeout_error(
                timeout_error,
                f"import {job.import_id}",
                (last or job).status,
                "imports",
                job_id=job.import_id,
            )

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
def naming(inputs: WireInputs) -> Iterator[None]:
    """Every error of a resource's operation names the resource first (`bot st-... (en): ...`): an error of
    the HTTP layer (a 401, a refused connection, missing credentials) knows the call, not the resource."""
    try:
        yield
    except KoreError as error:
        message = str(error)
        if not message.startswith(inputs.describe):
            error.args = (f"{inputs.describe}: {message}", *error.args[1:])
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


# -- the framework ------------------------------------------------------------------------------------------


class KoreProvider(ResourceProvider, Generic[Inputs]):
    """The shared lifecycle of every kore_resources provider; see the module docstring."""

    # Nothing secret is captured in the pickle (credentials come from config or the environment at run
    # time), so `__provider` need not be encrypted in state; encrypting it costs every operation.
    serialize_as_secret_always = False

    #: The resource's checked inputs.
    inputs_type: type[Inputs]
    #: Another value of any of these is another resource: replace.
    replace_keys: ClassVar[tuple[str, ...]] = ()
    #: A new value of any of these redoes the job in place.
    trigger_keys: ClassVar[tuple[str, ...]] = ()
    #: What the job adds to the inputs in the outputs.
    output_keys: ClassVar[tuple[str, ...]] = ()
    #: The calls need an Admin Console app (bot import, publish): the admin credentials, if set.
    admin: ClassVar[bool] = False
    #: The resource's timeout error (a `JobTimeoutError`), raised when the job or its turn runs out of time.
    timeout_error: ClassVar[type[JobTimeoutError]] = JobTimeoutError
    #: What deleting the resource means, for the log; formatted with the recorded outputs (`{bot_id}` ...).
    #: Kore.ai cannot undo trainings, imports or publishes, so forgetting is all there is.
    forgotten: ClassVar[str] = "bot {bot_id}: forgetting the resource"

    # -- what each resource states ---------------------------------------------------------------------

    def prepare(self, inputs: Inputs, client: KoreClient, deadline: Deadline) -> Any:
        """Work that needs no turn on the bot (e.g. uploading a file); its result goes to `job`."""
        return None

    def job(self, run: Run[Inputs]) -> dict[str, Any]:
        """The job, run under the bot's lock. Returns full outputs; raises unless the job succeeded."""
        raise NotImplementedError

    def refresh(
        self, inputs: Inputs, recorded: dict[str, Any], client: KoreClient, deadline: Deadline
    ) -> dict[str, Any]:
        """The recorded outputs, updated with what the platform reports now (default: unchanged)."""
        return recorded

    @property
    def recorded_keys(self) -> tuple[str, ...]:
        """Everything the resource records (its inputs and outputs): what refresh keeps."""
        return (*self.inputs_type.wire_keys(), *self.output_keys)

    # -- the engine's calls ----------------------------------------------------------------------------

    def configure(self, req: ConfigureRequest) -> None:
        # Runs in the plugin process, after unpickling: nothing read here is ever serialized into state.
        self._config_get: Callable[[str], Any] = req.config.get

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [CheckFailure(prop, reason) for prop, reason in self.inputs_type.validate(news)]
        return CheckResult(self.inputs_type.normalize(news) if not failures else news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return decide_diff(olds, news, self.replace_keys, self.trigger_keys)

    @short_errors
    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs_type.from_props(props)
        return CreateResult(inputs.resource_id, self._run(inputs, None))

    @short_errors
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._run(self.inputs_type.from_props(news), olds))

    @short_errors
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = self.inputs_type.from_props(props)
        deadline = Deadline.after(min(inputs.timeout_seconds, settings.REFRESH_READ_SECONDS))
        recorded = kept_outputs(props, self.recorded_keys)
        with naming(inputs):
            return ReadResult(id_, self.refresh(inputs, recorded, self.client(inputs.host), deadline))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        log(self.forgotten.format_map(defaultdict(lambda: None, props)))

    # -- plumbing --------------------------------------------------------------------------------------

    def _run(self, inputs: Inputs, recorded: Mapping[str, Any] | None) -> dict[str, Any]:
        deadline = Deadline.after(inputs.timeout_seconds)
        with naming(inputs):
            client = self.client(inputs.host)
            prepared = self.prepare(inputs, client, deadline)
            with RUNTIME.one_job_per_bot(
                inputs.host, inputs.bot_id, deadline.at, lambda: self.turn_timed_out(inputs)
            ):
                return self.job(Run(inputs, client, deadline, prepared, recorded))

    def turn_timed_out(self, inputs: Inputs) -> KoreError:
        """The error when the bot's turn (other jobs of the bot in this process) does not come in time."""
        return inputs.job_error(self.timeout_error, turn_timeout_message(inputs), job_id=None)

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


def program_config_get(key: str) -> Any:
    """A namespaced stack config value as the program sees it (`kore:host` -> `pulumi.Config("kore")`)."""
    namespace, name = key.split(":", 1)
    return pulumi.Config(namespace).get(name)


def default_host() -> str:
    """For a resource whose `host` is None: `kore:host`, else `KORE_HOST` (settings.resolve_host)."""
    return settings.resolve_host(program_config_get)


def resource_props(args: Any, output_keys: tuple[str, ...], **inputs: Any) -> dict[str, Any]:
    """A resource's properties from its Args dataclass (field names are the wire names), with `inputs`
    overriding some, the host defaulted from the stack config, and every output declared as None so it
    resolves (unknown during a preview that plans a change)."""
    props = {f.name: getattr(args, f.name) for f in dataclasses.fields(args)} | inputs
    if props.get("host") is None:
        props["host"] = default_host()
    return props | dict.fromkeys(output_keys)


class KoreResource(Resource, Generic[_Args]):
    """The resource class every kore_resources resource shares: built from its Args dataclass (field names
    are the wire names) by `resource_props`, with its provider. A resource states its provider, and in
    `wire_inputs` the properties that are not its Args fields as given (paths made project-relative, content
    hashed when the program runs)."""

    #: The resource's provider; an instance of it is pickled into every resource's state.
    provider_class: ClassVar[type[KoreProvider[Any]]]

    bot_id: pulumi.Output[str]
    host: pulumi.Output[str]
    timeout_seconds: pulumi.Output[float]

    def __init__(self, resource_name: str, args: _Args, opts: pulumi.ResourceOptions | None = None) -> None:
        props = resource_props(args, self.provider_class.output_keys, **self.wire_inputs(resource_name, args))
        super().__init__(self.provider_class(), resource_name, props, opts)

    @classmethod
    def wire_inputs(cls, resource_name: str, args: _Args) -> dict[str, Any]:
        """The properties that differ from the Args fields as given (default: none)."""
        return {}


class ImportResource(KoreResource[_Args]):
    """A resource whose job is one import into the bot (`MlUtterances`, `BotDefinition`): the outputs the
    import records, besides the inputs."""

    #: What the files meant when the program ran; what the last successful import imported.
    content_hash: pulumi.Output[str]
    #: The `bir-...` id of the import request.
    import_id: pulumi.Output[str]
    #: `success`, or after `pulumi refresh` what the import status reports.
    import_status: pulumi.Output[str]
    #: When the import was recorded (ISO 8601, UTC).
    imported_at: pulumi.Output[str]
