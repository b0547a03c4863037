"""Create or roll the stack's endpoint to an approved model package; roll it back.

The runtime owns the SageMaker model, endpoint configuration and endpoint (Pulumi never
declares them, docs/decisions.md), built from the stack's serving spec
(``slipway.deploy.spec``). Each release creates a model from the approved package and an
endpoint configuration from the spec with that model, tagged with the configuration it
replaces and the package it serves. The first release creates the endpoint; later ones
update it blue/green with the spec's traffic shifting (ALL_AT_ONCE with a baking period on
a one-instance fleet, CANARY on larger ones; ``canary_percent`` overrides it where the
fleet allows) and ``AutoRollbackConfiguration`` on every CloudWatch alarm of the endpoint.
An endpoint without alarms is refused unless the caller opts out with
``auto_rollback=False`` (a ``monitoring=no`` project). Serverless endpoints switch all at
once. ``slipway.deploy.settle`` then waits for the endpoint and records what serves.
``rollback`` updates the endpoint back to the tagged previous configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slipway.deploy.errors import DeployError
from slipway.deploy.rules import refuse_broken
from slipway.deploy.spec import ServingSpec, canary_fits

PREVIOUS_TAG = "slipway:previous-endpoint-config"
PACKAGE_TAG = "slipway:model-package"


@dataclass(frozen=True)
class Rollout:
    endpoint: str
    previous_config: str
    new_config: str
    alarms: tuple[str, ...]
    deployment_config: dict[str, Any] | None
    package_arn: str = ""

    @property
    def created(self) -> bool:
        """The first release: the endpoint did not exist before."""
        return not self.previous_config


def endpoint_alarms(cloudwatch: Any, endpoint: str) -> list[str]:
    """Names of the CloudWatch alarms watching ``endpoint`` (the stack's alarms)."""
    names = []
    for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"]):
        for alarm in page["MetricAlarms"]:
            dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
            if dims.get("EndpointName") == endpoint:
                names.append(alarm["AlarmName"])
    return sorted(names)


NO_ALARMS = (
    "the endpoint has no CloudWatch alarms to roll back on; "
    "pass --no-auto-rollback to deploy without them"
)


def blue_green(
    alarms: list[str],
    canary_percent: int,
    wait_seconds: int,
    auto_rollback: bool = True,
    *,
    traffic: str = "CANARY",
) -> dict[str, Any]:
    """DeploymentConfig of a blue/green update with alarm-driven auto-rollback.

    ``CANARY``: ``canary_percent`` of capacity first, the rest after ``wait_seconds``;
    ``ALL_AT_ONCE``: every request to the new fleet, the old one kept ``wait_seconds`` (the
    baking period) while the alarms watch. Alarms, when there are any, are always rolled
    back on; ``auto_rollback=False`` only permits an endpoint with none.
    """
    if traffic == "CANARY" and not 1 <= canary_percent <= 50:
        raise DeployError("canary_percent", "must be between 1 and 50")
    if not alarms and auto_rollback:
        raise DeployError("alarms", NO_ALARMS)
    routing: dict[str, Any] = {"Type": traffic, "WaitIntervalInSeconds": wait_seconds}
    if traffic == "CANARY":
        routing["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": canary_percent}
    config: dict[str, Any] = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": wait_seconds,
            "MaximumExecutionTimeoutInSeconds": max(600, 4 * wait_seconds),
        },
    }
    if alarms:
        config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in alarms]}
    return config


def current_config(sagemaker: Any, endpoint: str) -> dict[str, Any] | None:
    """The endpoint's configuration, or None when the endpoint does not exist yet."""
    try:
        name = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    except sagemaker.exceptions.ClientError as exc:
        if "Could not find endpoint" in str(exc) or exc.response["Error"]["Code"] in (
            "ValidationException",
            "ResourceNotFound",
        ):
            return None
        raise
    config: dict[str, Any] = sagemaker.describe_endpoint_config(EndpointConfigName=name)
    return config


@dataclass(frozen=True)
class Plan:
    """What a rollout will do, decided with reads only."""

    current: dict[str, Any] | None
    alarms: list[str]
    deployment: dict[str, Any] | None


