"""Roles: least-privilege IAM roles of the project, plus the GitHub Actions OIDC roles.

* execution: MLflow tracking and Model Monitor jobs;
* training: reads data, writes models and MLflow artifacts;
* inference: the endpoint's model role, reads models and writes data capture.

Each is scoped to its bucket prefixes, the project's KMS key and model package group;
no statement grants ``*`` on ``*``. With ``github`` set, roles GitHub Actions assume
through OIDC, each trusted for exactly one GitHub environment of one repository:

* deploy (environment = the stack): ``pulumi up`` of this stack; with ``eks_cluster`` also
  its network, database, cluster and image repository (EC2 scoped by the stack's tags), and
  find the cluster and push the model image to the stack's repository (stack-up.yml);
* preview (environment ``preview``): AWS ViewOnlyAccess, enough for ``pulumi preview``;
* monitor (environment ``monitor``, with ``drift_monitor``): the drift check's reads.

The account's GitHub OIDC provider is created here unless ``oidc_provider_arn`` names an
existing one (AWS allows one per URL and account: set it for every stack but the first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from slipway.aws import policy, public_api_permissions
from slipway.aws.context import StackContext
from slipway.aws.policy import ECR_TOKEN, bucket_prefix_statements, kms_key_statement
from slipway.aws.policy import Account as _Account
from slipway.names import DRIFT_NAMESPACE, MODEL_REPOSITORY

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
PREVIEW_ENVIRONMENT = "preview"
MONITOR_ENVIRONMENT = "monitor"
VIEW_ONLY_POLICY = "job-function/ViewOnlyAccess"  # AWS managed: metadata, no data reads
REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
OIDC_PROVIDER_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/" + re.escape(GITHUB_OIDC_HOST) + "$"
)
SAGEMAKER = "sagemaker.amazonaws.com"
EKS = "eks.amazonaws.com"
LAMBDA = "lambda.amazonaws.com"  # the public API's proxy (slipway.aws.public_api)
# AWS managed policies the EKS program attaches: the cluster's service role (pulumi-eks),
# the node role (slipway.eks.cluster.NODE_POLICIES) and the EBS CSI driver's IRSA role.
EKS_MANAGED_POLICIES = (
    "AmazonEKSClusterPolicy",
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
    "service-role/AmazonEBSCSIDriverPolicy",
)
EKS_SERVICE_LINKED = {"eks.amazonaws.com", "eks-nodegroup.amazonaws.com", "rds.amazonaws.com"}
ECR_PUSH = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
    "ecr:DescribeImages",
]  # DescribeImages: the image action skips a tag already pushed
# Which bucket areas each role reads and writes.
ACCESS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "exec": (("data", "models", "capture"), ("mlflow", "monitoring")),
    "train": (("data",), ("models", "mlflow")),
    "infer": (("models",), ("capture",)),
}


@dataclass(frozen=True)
class GithubDeployment:
    """The repository (owner/name) whose workflows may deploy this stack.

    ``oidc_provider_arn``: the account's existing GitHub OIDC provider (none is created);
    ``drift_monitor``: also create the monitor role of the scheduled drift check;
    ``eks_cluster``: the stack runs on EKS (the deploy role may push the model image).
    """

    repository: str
    """``owner/name`` of the GitHub repository whose workflows are trusted."""
    oidc_provider_arn: str | None = None
    """Default ``None``: create the account's GitHub OIDC provider. Set it for
    every stack but the first of an account (AWS allows one provider per URL).
    """
    drift_monitor: bool = False
    """Default ``False``. Also create the monitor role of the scheduled drift check."""
    eks_cluster: bool = False
    """Default ``False``. The stack runs on EKS: the deploy role may manage the
    network, database and cluster and push the model image.
    """

    def __post_init__(self) -> None:
        if not REPOSITORY.match(self.repository):
            raise ValueError(
                f"githubRepository: must be owner/name (letters, digits, _ . -), "
                f"got {self.repository!r}"
            )
        if self.oidc_provider_arn is not None and not OIDC_PROVIDER_ARN.match(
            self.oidc_provider_arn
        ):
            raise ValueError(
                "githubOidcProviderArn: must be arn:<partition>:iam::<12-digit account>:"
                f"oidc-provider/{GITHUB_OIDC_HOST}, got {self.oidc_provider_arn!r}"
            )

    def subject(self, environment: str) -> str:
        """The OIDC ``sub`` of a job of this repository running in GitHub ``environment``."""
        return f"repo:{self.repository}:environment:{environment}"


@dataclass(frozen=True)
class RolesArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    bucket_arn: pulumi.Input[str]
    """The project bucket: ``ArtifactStore.bucket_arn``; roles are scoped to its prefixes."""
    kms_key_arn: pulumi.Input[str]
    """The project key: ``ArtifactStore.kms_key_arn``."""
    model_package_group_arn: pulumi.Input[str]
    """``Registry.group_arn``: the only group the execution role writes."""
    github: GithubDeployment | None = None
    """Default ``None``: no GitHub OIDC roles (``ci=none``)."""
    public_api: bool = False
    """Default ``False``. The stack has ``slipway:publicApi``: the deploy role also manages
    its resources (``slipway.aws.public_api_permissions``)."""


class Roles(pulumi.ComponentResource):
    """Outputs: execution_role_arn, training_role_arn, inference_role_arn and, with
    ``github``, deploy_role_arn, preview_role_arn, monitor_role_arn (with drift_monitor)."""

    execution_role_arn: pulumi.Output[str]
    training_role_arn: pulumi.Output[str]
    inference_role_arn: pulumi.Output[str]
    deploy_role_arn: pulumi.Output[str] | None
    preview_role_arn: pulumi.Output[str] | None
    monitor_role_arn: pulumi.Output[str] | None

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
            trust = policy.service_trust(SAGEMAKER, account.id)
            arns[role] = self._role(name, role, args.context, trust, statements).arn
        self.execution_role_arn = arns["exec"]
        self.training_role_arn = arns["train"]
        self.inference_role_arn = arns["infer"]
        self.deploy_role_arn = self.preview_role_arn = self.monitor_role_arn = None
        if args.github is not None:
            self._github_roles(name, args, args.github, account)
        self.register_outputs(
            {
                "execution_role_arn": self.execution_role_arn,
                "training_role_arn": self.training_role_arn,
                "inference_role_arn": self.inference_role_arn,
                "deploy_role_arn": self.deploy_role_arn,
                "preview_role_arn": self.preview_role_arn,
                "monitor_role_arn": self.monitor_role_arn,
            }
        )

    def _role(
        self,
        name: str,
        role: str,
        ctx: StackContext,
        trust: pulumi.Input[str],
        statements: list[dict[str, Any]],
    ) -> aws.iam.Role:
        """A role with ``trust`` and, if ``statements``, an inline policy of them."""
        created = aws.iam.Role(
            f"{name}-{role}",
            assume_role_policy=trust,
            tags=ctx.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        if statements:
            aws.iam.RolePolicy(
                f"{name}-{role}-policy",
                role=created.id,
                policy=policy.document(*statements),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return created

    def _github_roles(
        self, name: str, args: RolesArgs, github: GithubDeployment, account: _Account
    ) -> None:
        """Deploy, preview and (drift_monitor) monitor roles, one GitHub environment each."""
        ctx = args.context
        provider_arn: pulumi.Input[str]
        if github.oidc_provider_arn is None:
            provider_arn = aws.iam.OpenIdConnectProvider(
                f"{name}-github-oidc",
                url=GITHUB_OIDC_URL,
                client_id_lists=["sts.amazonaws.com"],
                tags=ctx.tags,
                opts=pulumi.ResourceOptions(parent=self),
            ).arn
        else:
            provider_arn = github.oidc_provider_arn

        def trust(environment: str) -> pulumi.Output[str]:
            return policy.github_oidc_trust(
                provider_arn, GITHUB_OIDC_HOST, github.subject(environment)
            )

        deploy = _deploy_statements(
            ctx,
            account,
            manages_oidc_provider=github.oidc_provider_arn is None,
            eks_cluster=github.eks_cluster,
            lambda_proxy=args.public_api and not github.eks_cluster,
        )
        deploy += _image_push_statements(ctx, account)
        if github.eks_cluster:
            deploy.append(_find_cluster_statement(ctx, account))
        if args.public_api:
            deploy += public_api_permissions.deploy_statements(ctx, account, eks=github.eks_cluster)
        self.deploy_role_arn = self._role(name, "deploy", ctx, trust(ctx.environment), deploy).arn
        preview = self._role(name, "preview", ctx, trust(PREVIEW_ENVIRONMENT), [])
        aws.iam.RolePolicyAttachment(
            f"{name}-preview-view-only",
            role=preview.name,
            policy_arn=pulumi.Output.concat(
                "arn:", account.partition, ":iam::aws:policy/", VIEW_ONLY_POLICY
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.preview_role_arn = preview.arn
        if github.drift_monitor:
            monitor = _monitor_statements(args, account)
            self.monitor_role_arn = self._role(
                name, "monitor", ctx, trust(MONITOR_ENVIRONMENT), monitor
            ).arn


def _registry_statement(group_arn: pulumi.Input[str]) -> dict[str, Any]:
    packages = pulumi.Output.from_input(group_arn).apply(
        lambda arn: arn.replace(":model-package-group/", ":model-package/") + "/*"
    )
    return {
        "Sid": "UseModelPackageGroup",
        "Effect": "Allow",
        "Action": [
            "sagemaker:DescribeModelPackageGroup",
            "sagemaker:CreateModelPackage",
            "sagemaker:DescribeModelPackage",
            "sagemaker:ListModelPackages",
            "sagemaker:UpdateModelPackage",
        ],
        "Resource": [group_arn, packages],
    }


def _runtime_statements(account: _Account) -> list[dict[str, Any]]:
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
        {
            "Sid": "PullImages",
            "Effect": "Allow",
            "Action": [
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchCheckLayerAvailability",
            ],
            "Resource": pulumi.Output.concat(
                "arn:", account.partition, ":ecr:", account.region, ":*:repository/*"
            ),
        },
    ]


def _monitor_statements(args: RolesArgs, account: _Account) -> list[dict[str, Any]]:
    """The drift check: read captured requests and the champion's profile (MLflow), decrypt
    them, put drift metrics; find the stack's cluster (EKS). Nothing else: it dispatches
    train.yml for retraining instead of training itself."""
    ctx = args.context
    return [
        *bucket_prefix_statements(args.bucket_arn, ("capture", "mlflow"), ()),
        {
            "Sid": "DecryptWithProjectKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": args.kms_key_arn,
        },
        {
            "Sid": "PutDriftMetrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            # PutMetricData has no resource type; the namespace condition scopes it
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": DRIFT_NAMESPACE}},
        },
        {
            "Sid": "ReadStackMlflow",
            "Effect": "Allow",
            "Action": [
                "sagemaker-mlflow:Get*",
                "sagemaker-mlflow:List*",
                "sagemaker-mlflow:Search*",
            ],
            "Resource": [
                account.arn("sagemaker", f"mlflow-tracking-server/{ctx.prefix}-mlflow"),
                account.arn("sagemaker", "mlflow-app/*"),
            ],
            "Condition": {
                "StringEquals": {
                    "aws:ResourceTag/project": ctx.project,
                    "aws:ResourceTag/environment": ctx.environment,
                }
            },
        },
        _find_cluster_statement(ctx, account),
    ]


def _find_cluster_statement(ctx: StackContext, account: _Account) -> dict[str, Any]:
    """``aws eks update-kubeconfig`` of the stack's cluster (named after the stack prefix)."""
    return {
        "Sid": "FindStackCluster",
        "Effect": "Allow",
        "Action": ["eks:DescribeCluster"],
        "Resource": account.arn("eks", f"cluster/{ctx.prefix}"),
    }


