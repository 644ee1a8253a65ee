"""Drive the real dynamic-provider plugin process over gRPC, the way the Pulumi engine does.

The fast layer below the real CLI (tests/cli/test_cli_*_e2e.py): `python -u -m pulumi.dynamic` started in the
project directory (exactly what the CLI's `pulumi-resource-pulumi-python` shim runs), the provider
serialized with the SDK's own serializer, and the calls sent as the engine v3.274 sends them. What the
real engine showed (recorded with PULUMI_DEBUG_GRPC, README "How it is tested") and this harness copies:

- each pass (preview, update, refresh, destroy) starts a fresh plugin process, which gets GetPluginInfo,
  then Configure with the whole stack config: namespaced keys, every value a string (objects and lists
  JSON-encoded), secret values wrapped as secrets (the plugin unwraps them);
- a new resource: Check(olds={}) then Create; an existing one: Check(olds=old *inputs*), then
  Diff(olds=old *outputs*, old_inputs), then Update(olds=old outputs) or a create-before-delete replace;
- Create/Update carry no timeout (no customTimeouts set); computed inputs are the unknown sentinel in
  preview;
- secrets: the dynamic plugin answers Configure with acceptSecrets=False, so every property of every call
  arrives with its secrets stripped (`strip_secrets`), and the engine marks what Check, Create, Update and
  Read return secret wherever what it sent held a secret at the same path (`annotate_secrets`);
- refresh: Read(properties=old outputs, inputs=old inputs), then Diff(olds=the refreshed outputs,
  news=old inputs), in a preview pass and again in the real one;
- destroy: Delete(properties=old outputs), dependents first.

`MiniEngine` adds the engine's step logic for one flat stack (create, same, update, create-before-delete
replace, delete) so tests read like `pulumi up` runs. By default its passes share one plugin process, which
is faster; `plugin_factory` gives each pass a process of its own, as the engine does.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2 as pb
from pulumi.runtime.proto import provider_pb2_grpc

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT = "kore-bots"
TYPE = "pulumi-python:dynamic/kore:BotTraining"
UNKNOWN = rpc.UNKNOWN
#: Stack config keys the engine sends as secrets when they were set with `pulumi config set --secret`.
SECRET_CONFIG_KEYS = frozenset({"kore:clientSecret"})


def _wire(value: Any) -> Any:
    """Unknown values travel as the engine's sentinel string."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def through_the_plugin(props: dict[str, Any]) -> dict[str, Any]:
    """Outputs as the dynamic provider plugin serializes them into the state, and as the next call reads
    them back (pulumi/dynamic/__main__.py: `rpc.serialize_properties`, `rpc.deserialize_properties`)."""
    return rpc.deserialize_properties(asyncio.run(rpc.serialize_properties(props, {})))


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(_wire(dict(props)))
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    return rpc.deserialize_properties(struct, keep_unknowns=True)


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def strip_secrets(value: Any) -> Any:
    """The engine's marshalling with KeepSecrets=false: each secret replaced by its plain value."""
    if is_secret(value):
        return strip_secrets(value["value"])
    if isinstance(value, dict):
        return {k: strip_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_secrets(v) for v in value]
    return value


def annotate_secrets(outputs: Any, inputs: Any) -> Any:
    """The engine's `annotateSecrets` (pkg/resource/plugin/provider_plugin.go): an output whose input at the
    same path (key by key, item by item) was a secret becomes a secret."""
    if is_secret(inputs):
        return outputs if is_secret(outputs) else rpc.wrap_rpc_secret(outputs)
    if isinstance(inputs, dict) and isinstance(outputs, dict) and not is_secret(outputs):
        return {k: annotate_secrets(v, inputs[k]) if k in inputs else v for k, v in outputs.items()}
    if isinstance(inputs, list) and isinstance(outputs, list):
        return [annotate_secrets(v, inputs[i]) if i < len(inputs) else v for i, v in enumerate(outputs)]
    return outputs


