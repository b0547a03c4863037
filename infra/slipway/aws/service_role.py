"""A role one AWS service assumes for this account, with an inline policy and the stack's
permissions boundary (``StackContext.permissions_boundary``), as IRSA roles get theirs."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from slipway.aws import policy
from slipway.aws.context import StackContext


def service_role(
    name: str,
    ctx: StackContext,
    service: str,
    account_id: pulumi.Input[str],
    statements: list[dict[str, Any]],
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """Role only ``service`` (e.g. ``lambda.amazonaws.com``) may assume, for this account."""
    role = aws.iam.Role(
        name,
        assume_role_policy=policy.service_trust(service, account_id),
        permissions_boundary=ctx.permissions_boundary,
        tags=ctx.tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.iam.RolePolicy(
        f"{name}-policy",
        role=role.id,
        policy=policy.document(*statements),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return role
