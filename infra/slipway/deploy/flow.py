"""The whole deploy: check, export, register, approve, model card, roll out, settle, in that order.

Every refusal (rollout guards, an image that is not pushed, no champion, an approval that does
not count on this stack) is checked before the first write, so a refused deploy leaves no
archive, no package and no card behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlflow.tracking import MlflowClient

from slipway.deploy.artifact import ExportedModel, champion_version, export_version
from slipway.deploy.errors import DeployError
from slipway.deploy.image import require_image
from slipway.deploy.model_card import card_name, publish_card
from slipway.deploy.outputs import StackOutputs
from slipway.deploy.packages import (
    approve_package,
    package_metadata,
    register_package,
    require_approved,
)
from slipway.deploy.rollout import Rollout, plan_rollout, roll_out
from slipway.deploy.settle import POLL_SECONDS, settle
from slipway.lifecycle.approval import Approval, check_approval
from slipway.lifecycle.card import sagemaker_card_content
from slipway.lifecycle.errors import LifecycleError
from slipway.lifecycle.evaluation import load_report
from slipway.lifecycle.lineage import TRAINED_BY_TAG


@dataclass(frozen=True)
class Deployed:
    model: ExportedModel
    package_arn: str
    rollout: Rollout
    approval: Approval
    model_card_arn: str


def deploy_champion(
    client: MlflowClient,
    model_name: str,
    aws: Any,
    outputs: StackOutputs,
    image_uri: str,
    *,
    canary_percent: int | None = None,
    wait_seconds: int | None = None,
    auto_rollback: bool = True,
    poll_seconds: int = POLL_SECONDS,
    notes: Sequence[str] = (),
) -> Deployed:
    """Ship ``models:/<name>@champion`` to the stack's endpoint; ``aws(service)`` gives clients.

    The package is approved with the champion's approval on record (MLflow version tags);
    on a stack whose preset is not dev it must be a person's, not the trainer's. The first
    release creates the endpoint. ``slipway.deploy.settle.RolledBack`` when SageMaker rolled
    back.
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
    champion = champion_version(client, model_name)
    trainer = champion.tags.get(TRAINED_BY_TAG, "")
    try:
        approval = check_approval(
            Approval.from_tags(champion.tags), trainer, outputs.needs_human_approval
        )
    except LifecycleError as exc:
        raise DeployError(exc.field, f"champion version {champion.version}: {exc.rule}") from None
    report = load_report(client, str(champion.run_id))
    if report is None:
        raise DeployError(
            "champion", f"version {champion.version} has no evaluation record for its model card"
        )
    model = export_version(client, champion, aws("s3"), outputs.bucket, outputs.kms_key_arn)
    metadata = package_metadata(model, approval, trainer)
    package_arn = register_package(aws("sagemaker"), outputs.group, model, image_uri, metadata)
    approve_package(aws("sagemaker"), package_arn, metadata)
    package = require_approved(aws("sagemaker"), package_arn, outputs.needs_human_approval)
    content = sagemaker_card_content(
        report,
        model.version,
        approval,
        package_arn=package_arn,
        model_data_uri=model.uri,
        image_uri=image_uri,
        notes=notes,
    )
    card_arn = publish_card(
        aws("sagemaker"),
        card_name(outputs.group, model.version),
        content,
        approval,
        outputs.kms_key_arn,
    )
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
    return Deployed(model, package_arn, rollout, approval, card_arn)
