"""Roles: least privilege (no * on *), scoping to prefixes/key, the stack's permissions
boundary on every role, GitHub OIDC trust (one exact environment subject per role; the deploy
workflows on the default branch for reviewed stacks), the preview and monitor roles. The
access matrix (tests/test_access_matrix.py) evaluates these policies with an IAM engine;
these tests pin their shape."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

import pulumi
import pytest
from aws_helpers import policy_of, stack_context, trust_of
from hook_loader import load_inputs
from slipway.aws import GithubDeployment, Roles, RolesArgs
from slipway.aws.roles import VIEW_ONLY_POLICY
from slipway.names import DRIFT_NAMESPACE
from slipway.testing import ProgramRun, iter_policy_statements, run_pulumi

BUCKET_ARN = "arn:aws:s3:::churn-dev-bucket-1234567"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/0000-1111"
GROUP_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn-dev-models"
REPO = "example-org/churn"
PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
EXISTING_PROVIDER = "arn:aws-cn:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
BOUNDARY = "arn:aws:iam::123456789012:policy/churn-{stack}-boundary"
VIEW_ONLY_ARN = f"arn:aws:iam::aws:policy/{VIEW_ONLY_POLICY}"
OIDC = "token.actions.githubusercontent.com"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
# Verbs of actions that change something, and actions that read data rather than metadata.
WRITE_VERBS = (
    "Create",
    "Put",
    "Delete",
    "Update",
    "Modify",
    "Attach",
    "Detach",
    "Tag",
    "Untag",
    "Start",
    "Stop",
    "Invoke",
    "Pass",
    "Set",
    "Add",
    "Remove",
    "Register",
    "Deregister",
    "Associate",
    "Disassociate",
    "Enable",
    "Disable",
    "Run",
    "Send",
    "Publish",
    "Restore",
)
DATA_READS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "sqs:ReceiveMessage",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "sagemaker:InvokeEndpoint",
    "sagemaker-mlflow:GetRun",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "rds-db:connect",
    "kinesis:GetRecords",
)
# AWS calls of `pulumi preview` of the program beyond the provider's own sts:GetCallerIdentity
# (which needs no permission): the getAvailabilityZones invoke of the EKS network.
# getRegion, getPartition and sagemaker.getPrebuiltEcrImage are answered by the provider.
PREVIEW_CALLS = ("ec2:DescribeAvailabilityZones",)


def _run(github: GithubDeployment | None = None, stack: str = "dev") -> ProgramRun:
    return run_pulumi(
        lambda: Roles(
            f"churn-{stack}",
            RolesArgs(
                stack_context(stack),
                bucket_arn=BUCKET_ARN,
                kms_key_arn=KEY_ARN,
                model_package_group_arn=GROUP_ARN,
                github=github,
            ),
        )
    )


@pytest.fixture(scope="module")
def with_github() -> ProgramRun:
    return _run(GithubDeployment(REPO, drift_monitor=True))


@pytest.fixture(scope="module")
def view_only_actions() -> list[str]:
    """Actions of AWS's ViewOnlyAccess (moto ships a copy of the AWS managed policies)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    document = json.loads(aws_managed_policies_data)["ViewOnlyAccess"]["Document"]
    assert all(s["Effect"] == "Allow" for s in document["Statement"])
    return [a for s in iter_policy_statements(document) for a in s["Action"]]


def _every_statement(run: ProgramRun) -> list[tuple[str, dict[str, Any]]]:
    return [
        (attached.name, statement)
        for attached in run.of_type("aws:iam/rolePolicy:RolePolicy")
        for statement in iter_policy_statements(attached.inputs["policy"])
    ]


def test_no_statement_allows_every_action_on_every_resource(with_github: ProgramRun) -> None:
    names = {name for name, _ in _every_statement(with_github)}
    assert names == {
        f"churn-dev-{r}-policy"
        for r in ("exec", "train", "infer", "deploy", "candidate", "monitor")
    }
    for name, statement in _every_statement(with_github):
        assert "*" not in statement["Action"], f"{name} {statement.get('Sid')}: Action *"
        if "*" in statement["Resource"]:
            broad = [a for a in statement["Action"] if a.endswith(":*")]
            assert broad == [], f"{name} {statement.get('Sid')}: {broad} on *"


