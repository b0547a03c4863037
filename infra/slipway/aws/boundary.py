"""The stack's permissions boundary: the most any role of the stack may ever do.

Every role of the stack (but the EKS cluster and node roles and the EBS CSI driver's role,
which hold AWS managed policies) carries the customer managed policy ``<prefix>-boundary``
as its permissions boundary; a role's effective permissions are what both its policies and its
boundary allow (IAM User Guide, "Permissions boundaries for IAM entities"). The boundary
allows the stack's own resources only (the deploy role's statements, the runtime needs of
the workload roles, the stack's MLflow), and denies escalation (IAM User Guide, "Delegating
permission management to others by using permissions boundaries"):

* creating a role, or changing a role's policies, trust or boundary, unless the role carries
  this boundary: so no role the deploy role creates or edits can do
  more than the stack's own roles, and roles without it (the EKS node role, other stacks'
  and the account's roles) cannot be changed at all;
* removing a boundary, changing this boundary policy, changing the stack's deploy roles;
* changing the account's GitHub OIDC provider;
* tagging a KMS key that does not already carry the stack's tags, re-tagging a SageMaker
  resource that carries another project's or environment's tags (tag-based grants would
  follow the tags).

An administrator's first `pulumi up` creates the boundary and the deploy role (neither can
be created by a role that must carry the boundary); so does any later change to them.
"""

from __future__ import annotations

from typing import Any

import pulumi

from slipway.aws.context import StackContext
from slipway.aws.deploy_policy import (
    EC2_CREATE_API_NAMES,
    EC2_TAGGED_CREATES,
    EKS_SERVICE_LINKED,
    ROLE_CHANGES,
    sagemaker_types,
    stack_tags,
)
from slipway.aws.github import GITHUB_OIDC_HOST
from slipway.aws.policy import Account, pull_images
from slipway.aws.state import key_alias
from slipway.names import DRIFT_NAMESPACE

BOUNDARY_NAME = "{prefix}-boundary"
PIPELINE_JOBS = ("training-job", "processing-job")  # the jobs of the pipelines' steps
# Changes a boundary-carrying role may make to a role only if that role carries the
# boundary too (``iam:PermissionsBoundary`` is a condition key of each, service
# authorization reference, "Actions defined by AWS Identity and Access Management").
# Written as patterns to fit the boundary in its quota: PutRolePolicy and
# PutRolePermissionsBoundary; DeleteRole, DeleteRolePolicy (and DeleteRolePermissionsBoundary,
# which NEVER denies anyway); Attach/DetachRolePolicy; UpdateRole, UpdateRoleDescription and
# UpdateAssumeRolePolicy.
BOUNDED_CHANGES = [
    "iam:CreateRole",
    "iam:PutRole*",
    "iam:DeleteRole*",
    "iam:*tachRolePolicy",
    "iam:Update*Role*",
]
# Changes no role carrying the boundary makes, on anything: removing a boundary, changing or
# deleting a managed policy (the boundary itself, the deploy role's EKS policy).
NEVER = [
    "iam:DeleteRolePermissionsBoundary",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:DeletePolicy",
    "iam:TagPolicy",
    "iam:UntagPolicy",
]
# Tagging actions whose resources slipway's grants select by tag.
KEY_TAGGING = ["kms:TagResource", "kms:UntagResource"]
SAGEMAKER_TAGGING = ["sagemaker:AddTags", "sagemaker:DeleteTags"]
# CallMlflowAppApi, Create/Describe/Update/DeleteMlflowApp, ListMlflowApps and
# CreatePresignedMlflowAppUrl as one pattern (the boundary's quota), and its tags
MLFLOW_APP_ACTIONS = ["sagemaker:*MlflowApp*", "sagemaker:*Tags"]
AUTOSCALING = "sagemaker.application-autoscaling.amazonaws.com"
LOG_DELIVERY_PATTERNS = ["logs:*LogDeliver*", "logs:*ResourcePolic*", "logs:DescribeLogGroups"]
# The EC2 resource types an EKS stack declares, each with the stack's tags.
EC2_TAGGED_KINDS = (
    "vpc",
    "subnet",
    "route-table",
    "internet-gateway",
    "elastic-ip",
    "natgateway",
    "security-group",
)
APP_CREATES = ["sagemaker:CreateMlflowApp", "sagemaker:AddTags"]
REGISTRY_TYPES = ("model-package-group", "model-package")  # an EKS stack's only SageMaker
EKS_PARTS = (("cluster", ""), ("nodegroup", "/*"), ("addon", "/*"), ("access-entry", "/*"))
READS = [
    "iam:Get*",
    "iam:List*",
    "kms:ListAliases",
    "sagemaker:Describe*",
    "sagemaker:List*",
    "cloudwatch:Describe*",
    "cloudwatch:List*",
    "ecr:GetAuthorizationToken",
]
# The endpoint's autoscaling (no resource-level permissions: "*").
AUTOSCALING_ACTIONS = [
    "application-autoscaling:*ScalableTarget*",
    "application-autoscaling:*ScalingPolic*",
    "application-autoscaling:*Tag*",
]
EKS_READS = ["ec2:Describe*", "rds:Describe*", "rds:ListTagsForResource", "eks:Describe*"]


