"""The deploy role's policy: what `pulumi up` of this stack needs, scoped to the stack.

Names scope what has a name (``<prefix>-*`` buckets, SageMaker resources of the types the
stack declares, roles, topics, alarms, the cluster); tags scope what does not (KMS keys and
EC2 resources: ``aws:ResourceTag/project`` *and* ``/environment``, ``aws:RequestTag`` on
create). ``slipway.aws.deploy_permissions`` lists the actions per resource type; the access
matrix (tests/test_access_matrix.py) evaluates every one of them with an IAM engine.

What the deploy role must never do is denied explicitly: changing its own role, and (with
the stack's permissions boundary, ``slipway.aws.boundary``) creating or changing a role
without that boundary.
"""

from __future__ import annotations

from typing import Any

import pulumi

from slipway.aws.context import StackContext
from slipway.aws.policy import ECR_TOKEN, Account
from slipway.names import MODEL_REPOSITORY

SAGEMAKER = "sagemaker.amazonaws.com"
EKS = "eks.amazonaws.com"
LAMBDA = "lambda.amazonaws.com"
EVENTS = "events.amazonaws.com"  # the training pipeline's schedule and retrain rules
VIEW_ONLY_POLICY = "job-function/ViewOnlyAccess"  # AWS managed: metadata, no data reads
EKS_SERVICE_LINKED = {"eks.amazonaws.com", "eks-nodegroup.amazonaws.com", "rds.amazonaws.com"}
AUTOSCALING = "sagemaker.application-autoscaling.amazonaws.com"
# SageMaker resource types the stack declares or its deploy runtime creates, each named
# `<prefix>-...` ("Resource types defined by Amazon SageMaker AI", service authorization
# reference). An MLflow App's ARN carries a random id instead: its grants name the app's
# ARN (slipway.aws.tracking), its creation needs the stack's tags in the request.
SAGEMAKER_RESOURCE_TYPES = (
    "endpoint",
    "endpoint-config",
    "model",
    "model-package-group",
    "model-package",
    "monitoring-schedule",
    "model-card",  # the release's card of the deployed package (slipway.deploy.model_card)
    "pipeline",  # the training and batch pipelines (slipway.aws.training), started by CI
)
TRACKING_SERVER = "mlflow-tracking-server"  # where the preset tracks with one
# Every IAM action that changes a role: denied on the deploy role itself.
ROLE_CHANGES = [
    "iam:Put*",
    "iam:Delete*",
    "iam:Attach*",
    "iam:Detach*",
    "iam:Update*",
    "iam:Tag*",
    "iam:Untag*",
    "iam:PassRole",
]
ECR_PUSH = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
    "ecr:DescribeImages",
]  # DescribeImages: the image action skips a tag already pushed


def stack_tags(key: str, ctx: StackContext) -> dict[str, Any]:
    """``StringEquals`` on the stack's project and environment tags (``aws:RequestTag`` on
    create, ``aws:ResourceTag`` on everything after)."""
    return {"StringEquals": {f"{key}/project": ctx.project, f"{key}/environment": ctx.environment}}


def sagemaker_types(ctx: StackContext) -> tuple[str, ...]:
    """The SageMaker resource types of the stack: a tracking server's only where the preset
    tracks with one (an App's ARN carries a random id: its grants name it)."""
    server = ctx.preset.sagemaker.tracking != "mlflow_app"
    return (*SAGEMAKER_RESOURCE_TYPES, *((TRACKING_SERVER,) if server else ()))


def sagemaker_arns(ctx: StackContext, account: Account) -> list[pulumi.Output[str]]:
    return [account.arn("sagemaker", f"{t}/{ctx.prefix}-*") for t in sagemaker_types(ctx)]


