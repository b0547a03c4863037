"""Roll the endpoint to a new configuration: blue/green, canary share, alarm rollback.

Each rollout creates a SageMaker model from the approved package and a new endpoint
configuration that copies the current one (variants, data capture, KMS key) with the
new model, tagged with the configuration it replaces. ``update_endpoint`` then shifts
traffic blue/green: ``canary_percent`` of capacity first, the rest after
``wait_seconds``; SageMaker rolls back by itself if any of the endpoint's CloudWatch
alarms fires during the deployment. An endpoint without alarms is refused unless the
caller opts out with ``auto_rollback=False`` (a ``monitoring=no`` project): the canary
then runs without AutoRollbackConfiguration. Serverless endpoints accept no deployment
guardrails, so they switch all at once. ``rollback`` updates the endpoint back to the tagged
previous configuration, all at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slipway.deploy.errors import DeployError

PREVIOUS_TAG = "slipway:previous-endpoint-config"
PACKAGE_TAG = "slipway:model-package"


@dataclass(frozen=True)
class Rollout:
    endpoint: str
    previous_config: str
    new_config: str
    alarms: tuple[str, ...]
    deployment_config: dict[str, Any] | None


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
    alarms: list[str], canary_percent: int, wait_seconds: int, auto_rollback: bool = True
) -> dict[str, Any]:
    """DeploymentConfig of a canary blue/green update with alarm-driven auto-rollback.

    Alarms, when there are any, are always rolled back on; ``auto_rollback=False`` only
    permits an endpoint with none (AutoRollbackConfiguration is optional in AWS).
    """
    if not 1 <= canary_percent <= 50:
        raise DeployError("canary_percent", "must be between 1 and 50")
    if not alarms and auto_rollback:
        raise DeployError("alarms", NO_ALARMS)
    config: dict[str, Any] = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": canary_percent},
                "WaitIntervalInSeconds": wait_seconds,
            },
            "TerminationWaitInSeconds": wait_seconds,
            "MaximumExecutionTimeoutInSeconds": max(600, 4 * wait_seconds),
        },
    }
    if alarms:
        config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in alarms]}
    return config


def _current_config(sagemaker: Any, endpoint: str) -> dict[str, Any]:
    name = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    config: dict[str, Any] = sagemaker.describe_endpoint_config(EndpointConfigName=name)
    return config


@dataclass(frozen=True)
class Plan:
    """What a rollout will do, decided with reads only."""

    current: dict[str, Any]
    alarms: list[str]
    deployment: dict[str, Any] | None


def plan_rollout(
    sagemaker: Any,
    cloudwatch: Any,
    endpoint: str,
    *,
    canary_percent: int,
    wait_seconds: int,
    auto_rollback: bool = True,
) -> Plan:
    """Check every refusal of a rollout without writing: run it before exporting anything."""
    current = _current_config(sagemaker, endpoint)
    serverless = any("ServerlessConfig" in v for v in current["ProductionVariants"])
    alarms = endpoint_alarms(cloudwatch, endpoint)
    described = cloudwatch.describe_alarms(AlarmNames=alarms)["MetricAlarms"] if alarms else []
    firing = [a["AlarmName"] for a in described if a.get("StateValue") == "ALARM"]
    if firing:
        raise DeployError("alarms", f"{', '.join(firing)} already firing; fix the endpoint first")
    deployment = (
        None if serverless else blue_green(alarms, canary_percent, wait_seconds, auto_rollback)
    )
    return Plan(current, alarms, deployment)


def roll_out(
    sagemaker: Any,
    cloudwatch: Any,
    endpoint: str,
    package: dict[str, Any],
    role_arn: str,
    *,
    canary_percent: int = 10,
    wait_seconds: int = 300,
    auto_rollback: bool = True,
) -> Rollout:
    """Deploy an approved model package to ``endpoint`` (see the module docstring)."""
    plan = plan_rollout(
        sagemaker,
        cloudwatch,
        endpoint,
        canary_percent=canary_percent,
        wait_seconds=wait_seconds,
        auto_rollback=auto_rollback,
    )
    current, alarms, deployment = plan.current, plan.alarms, plan.deployment
    suffix = package["ModelPackageArn"].rsplit("/", 1)[-1]
    model_name = f"{endpoint[:50]}-v{suffix}"[:63]
    sagemaker.create_model(
        ModelName=model_name,
        ExecutionRoleArn=role_arn,
        Containers=[{"ModelPackageName": package["ModelPackageArn"]}],
    )
    new_config = f"{endpoint[:50]}-v{suffix}"[:63]
    request: dict[str, Any] = {
        "EndpointConfigName": new_config,
        "ProductionVariants": [
            {**_variant_request(v), "ModelName": model_name} for v in current["ProductionVariants"]
        ],
        "Tags": [
            {"Key": PREVIOUS_TAG, "Value": current["EndpointConfigName"]},
            {"Key": PACKAGE_TAG, "Value": package["ModelPackageArn"]},
        ],
    }
    for key in ("KmsKeyId", "DataCaptureConfig"):
        if current.get(key):
            request[key] = current[key]
    sagemaker.create_endpoint_config(**request)
    update: dict[str, Any] = {"EndpointName": endpoint, "EndpointConfigName": new_config}
    if deployment is not None:
        update["DeploymentConfig"] = deployment
    sagemaker.update_endpoint(**update)
    return Rollout(endpoint, current["EndpointConfigName"], new_config, tuple(alarms), deployment)


def _variant_request(variant: dict[str, Any]) -> dict[str, Any]:
    """The CreateEndpointConfig shape of a described variant."""
    keys = (
        "VariantName",
        "InitialInstanceCount",
        "InstanceType",
        "InitialVariantWeight",
        "ServerlessConfig",
        "AcceleratorType",
    )
    return {key: variant[key] for key in keys if key in variant}


def rollback(sagemaker: Any, endpoint: str) -> Rollout:
    """Switch ``endpoint`` back to the configuration the current one replaced."""
    current = _current_config(sagemaker, endpoint)
    tags = sagemaker.list_tags(ResourceArn=current["EndpointConfigArn"])["Tags"]
    previous = {t["Key"]: t["Value"] for t in tags}.get(PREVIOUS_TAG)
    if not previous:
        raise DeployError(
            "rollback",
            f"{current['EndpointConfigName']} was not deployed by slipway; nothing to return to",
        )
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=previous)
    return Rollout(endpoint, current["EndpointConfigName"], previous, (), None)
