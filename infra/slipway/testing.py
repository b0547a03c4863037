"""Run Pulumi programs in-process under mocks and record what they would create.

``SlipwayMocks`` answers resource registrations with realistic ids and ARNs and the
AWS invokes the components use (camelCase results, as the provider returns them),
plus the outputs of pulumi-eks's remote ``Cluster`` and Kubernetes object ids.
``run_pulumi`` runs a callable, ``run_program`` a project's ``infra/`` directory with
its ``Pulumi.<stack>.yaml``; both use a fresh event loop and a fresh context per run
and return a ``ProgramRun``: every registered resource (type, name, parent, inputs,
protect/retain_on_delete) plus the resolved stack outputs. An exception raised by the
program or inside an ``apply`` fails the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import json
import re
import runpy
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.settings import ROOT, SETTINGS, get_root_resource
from pulumi.runtime.stack import run_pulumi_func

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
PARTITION = "aws"

# Property that carries a resource's physical name, when it is not ``name``.
NAME_PROPERTY = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": "modelPackageGroupName",
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": "trackingServerName",
    "aws:cloudwatch/dashboard:Dashboard": "dashboardName",
    "aws:kms/key:Key": "keyId",
}
# ARN resource part per type; "{name}" is the physical name.
ARN_RESOURCE = {
    "aws:iam/role:Role": "role/{name}",
    "aws:iam/policy:Policy": "policy/{name}",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "oidc-provider/{name}",
    "aws:kms/key:Key": "key/{name}",
    "aws:kms/alias:Alias": "{name}",
    "aws:sns/topic:Topic": "{name}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "alarm:{name}",
    "aws:cloudwatch/dashboard:Dashboard": "dashboard/{name}",
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": "endpoint-config/{name}",
    "aws:sagemaker/mlflowApp:MlflowApp": "mlflow-app/app-{hash}",
}
GLOBAL_SERVICES = {"iam", "s3", "cloudwatch/dashboard"}


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


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:7]


class SlipwayMocks(pulumi.runtime.Mocks):
    """Mock provider: deterministic physical names, ids and ARNs; AWS invokes."""

    def __init__(self, region: str = DEFAULT_REGION, account_id: str = ACCOUNT_ID) -> None:
        self.region = region
        self.account_id = account_id

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        account = "" if service == "s3" else self.account_id
        return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        state = dict(args.inputs)
        if args.typ in REMOTE_COMPONENTS:
            return f"{args.name}_id", {**state, **REMOTE_COMPONENTS[args.typ](self, args.name)}
        if args.typ.startswith("pulumi:providers:") or not args.custom:
            return f"{args.name}_id", state
        if args.typ.startswith("kubernetes:"):
            return _kubernetes_object(args.name, state)
        if args.typ == "random:index/randomPassword:RandomPassword":
            state.setdefault("result", f"mock-{_short_hash(args.name)}-Pw0")
            return f"{args.name}_id", state
        name_key = NAME_PROPERTY.get(args.typ, "name")
        if args.typ == "aws:kms/key:Key":
            physical = str(uuid.UUID(hashlib.md5(args.name.encode()).hexdigest()))
        else:
            physical = str(state.get(name_key) or f"{args.name}-{_short_hash(args.typ, args.name)}")
        state.setdefault(name_key, physical)
        service = args.typ.split(":")[1].split("/")[0]
        module_type = args.typ.split(":")[1]
        if args.typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            physical = str(state.get("url", physical)).removeprefix("https://")
        kebab = re.sub(r"(?<!^)(?=[A-Z])", "-", module_type.split("/")[1]).lower()
        template = ARN_RESOURCE.get(args.typ, kebab + "/{name}")
        regional = service not in GLOBAL_SERVICES and module_type not in GLOBAL_SERVICES
        resource = template.format(name=physical, hash=_short_hash(args.typ, physical).upper())
        arn = self.arn(service, resource, regional=regional)
        if service == "s3" and args.typ == "aws:s3/bucket:Bucket":
            arn = f"arn:{PARTITION}:s3:::{physical}"
            state.setdefault("bucketDomainName", f"{physical}.s3.amazonaws.com")
            state.setdefault(
                "bucketRegionalDomainName", f"{physical}.s3.{self.region}.amazonaws.com"
            )
        if args.typ == "aws:cloudwatch/dashboard:Dashboard":
            state.setdefault("dashboardArn", arn)
        if args.typ == "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer":
            state.setdefault(
                "trackingServerUrl",
                f"https://t-{_short_hash(physical)}.{self.region}.experiments.sagemaker.aws",
            )
        if args.typ == "aws:rds/instance:Instance":
            address = f"{physical}.c{_short_hash(physical)}.{self.region}.rds.amazonaws.com"
            state.setdefault("address", address)
            state.setdefault("endpoint", f"{address}:{state.get('port', 5432)}")
        if args.typ == "aws:ecr/repository:Repository":
            state.setdefault(
                "repositoryUrl", f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com/{physical}"
            )
        state.setdefault("arn", arn)
        state.setdefault("tagsAll", dict(state.get("tags") or {}))
        return physical, state

    def eks_cluster(self, name: str) -> dict[str, Any]:
        """Outputs of a pulumi-eks ``Cluster`` (a remote component: no children under mocks)."""
        issuer = f"oidc.eks.{self.region}.amazonaws.com/id/{_short_hash(name).upper()}"
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": name,
            "clusters": [
                {
                    "name": name,
                    "cluster": {
                        "server": f"https://{_short_hash(name)}.gr7.{self.region}.eks.amazonaws.com"
                    },
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "users": [{"name": name, "user": {}}],
        }
        return {
            "kubeconfigJson": json.dumps(kubeconfig),
            "oidcIssuer": issuer,
            "oidcProviderUrl": f"https://{issuer}",
            "oidcProviderArn": self.arn("iam", f"oidc-provider/{issuer}", regional=False),
            "clusterSecurityGroupId": f"sg-{_short_hash(name, 'cluster')}",
            "nodeSecurityGroupId": f"sg-{_short_hash(name, 'node')}",
        }

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        token, inputs = args.token, args.args
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account_id,
                "arn": f"arn:{PARTITION}:iam::{self.account_id}:user/slipway-test",
                "userId": "AIDASLIPWAYTEST",
                "id": self.account_id,
            }, []
        if token == "aws:index/getRegion:getRegion":
            return {
                "region": self.region,
                "name": self.region,
                "endpoint": f"ec2.{self.region}.amazonaws.com",
                "description": self.region,
                "id": self.region,
            }, []
        if token == "aws:index/getPartition:getPartition":
            return {
                "partition": PARTITION,
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
                "id": PARTITION,
            }, []
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{suffix}" for suffix in "abc"]
            return {
                "names": names,
                "zoneIds": [f"use1-az{i}" for i in range(1, 4)],
                "groupNames": [self.region],
                "id": self.region,
            }, []
        if token == "aws:sagemaker/getPrebuiltEcrImage:getPrebuiltEcrImage":
            repo = inputs.get("repositoryName", "")
            tag = inputs.get("imageTag") or "1"
            registry = f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com"
            return {
                "registryId": self.account_id,
                "registryPath": f"{registry}/{repo}:{tag}",
                "repositoryName": repo,
                "imageTag": tag,
                "id": self.account_id,
            }, []
        if token == "aws:iam/getPolicyDocument:getPolicyDocument":
            return _policy_document(inputs), []
        raise NotImplementedError(f"SlipwayMocks: no mock for invoke {token}")


REMOTE_COMPONENTS: dict[str, Callable[[SlipwayMocks, str], dict[str, Any]]] = {
    "eks:index:Cluster": SlipwayMocks.eks_cluster,
}


def _kubernetes_object(name: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Kubernetes objects: id ``<namespace>/<name>``, metadata.name defaulted as Pulumi does."""
    metadata = dict(state.get("metadata") or {})
    metadata.setdefault("name", state.get("name") or f"{name}-{_short_hash(name)}")
    namespace = metadata.get("namespace") or state.get("namespace")
    state["metadata"] = metadata
    if "status" not in state and state.get("chart"):  # helm.v3.Release
        state["status"] = {"name": state.get("name") or metadata["name"], "namespace": namespace}
    return (f"{namespace}/{metadata['name']}" if namespace else metadata["name"]), state


