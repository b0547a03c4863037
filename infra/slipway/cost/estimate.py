"""A stack's monthly cost from its declarations: what the program registers under mocks,
priced with the package's table (``prices.yaml``). The SageMaker endpoint and its Model
Monitor schedule are the deploy runtime's, so they are priced from the serving spec the
stack declares for them (the inputs of ``slipway:aws:Endpoint``).

Idle items accrue whether or not anything uses the stack (instance-hours, clusters, NAT
gateways, keys, alarms); per-use items depend on traffic and data (requests, GB stored or
processed), so they are listed with their unit price, not totalled. Resource types with no
charge of their own are listed in ``FREE``; a type in neither is reported as not modeled,
so a new kind of resource cannot be left out silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from slipway.cost.prices import PriceTable, load_prices
from slipway.deploy.rules import ENDPOINT_COMPONENT

if TYPE_CHECKING:
    from slipway.testing import ProgramRun, RecordedResource

Kind = Literal["idle", "per use"]


@dataclass(frozen=True)
class Line:
    """One cost item of one resource."""

    kind: Kind
    resource_type: str
    resource: str
    item: str
    price_key: str
    quantity: float
    """Units per month (idle items); 1 for per-use items, priced per ``unit``."""
    unit_price: float | None
    unit: str

    @property
    def monthly(self) -> float | None:
        if self.kind != "idle" or self.unit_price is None:
            return None
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Estimate:
    stack: str
    region: str
    lines: tuple[Line, ...]
    not_modeled: tuple[str, ...]
    """Resource types the estimate knows nothing about (neither priced nor free)."""
    table: PriceTable

    def of_kind(self, kind: Kind) -> list[Line]:
        return [line for line in self.lines if line.kind == kind]

    @property
    def idle_total(self) -> float:
        """Sum of the idle items that have a price."""
        return sum(line.monthly or 0.0 for line in self.of_kind("idle"))

    @property
    def unpriced_idle(self) -> list[Line]:
        return [line for line in self.of_kind("idle") if line.unit_price is None]

    @property
    def price_keys(self) -> list[str]:
        return sorted({line.price_key for line in self.lines})


# Resource types with no charge of their own (IAM, networking plumbing, settings of a
# bucket, Kubernetes objects running on the nodes priced above).
FREE_PREFIXES = ("kubernetes:", "pulumi:", "random:", "slipway:", "aws:iam/")
FREE = frozenset(
    {
        "aws:kms/alias:Alias",
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
        "aws:sns/topicSubscription:TopicSubscription",
        # AWS service events on the default bus, rule evaluation and target invocation
        # included, are free (factualminds.com, EventBridge pricing, us-east-1, 2026-06);
        # a scheduled rule's events are EventBridge's own (source aws.events).
        "aws:cloudwatch/eventRule:EventRule",
        "aws:cloudwatch/eventTarget:EventTarget",
        # EKS bills the control plane (and extended support) itself; an add-on's pods run on
        # the priced nodes (metrics-server, the EBS CSI driver): no charge of its own.
        "aws:eks/addon:Addon",
        # the public API's parts billed through their API, pool or function
        "aws:apigatewayv2/authorizer:Authorizer",
        "aws:apigatewayv2/integration:Integration",
        "aws:apigatewayv2/route:Route",
        "aws:apigatewayv2/stage:Stage",
        "aws:lambda/permission:Permission",
        "aws:cognito/resourceServer:ResourceServer",
        "aws:cognito/userPoolClient:UserPoolClient",
        "aws:cognito/userPoolDomain:UserPoolDomain",
        *(
            f"aws:s3/{setting}"
            for setting in (
                "bucketOwnershipControls:BucketOwnershipControls",
                "bucketPublicAccessBlock:BucketPublicAccessBlock",
                "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                "bucketVersioning:BucketVersioning",
                "bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                "bucketPolicy:BucketPolicy",
                "bucketLogging:BucketLogging",
            )
        ),
    }
)

Pricer = Callable[
    ["RecordedResource", "ProgramRun", PriceTable], Iterator[tuple[Kind, str, str, float]]
]
"""Yields (kind, item, price key, monthly quantity) for one resource."""


def _hours(table: PriceTable) -> int:
    return table.hours_per_month


def _endpoint(r: RecordedResource, run: ProgramRun, table: PriceTable) -> Iterator[Any]:
    """The serving spec's variants (instance-hours, or serverless use) and monitoring runs."""
    for variant in r.inputs.get("variants") or []:
        serverless = variant.get("ServerlessConfig")
        if serverless:
            memory = serverless.get("MemorySizeInMB")
            yield (
                "per use",
                f"serverless inference, {memory} MB",
                "sagemaker:serverless-gb-second",
                1,
            )
        else:
            count = int(variant.get("InitialInstanceCount") or 1)
            size = variant.get("InstanceType")
            yield (
                "idle",
                f"{count} x {size} endpoint instance",
                f"sagemaker:hosting:{size}",
                count * _hours(table),
            )
    schedule = r.inputs.get("monitoring_schedule")
    if schedule:
        job = schedule["MonitoringScheduleConfig"]["MonitoringJobDefinition"]
        size = job["MonitoringResources"]["ClusterConfig"]["InstanceType"]
        yield "per use", f"Model Monitor run on {size}", f"sagemaker:processing:{size}", 1