def engine_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Stack config as the engine puts it in ConfigureRequest.args: every value a string (objects and lists
    JSON-encoded), secrets wrapped as secret values."""
    args: dict[str, Any] = {}
    for key, value in config.items():
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        secret = {rpc._special_sig_key: rpc._special_secret_sig, "value": text}
        args[key] = secret if key in SECRET_CONFIG_KEYS else text
    return args


class PluginError(Exception):
    """A provider call failed; `details` is what the engine would show as the resource error."""

    def __init__(self, method: str, error: grpc.RpcError) -> None:
        self.code = error.code()
        self.details = error.details() or ""
        super().__init__(f"{method} failed ({self.code}): {self.details}")


class Plugin:
    """One `python -u -m pulumi.dynamic` process, configured with stack config like the engine does."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        module: str = "pulumi.dynamic",  # bench/ runs a wrapper that installs a scaled clock first
        provider: Any = None,  # the provider instance to serialize (default: a BotTrainingProvider)
        cwd: Path = PROJECT_DIR,  # the project: the engine starts the plugin there; relative paths resolve
    ) -> None:
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("KORE_")}
        base_env.update({"PULUMI_PROJECT": PROJECT, "PULUMI_CONFIG": json.dumps(dict(config or {}))})
        if cwd != PROJECT_DIR:  # a project without a copy of the package: it comes from this checkout
            paths = [str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")]
            base_env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
        base_env.update(env or {})
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the plugin process
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", module],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=base_env,
        )
        assert self.process.stdout is not None
        port_line = self.process.stdout.readline()
        if not port_line.strip().isdigit():
            self.close()
            raise RuntimeError(f"plugin did not print its port: {port_line!r}; stderr: {self.stderr()}")
        self.port = int(port_line)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        self.provider = serialize_provider(provider if provider is not None else _provider())
        self.config = dict(config or {})
        self.env = dict(env or {})
        self.responses: list[Any] = []  # everything the plugin returned, for leak checks
        self.later_stdout = ""  # what it printed after the port line (read at close)
        self.stub.GetPluginInfo(empty_pb2.Empty())
        configured = self.stub.Configure(
            pb.ConfigureRequest(
                args=to_struct(engine_config(self.config)),
                acceptSecrets=True,
                acceptResources=True,
                sends_old_inputs=True,
                sends_old_inputs_to_delete=True,
                id=UNKNOWN,
                urn=f"urn:pulumi:test::{PROJECT}::pulumi:providers:pulumi-python::default",
                name="default",
                type="pulumi:providers:pulumi-python",
            )
        )
        #: False for the dynamic plugin: the engine then sends every property with its secrets stripped and
        #: marks outputs secret where the inputs held a secret (`annotate_secrets`).
        self.accept_secrets = configured.acceptSecrets

    # -- RPCs ---------------------------------------------------------------------------------------------

    def _call(self, method: str, request: Any) -> Any:
        try:
            response = getattr(self.stub, method)(request, timeout=600)
        except grpc.RpcError as error:
            self.responses.append(error.details())
            raise PluginError(method, error) from None
        self.responses.append(response)
        return response

    def check(
        self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any], provider: str | None = None
    ) -> tuple[dict[str, Any], list]:
        """`provider`: another serialized provider than the plugin's BotTrainingProvider."""
        news = {**news, "__provider": provider or self.provider}
        request = pb.CheckRequest(urn=urn, olds=self._props(olds), news=self._props(news))
        response = self._call("Check", request)
        return self._outputs(response.inputs, news), [(f.property, f.reason) for f in response.failures]

    def diff(
        self,
        id_: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any] | None = None,
    ) -> Any:
        request = pb.DiffRequest(
            id=id_,
            urn=urn,
            olds=self._props(olds),
            news=self._props(news),
            old_inputs=self._props(old_inputs or {}),
        )
        return self._call("Diff", request)

    def create(self, urn: str, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        # No timeout: the engine sends one only for customTimeouts, which dynamic providers ignore anyway.
        response = self._call("Create", pb.CreateRequest(urn=urn, properties=self._props(inputs)))
        return response.id, self._outputs(response.properties, inputs)

    def update(
        self,
        id_: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        request = pb.UpdateRequest(
            id=id_,
            urn=urn,
            olds=self._props(olds),
            news=self._props(news),
            old_inputs=self._props(old_inputs or {}),
        )
        return self._outputs(self._call("Update", request).properties, news)

    def read(
        self, id_: str, urn: str, props: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> tuple[str, dict]:
        request = pb.ReadRequest(id=id_, urn=urn, properties=self._props(props), inputs=self._props(inputs))
        response = self._call("Read", request)
        return response.id, self._outputs(response.properties, props)

    def delete(self, id_: str, urn: str, props: Mapping[str, Any]) -> None:
        self._call("Delete", pb.DeleteRequest(id=id_, urn=urn, properties=self._props(props)))

    def _props(self, props: Mapping[str, Any]) -> struct_pb2.Struct:
        """Properties as the engine sends them: without secrets to a provider that does not accept them."""
        return to_struct(props if self.accept_secrets else strip_secrets(props))

    def _outputs(self, properties: struct_pb2.Struct, sent: Mapping[str, Any]) -> dict[str, Any]:
        """What the engine records of a provider's answer: where what it sent held a secret, the output at
        the same path is a secret again (for a provider that does not accept secrets)."""
        outputs = from_struct(properties)
        return outputs if self.accept_secrets else annotate_secrets(outputs, sent)

    # -- lifecycle ----------------------------------------------------------------------------------------

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def close(self) -> str:
        """Stop the plugin; returns everything it wrote to stderr."""
        if getattr(self, "channel", None) is not None:
            self.channel.close()
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process.stdout is not None and not self.process.stdout.closed:
            self.later_stdout = self.process.stdout.read().decode(errors="replace")
            self.process.stdout.close()
        return self.stderr()

    def interrupt(self) -> None:
        """What Ctrl-C during `pulumi up` does to the plugin: the engine goes away and the process is ended
        mid-call, whatever it was doing."""
        self.process.kill()
        self.process.wait(timeout=10)


def _provider() -> Any:
    from kore_resources import BotTrainingProvider

    return BotTrainingProvider()


@dataclass
class Recorded:
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


@dataclass
class MiniEngine:
    """Just enough of the engine's step generation for one flat stack of resources of one type
    (BotTrainings unless `type_` and `provider`, the serialized provider, say otherwise)."""

    plugin: Plugin
    stack: str = "test"
    state: dict[str, Recorded] = field(default_factory=dict)
    type_: str = TYPE
    provider: str | None = None
    #: Set it to give each pass (preview, update, refresh, destroy) a fresh plugin process, as the engine
    #: does; `plugin` is then the process of the pass under way (or the last one).
    plugin_factory: Callable[[], Plugin] | None = None

    def _new_pass(self) -> None:
        if self.plugin_factory is not None:
            self.plugin.close()
            self.plugin = self.plugin_factory()

    def urn(self, name: str) -> str:
        return f"urn:pulumi:{self.stack}::{PROJECT}::{self.type_}::{name}"

    def plan(self, resources: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
        """`pulumi preview`: Check and Diff only. Returns name -> create/same/update/replace/delete."""
        self._new_pass()
        steps = {name: self._checked_step(name, news)[3] for name, news in resources.items()}
        for urn in self.state:
            if urn.rsplit("::", 1)[1] not in resources:
                steps[urn.rsplit("::", 1)[1]] = "delete"
        return steps

    def _checked_step(
        self, name: str, news: Mapping[str, Any]
    ) -> tuple[str, Recorded | None, dict[str, Any], str]:
        """Check, then Diff: (urn, recorded state, checked inputs, step) for one resource."""
        urn = self.urn(name)
        old = self.state.get(urn)
        inputs, failures = self.plugin.check(urn, old.inputs if old else {}, news, self.provider)
        if failures:
            raise CheckFailed(name, failures)
        return urn, old, inputs, self._step(old, urn, inputs)

    def _step(self, old: Recorded | None, urn: str, inputs: dict[str, Any]) -> str:
        if old is None:
            return "create"
        diff = self.plugin.diff(old.id, urn, old.outputs, inputs, old.inputs)
        if diff.changes == pb.DiffResponse.DIFF_NONE:
            return "same"
        return "replace" if list(diff.replaces) else "update"

    def up(self, resources: Mapping[str, Mapping[str, Any]], *, skip_preview: bool = False) -> dict[str, str]:
        """`pulumi up`: a preview first (as the CLI does unless --skip-preview), then the steps.
        Returns name -> the step taken. A failing step raises and records nothing for it."""
        if not skip_preview:
            self.plan(resources)
        self._new_pass()
        steps = {}
        for name, news in resources.items():
            urn, old, inputs, step = self._checked_step(name, news)
            if step == "create" or step == "replace":
                id_, outs = self.plugin.create(urn, inputs)
                if old is not None:  # create-before-delete, the engine's default
                    self.plugin.delete(old.id, urn, old.outputs)
                self.state[urn] = Recorded(id_, inputs, outs)
            elif step == "update":
                assert old is not None
                outs = self.plugin.update(old.id, urn, old.outputs, inputs, old.inputs)
                self.state[urn] = Recorded(old.id, inputs, outs)
            elif step == "same":
                assert old is not None
                self.state[urn] = Recorded(old.id, inputs, old.outputs)
            steps[name] = step
        for urn in [u for u in reversed(self.state) if u.rsplit("::", 1)[1] not in resources]:
            self.plugin.delete(self.state[urn].id, urn, self.state[urn].outputs)
            del self.state[urn]
            steps[urn.rsplit("::", 1)[1]] = "delete"
        return steps

    def refresh(self, *, record: bool | None = None) -> dict[str, str]:
        """`pulumi refresh --yes`: a preview pass and the real one, each reading every resource and diffing
        what it read against the recorded inputs. Records the real pass; returns name -> "same"/"update"
        (what refresh shows as drift). `record`: one pass only, in the current plugin process, recorded
        or not (for a caller that runs passes over several engines)."""
        drift: dict[str, str] = {}
        for preview in (True, False) if record is None else (not record,):
            if record is None:
                self._new_pass()
            drift = {}
            refreshed: dict[str, Recorded] = {}
            for urn, recorded in self.state.items():
                id_, outs = self.plugin.read(recorded.id, urn, recorded.outputs, recorded.inputs)
                diff = self.plugin.diff(id_, urn, outs, recorded.inputs, recorded.inputs)
                drift[urn.rsplit("::", 1)[1]] = (
                    "same" if diff.changes == pb.DiffResponse.DIFF_NONE else "update"
                )
                refreshed[urn] = Recorded(id_, recorded.inputs, outs)
            if not preview:
                self.state.update(refreshed)
        return drift

    def destroy(self) -> None:
        self._new_pass()
        for urn, recorded in reversed(list(self.state.items())):
            self.plugin.delete(recorded.id, urn, recorded.outputs)
            del self.state[urn]


def deploy_as_recorded(plugin: Plugin, resources: list[dict[str, Any]], files: Path | None = None) -> None:
    """Put the sandbox's bot where a recorded `up` left it (resources of a `pulumi stack export`): its
    definition, variables and ML imports, then its trainings, run again from the recorded inputs in the
    program's order, so that a refresh finds the bot's utterances, variables and model as the record says.
    `files`: where the imports' relative files are (default: the plugin's working directory, the project).
    Secret inputs must be given as the engine sends them to this plugin: plain (see `with_plain_secrets`)."""
    for kind in ("BotDefinition", "BotVariables", "MlUtterances", "BotTraining"):
        for resource in resources:
            if resource["type"].endswith(f":{kind}"):
                inputs = dict(resource["inputs"])
                if files is not None:
                    for key in ("file", "definition_file", "config_file"):
                        if key in inputs:
                            inputs[key] = str(files / inputs[key])
                    if "functions_files" in inputs:
                        inputs["functions_files"] = [str(files / f) for f in inputs["functions_files"]]
                plugin.create(resource["urn"], inputs)


def with_plain_secrets(value: Any, plain: Mapping[str, Any]) -> Any:
    """`value` (a resource of a `pulumi stack export`) with each secret replaced by its plain value, as the
    engine sends it to a provider that does not accept secrets: only the CLI can decrypt a stack's
    ciphertexts, so the test names them, by the path of their property (`variables.flightApiKey.value`)."""

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, dict) and node.get(rpc._special_sig_key) == rpc._special_secret_sig:
            if path not in plain:
                raise KeyError(f"a secret at {path!r} has no plain value in the test")
            return plain[path]
        if isinstance(node, dict):
            return {k: walk(v, f"{path}.{k}" if path else k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(node)]
        return node

    return {
        **value,
        "inputs": walk(value.get("inputs", {}), ""),
        "outputs": walk(value.get("outputs", {}), ""),
    }


class CheckFailed(Exception):
    def __init__(self, name: str, failures: list[tuple[str, str]]) -> None:
        self.failures = failures
        super().__init__(f"{name}: " + "; ".join(f"{p}: {r}" for p, r in failures))
