"""The generated must-deny table: what no role of a stack may ever do.

* ``foreign_requests``: anything on another stack's or another project's resources (keys,
  buckets and objects, endpoints, MLflow apps and servers, model packages, roles, image
  repositories, topics, alarms, clusters and their OIDC providers, Pulumi state, the public
  API's proxy, user pool, log groups, web ACL and load balancer, pipelines), re-tagging
  them with this stack's tags included (tag-based grants would follow the tags);
* ``self_requests``: a role changing its own policies, trust or boundary, creating a role
  without the stack's boundary, changing the boundary policy, a role without the boundary
  (the EKS node role), reading secrets, changing the account's GitHub OIDC provider, and
  approving a model package (the roles that train and register never approve).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from slipway.access.public_api import foreign_public_api
from slipway.access.request import AccessRequest
from slipway.access.stack import StackAccess
from slipway.aws.github import provider_arn_of
from slipway.aws.state import key_alias, state_prefixes

PASSED_TO_SAGEMAKER = "sagemaker.amazonaws.com"
# What no role of another stack may do to ``other``'s resource, by resource type.
FOREIGN_ACTIONS: dict[str, tuple[str, ...]] = {
    "aws:kms/key:Key": ("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:Decrypt"),
    "aws:s3/bucket:Bucket": ("s3:PutBucketPolicy", "s3:DeleteBucket"),
    "aws:sagemaker/endpoint:Endpoint": (
        "sagemaker:UpdateEndpoint",
        "sagemaker:DeleteEndpoint",
        "sagemaker:InvokeEndpoint",
    ),
    "aws:sagemaker/mlflowApp:MlflowApp": (
        "sagemaker:DeleteMlflowApp",
        "sagemaker:CallMlflowAppApi",
    ),
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": (
        "sagemaker:DeleteMlflowTrackingServer",
        "sagemaker-mlflow:CreateRegisteredModel",
        "sagemaker-mlflow:GetModelVersionByAlias",
    ),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": ("sagemaker:DeleteModelPackageGroup",),
    "aws:sagemaker/pipeline:Pipeline": (
        "sagemaker:StartPipelineExecution",
        "sagemaker:UpdatePipeline",
    ),
    "aws:iam/role:Role": (
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:DeleteRole",
        "iam:PassRole",
    ),
    "aws:ecr/repository:Repository": ("ecr:PutImage", "ecr:DeleteRepository"),
    "aws:sns/topic:Topic": ("sns:Publish", "sns:DeleteTopic"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch:DeleteAlarms",),
    "aws:lambda/function:Function": ("lambda:UpdateFunctionCode", "lambda:InvokeFunction"),
    "aws:cognito/userPool:UserPool": ("cognito-idp:DeleteUserPool",),
    "aws:cloudwatch/logGroup:LogGroup": ("logs:DeleteLogGroup",),
    "aws:wafv2/webAcl:WebAcl": ("wafv2:DeleteWebACL", "wafv2:AssociateWebACL"),
}
# Tagging another stack's resource with this stack's tags (then a tag-scoped grant matches).
RETAG_ACTIONS = {
    "aws:kms/key:Key": "kms:TagResource",
    "aws:sagemaker/mlflowApp:MlflowApp": "sagemaker:AddTags",
    "aws:sagemaker/endpoint:Endpoint": "sagemaker:AddTags",
}
FOREIGN_OBJECTS = ("data/x.csv", "models/x/model.tar.gz")
OWN_ROLE_ACTIONS = (
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
)
ADMINISTRATOR = "arn:aws:iam::aws:policy/AdministratorAccess"


def _req(action: str, resource: str, origin: str, **context: object) -> AccessRequest:
    return AccessRequest("", action, resource, dict(context), origin)  # type: ignore[arg-type]


def foreign_requests(other: StackAccess, own: StackAccess) -> Iterator[AccessRequest]:
    """What no role of ``own`` may do to ``other``'s resources."""
    origin = f"deny:{other.prefix}"
    tags = {"aws:RequestTag/project": own.project, "aws:RequestTag/environment": own.environment}
    for resource in other.resources:
        for action in FOREIGN_ACTIONS.get(resource.type, ()):
            context = (
                {"iam:PassedToService": PASSED_TO_SAGEMAKER} if action == "iam:PassRole" else {}
            )
            yield _req(action, resource.arn, origin, **context)
        if resource.type in RETAG_ACTIONS:
            yield _req(
                RETAG_ACTIONS[resource.type],
                resource.arn,
                origin,
                **tags,
                **{"aws:TagKeys": ("project", "environment")},
            )
        if resource.type == "aws:sagemaker/modelPackageGroup:ModelPackageGroup":
            package = resource.arn.replace(":model-package-group/", ":model-package/") + "/1"
            for action in ("sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"):
                yield _req(action, package, origin)
        if resource.type == "aws:s3/bucket:Bucket":
            for key in FOREIGN_OBJECTS:
                for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
                    yield _req(action, f"{resource.arn}/{key}", origin)
    cluster = other.outputs.get("clusterName")
    if cluster:
        arn = f"arn:aws:eks:{other.region}:{other.account}:cluster/{cluster}"
        for action in ("eks:DeleteCluster", "eks:CreateAccessEntry"):
            yield _req(action, arn, origin)
        # the cluster's IAM OIDC provider (pulumi-eks; its id stands for the real one)
        provider = (
            f"arn:aws:iam::{other.account}:oidc-provider/oidc.eks.{other.region}.amazonaws.com"
            f"/id/{hashlib.sha256(other.prefix.encode()).hexdigest()[:32].upper()}"
        )
        for action in (
            "iam:DeleteOpenIDConnectProvider",
            "iam:UpdateOpenIDConnectProviderThumbprint",
        ):
            yield _req(action, provider, origin)
    yield from foreign_public_api(other)
    if other.state_bucket:
        for action, key in state_objects(other):
            yield _req(action, key, origin)
        yield _req("kms:TagResource", other.state_key_arn, origin, **tags)
        yield _req(
            "kms:Decrypt",
            other.state_key_arn,
            origin,
            **{"kms:ResourceAliases": (key_alias_of(other),)},
        )