def _tracking_server(r: RecordedResource, run: ProgramRun, table: PriceTable) -> Iterator[Any]:
    size = r.inputs.get("trackingServerSize")
    key = f"sagemaker:mlflow-tracking-server:{size}"
    yield "idle", f"MLflow tracking server ({size})", key, _hours(table)


def _pipeline(r: RecordedResource, run: ProgramRun, table: PriceTable) -> Iterator[Any]:
    """Each job of a SageMaker Pipeline run, per instance-hour (a run lasts minutes; at most
    the step's MaxRuntimeInSeconds: docs/engines.md sizes a run)."""
    from slipway.jobs import graph

    for step in graph.steps(r.inputs.get("pipelineDefinition") or '{"Steps": []}'):
        size = graph.instance_type(step)
        if size is None:
            continue
        kind = step["Type"].lower()
        spot = " (spot)" if step["Arguments"].get("EnableManagedSpotTraining") else ""
        item = f"{step['Name']}: {kind} job on {size}{spot}"
        yield "per use", item, f"sagemaker:{kind}:{size}", 1


def _node_group(r: RecordedResource, run: ProgramRun, table: PriceTable) -> Iterator[Any]:
    scaling = r.inputs.get("scalingConfig") or {}
    count = int(scaling.get("desiredSize") or 0)
    size = (r.inputs.get("instanceTypes") or ["?"])[0]
    yield "idle", f"{count} x {size} node", f"ec2:{size}", count * _hours(table)


def _cluster(r: RecordedResource, run: ProgramRun, table: PriceTable) -> Iterator[Any]:
    yield "idle", "EKS control plane", "eks:cluster-hour", _hours(table)
    if r.inputs.get("enabledClusterLogTypes"):
        yield "per use", "control-plane logs", "cloudwatch:logs-ingestion-gb", 1


def _database(r: RecordedResource, run: ProgramRun, table: PriceTable) -> Iterator[Any]:
    copies = 2 if r.inputs.get("multiAz") else 1  # Multi-AZ: a standby of the same size
    size = r.inputs.get("instanceClass")
    where = "Multi-AZ" if copies == 2 else "Single-AZ"
    yield "idle", f"{size} {where}", f"rds:{size}", copies * _hours(table)
    storage = float(r.inputs.get("allocatedStorage") or 0)
    yield "idle", f"{storage:g} GB gp3 {where}", "rds:gp3-gb-month", copies * storage


def _fixed(kind: Kind, item: str, key: str, hourly: bool = False) -> Pricer:
    def price(r: RecordedResource, run: ProgramRun, table: PriceTable) -> Iterator[Any]:
        yield kind, item, key, _hours(table) if hourly else 1

    return price


def _web_acl(r: RecordedResource, run: ProgramRun, table: PriceTable) -> Iterator[Any]:
    yield "idle", "web ACL", "wafv2:web-acl-month", 1
    yield "idle", "web ACL rules", "wafv2:rule-month", len(r.inputs.get("rules") or [])
    yield "per use", "requests inspected", "wafv2:requests-million", 1