def global_arn(account: Account, resource: str) -> pulumi.Output[str]:
    """An IAM ARN of any account, as the envelope's other ARNs (the name still bounds it)."""
    return pulumi.Output.concat("arn:", account.partition, ":iam::*:", resource)


def boundary_arn(ctx: StackContext, account: Account) -> pulumi.Output[str]:
    """The stack's permissions boundary (a customer managed policy named after the stack)."""
    return account.arn("iam", f"policy/{BOUNDARY_NAME.format(prefix=ctx.prefix)}", regional=False)


def boundary_statements(
    ctx: StackContext,
    account: Account,
    *,
    eks_cluster: bool,
    state_bucket: str | None,
    public_api: bool = False,
) -> list[dict[str, Any]]:
    """The envelope of every role of the stack (its resources by name or by tag, read-only
    metadata, the runtime needs of the workload roles, the stack's own Pulumi state in
    ``state_bucket``), then the guards. A managed policy holds at most 6,144 characters
    (IAM quotas), so the envelope names services, not actions; each role's own policy is
    the exact grant. Region and account are ``*`` in the envelope: the stack's own names
    still bound it. ``public_api``: also the public API's resources (its proxy, log groups,
    HTTP API and user pool; on EKS its web ACL; the load balancer controller's role carries
    no boundary, see ``slipway.eks.lb_controller``)."""
    p = ctx.prefix
    part = account.partition

    def arn(service: str, resource: str, region: str = "*") -> pulumi.Output[str]:
        return pulumi.Output.concat("arn:", part, ":", service, ":", region, ":*:", resource)

    named = [
        # its buckets and their objects (a wildcard spans the "/")
        pulumi.Output.concat("arn:", part, ":s3:::", p, "-*"),
        arn("sns", f"{p}-*"),
        arn("kms", f"alias/{p}"),
        arn("ecr", f"repository/{p}-*"),  # the serving image (both flavors)
    ]
    services = ["s3:*", "sagemaker:*", "sns:*", "kms:*", "ecr:*"]
    if eks_cluster:  # the model registry of SageMaker; network, database, cluster
        services += ["eks:*", "rds:*"]
        named += [
            *(arn("sagemaker", f"{t}/{p}-*") for t in REGISTRY_TYPES),
            *(arn("eks", f"{kind}/{p}{rest}") for kind, rest in EKS_PARTS),
            arn("rds", f"db:{p}-*"),
            arn("rds", f"subgrp:{p}-*"),
            arn("rds", "pg:default.*"),
            arn("rds", "og:default:*"),
        ]
    else:  # SageMaker, its MLflow, the endpoint's alarms and dashboard, its jobs' logs; the
        # pipelines' rules and their steps' jobs (SageMaker Pipelines names a step's job
        # pipelines-<execution id>-<step>-<suffix>, not after the stack)
        services += ["sagemaker-mlflow:*", "cloudwatch:*", "logs:*", "events:*"]
        named += [
            *(arn("sagemaker", f"{t}/{p}-*") for t in sagemaker_types(ctx)),
            *(arn("sagemaker", f"{job}/pipelines-*") for job in PIPELINE_JOBS),
            arn("events", f"rule/{p}-*"),
            arn("cloudwatch", f"alarm:{p}-*"),
            arn("cloudwatch", f"dashboard/{p}*", region=""),
            arn("logs", "log-group:/aws/sagemaker/*"),
        ]
    tagged_actions, tagged_resources = ["kms:*"], [arn("kms", "key/*")]
    creates = ["kms:CreateKey", "kms:TagResource"]
    reads = [*READS, *(EKS_READS if eks_cluster else AUTOSCALING_ACTIONS)]
    if public_api and eks_cluster:
        services.append("wafv2:*")
        named.append(arn("wafv2", f"regional/webacl/{p}-api/*"))
    elif public_api:  # slipway.aws.public_api_permissions
        services += ["lambda:*", "apigateway:*"]
        named += [
            arn("lambda", f"function:{p}-*"),
            arn("logs", f"log-group:/slipway/{p}/*"),
            pulumi.Output.concat("arn:", part, ":apigateway:*::/apis*"),  # HTTP APIs and parts
        ]
        tagged_actions.append("cognito-idp:*")
        tagged_resources.append(arn("cognito-idp", "userpool/*"))
        creates += ["cognito-idp:CreateUserPool", "cognito-idp:TagResource"]
        # the access log's delivery (LOG_DELIVERY, no resource type), as patterns
        reads += ["cognito-idp:DescribeUserPoolDomain", *LOG_DELIVERY_PATTERNS]
    own = boundary_arn(ctx, account)
    tagged = stack_tags("aws:ResourceTag", ctx)
    statements: list[dict[str, Any]] = [
        {"Sid": "StackNamed", "Effect": "Allow", "Action": services, "Resource": named},
        {
            "Sid": "StackTagged",
            "Effect": "Allow",
            "Action": [*tagged_actions, *(["ec2:*"] if eks_cluster else [])],
            "Resource": [
                *tagged_resources,
                *(arn("ec2", f"{kind}/*") for kind in (EC2_TAGGED_KINDS if eks_cluster else ())),
            ],
            "Condition": tagged,
        },
        {
            "Sid": "StackCreates",
            "Effect": "Allow",
            "Action": [
                *creates,
                *([*EC2_TAGGED_CREATES, "eks:CreateCluster"] if eks_cluster else APP_CREATES),
            ],
            "Resource": "*",
            "Condition": stack_tags("aws:RequestTag", ctx),
        },
        {
            "Sid": "StackRoles",
            "Effect": "Allow",
            "Action": ["iam:*"],
            "Resource": [
                global_arn(account, f"role/{p}-*"),
                global_arn(account, f"policy/{p}-*"),
            ],
        },
        {
            "Sid": "LinkedRoles",
            "Effect": "Allow",
            "Action": ["iam:CreateServiceLinkedRole"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "iam:AWSServiceName": sorted(EKS_SERVICE_LINKED) if eks_cluster else AUTOSCALING
                }
            },
        },
        {
            "Sid": "Reads",
            "Effect": "Allow",
            "Action": reads,
            "Resource": "*",
        },
        pull_images(arn("ecr", "repository/*")),
    ]
    if eks_cluster:
        statements.append(
            {
                "Sid": "StackEc2",
                "Effect": "Allow",
                "Action": ["ec2:CreateTags"],
                "Resource": "*",
                "Condition": {"StringEquals": {"ec2:CreateAction": EC2_CREATE_API_NAMES}},
            }
        )
        statements.append(
            {
                "Sid": "StackSecurityGroupRules",
                "Effect": "Allow",
                "Action": ["ec2:*SecurityGroup*"],
                "Resource": arn("ec2", "security-group-rule/*"),
            }
        )
    if not eks_cluster:  # drift.yml publishes DriftedShare (EKS: the cluster's CronJob)
        statements.append(
            {
                "Sid": "DriftMetrics",
                "Effect": "Allow",
                "Action": ["cloudwatch:PutMetricData"],
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": DRIFT_NAMESPACE}},
            }
        )
    if not eks_cluster and ctx.preset.sagemaker.tracking == "mlflow_app":
        statements.append(
            {
                "Sid": "StackMlflowApp",
                "Effect": "Allow",
                "Action": MLFLOW_APP_ACTIONS,
                "Resource": arn("sagemaker", "mlflow-app/*"),
                # where SageMaker supplies the App's tags; its grants name the App's ARN
                "Condition": {"StringEqualsIfExists": tagged["StringEquals"]},
            }
        )
    if state_bucket is not None:
        statements += state_envelope(ctx, account, state_bucket)
    return [*statements, *guards(ctx, account, own)]