def deploy_statements(
    ctx: StackContext, account: Account, *, eks_cluster: bool, public_api: bool = False
) -> list[dict[str, Any]]:
    """The Allow statements of `pulumi up` of this stack but its EKS parts
    (``eks_deploy_statements``: a managed policy of their own, as one role's inline policies
    hold at most 10,240 characters, IAM quotas).

    Roles: only with the stack's boundary (which the boundary enforces), inline policies and, of the
    managed ones, only ``ViewOnlyAccess`` (the preview role); the deploy role passes the
    stack's roles only to the services that run them."""
    prefix = ctx.prefix
    # the public API's proxy is a Lambda function on the SageMaker flavor
    passed_to = {SAGEMAKER} | ({EKS} if eks_cluster else {LAMBDA} if public_api else set())
    if not eks_cluster:  # the pipelines' trigger role (slipway.aws.training)
        passed_to.add(EVENTS)
    service_linked = EKS_SERVICE_LINKED if eks_cluster else {AUTOSCALING}
    s3 = pulumi.Output.concat("arn:", account.partition, ":s3:::", prefix, "-*")
    roles = account.arn("iam", f"role/{prefix}-*", regional=False)
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ProjectBuckets",
            "Effect": "Allow",
            "Action": ["s3:*"],
            "Resource": [s3, pulumi.Output.concat(s3, "/*")],
        },
        {
            "Sid": "ProjectSageMaker",
            "Effect": "Allow",
            "Action": ["sagemaker:*"],
            "Resource": sagemaker_arns(ctx, account),
        },
        {
            "Sid": "ProjectRoles",
            "Effect": "Allow",
            # Not iam:*Role, which would include iam:PassRole without PassProjectRoles' condition.
            "Action": [
                "iam:CreateRole",
                "iam:GetRole",
                "iam:UpdateRole",
                "iam:DeleteRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:PutRolePolicy",
                "iam:GetRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:*RolePolicies",
                "iam:PutRolePermissionsBoundary",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:ListInstanceProfilesForRole",
            ],
            # the boundary denies creating or changing a role without the stack's boundary
            "Resource": roles,
        },
        {
            "Sid": "PassProjectRoles",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": roles,
            "Condition": {"StringEquals": {"iam:PassedToService": sorted(passed_to)}},
        },
        {
            "Sid": "AttachViewOnlyAccess",
            "Effect": "Allow",
            "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            "Resource": roles,
            "Condition": {
                "ArnEquals": {
                    "iam:PolicyARN": pulumi.Output.concat(
                        "arn:", account.partition, ":iam::aws:policy/", VIEW_ONLY_POLICY
                    )
                }
            },
        },
        # the stack's managed policies (its boundary, the EKS deploy policy): read, never
        # changed (the boundary denies it)
        {
            "Sid": "ReadStackPolicies",
            "Effect": "Allow",
            "Action": ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions"],
            "Resource": account.arn("iam", f"policy/{prefix}-*", regional=False),
        },
        {
            "Sid": "ProjectKeys",
            "Effect": "Allow",
            "Action": ["kms:*"],
            "Resource": account.arn("kms", "key/*"),
            "Condition": stack_tags("aws:ResourceTag", ctx),
        },
        {
            "Sid": "ProjectKeyAlias",
            "Effect": "Allow",
            "Action": ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"],
            "Resource": account.arn("kms", f"alias/{prefix}"),
        },
        # To tag a key while creating it, KMS needs kms:TagResource in an IAM policy that is
        # not restricted to particular keys (AWS KMS Developer Guide, "Controlling access to
        # tags"); the boundary denies re-tagging a key of another stack.
        {
            "Sid": "CreateKeys",
            "Effect": "Allow",
            "Action": ["kms:CreateKey", "kms:TagResource"],
            "Resource": "*",
            "Condition": stack_tags("aws:RequestTag", ctx),
        },
        {
            "Sid": "ProjectTopics",
            "Effect": "Allow",
            "Action": ["sns:*"],
            "Resource": account.arn("sns", f"{prefix}-*"),
        },
        # the serving image's repository (slipway.aws.images, both flavors)
        {
            "Sid": "StackImageRepository",
            "Effect": "Allow",
            "Action": [
                "ecr:CreateRepository",
                "ecr:DeleteRepository",
                "ecr:DescribeRepositories",
                "ecr:PutImageScanningConfiguration",
                "ecr:PutImageTagMutability",
                "ecr:*LifecyclePolicy",
                "ecr:TagResource",
                "ecr:UntagResource",
                "ecr:ListTagsForResource",
            ],
            "Resource": account.arn("ecr", f"repository/{MODEL_REPOSITORY.format(prefix=prefix)}"),
        },
        {
            "Sid": "ServiceLinkedRoles",
            "Effect": "Allow",
            "Action": ["iam:CreateServiceLinkedRole"],
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": sorted(service_linked)}},
        },
        {
            "Sid": "ReadOnlyLookups",
            "Effect": "Allow",
            "Action": [
                "kms:ListAliases",
                "sagemaker:List*",
                "sagemaker:Describe*",
                "cloudwatch:Describe*",
                "cloudwatch:List*",
            ],
            "Resource": "*",
        },
    ]
    if not eks_cluster:
        statements += sagemaker_deploy_statements(ctx, account)
    return statements


