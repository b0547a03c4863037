"""The stack's ECR repository of the project's serving image (both flavors).

The serving image is the project's own Dockerfile (``python -m slipway.serving``, which
implements SageMaker's inference contract and serves MLflow models on EKS). Its repository
scans on push, has immutable tags, is encrypted with the project key and keeps the
preset's number of images; untagged images expire after a week.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from slipway.aws.context import StackContext
from slipway.names import MODEL_REPOSITORY

UNTAGGED_DAYS = 7


def image_repository(
    name: str, ctx: StackContext, kms_key_arn: pulumi.Input[str], parent: pulumi.Resource
) -> aws.ecr.Repository:
    """``<prefix>-model`` and its lifecycle policy, children of ``parent``."""
    repository = aws.ecr.Repository(
        f"{name}-images",
        name=MODEL_REPOSITORY.format(prefix=ctx.prefix),
        image_tag_mutability="IMMUTABLE",
        image_scanning_configuration={"scan_on_push": True},
        encryption_configurations=[{"encryption_type": "KMS", "kms_key": kms_key_arn}],
        force_delete=not ctx.preset.deletion_protection,
        tags=ctx.tags,
        opts=ctx.stateful(parent),
    )
    aws.ecr.LifecyclePolicy(
        f"{name}-images-lifecycle",
        repository=repository.name,
        policy=json.dumps(lifecycle_rules(ctx.preset.eks.ecr_keep_images)),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return repository


def lifecycle_rules(keep: int) -> dict[str, Any]:
    """Expire untagged images after a week; keep the ``keep`` newest images."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": "expire untagged images",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": UNTAGGED_DAYS,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"keep the {keep} newest images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": keep,
                },
                "action": {"type": "expire"},
            },
        ]
    }
