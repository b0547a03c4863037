"""Application Auto Scaling scalable target and scaling policy."""

from __future__ import annotations

from typing import Any

from slipway.sandbox.appliers.base import Applied, Applier, Declared, call, ignore_missing, pascal
from slipway.sandbox.server import AwsClients

DIMENSION_KEYS = ("serviceNamespace", "resourceId", "scalableDimension")


def _dimension(inputs: dict[str, Any]) -> dict[str, str]:
    return {key[:1].upper() + key[1:]: inputs[key] for key in DIMENSION_KEYS}


def _create_target(aws: AwsClients, d: Declared) -> Applied:
    arn = call(
        d,
        "resourceId",
        aws("application-autoscaling").register_scalable_target,
        MinCapacity=int(d.inputs["minCapacity"]),
        MaxCapacity=int(d.inputs["maxCapacity"]),
        **_dimension(d.inputs),
    ).get("ScalableTargetARN", "")
    id_ = "/".join(d.inputs[key] for key in DIMENSION_KEYS)
    return Applied(id_, {"arn": arn or d.mock_state.get("arn", "")})


def _delete_target(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    ignore_missing(aws("application-autoscaling").deregister_scalable_target, **_dimension(state))


def _create_policy(aws: AwsClients, d: Declared) -> Applied:
    request: dict[str, Any] = {"PolicyName": d.physical, "PolicyType": d.inputs["policyType"]}
    for key in ("targetTrackingScalingPolicyConfiguration", "stepScalingPolicyConfiguration"):
        if d.inputs.get(key):
            request[key[:1].upper() + key[1:]] = pascal(d.inputs[key])
    arn = call(
        d,
        "targetTrackingScalingPolicyConfiguration",
        aws("application-autoscaling").put_scaling_policy,
        **request,
        **_dimension(d.inputs),
    )["PolicyARN"]
    return Applied(d.physical, {"name": d.physical, "arn": arn})


def _delete_policy(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    ignore_missing(
        aws("application-autoscaling").delete_scaling_policy, PolicyName=id_, **_dimension(state)
    )


APPLIERS = {
    "aws:appautoscaling/target:Target": Applier(_create_target, _delete_target),
    "aws:appautoscaling/policy:Policy": Applier(_create_policy, _delete_policy),
}
