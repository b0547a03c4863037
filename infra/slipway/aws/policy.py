"""IAM policy documents and the generic statements the roles share (values may be Outputs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from slipway.names import BUCKET_PREFIXES

# GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource.
ECR_TOKEN = {
    "Sid": "EcrToken",
    "Effect": "Allow",
    "Action": ["ecr:GetAuthorizationToken"],
    "Resource": "*",
}


@dataclass(frozen=True)
class Account:
    """The stack's account, region and partition, to build ARNs of its resources."""

    id: pulumi.Output[str]
    region: pulumi.Output[str]
    partition: pulumi.Output[str]

    def arn(self, service: str, resource: str, *, regional: bool = True) -> pulumi.Output[str]:
        region = self.region if regional else ""
        return pulumi.Output.concat(
            "arn:", self.partition, ":", service, ":", region, ":", self.id, ":", resource
        )


def stack_account(parent: pulumi.Resource) -> Account:
    """The account, region and partition the stack deploys to (provider invokes)."""
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    return Account(
        id=aws.get_caller_identity_output(opts=invoke).account_id,
        region=aws.get_region_output(opts=invoke).region,
        partition=aws.get_partition_output(opts=invoke).partition,
    )


def document(*statements: dict[str, Any]) -> pulumi.Output[str]:
    """JSON policy document; nested Outputs are resolved."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def deny_insecure_transport(bucket_arn: pulumi.Input[str]) -> dict[str, Any]:
    """Refuse every request to the bucket and its objects that is not over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def service_trust(service: str, account_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """Trust policy letting one AWS service assume a role on behalf of this account only."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    )


def github_oidc_trust(
    provider_arn: pulumi.Input[str], issuer_host: str, subject: str
) -> pulumi.Output[str]:
    """Trust policy for GitHub Actions tokens of exactly one ``sub`` (no wildcard), audience STS."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{issuer_host}:aud": "sts.amazonaws.com",
                    f"{issuer_host}:sub": subject,
                }
            },
        }
    )


def bucket_prefix_statements(
    bucket_arn: pulumi.Input[str], reads: tuple[str, ...], writes: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Read ``reads`` and read/write ``writes`` (ArtifactStore areas) of the project bucket."""

    def objects(areas: tuple[str, ...]) -> list[pulumi.Output[str]]:
        return [pulumi.Output.concat(bucket_arn, "/", BUCKET_PREFIXES[a], "*") for a in areas]

    statements: list[dict[str, Any]] = [
        {
            "Sid": "ListOwnPrefixes",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": bucket_arn,
            "Condition": {
                "StringLike": {"s3:prefix": [BUCKET_PREFIXES[a] + "*" for a in reads + writes]}
            },
        },
        # GetBucketLocation supplies no s3:prefix: under ListOwnPrefixes it was never allowed.
        {
            "Sid": "BucketLocation",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation"],
            "Resource": bucket_arn,
        },
        {
            "Sid": "ReadObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": objects(reads + writes),
        },
    ]
    if writes:
        statements.append(
            {
                "Sid": "WriteObjects",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                "Resource": objects(writes),
            }
        )
    return statements


def kms_key_statement(kms_key_arn: pulumi.Input[str]) -> dict[str, Any]:
    """Use (not administer) the project's KMS key."""
    return {
        "Sid": "UseProjectKey",
        "Effect": "Allow",
        "Action": [
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:DescribeKey",
            "kms:CreateGrant",
        ],
        "Resource": kms_key_arn,
    }