def _ingress(r: RecordedResource, run: ProgramRun, table: PriceTable) -> Iterator[Any]:
    """An Ingress of class ``alb``: the ALB the load balancer controller creates for it."""
    if (r.inputs.get("spec") or {}).get("ingressClassName") != "alb":
        return
    yield "idle", "Application Load Balancer", "elb:alb-hour", _hours(table)
    yield "per use", "load balancer capacity units", "elb:alb-lcu-hour", 1


PRICERS: dict[str, list[Pricer]] = {
    ENDPOINT_COMPONENT: [_endpoint],
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": [_tracking_server],
    "aws:sagemaker/mlflowApp:MlflowApp": [
        _fixed("per use", "MLflow App (serverless)", "sagemaker:mlflow-app")
    ],
    "aws:sagemaker/pipeline:Pipeline": [_pipeline],
    "eks:index:Cluster": [_cluster],
    "eks:index:ManagedNodeGroup": [_node_group],
    "aws:ec2/natGateway:NatGateway": [
        _fixed("idle", "NAT gateway", "vpc:nat-gateway-hour", hourly=True),
        _fixed("per use", "NAT data processed", "vpc:nat-gateway-gb"),
    ],
    "aws:ec2/eip:Eip": [_fixed("idle", "public IPv4 address", "vpc:public-ipv4-hour", True)],
    "aws:rds/instance:Instance": [_database],
    "aws:kms/key:Key": [
        _fixed("idle", "customer managed key", "kms:key-month"),
        _fixed("per use", "key requests", "kms:requests-10k"),
    ],
    "aws:s3/bucket:Bucket": [_fixed("per use", "S3 Standard storage", "s3:standard-gb-month")],
    "aws:ecr/repository:Repository": [_fixed("per use", "image storage", "ecr:storage-gb-month")],
    "aws:cloudwatch/metricAlarm:MetricAlarm": [_fixed("idle", "alarm", "cloudwatch:alarm-month")],
    "aws:cloudwatch/dashboard:Dashboard": [
        _fixed("idle", "dashboard", "cloudwatch:dashboard-month")
    ],
    "aws:sns/topic:Topic": [_fixed("per use", "notifications", "sns:notifications")],
    # the public API (slipway:publicApi)
    "aws:apigatewayv2/api:Api": [
        _fixed("per use", "HTTP API requests", "apigateway:http-requests-million")
    ],
    "aws:lambda/function:Function": [
        _fixed("per use", "proxy requests", "lambda:requests-million"),
        _fixed("per use", "proxy compute", "lambda:arm-gb-second"),
    ],
    "aws:cloudwatch/logGroup:LogGroup": [
        _fixed("per use", "log ingestion", "cloudwatch:logs-ingestion-gb")
    ],
    "aws:cognito/userPool:UserPool": [
        _fixed("per use", "client credentials tokens", "cognito:m2m-token-requests")
    ],
    "aws:wafv2/webAcl:WebAcl": [_web_acl],
    "kubernetes:networking.k8s.io/v1:Ingress": [_ingress],
}


def is_free(type_: str) -> bool:
    return type_ in FREE or type_.startswith(FREE_PREFIXES)


def estimate(run: ProgramRun, stack: str, region: str, table: PriceTable | None = None) -> Estimate:
    """Price every resource ``run`` declares."""
    table = table or load_prices()
    lines: list[Line] = []
    not_modeled: set[str] = set()
    for resource in run.resources:
        pricers = PRICERS.get(resource.type)
        if pricers is None:
            if not is_free(resource.type):
                not_modeled.add(resource.type)
            continue
        for pricer in pricers:
            for kind, item, key, quantity in pricer(resource, run, table):
                price = table.get(key)
                lines.append(
                    Line(
                        kind=kind,
                        resource_type=resource.type,
                        resource=resource.name,
                        item=item,
                        price_key=key,
                        quantity=quantity,
                        unit_price=price.price if price else None,
                        unit=price.unit if price else "not in the price table",
                    )
                )
    return Estimate(stack, region, tuple(lines), tuple(sorted(not_modeled)), table)