@pytest.mark.parametrize(
    ("role", "reads", "writes", "lists"),
    [
        ("churn-dev-train", {"data/"}, {"models/", "mlflow/"}, True),
        ("churn-dev-infer", {"models/"}, {"data-capture/"}, False),
        ("churn-dev-exec", {"data/", "models/", "data-capture/"}, {"mlflow/", "monitoring/"}, True),
        ("churn-dev-monitor", {"data-capture/", "mlflow/"}, set(), True),
    ],
)
def test_object_access_is_scoped_to_prefixes(
    with_github: ProgramRun, role: str, reads: set[str], writes: set[str], lists: bool
) -> None:
    by_sid = {s["Sid"]: s for s in policy_of(with_github, role)}
    as_prefixes = lambda arns: {a.removeprefix(BUCKET_ARN + "/").removesuffix("*") for a in arns}  # noqa: E731
    assert as_prefixes(by_sid.get("WriteObjects", {}).get("Resource", [])) == writes
    assert as_prefixes(by_sid["ReadObjects"]["Resource"]) == reads | writes
    # an endpoint reads one model.tar.gz and writes capture objects: it lists nothing
    assert ("ListOwnPrefixes" in by_sid) == lists
    if lists:
        assert by_sid["ListOwnPrefixes"]["Resource"] == [BUCKET_ARN]
        condition = by_sid["ListOwnPrefixes"]["Condition"]["StringLike"]["s3:prefix"]
        assert {p.removesuffix("*") for p in condition} == reads | writes
    # only SageMaker's own jobs (execution role) look the bucket's region up
    assert ("BucketLocation" in by_sid) == (role == "churn-dev-exec")


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_no_data_role_uses_the_model_registry_and_the_candidate_role_never_approves(
    stack: str,
) -> None:
    """Only the deploy role approves (job `release`, after a reviewer: docs/promotion.md)."""
    run = _run(GithubDeployment(REPO, drift_monitor=True), stack)
    for role in ("exec", "train", "infer", "monitor", "candidate"):
        allowed = [s for s in policy_of(run, f"churn-{stack}-{role}") if s["Effect"] == "Allow"]
        assert [a for s in allowed for a in s["Action"] if "ModelPackage" in a] == [], role
    [denial] = [s for s in policy_of(run, f"churn-{stack}-candidate") if s["Effect"] == "Deny"]
    assert denial["Action"] == ["sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"]
    assert denial["Condition"] == {"StringEquals": {"sagemaker:ModelApprovalStatus": "Approved"}}


def test_sagemaker_roles_trust_sagemaker_of_this_account_only(with_github: ProgramRun) -> None:
    [trust] = trust_of(with_github, "churn-dev-infer")
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_each_github_role_trusts_one_environment_and_reviewed_stacks_one_branch(
    stack: str,
) -> None:
    run = _run(GithubDeployment(REPO, drift_monitor=True), stack)
    # no stack creates the account's GitHub OIDC provider: an administrator does, once
    assert run.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    main = "refs/heads/main"
    workflows = lambda *names: [f"{REPO}/.github/workflows/{n}@{main}" for n in names]  # noqa: E731
    pinned = {"ref": main}
    expected = {
        "deploy": (
            stack,
            {**pinned, "job_workflow_ref": workflows("stack-up.yml", "release.yml")}
            if stack != "dev"
            else {},
        ),
        "candidate": (
            f"{stack}-candidate",
            {**pinned, "job_workflow_ref": workflows("release.yml")} if stack != "dev" else {},
        ),
        "preview": ("preview", {}),
        "monitor": ("monitor", {**pinned, "job_workflow_ref": workflows("drift.yml")}),
    }
    for role, (environment, claims) in expected.items():
        [trust] = trust_of(run, f"churn-{stack}-{role}")
        assert trust["Principal"] == {"Federated": PROVIDER}
        assert trust["Action"] == ["sts:AssumeRoleWithWebIdentity"]
        # StringEquals only: no StringLike, so no wildcard can widen a claim.
        assert trust["Condition"] == {
            "StringEquals": {
                f"{OIDC}:aud": "sts.amazonaws.com",
                f"{OIDC}:sub": f"repo:{REPO}:environment:{environment}",
                **{f"{OIDC}:{claim}": value for claim, value in claims.items()},
            }
        }, role
        assert "*" not in json.dumps(trust["Condition"]), role
    outputs = run.of_type("slipway:aws:Roles")[0].registered_outputs
    for role in expected:
        assert outputs[f"{role}_role_arn"] == run.named(f"churn-{stack}-{role}").state["arn"]