def _image_push_statements(ctx: StackContext, account: _Account) -> list[dict[str, Any]]:
    """The release pushes the project's serving image to the stack's repository and
    nowhere else (release.yml/stack-up.yml, both flavors)."""
    repository = MODEL_REPOSITORY.format(prefix=ctx.prefix)
    return [
        ECR_TOKEN,
        {
            "Sid": "PushModelImage",
            "Effect": "Allow",
            "Action": ECR_PUSH,
            "Resource": account.arn("ecr", f"repository/{repository}"),
        },
    ]


def _deploy_statements(
    ctx: StackContext,
    account: _Account,
    *,
    manages_oidc_provider: bool,
    eks_cluster: bool,
    lambda_proxy: bool = False,
) -> list[dict[str, Any]]:
    """What `pulumi up` of this stack needs, scoped to resources named after the stack
    (``slipway.aws.deploy_permissions`` lists the actions per resource type).

    Roles: inline policies and only the managed policies the program attaches
    (ViewOnlyAccess of the preview role; on EKS the cluster and node policies), so the
    deploy role cannot attach e.g. AdministratorAccess; it passes the stack's roles only to
    the services that run them."""
    prefix = ctx.prefix
    passed_to = (
        {SAGEMAKER} | ({EKS} if eks_cluster else set()) | ({LAMBDA} if lambda_proxy else set())
    )
    attachable = [VIEW_ONLY_POLICY, *(EKS_MANAGED_POLICIES if eks_cluster else ())]
    service_linked = {"sagemaker.application-autoscaling.amazonaws.com"} | (
        EKS_SERVICE_LINKED if eks_cluster else set()
    )
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
            "Resource": [
                account.arn("sagemaker", f"*/{prefix}-*"),
                account.arn("sagemaker", "mlflow-app/*"),
            ],
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
                "iam:TagRole",
                "iam:UntagRole",
                "iam:ListInstanceProfilesForRole",
            ],
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
            "Sid": "AttachManagedPoliciesToProjectRoles",
            "Effect": "Allow",
            "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            "Resource": roles,
            "Condition": {
                "ArnEquals": {
                    "iam:PolicyARN": [
                        pulumi.Output.concat(
                            "arn:", account.partition, ":iam::aws:policy/", managed
                        )
                        for managed in attachable
                    ]
                }
            },
        },
        {
            "Sid": "ProjectKeys",
            "Effect": "Allow",
            "Action": ["kms:*"],
            "Resource": account.arn("kms", "key/*"),
            "Condition": {"StringEquals": {"aws:ResourceTag/project": ctx.project}},
        },
        {
            "Sid": "ProjectKeyAlias",
            "Effect": "Allow",
            "Action": ["kms:*Alias"],
            "Resource": [account.arn("kms", f"alias/{prefix}"), account.arn("kms", "key/*")],
        },
        {
            "Sid": "CreateKeys",
            "Effect": "Allow",
            "Action": ["kms:CreateKey", "kms:TagResource"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestTag/project": ctx.project}},
        },
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
            "Sid": "ProjectTopics",
            "Effect": "Allow",
            "Action": ["sns:*"],
            "Resource": account.arn("sns", f"{prefix}-*"),
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
        {
            "Sid": "ServiceLinkedRoles",
            "Effect": "Allow",
            "Action": ["iam:CreateServiceLinkedRole"],
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": sorted(service_linked)}},
        },
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
            "Sid": "ReadOnlyLookups",
            "Effect": "Allow",
            "Action": [
                "sts:GetCallerIdentity",
                "kms:ListAliases",
                "sagemaker:List*",
                "sagemaker:Describe*",
                "cloudwatch:Describe*",
                "cloudwatch:List*",
            ],
            "Resource": "*",
        },
    ]
    if manages_oidc_provider:
        statements.append(
            {
                "Sid": "GithubOidcProvider",
                "Effect": "Allow",
                "Action": ["iam:*OpenIDConnectProvider*"],
                "Resource": account.arn("iam", f"oidc-provider/{GITHUB_OIDC_HOST}", regional=False),
            }
        )
    if eks_cluster:
        statements += _eks_deploy_statements(ctx, account)
    return statements


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


