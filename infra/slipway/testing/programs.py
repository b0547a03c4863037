"""Run Pulumi programs in-process under mocks and read what they would create.

``run_pulumi`` runs a callable, ``run_program`` a project's ``infra/`` directory with
its ``Pulumi.<stack>.yaml``; both use a fresh event loop and a fresh context per run
and return a ``ProgramRun``: every registered resource (type, name, parent, inputs,
dependencies, protect/retain_on_delete) plus the resolved stack outputs. An exception raised by the
program or inside an ``apply`` fails the run. The mock provider is
``slipway.testing.mocks.SlipwayMocks``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.settings import ROOT, SETTINGS, get_root_resource
from pulumi.runtime.stack import run_pulumi_func

from slipway.testing.mocks import DEFAULT_REGION, SlipwayMocks


@dataclass(frozen=True)
class RecordedResource:
    """One resource registration as the engine would have received it."""

    type: str
    name: str
    urn: str
    parent_urn: str
    custom: bool
    inputs: dict[str, Any]
    state: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    registered_outputs: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[dict[str, Any], ...] = ()
    """Alias specs the resource was registered with (e.g. ``{"type": <old type token>}``)."""
    id: str = ""
    """The id the provider gave it (what other resources' inputs refer to)."""
    dependencies: tuple[str, ...] = ()
    """URNs of the resources whose outputs flow into this one's inputs."""
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Input name -> URNs of the resources whose outputs flow into that input."""

    @property
    def parent_type(self) -> str:
        """Type token of the parent (``pulumi:pulumi:Stack`` at the top level)."""
        return self.parent_urn.split("::")[2].split("$")[-1] if self.parent_urn else ""

    @property
    def tags(self) -> dict[str, str]:
        return dict(self.inputs.get("tags") or {})


@dataclass(frozen=True)
class ProgramRun:
    """Everything a mocked run produced."""

    resources: tuple[RecordedResource, ...]
    outputs: dict[str, Any]

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str) -> RecordedResource:
        found = self.of_type(type_)
        if len(found) != 1:
            raise AssertionError(f"expected one {type_}, found {len(found)}")
        return found[0]

    def named(self, name: str) -> RecordedResource:
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise AssertionError(f"no resource named {name!r}")

    def children_of(self, component: RecordedResource) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent_urn == component.urn]

    @property
    def cloud_resources(self) -> list[RecordedResource]:
        """Resources a provider would create (no components, no providers)."""
        return [
            r for r in self.resources if r.custom and not r.type.startswith("pulumi:providers:")
        ]

    def type_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for resource in self.cloud_resources:
            counts[resource.type] = counts.get(resource.type, 0) + 1
        return counts


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """MockMonitor that also keeps each request's options and registered outputs."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.requests: dict[str, Any] = {}
        self.order: list[str] = []
        self.outputs: dict[str, dict[str, Any]] = {}

    def RegisterResource(self, request: Any) -> Any:
        request.object.CopyFrom(_references_as_urns(request.object))
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.requests[response.urn] = request
            self.order.append(response.urn)
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self.outputs[request.urn] = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)

    def recorded(self) -> tuple[RecordedResource, ...]:
        result = []
        for urn in self.order:
            request = self.requests[urn]
            registration = self.resources[urn]
            result.append(
                RecordedResource(
                    type=request.type,
                    name=request.name,
                    urn=urn,
                    parent_urn=request.parent,
                    custom=bool(request.custom),
                    inputs=rpc.deserialize_properties(request.object),
                    state=dict(registration.state),
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    registered_outputs=self.outputs.get(urn, {}),
                    aliases=tuple(json_format.MessageToDict(a) for a in request.aliases),
                    id=str(registration.id or ""),
                    dependencies=tuple(request.dependencies),
                    property_dependencies={
                        key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()
                    },
                )
            )
        return tuple(result)


