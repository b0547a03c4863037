"""The serving spec: what the stack declares about its endpoint, for the runtime to build.

Pulumi owns every resource except the SageMaker model, endpoint configuration and
endpoint and what exists only with them (autoscaling target and policy, Model Monitor
schedule): those are created and changed by the deploy runtime alone, so a later
``pulumi up`` (or ``up --refresh``) never rolls a release back (docs/decisions.md).
The stack still decides how they look: ``slipway.aws.Endpoint`` renders this spec from the
preset and exports it as the stack output ``serving`` (JSON); the runtime reads it from
``pulumi stack output --json``. Request-shaped values use the SageMaker API's names.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from slipway.deploy.errors import DeployError

Traffic = Literal["ALL_AT_ONCE", "CANARY"]


@dataclass(frozen=True)
class Deployment:
    """Blue/green traffic shifting of a release (realtime endpoints).

    AWS requires a canary to be at most 50% of the variant's instance count
    (TrafficRoutingConfig.CanarySize), so a one-instance fleet cannot take one: it shifts
    ALL_AT_ONCE, and ``bake_seconds`` (TerminationWaitInSeconds) keeps the old fleet while
    the alarms watch the new one, rolling back if one fires.
    """

    traffic: Traffic
    bake_seconds: int
    canary_percent: int = 0


@dataclass(frozen=True)
class Autoscaling:
    """Target tracking on SageMakerVariantInvocationsPerInstance, per variant."""

    min_capacity: int
    max_capacity: int
    target_invocations: int
    scale_in_cooldown: int
    scale_out_cooldown: int


@dataclass(frozen=True)
class ServingSpec:
    endpoint_name: str
    role_arn: str
    variants: list[dict[str, Any]]
    kms_key_id: str = ""
    data_capture: dict[str, Any] | None = None
    vpc_config: dict[str, Any] | None = None
    autoscaling: Autoscaling | None = None
    deployment: Deployment | None = None
    monitoring_schedule: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    allowed_instance_types: tuple[str, ...] = ()
    """The preset's ``sagemaker.allowed_instance_types``: what the runtime judges sizes
    against at release (``slipway.deploy.rules``)."""

    @property
    def serverless(self) -> bool:
        return any("ServerlessConfig" in v for v in self.variants)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_value(cls, value: Any) -> ServingSpec:
        """From the stack output (a JSON string, or the object ``pulumi`` printed)."""
        try:
            data = json.loads(value) if isinstance(value, str) else dict(value)
            autoscaling = data.pop("autoscaling", None)
            deployment = data.pop("deployment", None)
            allowed = tuple(data.pop("allowed_instance_types", ()))
            return cls(
                **data,
                allowed_instance_types=allowed,
                autoscaling=Autoscaling(**autoscaling) if autoscaling else None,
                deployment=Deployment(**deployment) if deployment else None,
            )
        except (TypeError, ValueError) as exc:
            raise DeployError("stack outputs", f"serving: not a serving spec ({exc})") from None


def canary_fits(instances: int, percent: int) -> bool:
    """Whether a CAPACITY_PERCENT canary of ``percent`` is at most half of ``instances``."""
    return 2 * math.ceil(instances * percent / 100) <= instances


# What the deploy runtime creates and changes, and so what a stack's Pulumi program must
# never declare (one owner per resource; tests check every generated program).
RUNTIME_OWNED = (
    "aws:sagemaker/model:Model",
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    "aws:sagemaker/endpoint:Endpoint",
    "aws:appautoscaling/target:Target",
    "aws:appautoscaling/policy:Policy",
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
)
