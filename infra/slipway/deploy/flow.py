"""The whole deploy: export, register, approve, roll out, settle, in that order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlflow.tracking import MlflowClient

from slipway.deploy.artifact import ExportedModel, export_champion
from slipway.deploy.image import require_image
from slipway.deploy.outputs import StackOutputs
from slipway.deploy.packages import approve_package, register_package, require_approved
from slipway.deploy.rollout import Rollout, plan_rollout, roll_out
from slipway.deploy.settle import POLL_SECONDS, settle


@dataclass(frozen=True)
class Deployed:
    model: ExportedModel
    package_arn: str
    rollout: Rollout


def deploy_champion(
    client: MlflowClient,
    model_name: str,
    aws: Any,
    outputs: StackOutputs,
    image_uri: str,
    approved_by: str,
    *,
    canary_percent: int | None = None,
    wait_seconds: int | None = None,
    auto_rollback: bool = True,
    poll_seconds: int = POLL_SECONDS,
) -> Deployed:
    """Ship ``models:/<name>@champion`` to the stack's endpoint; ``aws(service)`` gives clients.

    The rollout's refusals (alarm firing, no alarms unless ``auto_rollback=False``, a canary
    the fleet cannot take, an image that is not pushed) are checked before the export, so a
    refused deploy leaves no archive and no approved package behind. The first release
    creates the endpoint. ``slipway.deploy.settle.RolledBack`` when SageMaker rolled back.
    """
    spec = outputs.serving
    plan_rollout(
        aws("sagemaker"),
        aws("cloudwatch"),
        spec,
        canary_percent=canary_percent,
        wait_seconds=wait_seconds,
        auto_rollback=auto_rollback,
    )
    require_image(aws("ecr"), image_uri, outputs.repository)
    model = export_champion(client, model_name, aws("s3"), outputs.bucket, outputs.kms_key_arn)
    package_arn = register_package(aws("sagemaker"), outputs.group, model, image_uri)
    approve_package(aws("sagemaker"), package_arn, approved_by)
    package = require_approved(aws("sagemaker"), package_arn)
    rollout = roll_out(
        aws("sagemaker"),
        aws("cloudwatch"),
        spec,
        package,
        canary_percent=canary_percent,
        wait_seconds=wait_seconds,
        auto_rollback=auto_rollback,
    )
    settle(
        aws("sagemaker"), aws("application-autoscaling"), spec, rollout, poll_seconds=poll_seconds
    )
    return Deployed(model, package_arn, rollout)
