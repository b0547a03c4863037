"""Run the pack on a program run under mocks, the way the Pulumi CLI runs it.

The CLI starts the pack as a gRPC server (pulumi-policy's ``_PolicyAnalyzerServicer``),
hands it the stack's configuration in ``PULUMI_CONFIG``/``PULUMI_PROJECT``/``PULUMI_STACK``
/``PULUMI_DRY_RUN`` (pulumi/pulumi sdk/go/common/resource/plugin/analyzer_plugin.go,
``constructEnv``), then sends one ``AnalyzeRequest`` per resource with its inputs before
creating it, and one ``AnalyzeStackRequest`` with every resource's outputs at the end.
``analyze`` builds those same protobuf requests from a ``ProgramRun`` and calls the same
servicer methods (as pulumi-policy's own unit tests do), so the policies, pulumi-policy's
deserialization and its enforcement levels all run for real; only the transport (gRPC)
and the engine are left out.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import proto, rpc
from pulumi_policy import EnforcementLevel, Policy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from slipway.policies import PACK_NAME, pack_policies
from slipway.policies.base import JUDGES

if TYPE_CHECKING:
    from slipway.testing import ProgramRun, RecordedResource

LEVELS = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory"}


@dataclass(frozen=True)
class Finding:
    """One violation the pack reports."""

    policy: str
    enforcement: str
    """``mandatory`` (the CLI fails the preview or update) or ``advisory`` (a warning)."""
    urn: str
    message: str

    @property
    def resource(self) -> str:
        """``type name`` of the resource (the stack, for a stack-wide finding)."""
        if not self.urn:
            return "stack"
        parts = self.urn.split("::")
        return f"{parts[2].split('$')[-1]} {parts[3]}"

    def __str__(self) -> str:
        detail = self.message.splitlines()[-1]
        return f"[{self.enforcement}] {self.policy}: {self.resource}: {detail}"


@dataclass
class Report:
    """What the pack said about one stack."""

    findings: list[Finding] = field(default_factory=list)
    not_applicable: list[tuple[str, str, str]] = field(default_factory=list)
    """(policy, resource URN, reason)."""
    judged: dict[str, int] = field(default_factory=dict)
    """Policy -> how many resources of the run it judges."""

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.enforcement == "mandatory"]


def analyze(
    run: ProgramRun,
    *,
    project: str,
    stack: str,
    config: dict[str, str],
    policies: Sequence[Policy] | None = None,
) -> Report:
    """The pack's verdict on ``run`` (a preview of ``project``/``stack`` with ``config``)."""
    chosen = list(pack_policies() if policies is None else policies)
    servicer = _PolicyAnalyzerServicer(
        name=PACK_NAME,
        version="0.0.1",
        policies=chosen,
        enforcement_level=EnforcementLevel.MANDATORY,
    )
    report = Report(
        judged={
            p.name: sum(JUDGES[p.name](r.type) for r in run.resources)
            for p in chosen
            if p.name in JUDGES
        }
    )
    responses = contextvars.Context().run(_analyze, servicer, run.resources, project, stack, config)
    for urn, response in responses:
        for diagnostic in response.diagnostics:
            report.findings.append(
                Finding(
                    policy=diagnostic.policyName,
                    enforcement=LEVELS.get(diagnostic.enforcementLevel, "disabled"),
                    # the engine reports a resource's violations under that resource's URN
                    urn=urn or diagnostic.urn,
                    message=diagnostic.message,
                )
            )
        report.not_applicable.extend(
            (n.policy_name, urn, n.reason) for n in response.not_applicable
        )
    return report


def _analyze(
    servicer: _PolicyAnalyzerServicer,
    resources: Sequence[RecordedResource],
    project: str,
    stack: str,
    config: dict[str, str],
) -> list[tuple[str, Any]]:
    """(URN of the resource analyzed, or "" for the stack; the servicer's response)."""
    responses = []
    with _policy_pack_environment(project, stack, config):
        for resource in resources:
            responses.append((resource.urn, servicer.Analyze(_analyze_request(resource), None)))
        stack_request = proto.AnalyzeStackRequest(resources=[_stack_resource(r) for r in resources])
        responses.append(("", servicer.AnalyzeStack(stack_request, None)))
    return responses


@contextlib.contextmanager
def _policy_pack_environment(project: str, stack: str, config: dict[str, str]) -> Iterator[None]:
    """The variables the CLI starts a policy pack with (a preview), restored afterwards."""
    values = {
        "PULUMI_CONFIG": json.dumps(config),
        "PULUMI_PROJECT": project,
        "PULUMI_STACK": stack,
        "PULUMI_DRY_RUN": "true",
    }
    before = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(_wire(values))
    return result


def _wire(value: Any) -> Any:
    """``value`` as the engine sends it to an analyzer: assets and archives (a Lambda
    function's code) in Pulumi's wire form, everything else as is."""
    key = rpc._special_sig_key
    if isinstance(value, pulumi.Asset):
        fields = {k: getattr(value, k) for k in ("path", "text", "uri") if hasattr(value, k)}
        return {key: rpc._special_asset_sig, **fields}
    if isinstance(value, pulumi.Archive):
        if isinstance(value, pulumi.AssetArchive):
            return {key: rpc._special_archive_sig, "assets": _wire(value.assets)}
        fields = {k: getattr(value, k) for k in ("path", "uri") if hasattr(value, k)}
        return {key: rpc._special_archive_sig, **fields}
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return value


def _options(resource: RecordedResource) -> Any:
    return proto.AnalyzerResourceOptions(
        protect=resource.protect,
        deleteBeforeReplace=resource.delete_before_replace,
        deleteBeforeReplaceDefined=True,
        parent=resource.parent_urn,
    )


def _analyze_request(resource: RecordedResource) -> Any:
    """What the engine sends before creating ``resource``: its inputs."""
    return proto.AnalyzeRequest(
        type=resource.type,
        urn=resource.urn,
        name=resource.name,
        properties=_struct(resource.inputs),
        options=_options(resource),
    )


def _stack_resource(resource: RecordedResource) -> Any:
    """What the engine sends of ``resource`` at the end of an update: its outputs."""
    return proto.AnalyzerResource(
        type=resource.type,
        urn=resource.urn,
        name=resource.name,
        properties=_struct(resource.state),
        options=_options(resource),
        parent=resource.parent_urn,
        dependencies=list(resource.dependencies),
        propertyDependencies={
            key: proto.AnalyzerPropertyDependencies(urns=list(urns))
            for key, urns in resource.property_dependencies.items()
        },
    )