def sagemaker_deploy_statements(ctx: StackContext, account: Account) -> list[dict[str, Any]]:
    """The SageMaker flavor: the endpoint's alarms, dashboard and autoscaling; the MLflow App
    (created with the stack's tags: its ARN carries a random id) where the preset has one."""
    prefix = ctx.prefix
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ProjectAlarmsAndDashboards",
            "Effect": "Allow",
            "Action": ["cloudwatch:*"],
            "Resource": [
                account.arn("cloudwatch", f"alarm:{prefix}-*"),
                account.arn("cloudwatch", f"dashboard/{prefix}*", regional=False),
            ],
        },
        {
            "Sid": "EndpointAutoscaling",
            "Effect": "Allow",
            "Action": [
                "application-autoscaling:RegisterScalableTarget",
                "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:PutScalingPolicy",
                "application-autoscaling:DeleteScalingPolicy",
                "application-autoscaling:Describe*",
                "application-autoscaling:TagResource",
                "application-autoscaling:ListTagsForResource",
            ],
            "Resource": "*",
        },
    ]
    # the training pipeline's schedule and retrain rules (autonamed `<prefix>-<kind>-*`)
    statements.append(
        {
            "Sid": "PipelineRules",
            "Effect": "Allow",
            "Action": ["events:*"],
            "Resource": account.arn("events", f"rule/{prefix}-*"),
        }
    )
    if ctx.preset.sagemaker.tracking == "mlflow_app":
        statements.append(
            {
                "Sid": "CreateStackMlflowApp",
                "Effect": "Allow",
                "Action": ["sagemaker:CreateMlflowApp", "sagemaker:AddTags"],
                "Resource": account.arn("sagemaker", "mlflow-app/*"),
                "Condition": stack_tags("aws:RequestTag", ctx),
            }
        )
    return statements


def deploy_denials(own_role_arn: pulumi.Input[str]) -> list[dict[str, Any]]:
    """The deploy role never changes its own role. It does approve model packages: only job
    `release`, in the reviewed environment, assumes it, and the runtime refuses outside dev
    a model a person other than its trainer did not approve (docs/promotion.md)."""
    return [
        {
            "Sid": "ProtectOwnRole",
            "Effect": "Deny",
            "Action": ROLE_CHANGES,
            "Resource": own_role_arn,
        }
    ]


# EC2 creates that take tags in the request (tag-on-create: the provider sends the stack's
# tags with the create call); every other EC2 write needs the stack's tags on the resource.
EC2_TAGGED_CREATES = [
    "ec2:CreateVpc",
    "ec2:CreateSubnet",
    "ec2:CreateRouteTable",
    "ec2:CreateInternetGateway",
    "ec2:AllocateAddress",
    "ec2:CreateNatGateway",
    "ec2:CreateSecurityGroup",
]
# Tag-on-create is authorized as ec2:CreateTags with ec2:CreateAction = the API name of the
# create ("CreateVpc", not "ec2:CreateVpc": Amazon EC2 User Guide, "Grant permission to tag
# resources during creation").
EC2_CREATE_API_NAMES = [action.split(":", 1)[1] for action in EC2_TAGGED_CREATES]
EC2_TAGGED_WRITES = [
    "ec2:ModifyVpcAttribute",
    "ec2:DeleteVpc",
    "ec2:ModifySubnetAttribute",
    "ec2:DeleteSubnet",
    "ec2:AttachInternetGateway",
    "ec2:DetachInternetGateway",
    "ec2:DeleteInternetGateway",
    "ec2:CreateRoute",
    "ec2:ReplaceRoute",
    "ec2:DeleteRoute",
    "ec2:AssociateRouteTable",
    "ec2:DisassociateRouteTable",
    "ec2:ReplaceRouteTableAssociation",
    "ec2:DeleteRouteTable",
    "ec2:ReleaseAddress",
    "ec2:DeleteNatGateway",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:DeleteSecurityGroup",
    "ec2:CreateTags",
    "ec2:DeleteTags",
]
RDS_WRITES = [
    "rds:ModifyDBInstance",
    "rds:DeleteDBInstance",
    "rds:RebootDBInstance",
    "rds:ModifyDBSubnetGroup",
    "rds:DeleteDBSubnetGroup",
    "rds:AddTagsToResource",
    "rds:RemoveTagsFromResource",
]


