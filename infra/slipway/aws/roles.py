"""Roles: least-privilege IAM roles of the project, plus the GitHub Actions deploy role.

* execution: MLflow tracking and Model Monitor jobs;
* training: reads data, writes models and MLflow artifacts;
* inference: the endpoint's model role, reads models and writes data capture.

Each is scoped to its bucket prefixes, the project's KMS key and model package group;
no statement grants ``*`` on ``*``. With ``github`` set, an OIDC provider and a deploy
role that only this repository's branches and environments can assume.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from slipway.aws import policy
from slipway.aws.artifact_store import PREFIXES
from slipway.aws.tags import Deployment

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
SAGEMAKER = "sagemaker.amazonaws.com"
# Which bucket areas each role reads and writes.
ACCESS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "exec": (("data", "models", "capture"), ("mlflow", "monitoring")),
    "train": (("data",), ("models", "mlflow")),
    "infer": (("models",), ("capture",)),
}


@dataclass(frozen=True)
class GithubDeployment:
    """The repository (owner/name) whose workflows may deploy this stack."""

    repository: str


@dataclass(frozen=True)
class RolesArgs:
    deployment: Deployment
    bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    model_package_group_arn: pulumi.Input[str]
    github: GithubDeployment | None = None


@dataclass(frozen=True)
class _Account:
    id: pulumi.Output[str]
    region: pulumi.Output[str]
    partition: pulumi.Output[str]

    def arn(self, service: str, resource: str, *, regional: bool = True) -> pulumi.Output[str]:
        region = self.region if regional else ""
        return pulumi.Output.concat(
            "arn:", self.partition, ":", service, ":", region, ":", self.id, ":", resource
        )


class Roles(pulumi.ComponentResource):
    """Outputs: execution_role_arn, training_role_arn, inference_role_arn, deploy_role_arn."""

    execution_role_arn: pulumi.Output[str]
    training_role_arn: pulumi.Output[str]
    inference_role_arn: pulumi.Output[str]
    deploy_role_arn: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: RolesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:aws:Roles", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = _Account(
            id=aws.get_caller_identity_output(opts=invoke).account_id,
            region=aws.get_region_output(opts=invoke).region,
            partition=aws.get_partition_output(opts=invoke).partition,
        )
        arns = {}
        for role, (reads, writes) in ACCESS.items():
            statements = [
                *bucket_prefix_statements(args.bucket_arn, reads, writes),
                kms_key_statement(args.kms_key_arn),
                *_runtime_statements(account),
            ]
            if role == "exec":
                statements.append(_registry_statement(args.model_package_group_arn))
            arns[role] = self._role(name, role, args.deployment, account, statements)
        self.execution_role_arn = arns["exec"]
        self.training_role_arn = arns["train"]
        self.inference_role_arn = arns["infer"]
        self.deploy_role_arn = None
        if args.github is not None:
            self.deploy_role_arn = self._deploy_role(name, args, account)
        self.register_outputs({
            "execution_role_arn": self.execution_role_arn,
            "training_role_arn": self.training_role_arn,
            "inference_role_arn": self.inference_role_arn,
            "deploy_role_arn": self.deploy_role_arn,
        })

    def _role(
        self,
        name: str,
        role: str,
        dep: Deployment,
        account: _Account,
        statements: list[dict[str, Any]],
        trust: pulumi.Input[str] | None = None,
    ) -> pulumi.Output[str]:
        created = aws.iam.Role(
            f"{name}-{role}",
            assume_role_policy=trust or policy.service_trust(SAGEMAKER, account.id),
            tags=dep.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            f"{name}-{role}-policy",
            role=created.id,
            policy=policy.document(*statements),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return created.arn

    def _deploy_role(self, name: str, args: RolesArgs, account: _Account) -> pulumi.Output[str]:
        assert args.github is not None
        dep = args.deployment
        provider = aws.iam.OpenIdConnectProvider(
            f"{name}-github-oidc",
            url=GITHUB_OIDC_URL,
            client_id_lists=["sts.amazonaws.com"],
            tags=dep.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        repo = args.github.repository
        trust = policy.document({
            "Effect": "Allow",
            "Principal": {"Federated": provider.arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {
                    "token.actions.githubusercontent.com:sub": [
                        f"repo:{repo}:ref:refs/heads/*",
                        f"repo:{repo}:environment:*",
                    ]
                },
            },
        })
        return self._role(
            name, "deploy", dep, account, _deploy_statements(dep, account), trust=trust
        )


def bucket_prefix_statements(
    bucket_arn: pulumi.Input[str], reads: tuple[str, ...], writes: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Read ``reads`` and read/write ``writes`` (ArtifactStore areas) of the project bucket."""
    def objects(areas: tuple[str, ...]) -> list[pulumi.Output[str]]:
        return [pulumi.Output.concat(bucket_arn, "/", PREFIXES[a], "*") for a in areas]

    return [
        {
            "Sid": "ListOwnPrefixes",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [PREFIXES[a] + "*" for a in reads + writes]}},
        },
        {"Sid": "ReadObjects", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": objects(reads + writes)},
        {"Sid": "WriteObjects", "Effect": "Allow",
         "Action": ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
         "Resource": objects(writes)},
    ]


