"""Roles the stack's components create: a trust policy, one inline policy and the stack's
permissions boundary (``StackContext.permissions_boundary``); IRSA roles are built the same
way (``slipway.eks.irsa``)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from slipway.aws import policy
from slipway.aws.context import StackContext


def role_with_policy(
    name: str,
    ctx: StackContext,
    trust: pulumi.Input[str],
    statements: list[dict[str, Any]],
    parent: pulumi.Resource,
    bounded: bool = True,
) -> aws.iam.Role:
    """Role ``name`` with ``trust``, the stack's boundary (unless not ``bounded``: a role that
    holds an AWS managed policy, slipway.aws.boundary) and an inline policy of ``statements``."""
    role = aws.iam.Role(
        name,
        assume_role_policy=trust,
        permissions_boundary=ctx.permissions_boundary if bounded else None,
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


def service_role(
    name: str,
    ctx: StackContext,
    service: str,
    account_id: pulumi.Input[str],
    statements: list[dict[str, Any]],
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """Role only ``service`` (e.g. ``lambda.amazonaws.com``) may assume, for this account."""
    return role_with_policy(
        name, ctx, policy.service_trust(service, account_id), statements, parent
    )
