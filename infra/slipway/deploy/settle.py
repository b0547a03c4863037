"""After a rollout: wait for the endpoint, say what serves, attach what needs the endpoint.

SageMaker's blue/green update ends ``InService`` either way: on the new configuration, or,
when one of the AutoRollbackConfiguration alarms fired during a baking period, back on the
old one with ``FailureReason`` set (the endpoint's ``EndpointConfigName`` is the one that
serves). The runtime compares, and after a rollback marks the package ``Rejected`` with
SageMaker's reason, so the model registry says what serves, then fails the release.

What exists only with the endpoint is created by the runtime too, after the endpoint is in
service: the Application Auto Scaling target and target-tracking policy of each realtime
variant (registering is idempotent), and the spec's Model Monitor schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slipway.deploy.errors import DeployError
from slipway.deploy.rollout import Rollout
from slipway.deploy.spec import ServingSpec

INVOCATIONS_METRIC = "SageMakerVariantInvocationsPerInstance"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
POLL_SECONDS = 30  # the SageMaker EndpointInService waiter's default delay
MAX_WAIT_SECONDS = 4 * 3600  # MaximumExecutionTimeoutInSeconds allows up to 4 hours


class RolledBack(DeployError):
    """SageMaker rolled the update back: the old configuration serves."""


@dataclass(frozen=True)
class Serving:
    endpoint: str
    config: str
    package_arn: str


def wait_in_service(
    sagemaker: Any, endpoint: str, poll_seconds: int = POLL_SECONDS
) -> dict[str, Any]:
    """Block until the endpoint leaves Creating/Updating; DeployError if it ends Failed."""
    waiter = sagemaker.get_waiter("endpoint_in_service")
    try:
        waiter.wait(
            EndpointName=endpoint,
            WaiterConfig={
                "Delay": max(poll_seconds, 1),
                "MaxAttempts": MAX_WAIT_SECONDS // max(poll_seconds, 1),
            },
        )
    except Exception as exc:  # botocore WaiterError: Failed, or time out
        failed = sagemaker.describe_endpoint(EndpointName=endpoint)
        reason = failed.get("FailureReason") or str(exc)
        raise DeployError(
            "endpoint", f"{endpoint} is {failed['EndpointStatus']}: {reason}"
        ) from None
    described: dict[str, Any] = sagemaker.describe_endpoint(EndpointName=endpoint)
    return described


def settle(
    sagemaker: Any,
    autoscaling: Any,
    spec: ServingSpec,
    rollout: Rollout,
    *,
    poll_seconds: int = POLL_SECONDS,
) -> Serving:
    """Wait, record a rollback in the registry (and raise), then attach the dependents."""
    described = wait_in_service(sagemaker, rollout.endpoint, poll_seconds)
    serving = described["EndpointConfigName"]
    if serving != rollout.new_config:
        reason = described.get("FailureReason") or "no reason given"
        sagemaker.update_model_package(
            ModelPackageArn=rollout.package_arn,
            ModelApprovalStatus="Rejected",
            ApprovalDescription=f"rolled back by SageMaker on {rollout.endpoint}: {reason}"[:1024],
        )
        raise RolledBack(
            "rollout",
            f"SageMaker rolled {rollout.endpoint} back to {serving} ({reason}); "
            f"{rollout.package_arn} is now Rejected",
        )
    attach(sagemaker, autoscaling, spec)
    return Serving(rollout.endpoint, serving, rollout.package_arn)


def attach(sagemaker: Any, autoscaling: Any, spec: ServingSpec) -> None:
    """Autoscaling of each realtime variant; the Model Monitor schedule (once)."""
    bounds = spec.autoscaling
    if bounds is not None and not spec.serverless:
        for variant in spec.variants:
            target = {
                "ServiceNamespace": "sagemaker",
                "ResourceId": f"endpoint/{spec.endpoint_name}/variant/{variant['VariantName']}",
                "ScalableDimension": DIMENSION,
            }
            autoscaling.register_scalable_target(
                **target, MinCapacity=bounds.min_capacity, MaxCapacity=bounds.max_capacity
            )
            autoscaling.put_scaling_policy(
                PolicyName=f"{spec.endpoint_name}-{variant['VariantName']}-invocations",
                PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration={
                    "TargetValue": float(bounds.target_invocations),
                    "PredefinedMetricSpecification": {"PredefinedMetricType": INVOCATIONS_METRIC},
                    "ScaleInCooldown": bounds.scale_in_cooldown,
                    "ScaleOutCooldown": bounds.scale_out_cooldown,
                },
                **target,
            )
    schedule = spec.monitoring_schedule
    if schedule is not None:
        try:
            sagemaker.describe_monitoring_schedule(
                MonitoringScheduleName=schedule["MonitoringScheduleName"]
            )
        except sagemaker.exceptions.ClientError:
            sagemaker.create_monitoring_schedule(**schedule)