def eks_deploy_statements(ctx: StackContext, account: Account) -> list[dict[str, Any]]:
    """`pulumi up` of an EKS stack: network, database, image repository, cluster.

    EC2 ids are random, so EC2 is scoped by the stack's tags (every EC2 resource of the
    program carries them); RDS, ECR and EKS by the stack's names. Kubernetes rights come
    from the deploy role's cluster access entry (slipway.eks.cluster.CiAccess). The
    cluster's IAM OIDC provider (pulumi-eks) and the node and cluster roles (AWS managed
    policies only, no boundary) are read, never changed: their creation and change is an
    administrator's `pulumi up`."""
    prefix = ctx.prefix
    ec2 = pulumi.Output.concat(
        "arn:", account.partition, ":ec2:", account.region, ":", account.id, ":"
    )
    rds = [account.arn("rds", f"db:{prefix}-*"), account.arn("rds", f"subgrp:{prefix}-*")]
    return [
        {
            "Sid": "Ec2CreateTagged",
            "Effect": "Allow",
            "Action": EC2_TAGGED_CREATES,
            "Resource": "*",
            "Condition": stack_tags("aws:RequestTag", ctx),
        },
        {
            "Sid": "Ec2TagOnCreate",
            "Effect": "Allow",
            "Action": ["ec2:CreateTags"],
            "Resource": "*",
            "Condition": {"StringEquals": {"ec2:CreateAction": EC2_CREATE_API_NAMES}},
        },
        {
            "Sid": "Ec2WriteTagged",
            "Effect": "Allow",
            "Action": EC2_TAGGED_WRITES,
            "Resource": "*",
            "Condition": stack_tags("aws:ResourceTag", ctx),
        },
        # A rule authorized into a stack security group is a new, untagged resource (revoking
        # names the group only); the group itself is checked by Ec2WriteTagged.
        {
            "Sid": "Ec2SecurityGroupRules",
            "Effect": "Allow",
            "Action": ["ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress"],
            "Resource": pulumi.Output.concat(ec2, "security-group-rule/*"),
        },
        {
            "Sid": "RdsCreateTagged",
            "Effect": "Allow",
            "Action": ["rds:CreateDBInstance", "rds:CreateDBSubnetGroup", "rds:AddTagsToResource"],
            "Resource": rds,
            "Condition": stack_tags("aws:RequestTag", ctx),
        },
        {
            "Sid": "RdsWriteTagged",
            "Effect": "Allow",
            "Action": RDS_WRITES,
            "Resource": rds,
            "Condition": stack_tags("aws:ResourceTag", ctx),
        },
        # The instance uses the engine's default parameter and option groups (read only).
        {
            "Sid": "RdsDefaultGroups",
            "Effect": "Allow",
            "Action": ["rds:CreateDBInstance", "rds:ModifyDBInstance"],
            "Resource": [account.arn("rds", "pg:default.*"), account.arn("rds", "og:default:*")],
        },
        # CreateCluster has no resource type (service authorization reference, "Actions
        # defined by Amazon EKS"): "*" with the stack's tags in the request.
        {
            "Sid": "CreateStackCluster",
            "Effect": "Allow",
            "Action": ["eks:CreateCluster"],
            "Resource": "*",
            "Condition": stack_tags("aws:RequestTag", ctx),
        },
        {
            "Sid": "StackCluster",
            "Effect": "Allow",
            "Action": [
                "eks:Create*",
                "eks:Describe*",
                "eks:List*",
                "eks:Update*",
                "eks:Delete*",
                "eks:TagResource",
                "eks:UntagResource",
                "eks:AssociateAccessPolicy",
                "eks:DisassociateAccessPolicy",
                "eks:AssociateEncryptionConfig",
            ],
            "Resource": [
                account.arn("eks", f"cluster/{prefix}"),
                account.arn("eks", f"nodegroup/{prefix}/*"),
                account.arn("eks", f"addon/{prefix}/*"),
                account.arn("eks", f"access-entry/{prefix}/*"),
            ],
        },
        {
            "Sid": "ReadClusterOidcProviders",
            "Effect": "Allow",
            "Action": ["iam:GetOpenIDConnectProvider", "iam:ListOpenIDConnectProviderTags"],
            "Resource": pulumi.Output.concat(
                "arn:",
                account.partition,
                ":iam::",
                account.id,
                ":oidc-provider/oidc.eks.",
                account.region,
                ".amazonaws.com/id/*",
            ),
        },
        {
            "Sid": "NetworkDatabaseClusterReads",
            "Effect": "Allow",
            "Action": [
                "ec2:Describe*",
                "rds:Describe*",
                "rds:ListTagsForResource",
                "eks:DescribeAddonVersions",
            ],
            "Resource": "*",
        },
    ]


def release_statements(
    ctx: StackContext, account: Account, *, eks_cluster: bool
) -> list[dict[str, Any]]:
    """The release (release.yml/stack-up.yml, both flavors) pushes the project's serving image
    to the stack's repository and nowhere else; on EKS it also finds the stack's cluster
    (Kubernetes rights come from its access entry)."""
    repository = MODEL_REPOSITORY.format(prefix=ctx.prefix)
    return [
        *([find_cluster_statement(ctx, account)] if eks_cluster else []),
        ECR_TOKEN,
        {
            "Sid": "PushModelImage",
            "Effect": "Allow",
            "Action": ECR_PUSH,
            "Resource": account.arn("ecr", f"repository/{repository}"),
        },
    ]


def find_cluster_statement(ctx: StackContext, account: Account) -> dict[str, Any]:
    """``aws eks update-kubeconfig`` of the stack's cluster (named after the stack prefix)."""
    return {
        "Sid": "FindStackCluster",
        "Effect": "Allow",
        "Action": ["eks:DescribeCluster"],
        "Resource": account.arn("eks", f"cluster/{ctx.prefix}"),
    }
