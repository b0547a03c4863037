"""The SageMaker ModelCard of a deployed model package (CreateModelCard, or UpdateModelCard
when the card exists: a redeploy of the same version adds a card version).

Named ``<package group>-v<mlflow version>`` so that it falls under the stack's resource
prefix (the deploy role's grants), encrypted with the stack's KMS key. ``Content`` comes
from :func:`slipway.lifecycle.card.sagemaker_card_content`. Status: ``Approved`` when a
person approved the model, else ``PendingReview``.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from slipway.lifecycle.approval import HUMAN, Approval

NAME_LIMIT = 63


def card_name(group: str, version: str) -> str:
    """``<group>-v<version>``, the group shortened (not the version) to SageMaker's 63."""
    suffix = f"-v{version}"
    return f"{group[: NAME_LIMIT - len(suffix)].rstrip('-')}{suffix}"


def publish_card(
    sagemaker: Any, name: str, content: str, approval: Approval, kms_key_arn: str
) -> str:
    """Create (or add a version to) the model card ``name``; return its ARN."""
    status = "Approved" if approval.kind == HUMAN else "PendingReview"
    try:
        response = sagemaker.create_model_card(
            ModelCardName=name,
            Content=content,
            ModelCardStatus=status,
            SecurityConfig={"KmsKeyId": kms_key_arn},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConflictException":
            raise
        response = sagemaker.update_model_card(
            ModelCardName=name, Content=content, ModelCardStatus=status
        )
    return str(response["ModelCardArn"])