def plan_rollout(
    sagemaker: Any,
    cloudwatch: Any,
    spec: ServingSpec,
    *,
    canary_percent: int | None = None,
    wait_seconds: int | None = None,
    auto_rollback: bool = True,
) -> Plan:
    """Check every refusal of a rollout without writing: run it before exporting anything.
    The spec first: a spec breaking the policy pack's rules is refused (``rules``)."""
    refuse_broken(spec)
    endpoint = spec.endpoint_name
    current = current_config(sagemaker, endpoint)
    alarms = endpoint_alarms(cloudwatch, endpoint)
    described = cloudwatch.describe_alarms(AlarmNames=alarms)["MetricAlarms"] if alarms else []
    firing = [a["AlarmName"] for a in described if a.get("StateValue") == "ALARM"]
    if firing:
        raise DeployError("alarms", f"{', '.join(firing)} already firing; fix the endpoint first")
    if canary_percent is not None and not 1 <= canary_percent <= 50:
        raise DeployError("canary_percent", "must be between 1 and 50")
    if spec.serverless:
        return Plan(current, alarms, None)
    if not alarms and auto_rollback:
        raise DeployError("alarms", NO_ALARMS)
    policy = spec.deployment
    bake = wait_seconds if wait_seconds is not None else (policy.bake_seconds if policy else 300)
    traffic = "CANARY" if canary_percent is not None else (policy.traffic if policy else "CANARY")
    percent = canary_percent or (policy.canary_percent if policy else 10)
    if traffic == "CANARY":
        instances = _fleet_size(sagemaker, spec, current)
        if not canary_fits(instances, percent):
            raise DeployError(
                "canary_percent",
                f"a {percent}% canary does not fit a {instances}-instance fleet (AWS: the canary "
                "must be at most 50% of the variant's instances); this stack's preset shifts "
                "ALL_AT_ONCE with a baking period: leave --canary-percent out",
            )
    deployment = (
        None
        if current is None
        else blue_green(alarms, percent, bake, auto_rollback, traffic=traffic)
    )
    return Plan(current, alarms, deployment)


def _fleet_size(sagemaker: Any, spec: ServingSpec, current: dict[str, Any] | None) -> int:
    """The smallest variant's instance count now (or the spec's, before the first release)."""
    if current is not None:
        described = sagemaker.describe_endpoint(EndpointName=spec.endpoint_name)
        counts = [v.get("CurrentInstanceCount", 0) for v in described["ProductionVariants"]]
        if counts and all(counts):
            return int(min(counts))
    return int(min(v.get("InitialInstanceCount", 1) for v in spec.variants))


def roll_out(
    sagemaker: Any,
    cloudwatch: Any,
    spec: ServingSpec,
    package: dict[str, Any],
    *,
    canary_percent: int | None = None,
    wait_seconds: int | None = None,
    auto_rollback: bool = True,
) -> Rollout:
    """Deploy an approved model package to the spec's endpoint (see the module docstring)."""
    plan = plan_rollout(
        sagemaker,
        cloudwatch,
        spec,
        canary_percent=canary_percent,
        wait_seconds=wait_seconds,
        auto_rollback=auto_rollback,
    )
    endpoint = spec.endpoint_name
    package_arn = package["ModelPackageArn"]
    suffix = package_arn.rsplit("/", 1)[-1]
    name = f"{endpoint[:50]}-v{suffix}"[:63]
    model: dict[str, Any] = {
        "ModelName": name,
        "ExecutionRoleArn": spec.role_arn,
        "Containers": [{"ModelPackageName": package_arn}],
        "Tags": _tags(spec, {PACKAGE_TAG: package_arn}),
    }
    if spec.vpc_config:
        model["VpcConfig"] = spec.vpc_config
    sagemaker.create_model(**model)
    previous = plan.current["EndpointConfigName"] if plan.current else ""
    config: dict[str, Any] = {
        "EndpointConfigName": name,
        "ProductionVariants": [{**v, "ModelName": name} for v in spec.variants],
        "Tags": _tags(spec, {PREVIOUS_TAG: previous, PACKAGE_TAG: package_arn}),
    }
    if spec.kms_key_id:
        config["KmsKeyId"] = spec.kms_key_id
    if spec.data_capture:
        config["DataCaptureConfig"] = spec.data_capture
    sagemaker.create_endpoint_config(**config)
    if plan.current is None:
        sagemaker.create_endpoint(
            EndpointName=endpoint, EndpointConfigName=name, Tags=_tags(spec, {})
        )
    else:
        update: dict[str, Any] = {"EndpointName": endpoint, "EndpointConfigName": name}
        if plan.deployment is not None:
            update["DeploymentConfig"] = plan.deployment
        sagemaker.update_endpoint(**update)
    return Rollout(endpoint, previous, name, tuple(plan.alarms), plan.deployment, package_arn)


def _tags(spec: ServingSpec, extra: dict[str, str]) -> list[dict[str, str]]:
    tags = {**spec.tags, **{k: v for k, v in extra.items() if v}}
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def rollback(sagemaker: Any, endpoint: str) -> Rollout:
    """Switch ``endpoint`` back to the configuration the current one replaced."""
    current = current_config(sagemaker, endpoint)
    if current is None:
        raise DeployError("rollback", f"endpoint {endpoint} does not exist; nothing to roll back")
    tags = sagemaker.list_tags(ResourceArn=current["EndpointConfigArn"])["Tags"]
    tagged = {t["Key"]: t["Value"] for t in tags}
    previous = tagged.get(PREVIOUS_TAG)
    if not previous and PACKAGE_TAG in tagged:
        raise DeployError(
            "rollback",
            f"{current['EndpointConfigName']} is the endpoint's first release; "
            "nothing to return to",
        )
    if not previous:
        raise DeployError(
            "rollback",
            f"{current['EndpointConfigName']} was not deployed by slipway; nothing to return to",
        )
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=previous)
    return Rollout(endpoint, current["EndpointConfigName"], previous, (), None)