def _stack_tags(key: str, ctx: StackContext) -> dict[str, Any]:
    """``StringEquals`` on the stack's project and environment tags (``aws:RequestTag`` on
    create, ``aws:ResourceTag`` on everything after)."""
    return {"StringEquals": {f"{key}/project": ctx.project, f"{key}/environment": ctx.environment}}


def _eks_deploy_statements(ctx: StackContext, account: _Account) -> list[dict[str, Any]]:
    """`pulumi up` of an EKS stack: network, database, image repository, cluster.

    EC2 ids are random, so EC2 is scoped by the stack's tags (every EC2 resource of the
    program carries them); RDS, ECR and EKS by the stack's names. Kubernetes rights come
    from the deploy role's cluster access entry (slipway.eks.cluster.CiAccess)."""
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
            "Condition": _stack_tags("aws:RequestTag", ctx),
        },
        {
            "Sid": "Ec2TagOnCreate",
            "Effect": "Allow",
            "Action": ["ec2:CreateTags"],
            "Resource": "*",
            "Condition": {"StringEquals": {"ec2:CreateAction": EC2_TAGGED_CREATES}},
        },
        {
            "Sid": "Ec2WriteTagged",
            "Effect": "Allow",
            "Action": EC2_TAGGED_WRITES,
            "Resource": "*",
            "Condition": _stack_tags("aws:ResourceTag", ctx),
        },
        # A rule authorized into a stack security group is a new, untagged resource; the
        # group itself is checked by Ec2WriteTagged.
        {
            "Sid": "Ec2SecurityGroupRules",
            "Effect": "Allow",
            "Action": [
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:AuthorizeSecurityGroupEgress",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupEgress",
            ],
            "Resource": pulumi.Output.concat(ec2, "security-group-rule/*"),
        },
        {
            "Sid": "RdsCreateTagged",
            "Effect": "Allow",
            "Action": ["rds:CreateDBInstance", "rds:CreateDBSubnetGroup", "rds:AddTagsToResource"],
            "Resource": rds,
            "Condition": _stack_tags("aws:RequestTag", ctx),
        },
        {
            "Sid": "RdsWriteTagged",
            "Effect": "Allow",
            "Action": RDS_WRITES,
            "Resource": rds,
            "Condition": _stack_tags("aws:ResourceTag", ctx),
        },
        # The instance uses the engine's default parameter and option groups (read only).
        {
            "Sid": "RdsDefaultGroups",
            "Effect": "Allow",
            "Action": ["rds:CreateDBInstance", "rds:ModifyDBInstance"],
            "Resource": [account.arn("rds", "pg:default.*"), account.arn("rds", "og:default:*")],
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
            "Sid": "ClusterOidcProvider",
            "Effect": "Allow",
            "Action": ["iam:*OpenIDConnectProvider*"],
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
