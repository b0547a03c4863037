"""Roles: least-privilege IAM roles of the project, plus the GitHub Actions OIDC roles.

* execution: MLflow tracking and Model Monitor jobs (no model registry: the deploy flow
  registers, a person approves);
* training: reads data, writes models and MLflow artifacts;
* inference: the endpoint's model role, reads models and writes data capture.

Each is scoped to its bucket prefixes, the project's KMS key and model package group;
no statement grants ``*`` on ``*``. With ``github`` set, roles GitHub Actions assume
through the account's GitHub OIDC provider (``slipway.aws.github``), each trusted for one
GitHub environment of one repository:

* deploy (environment = the stack; on reviewed stacks only the deploy workflows on the
  default branch): ``pulumi up`` of this stack (``slipway.aws.deploy_policy``), the
  release's runtime (endpoint, model, configuration, autoscaling, monitoring schedule); push
  the serving image to the stack's repository and, with ``eks_cluster``, find the
  cluster (release.yml, stack-up.yml);
* candidate (environment ``<stack>-candidate``; on reviewed stacks only release.yml on the
  default branch): train, track and register in the stack's MLflow; never approves a model
  package;
* preview (environment ``preview``): AWS ViewOnlyAccess, enough for ``pulumi preview``;
* monitor (environment ``monitor``, drift.yml on the default branch): the drift check's reads.

With ``github``, every role carries the stack's permissions boundary
(``slipway.aws.boundary``), which the deploy role cannot remove or change and which every
role it creates or changes must carry; ``context`` is the stack context with that boundary,
for the roles other components create (IRSA).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from slipway.aws import policy, public_api_permissions
from slipway.aws.boundary import BOUNDARY_NAME, boundary_statements
from slipway.aws.context import StackContext
from slipway.aws.deploy_policy import (
    SAGEMAKER,
    VIEW_ONLY_POLICY,
    deploy_denials,
    deploy_statements,
    eks_deploy_statements,
    find_cluster_statement,
    release_statements,
)
from slipway.aws.github import (
    CANDIDATE_ENVIRONMENT,
    CANDIDATE_WORKFLOWS,
    DEPLOY_WORKFLOWS,
    GITHUB_OIDC_HOST,
    MONITOR_ENVIRONMENT,
    MONITOR_WORKFLOWS,
    PREVIEW_ENVIRONMENT,
    GithubDeployment,
)
from slipway.aws.policy import Account, bucket_prefix_statements, kms_key_statement
from slipway.aws.state import state_statements
from slipway.names import DRIFT_NAMESPACE

__all__ = ["VIEW_ONLY_POLICY", "GithubDeployment", "Roles", "RolesArgs"]
Statements = list[dict[str, Any]]

# Which bucket areas each role reads and writes, and whether its workload lists them:
# the MLflow server lists its artifacts and Model Monitor the capture (execution), a
# training job its data channel; an endpoint reads one model.tar.gz and writes capture.
ACCESS: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {
    "exec": (("data", "models", "capture"), ("mlflow", "monitoring"), True),
    "train": (("data",), ("models", "mlflow"), True),
    "infer": (("models",), ("capture",), False),
}


@dataclass(frozen=True)
class RolesArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    bucket_arn: pulumi.Input[str]
    """The project bucket: ``ArtifactStore.bucket_arn``; roles are scoped to its prefixes."""
    kms_key_arn: pulumi.Input[str]
    """The project key: ``ArtifactStore.kms_key_arn``."""
    model_package_group_arn: pulumi.Input[str]
    """``Registry.group_arn``: the stack's model package group."""
    github: GithubDeployment | None = None
    """Default ``None``: no GitHub OIDC roles (``ci=none``) and no permissions boundary."""
    public_api: bool = False
    """Default ``False``. The stack has ``slipway:publicApi``: the deploy role also manages
    its resources (``slipway.aws.public_api_permissions``)."""


