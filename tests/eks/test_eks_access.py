"""Cluster access of the GitHub roles: access entries (deploy cluster-wide, the others per
namespace), and the deploy role's IAM for release.yml on EKS (its cluster, its model
repository, nothing else)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eks_support import MODEL_URI, deployment
from slipway.aws import ArtifactStore, ArtifactStoreArgs, GithubDeployment, Roles, RolesArgs
from slipway.eks import Cluster, ClusterArgs, ModelServing, ModelServingArgs, Network, NetworkArgs
from slipway.eks.cluster import CiAccess
from slipway.testing import ProgramRun, iter_policy_statements, run_pulumi

REPO = "example-org/churn"
GROUP_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn-dev-models"
POLICY = "arn:aws:eks::aws:cluster-access-policy/"
EDIT, VIEW = POLICY + "AmazonEKSEditPolicy", POLICY + "AmazonEKSViewPolicy"
ADMIN = POLICY + "AmazonEKSClusterAdminPolicy"


def _program(drift_monitor: bool) -> Callable[[], None]:
    """Roles (GitHub, EKS), network, cluster with the roles' access and the model serving."""
    def program() -> None:
        dep = deployment("dev")
        store = ArtifactStore(dep.prefix, ArtifactStoreArgs(dep))
        roles = Roles(dep.prefix, RolesArgs(
            dep, bucket_arn=store.bucket_arn, kms_key_arn=store.kms_key_arn,
            model_package_group_arn=GROUP_ARN,
            github=GithubDeployment(REPO, drift_monitor=drift_monitor, eks_cluster=True),
        ))
        assert roles.deploy_role_arn is not None and roles.preview_role_arn is not None
        network = Network(dep.prefix, NetworkArgs(dep))
        cluster = Cluster(dep.prefix, ClusterArgs(
            dep, network=network, kms_key_arn=store.kms_key_arn,
            ci_access=CiAccess(roles.deploy_role_arn, roles.preview_role_arn,
                               roles.monitor_role_arn),
        ))
        ModelServing(dep.prefix, ModelServingArgs(
            dep, provider=cluster.provider, oidc=cluster.oidc, bucket_arn=store.bucket_arn,
            kms_key_arn=store.kms_key_arn, image_tag="1.0.0", model_uri=MODEL_URI,
            tracking_uri="http://mlflow.mlflow.svc.cluster.local:5000",
        ))
    return program


@pytest.fixture(scope="module")
def with_monitor() -> ProgramRun:
    return run_pulumi(_program(drift_monitor=True), project="churn", stack="dev")


def _entries(run: ProgramRun) -> dict[str, Any]:
    return dict(run.one("eks:index:Cluster").inputs.get("accessEntries") or {})


def _grants(run: ProgramRun) -> dict[str, tuple[str, str, str, list[str]]]:
    """Entry -> (principal, policy ARN, scope type, namespaces); one policy per entry."""
    grants = {}
    for name, entry in _entries(run).items():
        [policy] = entry["accessPolicies"].values()
        scope = policy["accessScope"]
        grants[name] = (entry["principalArn"], policy["policyArn"], scope["type"],
                        sorted(scope.get("namespaces") or []))
    return grants


def test_each_github_role_gets_its_policy_in_its_namespaces_only(
    with_monitor: ProgramRun,
) -> None:
    arn = {role: with_monitor.named(f"churn-dev-{role}").state["arn"]
           for role in ("deploy", "preview", "monitor")}
    assert _grants(with_monitor) == {
        # stack-up.yml: pulumi up installs Namespaces, CRDs, ClusterRoles (cluster-wide)
        "deploy": (arn["deploy"], ADMIN, "cluster", []),
        # drift.yml: port-forward to MLflow, which View does not allow
        "monitor": (arn["monitor"], EDIT, "namespace", ["mlflow"]),
        # pulumi preview: reads the flavor's objects
        "preview": (arn["preview"], VIEW, "namespace", ["mlflow", "monitoring", "serving"]),
    }


def test_no_monitor_entry_without_the_monitor_role() -> None:
    run = run_pulumi(_program(drift_monitor=False), project="churn", stack="dev")
    assert sorted(_entries(run)) == ["deploy", "preview"]


def test_no_access_entries_without_ci(eks_run: ProgramRun) -> None:
    assert "accessEntries" not in eks_run.one("eks:index:Cluster").inputs


def _deploy_statements(run: ProgramRun) -> dict[str, dict[str, Any]]:
    role = run.named("churn-dev-deploy").state["name"]
    [attached] = [p for p in run.of_type("aws:iam/rolePolicy:RolePolicy")
                  if p.inputs["role"] == role]
    return {s["Sid"]: s for s in iter_policy_statements(attached.inputs["policy"])}


def test_deploy_role_pushes_to_the_stack_model_repository_only(
    with_monitor: ProgramRun,
) -> None:
    by_sid = _deploy_statements(with_monitor)
    repository = with_monitor.one("aws:ecr/repository:Repository").state["arn"]
    assert by_sid["PushModelImage"]["Resource"] == [repository]
    cluster = with_monitor.one("eks:index:Cluster").inputs["name"]
    assert by_sid["FindStackCluster"]["Resource"] == [
        f"arn:aws:eks:us-east-1:123456789012:cluster/{cluster}"]