def test_a_named_oidc_provider_is_trusted_instead() -> None:
    run = _run(GithubDeployment(REPO, oidc_provider_arn=EXISTING_PROVIDER, drift_monitor=True))
    for role in ("deploy", "preview", "monitor"):
        [trust] = trust_of(run, f"churn-dev-{role}")
        assert trust["Principal"] == {"Federated": EXISTING_PROVIDER}


def test_no_role_may_change_the_github_oidc_provider(with_github: ProgramRun) -> None:
    for name, statement in _every_statement(with_github):
        if statement["Effect"] == "Allow":
            assert not any("OpenIDConnectProvider" in a for a in statement["Action"]), name
    [guard] = [s for s in _boundary(with_github) if s["Sid"] == "GuardGithubOidc"]
    assert (guard["Effect"], guard["Resource"]) == ("Deny", [PROVIDER.replace("123456789012", "*")])


def _boundary(run: ProgramRun) -> list[dict[str, Any]]:
    return list(iter_policy_statements(run.one("aws:iam/policy:Policy").inputs["policy"]))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_role_carries_the_stack_boundary_which_guards_escalation(stack: str) -> None:
    run = _run(GithubDeployment(REPO, drift_monitor=True), stack)
    boundary = run.one("aws:iam/policy:Policy")
    assert boundary.inputs["name"] == f"churn-{stack}-boundary"
    arn = BOUNDARY.format(stack=stack)
    for role in run.of_type("aws:iam/role:Role"):
        assert role.inputs["permissionsBoundary"] == arn, role.name
    by_sid = {s["Sid"]: s for s in _boundary(run)}
    required = by_sid["GuardBoundary"]
    assert "iam:CreateRole" in required["Action"]
    assert required["Condition"] == {"StringNotEquals": {"iam:PermissionsBoundary": arn}}
    assert "iam:DeleteRolePermissionsBoundary" in by_sid["GuardPolicies"]["Action"]
    # any account, as the envelope's other ARNs: the boundary's quota (a deny of a wider set)
    assert by_sid["GuardDeployRoles"]["Resource"] == [f"arn:aws:iam::*:role/churn-{stack}-deploy-*"]
    # the deploy role also denies changes to its own role, by its exact ARN
    [own] = [s for s in policy_of(run, f"churn-{stack}-deploy") if s["Sid"] == "ProtectOwnRole"]
    assert own["Effect"] == "Deny"
    assert own["Resource"] == [run.named(f"churn-{stack}-deploy").state["arn"]]
    assert "iam:PutRolePolicy" in [a.replace("Put*", "PutRolePolicy") for a in own["Action"]]


@pytest.mark.parametrize("stack", ["dev", "staging"])
@pytest.mark.parametrize("public_api", [False, True], ids=["", "public"])
@pytest.mark.parametrize("eks", [False, True], ids=["sagemaker", "eks"])
def test_the_boundary_fits_iam_quota_for_the_longest_names(
    eks: bool, public_api: bool, stack: str
) -> None:
    """The longest project slug, the longest S3 bucket name for the state (63)."""
    project = "p" * load_inputs().MAX_SLUG
    run = run_pulumi(
        lambda: Roles(
            f"{project}-{stack}",
            RolesArgs(
                stack_context(stack, project=project),
                bucket_arn=f"arn:aws:s3:::{project}-{stack}-bucket-1234567",
                kms_key_arn=KEY_ARN,
                model_package_group_arn=GROUP_ARN,
                github=GithubDeployment(
                    REPO, drift_monitor=True, eks_cluster=eks, state_bucket="x" * 63
                ),
                public_api=public_api,
            ),
        )
    )
    for managed in run.of_type("aws:iam/policy:Policy"):
        assert len("".join(managed.inputs["policy"].split())) <= 6144, managed.name


