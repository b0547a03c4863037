"""Roles: least privilege (no * on *), scoping to prefixes/key/group, GitHub OIDC trust."""

from __future__ import annotations

import pytest
from aws_helpers import deployment, policy_of, trust_of
from slipway.aws import GithubDeployment, Roles, RolesArgs
from slipway.testing import ProgramRun, iter_policy_statements, run_pulumi

BUCKET_ARN = "arn:aws:s3:::churn-dev-bucket-1234567"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/0000-1111"
GROUP_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn-dev-models"
REPO = "example-org/churn"


def _run(github: GithubDeployment | None = None) -> ProgramRun:
    return run_pulumi(lambda: Roles("churn-dev", RolesArgs(
        deployment("dev"), bucket_arn=BUCKET_ARN, kms_key_arn=KEY_ARN,
        model_package_group_arn=GROUP_ARN, github=github,
    )))


@pytest.fixture(scope="module")
def with_github() -> ProgramRun:
    return _run(GithubDeployment(REPO))


def test_no_statement_allows_every_action_on_every_resource(with_github: ProgramRun) -> None:
    policies = with_github.of_type("aws:iam/rolePolicy:RolePolicy")
    assert len(policies) == 4
    for attached in policies:
        for statement in iter_policy_statements(attached.inputs["policy"]):
            if "*" in statement["Resource"]:
                broad = [a for a in statement["Action"] if a == "*" or a.endswith(":*")]
                assert broad == [], f"{attached.name} {statement.get('Sid')}: {broad} on *"


@pytest.mark.parametrize(("role", "reads", "writes"), [
    ("churn-dev-train", {"data/"}, {"models/", "mlflow/"}),
    ("churn-dev-infer", {"models/"}, {"data-capture/"}),
    ("churn-dev-exec", {"data/", "models/", "data-capture/"}, {"mlflow/", "monitoring/"}),
])
def test_object_access_is_scoped_to_prefixes(
    with_github: ProgramRun, role: str, reads: set[str], writes: set[str]
) -> None:
    by_sid = {s["Sid"]: s for s in policy_of(with_github, role)}
    as_prefixes = lambda arns: {a.removeprefix(BUCKET_ARN + "/").removesuffix("*") for a in arns}  # noqa: E731
    assert as_prefixes(by_sid["WriteObjects"]["Resource"]) == writes
    assert as_prefixes(by_sid["ReadObjects"]["Resource"]) == reads | writes
    assert by_sid["ListOwnPrefixes"]["Resource"] == [BUCKET_ARN]
    assert by_sid["UseProjectKey"]["Resource"] == [KEY_ARN]


def test_only_the_execution_role_uses_the_model_package_group(with_github: ProgramRun) -> None:
    exec_sids = {s["Sid"]: s for s in policy_of(with_github, "churn-dev-exec")}
    packages = GROUP_ARN.replace("model-package-group/", "model-package/") + "/*"
    assert exec_sids["UseModelPackageGroup"]["Resource"] == [GROUP_ARN, packages]
    for role in ("churn-dev-train", "churn-dev-infer"):
        assert "UseModelPackageGroup" not in {s["Sid"] for s in policy_of(with_github, role)}


def test_sagemaker_roles_trust_sagemaker_of_this_account_only(with_github: ProgramRun) -> None:
    [trust] = trust_of(with_github, "churn-dev-infer")
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_deploy_role_is_trusted_only_by_this_repository(with_github: ProgramRun) -> None:
    provider = with_github.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    [trust] = trust_of(with_github, "churn-dev-deploy")
    assert trust["Principal"] == {"Federated": provider.state["arn"]}
    assert trust["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"] == [
        f"repo:{REPO}:ref:refs/heads/*", f"repo:{REPO}:environment:*",
    ]
    roles = with_github.of_type("slipway:aws:Roles")[0].registered_outputs
    assert roles["deploy_role_arn"] == with_github.named("churn-dev-deploy").state["arn"]


def test_no_github_no_oidc_provider_nor_deploy_role() -> None:
    run = _run(None)
    assert run.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    assert sorted(r.name for r in run.of_type("aws:iam/role:Role")) == [
        "churn-dev-exec", "churn-dev-infer", "churn-dev-train",
    ]
