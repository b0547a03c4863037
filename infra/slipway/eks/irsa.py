"""IAM roles for Kubernetes service accounts (IRSA)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from slipway.aws import policy
from slipway.aws.context import StackContext
from slipway.aws.service_role import role_with_policy

ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"


@dataclass(frozen=True)
class Oidc:
    """The cluster's IAM OIDC provider: its ARN and issuer (URL without ``https://``)."""

    provider_arn: pulumi.Input[str]
    issuer: pulumi.Input[str]


def service_account_role(
    name: str,
    ctx: StackContext,
    oidc: Oidc,
    namespace: str,
    service_account: str,
    statements: list[dict[str, Any]],
    parent: pulumi.Resource,
    bounded: bool = True,
) -> aws.iam.Role:
    """Role only ``namespace/service_account`` of this cluster can assume; inline policy; the
    stack's permissions boundary (``ctx.permissions_boundary``) unless not ``bounded``."""
    issuer = pulumi.Output.from_input(oidc.issuer)
    trust = policy.document(
        {
            "Effect": "Allow",
            "Principal": {"Federated": oidc.provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": issuer.apply(
                    lambda url: {
                        f"{url}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        f"{url}:aud": "sts.amazonaws.com",
                    }
                )
            },
        }
    )
    return role_with_policy(name, ctx, trust, statements, parent, bounded)