def test_a_policy_over_the_iam_quota_fails_the_program() -> None:
    from slipway.aws import policy

    with pytest.raises(Exception, match=r"policy: \d+ characters, IAM allows 10 "):
        run_pulumi(lambda: pulumi.export("p", policy.document({"Sid": "x" * 20}, limit=10)))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"repository": "example-org/*"}, "githubRepository"),
        ({"repository": "churn"}, "githubRepository"),
        (
            {"repository": REPO, "oidc_provider_arn": "arn:aws:iam::123456789012:oidc-provider/*"},
            "githubOidcProviderArn",
        ),
        (
            {
                "repository": REPO,
                "oidc_provider_arn": (
                    "arn:aws:iam::1234:oidc-provider/token.actions.githubusercontent.com"
                ),
            },
            "githubOidcProviderArn",
        ),
        ({"repository": REPO, "default_branch": "main..x"}, "githubDefaultBranch"),
        ({"repository": REPO, "state_bucket": "No_Such"}, "pulumiStateBucket"),
    ],
)
def test_bad_github_settings_are_refused_naming_the_field(
    kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=f"^{field}: must be ") as error:
        GithubDeployment(**kwargs)
    assert "\n" not in str(error.value)


def test_preview_role_is_view_only_access_and_nothing_else(with_github: ProgramRun) -> None:
    preview = with_github.named("churn-dev-preview")
    inline = [
        p
        for p in with_github.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == preview.state["name"]
    ]
    assert inline == []
    attached = [
        a.inputs["policyArn"]
        for a in with_github.of_type(ATTACHMENT)
        if a.inputs["role"] == preview.state["name"]
    ]
    assert attached == [VIEW_ONLY_ARN]
    assert len(with_github.of_type(ATTACHMENT)) == 1


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_with_a_self_managed_backend_each_role_reaches_its_own_stack_state(stack: str) -> None:
    run = _run(GithubDeployment(REPO, drift_monitor=True, state_bucket="org-state"), stack)
    objects = "arn:aws:s3:::org-state/.pulumi/"

    def sids(role: str) -> dict[str, dict[str, Any]]:
        return (
            {s["Sid"]: s for s in policy_of(run, f"churn-{stack}-{role}")}
            if role != "preview" or stack == "dev"
            else {}
        )

    deploy = sids("deploy")
    assert deploy["WriteStackState"]["Resource"] == [
        f"{objects}stacks/churn/{stack}.json*",
        f"{objects}history/churn/{stack}/*",
        f"{objects}backups/churn/{stack}/*",
        f"{objects}journal/churn/{stack}/*",
        f"{objects}locks/organization/churn/{stack}/*",
    ]
    assert deploy["DecryptStackSecrets"]["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/churn-{stack}-pulumi"}
    }
    monitor = sids("monitor")
    assert "WriteStackState" not in monitor and "DecryptStackSecrets" not in monitor
    # a pull request's preview runs unreviewed code: it reads dev's state, never prod's
    preview = sids("preview")
    assert ("DecryptStackSecrets" in preview) == (stack == "dev")


def test_view_only_access_has_no_write_or_data_read_actions(view_only_actions: list[str]) -> None:
    assert len(view_only_actions) > 100
    writes = [a for a in view_only_actions if a.split(":", 1)[1].startswith(WRITE_VERBS)]
    assert writes == []
    data_reads = [a for a in view_only_actions if any(fnmatchcase(read, a) for read in DATA_READS)]
    assert data_reads == []


def test_view_only_access_covers_what_pulumi_preview_calls(view_only_actions: list[str]) -> None:
    for call in PREVIEW_CALLS:
        assert any(fnmatchcase(call, a) for a in view_only_actions), call


@pytest.mark.parametrize("eks", [False, True], ids=["sagemaker", "eks"])
def test_deploy_role_attaches_and_passes_only_what_the_program_needs(eks: bool) -> None:
    run = _run(GithubDeployment(REPO, eks_cluster=eks))
    statements = policy_of(run, "churn-dev-deploy")

    def granting(action: str) -> list[dict[str, Any]]:
        return [
            s
            for s in statements
            if s["Effect"] == "Allow" and any(fnmatchcase(action, a) for a in s["Action"])
        ]

    # the EKS node and cluster roles' policies are attached by an administrator's `pulumi up`
    assert [s["Condition"] for s in granting("iam:AttachRolePolicy")] == [
        {"ArnEquals": {"iam:PolicyARN": VIEW_ONLY_ARN}}
    ]
    # SageMaker: the retrain rule's target role is passed to EventBridge (issue 14)
    services = (
        ["eks.amazonaws.com", "sagemaker.amazonaws.com"]
        if eks
        else ["events.amazonaws.com", "sagemaker.amazonaws.com"]
    )
    [passing] = granting("iam:PassRole")
    assert passing["Resource"] == ["arn:aws:iam::123456789012:role/churn-dev-*"]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": services}}
    # the EKS parts of `pulumi up` are a managed policy of their own (inline policies of one
    # role hold at most 10,240 characters)
    attached = [a.inputs["policyArn"] for a in run.of_type(ATTACHMENT)]
    eks_policy = "arn:aws:iam::123456789012:policy/churn-dev-deploy-eks"
    assert (eks_policy in attached) == eks


