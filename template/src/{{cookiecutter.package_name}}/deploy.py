"""Ship the champion to the stack's SageMaker endpoint, or roll the endpoint back.

Project glue over ``slipway.deploy`` (export, model package approved with the champion's
approval on record, SageMaker model card, blue/green canary with alarm rollback;
``auto_rollback=False`` lets an endpoint without alarms, as a ``monitoring=no`` stack has,
take the canary without rollback): the model name comes from the pipeline config, the
bucket, key, package group, role, endpoint and preset from the stack outputs
(``pulumi stack output --json``), the region from ``infra/Pulumi.<stack>.yaml``. Outside
dev, a champion approved only by the automated gate (or by its trainer) is refused.
AWS credentials come from boto3's default chain (OIDC role in CI).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from mlflow.tracking import MlflowClient
from slipway.deploy import Deployed, DeployError, Rollout, StackOutputs, deploy_champion, rollback

AwsClients = Callable[[str], Any]
INFRA = Path("infra")
STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MIN_CANARY, MAX_CANARY = 1, 50


def check_canary(percent: int) -> None:
    if not MIN_CANARY <= percent <= MAX_CANARY:
        raise DeployError("--canary-percent", f"must be between {MIN_CANARY} and {MAX_CANARY}")


def stack_region(stack: str, infra: Path = INFRA) -> str:
    """``aws:region`` of ``infra/Pulumi.<stack>.yaml``, the stack's own config."""
    if not STACK_NAME.match(stack):
        raise DeployError("--stack", f"not a stack name (got {stack!r})")
    path = infra / f"Pulumi.{stack}.yaml"
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError:
        raise DeployError("--stack", f"no stack config {path}") from None
    region = (raw.get("config") or {}).get("aws:region")
    if not region:
        raise DeployError("--stack", f"{path} sets no aws:region")
    return str(region)


def aws_clients(region: str) -> AwsClients:
    """``aws(service)``: one boto3 client per service in ``region``."""
    import boto3

    made: dict[str, Any] = {}

    def aws(service: str) -> Any:
        if service not in made:
            made[service] = boto3.client(service, region_name=region)  # type: ignore[call-overload]
        return made[service]

    return aws


def serving_image(sagemaker: Any, endpoint: str) -> str:
    """Image the endpoint serves now: the stack's serving image, kept across deploys."""
    config = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    variant = sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0]
    model = sagemaker.describe_model(ModelName=variant["ModelName"])
    container = model.get("PrimaryContainer") or model["Containers"][0]
    if container.get("Image"):
        return str(container["Image"])
    package = sagemaker.describe_model_package(ModelPackageName=container["ModelPackageName"])
    return str(package["InferenceSpecification"]["Containers"][0]["Image"])


@dataclass(frozen=True)
class Target:
    """The stack a deploy goes to: its region and its outputs."""

    stack: str
    region: str
    outputs: StackOutputs


def target(stack: str, outputs_file: Path) -> Target:
    """Read and check the stack's region and outputs (no AWS call)."""
    return Target(stack, stack_region(stack), StackOutputs.from_file(outputs_file))


def deploy(
    client: MlflowClient,
    model_name: str,
    where: Target,
    *,
    canary_percent: int,
    wait_seconds: int,
    image_uri: str | None = None,
    auto_rollback: bool = True,
    notes: Sequence[str] = (),
) -> Deployed:
    """``models:/<model_name>@champion`` -> the stack's endpoint (``image_uri``: new image)."""
    check_canary(canary_percent)
    aws = aws_clients(where.region)
    return deploy_champion(
        client,
        model_name,
        aws,
        where.outputs,
        image_uri or serving_image(aws("sagemaker"), where.outputs.endpoint),
        canary_percent=canary_percent,
        wait_seconds=wait_seconds,
        auto_rollback=auto_rollback,
        notes=notes,
    )


def roll_back(where: Target) -> Rollout:
    """Switch the stack's endpoint back to the configuration the last deploy replaced."""
    return rollback(aws_clients(where.region)("sagemaker"), where.outputs.endpoint)
