"""Drive the real dynamic-provider plugin process over gRPC, the way the Pulumi engine does.

The Pulumi CLI cannot be installed here, so this is the layer closest to it: `python -u -m pulumi.dynamic`
started in the project directory (exactly what the CLI's `pulumi-resource-pulumi-python` shim runs), the
provider serialized with the SDK's own serializer, and Configure/Check/Diff/Create/Update/Read/Delete sent
as the engine sends them (old *outputs* as `olds`, Check's inputs to Create, secrets stripped because the
dynamic plugin answers `acceptSecrets=False`). `MiniEngine` adds the engine's step logic for one flat
stack (create, same, update, create-before-delete replace, delete) so tests read like `pulumi up` runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2 as pb
from pulumi.runtime.proto import provider_pb2_grpc

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT = "kore-bots"
TYPE = "pulumi-python:dynamic/kore:BotTraining"
UNKNOWN = rpc.UNKNOWN


def _wire(value: Any) -> Any:
    """Unknown values travel as the engine's sentinel string."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(_wire(dict(props)))
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    return rpc.deserialize_properties(struct, keep_unknowns=True)


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
    ) -> None:
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("KORE_")}
        base_env.update({"PULUMI_PROJECT": PROJECT, "PULUMI_CONFIG": json.dumps(dict(config or {}))})
        base_env.update(env or {})
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the plugin process
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", module],
            cwd=PROJECT_DIR,
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
        self.responses: list[Any] = []  # everything the plugin returned, for leak checks
        self.later_stdout = ""  # what it printed after the port line (read at close)
        self.stub.Configure(pb.ConfigureRequest(args=to_struct(config or {}), acceptSecrets=True))

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
        response = self._call("Check", pb.CheckRequest(urn=urn, olds=to_struct(olds), news=to_struct(news)))
        return from_struct(response.inputs), [(f.property, f.reason) for f in response.failures]

    def diff(self, id_: str, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Any:
        return self._call("Diff", pb.DiffRequest(id=id_, urn=urn, olds=to_struct(olds), news=to_struct(news)))

    def create(self, urn: str, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        response = self._call("Create", pb.CreateRequest(urn=urn, properties=to_struct(inputs), timeout=600))
        return response.id, from_struct(response.properties)

    def update(self, id_: str, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        response = self._call(
            "Update",
            pb.UpdateRequest(id=id_, urn=urn, olds=to_struct(olds), news=to_struct(news), timeout=600),
        )
        return from_struct(response.properties)

    def read(
        self, id_: str, urn: str, props: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> tuple[str, dict]:
        response = self._call(
            "Read", pb.ReadRequest(id=id_, urn=urn, properties=to_struct(props), inputs=to_struct(inputs))
        )
        return response.id, from_struct(response.properties)

    def delete(self, id_: str, urn: str, props: Mapping[str, Any]) -> None:
        self._call("Delete", pb.DeleteRequest(id=id_, urn=urn, properties=to_struct(props)))

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

    def urn(self, name: str) -> str:
        return f"urn:pulumi:{self.stack}::{PROJECT}::{self.type_}::{name}"

    def plan(self, resources: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
        """`pulumi preview`: Check and Diff only. Returns name -> create/same/update/replace/delete."""
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
        diff = self.plugin.diff(old.id, urn, old.outputs, inputs)
        if diff.changes == pb.DiffResponse.DIFF_NONE:
            return "same"
        return "replace" if list(diff.replaces) else "update"

    def up(self, resources: Mapping[str, Mapping[str, Any]], *, skip_preview: bool = False) -> dict[str, str]:
        """`pulumi up`: a preview first (as the CLI does unless --skip-preview), then the steps.
        Returns name -> the step taken. A failing step raises and records nothing for it."""
        if not skip_preview:
            self.plan(resources)
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
                outs = self.plugin.update(old.id, urn, old.outputs, inputs)
                self.state[urn] = Recorded(old.id, inputs, outs)
            elif step == "same":
                assert old is not None
                self.state[urn] = Recorded(old.id, inputs, old.outputs)
            steps[name] = step
        for urn in [u for u in self.state if u.rsplit("::", 1)[1] not in resources]:
            self.plugin.delete(self.state[urn].id, urn, self.state[urn].outputs)
            del self.state[urn]
            steps[urn.rsplit("::", 1)[1]] = "delete"
        return steps

    def refresh(self) -> None:
        for urn, recorded in self.state.items():
            id_, outs = self.plugin.read(recorded.id, urn, recorded.outputs, recorded.inputs)
            self.state[urn] = Recorded(id_, recorded.inputs, outs)

    def destroy(self) -> None:
        for urn, recorded in list(self.state.items()):
            self.plugin.delete(recorded.id, urn, recorded.outputs)
            del self.state[urn]


class CheckFailed(Exception):
    def __init__(self, name: str, failures: list[tuple[str, str]]) -> None:
        self.failures = failures
        super().__init__(f"{name}: " + "; ".join(f"{p}: {r}" for p, r in failures))