@pytest.mark.parametrize("eks", [False, True], ids=["sagemaker", "eks"])
def test_monitor_role_reads_and_puts_drift_metrics_only(eks: bool) -> None:
    run = _run(GithubDeployment(REPO, drift_monitor=True, eks_cluster=eks))
    by_sid = {s["Sid"]: s for s in policy_of(run, "churn-dev-monitor")}
    assert by_sid["DecryptWithProjectKey"]["Action"] == ["kms:Decrypt"]
    assert by_sid["DecryptWithProjectKey"]["Resource"] == [KEY_ARN]
    others = [a for sid, s in by_sid.items() if sid != "PutDriftMetrics" for a in s["Action"]]
    assert [a for a in others if a.split(":", 1)[1].startswith(WRITE_VERBS)] == []
    if eks:  # the cluster's drift CronJob publishes; drift.yml port-forwards to MLflow
        assert "PutDriftMetrics" not in by_sid
        assert by_sid["FindStackCluster"]["Resource"] == [
            "arn:aws:eks:us-east-1:123456789012:cluster/churn-dev"
        ]
    else:
        metrics = by_sid["PutDriftMetrics"]
        assert metrics["Action"] == ["cloudwatch:PutMetricData"]
        assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": DRIFT_NAMESPACE}}
        assert "FindStackCluster" not in by_sid


def test_no_github_no_oidc_provider_nor_github_roles() -> None:
    run = _run(None)
    assert run.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    assert run.of_type(ATTACHMENT) == []
    assert run.of_type("aws:iam/policy:Policy") == []  # no CI, no boundary
    assert sorted(r.name for r in run.of_type("aws:iam/role:Role")) == [
        "churn-dev-exec",
        "churn-dev-infer",
        "churn-dev-train",
    ]


def test_no_monitor_role_without_drift_monitor() -> None:
    run = _run(GithubDeployment(REPO))
    assert sorted(r.name for r in run.of_type("aws:iam/role:Role")) == [
        "churn-dev-candidate",
        "churn-dev-deploy",
        "churn-dev-exec",
        "churn-dev-infer",
        "churn-dev-preview",
        "churn-dev-train",
    ]
    assert run.of_type("slipway:aws:Roles")[0].registered_outputs.get("monitor_role_arn") is None


def test_deploy_role_pushes_the_serving_image_and_finds_only_an_eks_cluster(
    with_github: ProgramRun,
) -> None:
    """Both flavors serve the project's image from the stack repository (release.yml pushes
    it); only an EKS stack's deploy role looks its cluster up."""
    sagemaker = {s["Sid"]: s for s in policy_of(with_github, "churn-dev-deploy")}
    assert "FindStackCluster" not in sagemaker
    assert sagemaker["PushModelImage"]["Resource"] == [
        "arn:aws:ecr:us-east-1:123456789012:repository/churn-dev-model"
    ]
    run = _run(GithubDeployment(REPO, eks_cluster=True), "staging")
    by_sid = {s["Sid"]: s for s in policy_of(run, "churn-staging-deploy")}
    assert by_sid["FindStackCluster"]["Action"] == ["eks:DescribeCluster"]
    assert by_sid["FindStackCluster"]["Resource"] == [
        "arn:aws:eks:us-east-1:123456789012:cluster/churn-staging"
    ]
    # the token call has no resource-level permissions: "*" is its only valid resource
    assert (by_sid["EcrToken"]["Action"], by_sid["EcrToken"]["Resource"]) == (
        ["ecr:GetAuthorizationToken"],
        ["*"],
    )
    assert sorted(by_sid["PushModelImage"]["Action"]) == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:CompleteLayerUpload",
        "ecr:DescribeImages",
        "ecr:InitiateLayerUpload",
        "ecr:PutImage",
        "ecr:UploadLayerPart",
    ]
    assert by_sid["PushModelImage"]["Resource"] == [
        "arn:aws:ecr:us-east-1:123456789012:repository/churn-staging-model"
    ]
    star = [sid for sid, s in by_sid.items() if "*" in s["Resource"]]
    assert all(not a.endswith(":*") for sid in star for a in by_sid[sid]["Action"])
