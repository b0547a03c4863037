"""The whole deploy: export, register, approve, roll out, in that order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlflow.tracking import MlflowClient

from slipway.deploy.artifact import ExportedModel, export_champion
from slipway.deploy.outputs import StackOutputs
from slipway.deploy.packages import approve_package, register_package, require_approved
from slipway.deploy.rollout import Rollout, plan_rollout, roll_out


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
    canary_percent: int = 10,
    wait_seconds: int = 300,
    auto_rollback: bool = True,
) -> Deployed:
    """Ship ``models:/<name>@champion`` to the stack's endpoint; ``aws(service)`` gives clients.

    The rollout's refusals (alarm firing, no alarms unless ``auto_rollback=False``, canary
    share) are checked before the export, so a refused deploy leaves no archive and no
    approved package behind.
    """
    plan_rollout(
        aws("sagemaker"),
        aws("cloudwatch"),
        outputs.endpoint,
        canary_percent=canary_percent,
        wait_seconds=wait_seconds,
        auto_rollback=auto_rollback,
    )
    model = export_champion(client, model_name, aws("s3"), outputs.bucket, outputs.kms_key_arn)
    package_arn = register_package(aws("sagemaker"), outputs.group, model, image_uri)
    approve_package(aws("sagemaker"), package_arn, approved_by)
    package = require_approved(aws("sagemaker"), package_arn)
    rollout = roll_out(
        aws("sagemaker"),
        aws("cloudwatch"),
        outputs.endpoint,
        package,
        outputs.role_arn,
        canary_percent=canary_percent,
        wait_seconds=wait_seconds,
        auto_rollback=auto_rollback,
    )
    return Deployed(model, package_arn, rollout)