def state_envelope(ctx: StackContext, account: Account, bucket: str) -> list[dict[str, Any]]:
    """The stack's own objects in the Pulumi state bucket (``<kind>/[organization/]<project>/
    <stack>``, slipway.aws.state) and its secrets key."""
    objects = pulumi.Output.concat("arn:", account.partition, ":s3:::", bucket, "/.pulumi/")
    # the stack's checkpoint (<stack>.json*) and directories (<stack>/*)
    stack = f"*/{ctx.project}/{ctx.environment}*"
    return [
        {
            "Sid": "StackState",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
            "Resource": [
                pulumi.Output.concat("arn:", account.partition, ":s3:::", bucket),
                pulumi.Output.concat(objects, "meta.yaml"),
                pulumi.Output.concat(objects, stack),
            ],
        },
        {
            "Sid": "StackStateKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": "*",
            "Condition": {
                "ForAnyValue:StringEquals": {
                    "kms:ResourceAliases": key_alias(ctx.project, ctx.environment)
                }
            },
        },
    ]


def guards(ctx: StackContext, account: Account, own: pulumi.Output[str]) -> list[dict[str, Any]]:
    """What no role carrying the boundary may do, whatever its own policy says."""
    return [
        {
            "Sid": "GuardBoundary",
            "Effect": "Deny",
            "Action": BOUNDED_CHANGES,
            "Resource": "*",
            "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": own}},
        },
        {
            "Sid": "GuardPolicies",
            "Effect": "Deny",
            "Action": NEVER,
            "Resource": "*",
        },
        {
            "Sid": "GuardDeployRoles",
            "Effect": "Deny",
            "Action": ROLE_CHANGES,
            "Resource": global_arn(account, f"role/{ctx.prefix}-deploy-*"),
        },
        {
            "Sid": "GuardGithubOidc",
            "Effect": "Deny",
            "Action": ["iam:*OpenIDConnectProvider*"],
            "Resource": global_arn(account, f"oidc-provider/{GITHUB_OIDC_HOST}"),
        },
        *(
            guard
            for tag in ("project", "environment")
            for guard in _retag_guards(ctx, account, tag)
        ),
    ]


def _retag_guards(ctx: StackContext, account: Account, tag: str) -> list[dict[str, Any]]:
    """Tag-scoped grants follow the tags: no role may tag a key unless it already carries
    the stack's ``tag`` (an untagged key too: KMS authorizes tagging a key as it is created
    on ``*``, AWS KMS Developer Guide "Controlling access to tags", so this does not stop
    creating one), nor re-tag a SageMaker resource carrying another value."""
    value = getattr(ctx, tag)
    key = f"aws:ResourceTag/{tag}"
    return [
        {
            "Sid": f"GuardKey{tag.title()}",
            "Effect": "Deny",
            "Action": KEY_TAGGING,
            "Resource": pulumi.Output.concat("arn:", account.partition, ":kms:*:*:key/*"),
            "Condition": {"StringNotEquals": {key: value}},
        },
        {
            "Sid": f"GuardSageMaker{tag.title()}",
            "Effect": "Deny",
            "Action": SAGEMAKER_TAGGING,
            "Resource": "*",
            "Condition": {"StringNotEquals": {key: value}, "Null": {key: "false"}},
        },
    ]