class Roles(pulumi.ComponentResource):
    """Outputs: execution_role_arn, training_role_arn, inference_role_arn and, with
    ``github``, deploy_role_arn, candidate_role_arn, preview_role_arn, monitor_role_arn
    (with drift_monitor) and boundary_arn; ``context``: ``args.context`` with the boundary."""

    execution_role_arn: pulumi.Output[str]
    training_role_arn: pulumi.Output[str]
    inference_role_arn: pulumi.Output[str]
    deploy_role_arn: pulumi.Output[str] | None
    preview_role_arn: pulumi.Output[str] | None
    monitor_role_arn: pulumi.Output[str] | None
    candidate_role_arn: pulumi.Output[str] | None
    boundary_arn: pulumi.Output[str] | None
    context: StackContext

    def __init__(
        self, name: str, args: RolesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:aws:Roles", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = Account(
            id=aws.get_caller_identity_output(opts=invoke).account_id,
            region=aws.get_region_output(opts=invoke).region,
            partition=aws.get_partition_output(opts=invoke).partition,
        )
        self.context = args.context
        self.boundary_arn = None
        if args.github is not None:
            self.boundary_arn = self._boundary(name, args, args.github, account)
            self.context = replace(args.context, permissions_boundary=self.boundary_arn)
        arns = {}
        for role, (reads, writes, lists) in ACCESS.items():
            statements = [
                *bucket_prefix_statements(
                    args.bucket_arn, reads, writes, lists=lists, locates=role == "exec"
                ),
                kms_key_statement(args.kms_key_arn),
                *policy.sagemaker_runtime_statements(account),
            ]
            trust = policy.service_trust(SAGEMAKER, account.id)
            arns[role] = self._role(name, role, trust, statements).arn
        self.execution_role_arn = arns["exec"]
        self.training_role_arn = arns["train"]
        self.inference_role_arn = arns["infer"]
        self.deploy_role_arn = self.preview_role_arn = self.monitor_role_arn = None
        self.candidate_role_arn = None
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
                "candidate_role_arn": self.candidate_role_arn,
                "boundary_arn": self.boundary_arn,
            }
        )

    def _role(
        self,
        name: str,
        role: str,
        trust: pulumi.Input[str],
        statements: Statements | Callable[[pulumi.Output[str]], Statements],
    ) -> aws.iam.Role:
        """A role with ``trust``, the stack's boundary and, if ``statements`` (or
        ``statements(role_arn)``) has any, an inline policy of them."""
        created = aws.iam.Role(
            f"{name}-{role}",
            assume_role_policy=trust,
            permissions_boundary=self.context.permissions_boundary,
            tags=self.context.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        granted = statements(created.arn) if callable(statements) else statements
        if granted:
            aws.iam.RolePolicy(
                f"{name}-{role}-policy",
                role=created.id,
                policy=policy.document(*granted, limit=policy.INLINE_POLICY_CHARACTERS),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return created

    def _boundary(
        self, name: str, args: RolesArgs, github: GithubDeployment, account: Account
    ) -> pulumi.Output[str]:
        ctx = args.context
        document = policy.document(
            *boundary_statements(
                ctx,
                account,
                eks_cluster=github.eks_cluster,
                state_bucket=github.state_bucket,
                public_api=args.public_api,
            ),
            limit=policy.MANAGED_POLICY_CHARACTERS,
        )
        return aws.iam.Policy(
            f"{name}-boundary",
            name=BOUNDARY_NAME.format(prefix=ctx.prefix),
            description=f"Permissions boundary of every role of {ctx.prefix} (slipway)",
            policy=document,
            tags=ctx.tags,
            opts=pulumi.ResourceOptions(parent=self),
        ).arn

    def _github_roles(
        self, name: str, args: RolesArgs, github: GithubDeployment, account: Account
    ) -> None:
        """Deploy, preview and (drift_monitor) monitor roles, one GitHub environment each."""
        ctx = args.context
        provider_arn = github.provider_arn(account.partition, account.id)
        reviewed = ctx.preset.reviewed_releases

        def trust(environment: str, workflows: tuple[str, ...] = ()) -> pulumi.Output[str]:
            claims = github.claims(environment, workflows)
            return policy.github_oidc_trust(provider_arn, GITHUB_OIDC_HOST, claims)

        def deploy(own_arn: pulumi.Output[str]) -> list[dict[str, Any]]:
            return [
                *deploy_statements(
                    ctx, account, eks_cluster=github.eks_cluster, public_api=args.public_api
                ),
                *release_statements(ctx, account, eks_cluster=github.eks_cluster),
                *(
                    public_api_permissions.deploy_statements(ctx, account, eks=github.eks_cluster)
                    if args.public_api
                    else ()
                ),
                *_state(ctx, account, github, write=True, decrypt=True),
                *deploy_denials(own_arn),
            ]

        deploy_trust = trust(ctx.environment, DEPLOY_WORKFLOWS if reviewed else ())
        deploy_role = self._role(name, "deploy", deploy_trust, deploy)
        self.deploy_role_arn = deploy_role.arn
        if github.eks_cluster:
            eks = aws.iam.Policy(
                f"{name}-deploy-eks",
                name=f"{ctx.prefix}-deploy-eks",
                description=f"`pulumi up` of the EKS parts of {ctx.prefix} (slipway)",
                policy=policy.document(
                    *eks_deploy_statements(ctx, account), limit=policy.MANAGED_POLICY_CHARACTERS
                ),
                tags=ctx.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.iam.RolePolicyAttachment(
                f"{name}-deploy-eks",
                role=deploy_role.name,
                policy_arn=eks.arn,
                opts=pulumi.ResourceOptions(parent=self),
            )
        candidate = [
            *_candidate_statements(args, account, eks_cluster=github.eks_cluster),
            *_state(ctx, account, github, write=False, decrypt=False),
            no_approval(args.model_package_group_arn),
        ]
        candidate_trust = trust(
            CANDIDATE_ENVIRONMENT.format(stack=ctx.environment),
            CANDIDATE_WORKFLOWS if reviewed else (),
        )
        self.candidate_role_arn = self._role(name, "candidate", candidate_trust, candidate).arn
        # Pull-request previews run unreviewed branch code: only a stack without reviewed
        # releases (dev) lets them read (and decrypt) its state.
        preview_state = _state(ctx, account, github, write=False, decrypt=not reviewed)
        preview = self._role(
            name, "preview", trust(PREVIEW_ENVIRONMENT), [] if reviewed else preview_state
        )
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
            monitor = [
                *_monitor_statements(args, account, eks_cluster=github.eks_cluster),
                *_state(ctx, account, github, write=False, decrypt=False),
            ]
            self.monitor_role_arn = self._role(
                name, "monitor", trust(MONITOR_ENVIRONMENT, MONITOR_WORKFLOWS), monitor
            ).arn


def _state(
    ctx: StackContext, account: Account, github: GithubDeployment, *, write: bool, decrypt: bool
) -> list[dict[str, Any]]:
    if github.state_bucket is None:
        return []
    return state_statements(ctx, account, github.state_bucket, write=write, decrypt=decrypt)


def _candidate_statements(
    args: RolesArgs, account: Account, *, eks_cluster: bool
) -> list[dict[str, Any]]:
    """release.yml's job `candidate`: read the training data and the champion's artifacts,
    write the candidate's MLflow artifacts, with the stack's key; find the stack's cluster
    (EKS: port-forward to MLflow). Its MLflow calls are granted by the stack's ``Tracking``;
    it never approves a model package (``no_approval``)."""
    return [
        *bucket_prefix_statements(args.bucket_arn, ("data",), ("mlflow",)),
        kms_key_statement(args.kms_key_arn),
        *([find_cluster_statement(args.context, account)] if eks_cluster else []),
    ]


def no_approval(group_arn: pulumi.Input[str]) -> dict[str, Any]:
    """Deny creating or updating one of the stack's model packages as Approved
    (``sagemaker:ModelApprovalStatus`` is a condition key of both actions, service
    authorization reference): the role that trains never approves (docs/promotion.md)."""
    packages = pulumi.Output.from_input(group_arn).apply(
        lambda arn: arn.replace(":model-package-group/", ":model-package/") + "/*"
    )
    return {
        "Sid": "NeverApproveModelPackages",
        "Effect": "Deny",
        "Action": ["sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"],
        "Resource": [group_arn, packages],
        "Condition": {"StringEquals": {"sagemaker:ModelApprovalStatus": "Approved"}},
    }


def _monitor_statements(
    args: RolesArgs, account: Account, *, eks_cluster: bool
) -> list[dict[str, Any]]:
    """The drift check: read captured requests and the champion's profile (MLflow artifacts),
    decrypt them, put drift metrics; find the stack's cluster (EKS). Its MLflow calls are
    granted by the stack's ``Tracking``. Nothing else: it dispatches train.yml for
    retraining instead of training itself."""
    return [
        *bucket_prefix_statements(args.bucket_arn, ("capture", "mlflow"), ()),
        {
            "Sid": "DecryptWithProjectKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": args.kms_key_arn,
        },
        # EKS: the cluster's drift CronJob publishes the metrics, drift.yml only decides;
        # SageMaker: drift.yml publishes DriftedShare (PutMetricData has no resource type,
        # the namespace condition scopes it)
        find_cluster_statement(args.context, account)
        if eks_cluster
        else {
            "Sid": "PutDriftMetrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": DRIFT_NAMESPACE}},
        },
    ]