def kms_key_statement(kms_key_arn: pulumi.Input[str]) -> dict[str, Any]:
    """Use (not administer) the project's KMS key."""
    return {
        "Sid": "UseProjectKey",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey",
                   "kms:CreateGrant"],
        "Resource": kms_key_arn,
    }


def _registry_statement(group_arn: pulumi.Input[str]) -> dict[str, Any]:
    packages = pulumi.Output.from_input(group_arn).apply(
        lambda arn: arn.replace(":model-package-group/", ":model-package/") + "/*"
    )
    return {
        "Sid": "UseModelPackageGroup",
        "Effect": "Allow",
        "Action": ["sagemaker:DescribeModelPackageGroup", "sagemaker:CreateModelPackage",
                   "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages",
                   "sagemaker:UpdateModelPackage"],
        "Resource": [group_arn, packages],
    }


def _runtime_statements(account: _Account) -> list[dict[str, Any]]:
    """Write SageMaker logs, pull container images (GetAuthorizationToken has no resource)."""
    return [
        {"Sid": "WriteSageMakerLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                    "logs:DescribeLogStreams"],
         "Resource": account.arn("logs", "log-group:/aws/sagemaker/*")},
        {"Sid": "EcrToken", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"],
         "Resource": "*"},
        {"Sid": "PullImages", "Effect": "Allow",
         "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability"],
         "Resource": pulumi.Output.concat(
             "arn:", account.partition, ":ecr:", account.region, ":*:repository/*")},
    ]


def _deploy_statements(dep: Deployment, account: _Account) -> list[dict[str, Any]]:
    """What `pulumi up` of this stack needs, scoped to resources named after the stack."""
    prefix = dep.prefix
    s3 = pulumi.Output.concat("arn:", account.partition, ":s3:::", prefix, "-*")
    return [
        {"Sid": "ProjectBuckets", "Effect": "Allow", "Action": ["s3:*"],
         "Resource": [s3, pulumi.Output.concat(s3, "/*")]},
        {"Sid": "ProjectSageMaker", "Effect": "Allow", "Action": ["sagemaker:*"],
         "Resource": [account.arn("sagemaker", f"*/{prefix}-*"),
                      account.arn("sagemaker", "mlflow-app/*")]},
        {"Sid": "ProjectRoles", "Effect": "Allow",
         "Action": ["iam:*Role", "iam:*RolePolicy", "iam:*RolePolicies", "iam:PassRole",
                    "iam:TagRole", "iam:UntagRole", "iam:ListInstanceProfilesForRole"],
         "Resource": account.arn("iam", f"role/{prefix}-*", regional=False)},
        {"Sid": "GithubOidcProvider", "Effect": "Allow",
         "Action": ["iam:*OpenIDConnectProvider*"],
         "Resource": account.arn(
             "iam", "oidc-provider/token.actions.githubusercontent.com", regional=False)},
        {"Sid": "ProjectKeys", "Effect": "Allow", "Action": ["kms:*"],
         "Resource": account.arn("kms", "key/*"),
         "Condition": {"StringEquals": {"aws:ResourceTag/project": dep.project}}},
        {"Sid": "ProjectKeyAlias", "Effect": "Allow", "Action": ["kms:*Alias"],
         "Resource": [account.arn("kms", f"alias/{prefix}"), account.arn("kms", "key/*")]},
        {"Sid": "CreateKeys", "Effect": "Allow",
         "Action": ["kms:CreateKey", "kms:ListAliases", "kms:TagResource"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/project": dep.project}}},
        {"Sid": "ProjectAlarmsAndDashboards", "Effect": "Allow", "Action": ["cloudwatch:*"],
         "Resource": [account.arn("cloudwatch", f"alarm:{prefix}-*"),
                      account.arn("cloudwatch", f"dashboard/{prefix}*", regional=False)]},
        {"Sid": "ProjectTopics", "Effect": "Allow", "Action": ["sns:*"],
         "Resource": account.arn("sns", f"{prefix}-*")},
        {"Sid": "EndpointAutoscaling", "Effect": "Allow",
         "Action": ["application-autoscaling:RegisterScalableTarget",
                    "application-autoscaling:DeregisterScalableTarget",
                    "application-autoscaling:PutScalingPolicy",
                    "application-autoscaling:DeleteScalingPolicy",
                    "application-autoscaling:Describe*",
                    "application-autoscaling:TagResource",
                    "application-autoscaling:ListTagsForResource"],
         "Resource": "*"},
        {"Sid": "AutoscalingServiceRole", "Effect": "Allow",
         "Action": ["iam:CreateServiceLinkedRole"], "Resource": "*",
         "Condition": {"StringEquals": {
             "iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"}}},
        {"Sid": "ReadOnlyLookups", "Effect": "Allow",
         "Action": ["sts:GetCallerIdentity", "sagemaker:List*", "sagemaker:Describe*",
                    "cloudwatch:Describe*", "cloudwatch:List*"],
         "Resource": "*"},
    ]
