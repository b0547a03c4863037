"""Appliers per Pulumi type token, one module per AWS service."""

from __future__ import annotations

from slipway.sandbox.appliers import (
    autoscaling,
    cloudwatch,
    containers,
    events,
    iam,
    kms,
    s3,
    sagemaker,
    sns,
)
from slipway.sandbox.appliers.base import Applied, Applier, Declared

APPLIERS: dict[str, Applier] = {
    **kms.APPLIERS,
    **s3.APPLIERS,
    **iam.APPLIERS,
    **sagemaker.APPLIERS,
    **autoscaling.APPLIERS,
    **cloudwatch.APPLIERS,
    **sns.APPLIERS,
    **containers.APPLIERS,
    **events.APPLIERS,
}

__all__ = ["APPLIERS", "Applied", "Applier", "Declared"]
