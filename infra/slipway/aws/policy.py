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


# IAM quotas: characters of a managed policy, of a role's inline policies together (not
# counting white space; IAM User Guide, "IAM and AWS STS quotas").
MANAGED_POLICY_CHARACTERS = 6144
INLINE_POLICY_CHARACTERS = 10240


def document(*statements: dict[str, Any], limit: int | None = None) -> pulumi.Output[str]:
    """JSON policy document; nested Outputs are resolved. With ``limit``, a document longer
    than IAM allows fails the program instead of `pulumi up` (half-way)."""
    text = pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})
    if limit is None:
        return text
    return text.apply(lambda value: _within(value, limit))


def _within(text: str, limit: int) -> str:
    size = len("".join(text.split()))
    if size > limit:
        raise ValueError(f"policy: {size} characters, IAM allows {limit} (IAM and STS quotas)")
    return text


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
    provider_arn: pulumi.Input[str], issuer_host: str, claims: dict[str, str | list[str]]
) -> pulumi.Output[str]:
    """Trust policy for GitHub Actions tokens whose ``claims`` (``sub``, ``aud``, ``ref`` ...)
    equal the given values exactly (``StringEquals``: no wildcard; a list means one of them)."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {f"{issuer_host}:{claim}": value for claim, value in claims.items()}
            },
        }
    )


def bucket_prefix_statements(
    bucket_arn: pulumi.Input[str],
    reads: tuple[str, ...],
    writes: tuple[str, ...],
    *,
    lists: bool = True,
    locates: bool = False,
) -> list[dict[str, Any]]:
    """Read ``reads`` and read/write ``writes`` (ArtifactStore areas) of the project bucket;
    ``lists``: list those prefixes; ``locates``: ``s3:GetBucketLocation`` (for AWS services
    that look the bucket's region up; boto3 and MLflow do not)."""

    def objects(areas: tuple[str, ...]) -> list[pulumi.Output[str]]:
        return [pulumi.Output.concat(bucket_arn, "/", BUCKET_PREFIXES[a], "*") for a in areas]

    statements: list[dict[str, Any]] = []
    if lists:
        statements.append(
            {
                "Sid": "ListOwnPrefixes",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": bucket_arn,
                "Condition": {
                    "StringLike": {"s3:prefix": [BUCKET_PREFIXES[a] + "*" for a in reads + writes]}
                },
            }
        )
    if locates:
        # GetBucketLocation supplies no s3:prefix: under ListOwnPrefixes it was never allowed.
        statements.append(
            {
                "Sid": "BucketLocation",
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation"],
                "Resource": bucket_arn,
            }
        )
    statements.append(
        {
            "Sid": "ReadObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": objects(reads + writes),
        }
    )
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


def sagemaker_runtime_statements(account: Account) -> list[dict[str, Any]]:
    """Write SageMaker logs, pull container images (GetAuthorizationToken has no resource)."""
    return [
        {
            "Sid": "WriteSageMakerLogs",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
            ],
            "Resource": account.arn("logs", "log-group:/aws/sagemaker/*"),
        },
        ECR_TOKEN,
        pull_images(
            pulumi.Output.concat(
                "arn:", account.partition, ":ecr:", account.region, ":*:repository/*"
            )
        ),
    ]


def pull_images(repositories: pulumi.Input[str]) -> dict[str, Any]:
    """Pull images from ``repositories`` (the token: ``ECR_TOKEN``)."""
    return {
        "Sid": "PullImages",
        "Effect": "Allow",
        "Action": [
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:BatchCheckLayerAvailability",
        ],
        "Resource": repositories,
    }


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


def step_bucket_statements(bucket_arn: pulumi.Input[str]) -> list[dict[str, Any]]:
    """The lifecycle steps on an engine (slipway.jobs): read data/ and batch/input/, write
    pipelines/ (snapshots, evaluations) and batch/predictions/."""
    bucket = pulumi.Output.from_input(bucket_arn)
    data, pipelines, batch = (BUCKET_PREFIXES[a] for a in ("data", "pipelines", "batch"))

    def objects(*prefixes: str) -> list[pulumi.Output[str]]:
        return [pulumi.Output.concat(bucket, "/", prefix, "*") for prefix in prefixes]

    return [
        {
            "Sid": "StepObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": objects(data, pipelines, f"{batch}input/"),
        },
        {
            "Sid": "StepOutputs",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": objects(pipelines, f"{batch}predictions/"),
        },
        {
            "Sid": "ListStepPrefixes",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
            "Resource": bucket,
            "Condition": {"StringLike": {"s3:prefix": [f"{p}*" for p in (data, pipelines, batch)]}},
        },
    ]
