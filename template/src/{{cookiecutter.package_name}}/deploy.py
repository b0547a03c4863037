"""Ship the champion to the stack's SageMaker endpoint, or roll the endpoint back.

Project glue over ``slipway.deploy`` (export, model package approved with the champion's
approval on record, SageMaker model card, the first release creates the endpoint, later
ones roll it blue/green with alarm rollback; ``auto_rollback=False`` lets an endpoint
without alarms, as a ``monitoring=no`` stack has, be updated without rollback): the model
name comes from the pipeline config, the bucket, key, package group, serving spec, image
repository and preset from the stack outputs (``pulumi stack output --json``), the region
from ``infra/Pulumi.<stack>.yaml``. The serving image is the project's own Dockerfile,
pushed to the stack's repository. Outside dev, a champion approved only by the automated
gate (or by its trainer) is refused.
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


@dataclass(frozen=True)
class Target:
    """The stack a deploy goes to: its region and its outputs."""

    stack: str
    region: str
    outputs: StackOutputs


def target(stack: str, outputs_file: Path) -> Target:
    """Read and check the stack's region and outputs (no AWS call)."""
    return Target(stack, stack_region(stack), StackOutputs.from_file(outputs_file))


def image(where: Target, image_uri: str | None, image_tag: str | None) -> str:
    """The serving image: ``--image-uri``, else ``<modelRepositoryUrl>:<--image-tag>``."""
    if image_uri:
        return image_uri
    if not image_tag:
        raise DeployError(
            "--image-tag", "name the tag of the image pushed to the stack's repository"
        )
    return f"{where.outputs.repository}:{image_tag}"


def deploy(
    client: MlflowClient,
    model_name: str,
    where: Target,
    *,
    image: str,
    canary_percent: int | None = None,
    wait_seconds: int | None = None,
    auto_rollback: bool = True,
    notes: Sequence[str] = (),
) -> Deployed:
    """``models:/<model_name>@champion`` -> the stack's endpoint, served by ``image``."""
    aws = aws_clients(where.region)
    return deploy_champion(
        client,
        model_name,
        aws,
        where.outputs,
        image,
        canary_percent=canary_percent,
        wait_seconds=wait_seconds,
        auto_rollback=auto_rollback,
        notes=notes,
    )


def roll_back(where: Target) -> Rollout:
    """Switch the stack's endpoint back to the configuration the last deploy replaced."""
    return rollback(aws_clients(where.region)("sagemaker"), where.outputs.endpoint)