def state_objects(stack: StackAccess) -> Iterator[tuple[str, str]]:
    """(action, object ARN) of reading and writing the stack's checkpoint and lock."""
    prefixes = state_prefixes(stack.project, stack.environment)
    bucket = f"arn:aws:s3:::{stack.state_bucket}"
    checkpoint = f"{bucket}/{prefixes['checkpoint'].removesuffix('*')}"
    lock = f"{bucket}/{prefixes['locks'].removesuffix('*')}lock-1.json"
    yield "s3:GetObject", checkpoint
    yield "s3:PutObject", checkpoint
    yield "s3:PutObject", lock


def key_alias_of(stack: StackAccess) -> str:
    return key_alias(stack.project, stack.environment)


def self_requests(stack: StackAccess, role: str) -> Iterator[AccessRequest]:
    """A role changing its own role, a role without the boundary, the boundary itself,
    secrets, the account's GitHub OIDC provider."""
    own = stack.roles[role]
    boundary = {"iam:PermissionsBoundary": own.boundary} if own.boundary else {}
    for action in OWN_ROLE_ACTIONS:
        context = {"iam:PolicyARN": ADMINISTRATOR} if action == "iam:AttachRolePolicy" else {}
        yield _req(action, own.arn, "deny:own role", **context, **boundary)
    new_role = f"arn:aws:iam::{stack.account}:role/{stack.prefix}-escalate"
    yield _req("iam:CreateRole", new_role, "deny:role without boundary")
    for kind, other in stack.roles.items():
        if other.boundary is None and kind != role:
            for action in ("iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"):
                yield _req(action, other.arn, "deny:role without boundary")
    for boundary_arn in {r.boundary for r in stack.roles.values() if r.boundary}:
        if ":iam::aws:policy/" not in boundary_arn:
            yield _req("iam:CreatePolicyVersion", boundary_arn, "deny:boundary policy")
    # a key of the account without the stack's tags (tag-scoped grants would follow them)
    tags = {
        "aws:RequestTag/project": stack.project,
        "aws:RequestTag/environment": stack.environment,
    }
    yield _req("kms:TagResource", stack.account_key_arn, "deny:untagged key", **tags)
    yield _req(
        "secretsmanager:GetSecretValue",
        f"arn:aws:secretsmanager:{stack.region}:{stack.account}:secret:{stack.prefix}-db-AbCdEf",
        "deny:secrets",
    )
    yield _req(
        "ssm:GetParameter",
        f"arn:aws:ssm:{stack.region}:{stack.account}:parameter/{stack.prefix}/secret",
        "deny:secrets",
    )
    provider = provider_arn_of(stack.account)
    for action in ("iam:DeleteOpenIDConnectProvider", "iam:AddClientIDToOpenIDConnectProvider"):
        yield _req(action, provider, "deny:shared GitHub OIDC provider")