def _policy_document(inputs: dict[str, Any]) -> dict[str, Any]:
    """Render aws.iam.get_policy_document arguments the way IAM reads them."""
    statements = []
    for stmt in inputs.get("statements") or []:
        rendered: dict[str, Any] = {"Effect": stmt.get("effect", "Allow")}
        for key, out in (("sid", "Sid"), ("actions", "Action"), ("resources", "Resource")):
            if stmt.get(key):
                rendered[out] = stmt[key]
        for principal_key, out in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            if stmt.get(principal_key):
                rendered[out] = {p["type"]: p["identifiers"] for p in stmt[principal_key]}
        conditions: dict[str, dict[str, Any]] = {}
        for cond in stmt.get("conditions") or []:
            conditions.setdefault(cond["test"], {})[cond["variable"]] = cond["values"]
        if conditions:
            rendered["Condition"] = conditions
        statements.append(rendered)
    document = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return {"json": document, "minifiedJson": document, "id": _short_hash(document)}


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
    program: Callable[[], None],
    *,
    project: str = "slipway-test",
    stack: str = "dev",
    config: dict[str, str] | None = None,
    mocks: SlipwayMocks | None = None,
) -> ProgramRun:
    """Run ``program`` under mocks (preview=False) in its own event loop and context."""
    config = dict(config or {})
    mocks = mocks or SlipwayMocks(region=config.get("aws:region", DEFAULT_REGION))
    return contextvars.Context().run(_run_isolated, program, project, stack, config, mocks)


def _run_isolated(
    program: Callable[[], None],
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


def run_program(program_dir: Path, stack: str, mocks: SlipwayMocks | None = None) -> ProgramRun:
    """Run ``program_dir/__main__.py`` with ``Pulumi.<stack>.yaml`` as the CLI would."""
    program_dir = Path(program_dir).resolve()
    project_file = yaml.safe_load((program_dir / "Pulumi.yaml").read_text())
    project = str(project_file["name"])
    stack_file = program_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise FileNotFoundError(f"{stack_file}: no such stack file")
    config = config_from_stack_file(stack_file, project)

    def program() -> None:
        with _on_sys_path(program_dir):
            runpy.run_path(str(program_dir / "__main__.py"), run_name="__main__")

    return run_pulumi(program, project=project, stack=stack, config=config, mocks=mocks)


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