def _references_as_urns(properties: struct_pb2.Struct) -> struct_pb2.Struct:
    """Replace resource references by their URN: rebuilding the resource would need the
    (closed) event loop, and a test only needs to know which resource was referenced."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get(rpc._special_sig_key) == rpc._special_resource_sig:
                return value["urn"]
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        return value

    result = struct_pb2.Struct()
    result.update(plain(json_format.MessageToDict(properties)))
    return result


def config_from_stack_file(path: Path, project: str) -> dict[str, str]:
    """Config map (``namespace:key`` -> string) as the CLI hands a Pulumi.<stack>.yaml over."""
    raw = yaml.safe_load(path.read_text()) or {}
    config: dict[str, str] = {}
    for key, value in (raw.get("config") or {}).items():
        full_key = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and "secure" in value:
            raise ValueError(f"{path}: {key}: secrets cannot be decrypted under mocks")
        if isinstance(value, str):
            config[full_key] = value
        else:
            config[full_key] = json.dumps(value)
    return config


def run_pulumi(
    program: Callable[[], object],
    *,
    project: str = "slipway-test",
    stack: str = "dev",
    config: dict[str, str] | None = None,
    mocks: SlipwayMocks | None = None,
) -> ProgramRun:
    """Run ``program`` under mocks (preview=False) in its own event loop and context."""
    config = dict(config or {})
    mocks = mocks or SlipwayMocks(region=config.get("aws:region", DEFAULT_REGION))
    with _no_stack_traces():
        return contextvars.Context().run(_run_isolated, program, project, stack, config, mocks)


def _run_isolated(
    program: Callable[[], object],
    project: str,
    stack: str,
    config: dict[str, str],
    mocks: SlipwayMocks,
) -> ProgramRun:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    ROOT.set(None)
    SETTINGS.rpc_manager.clear()  # work left over by an earlier, failed run
    SETTINGS.outputs.clear()
    set_all_config(config, [])
    monitor = RecordingMonitor(mocks)
    outputs: dict[str, Any] = {}
    try:
        pulumi.runtime.set_mocks(
            mocks, project=project, stack=stack, preview=False, monitor=monitor
        )

        async def resolve_outputs() -> None:
            root = get_root_resource()
            exported = dict(getattr(root, "outputs", {}))
            for key, value in exported.items():
                outputs[key] = await pulumi.Output.from_input(value).future()

        def body() -> Any:
            program()
            return resolve_outputs()

        loop.run_until_complete(run_pulumi_func(body))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return ProgramRun(resources=monitor.recorded(), outputs=outputs)


@contextlib.contextmanager
def _no_stack_traces() -> Iterator[None]:
    """Resources register without the caller's stack trace and source position.

    The SDK captures them per resource (``traceback.extract_stack``, each frame's file
    as a URI: ~10 s of the suite's CPU) for the engine's diagnostics; a mock monitor never
    reads them, and nothing here records them. A real ``pulumi preview``/``up`` is untouched.
    """
    taken = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = taken


def run_program(
    program_dir: Path,
    stack: str,
    mocks: SlipwayMocks | None = None,
    config: Mapping[str, object] | None = None,
) -> ProgramRun:
    """Run ``program_dir/__main__.py`` with ``Pulumi.<stack>.yaml`` as the CLI would;
    ``config`` (``namespace:key`` -> value) is added as ``pulumi config set`` would."""
    program_dir = Path(program_dir).resolve()
    project_file = yaml.safe_load((program_dir / "Pulumi.yaml").read_text())
    project = str(project_file["name"])
    stack_file = program_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise FileNotFoundError(f"{stack_file}: no such stack file")
    values = {
        **config_from_stack_file(stack_file, project),
        **{k: v if isinstance(v, str) else json.dumps(v) for k, v in (config or {}).items()},
    }

    def program() -> None:
        with _on_sys_path(program_dir):
            runpy.run_path(str(program_dir / "__main__.py"), run_name="__main__")

    return run_pulumi(program, project=project, stack=stack, config=values, mocks=mocks)


@contextlib.contextmanager
def _on_sys_path(directory: Path) -> Iterator[None]:
    """Let the program import modules that sit next to it, as the Pulumi CLI does."""
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        sys.path.remove(str(directory))


def iter_policy_statements(document: str | dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Statements of an IAM policy document, with Action/Resource always lists."""
    parsed = json.loads(document) if isinstance(document, str) else document
    for statement in parsed.get("Statement", []):
        normalized = dict(statement)
        for key in ("Action", "Resource", "NotAction", "NotResource"):
            if isinstance(normalized.get(key), str):
                normalized[key] = [normalized[key]]
        yield normalized


def is_taggable(type_: str) -> bool:
    """Whether the pulumi_aws resource behind a type token accepts ``tags``."""
    if not type_.startswith("aws:"):
        return False
    import importlib

    module, _, class_name = type_.split(":", 1)[1].partition(":")
    package = importlib.import_module(f"pulumi_aws.{module.split('/')[0]}")
    return hasattr(getattr(package, class_name), "tags")


def untagged(run: ProgramRun, required: dict[str, str]) -> list[str]:
    """``type name`` of every taggable cloud resource missing one of the ``required`` tags."""
    return [
        f"{r.type} {r.name}"
        for r in run.cloud_resources
        if is_taggable(r.type) and any(r.tags.get(k) != v for k, v in required.items())
    ]
