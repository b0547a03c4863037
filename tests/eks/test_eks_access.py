"""Cluster access of the GitHub roles: access entries (deploy cluster-wide, preview per
namespace, monitor only through the RBAC group of MLflow's port-forward Role), and the deploy
role's IAM for release.yml on EKS (its cluster, its model repository, nothing else)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from eks_support import MODEL_URI, stack_context
from slipway.aws import ArtifactStore, ArtifactStoreArgs, GithubDeployment, Roles, RolesArgs
from slipway.eks import Cluster, ClusterArgs, ModelServing, ModelServingArgs, Network, NetworkArgs
from slipway.eks.cluster import CiAccess
from slipway.eks.manifests import manifests, validate
from slipway.eks.tracking import Tracking, TrackingArgs
from slipway.presets import load_preset
from slipway.testing import ProgramRun, iter_policy_statements, run_pulumi

REPO = "example-org/churn"
GROUP_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn-dev-models"
POLICY = "arn:aws:eks::aws:cluster-access-policy/"
VIEW, ADMIN = POLICY + "AmazonEKSViewPolicy", POLICY + "AmazonEKSClusterAdminPolicy"
PORT_FORWARD_GROUP = "slipway:mlflow-port-forward"
# What `kubectl port-forward service/mlflow` calls (resource -> verbs), and nothing else.
PORT_FORWARD_CALLS = {
    "services": {"get"},  # the Service, by name
    "pods": {"get", "list", "watch"},  # the pods of its selector; the chosen one
    "pods/portforward": {"get", "create"},  # WebSocket GET or SPDY POST
}


def _program(drift_monitor: bool) -> Callable[[], None]:
    """Roles (GitHub, EKS), network, cluster with the roles' access, MLflow and serving."""

    def program() -> None:
        ctx = stack_context("dev")
        store = ArtifactStore(ctx.prefix, ArtifactStoreArgs(ctx))
        roles = Roles(
            ctx.prefix,
            RolesArgs(
                ctx,
                bucket_arn=store.bucket_arn,
                kms_key_arn=store.kms_key_arn,
                model_package_group_arn=GROUP_ARN,
                github=GithubDeployment(REPO, drift_monitor=drift_monitor, eks_cluster=True),
            ),
        )
        assert roles.deploy_role_arn is not None and roles.preview_role_arn is not None
        network = Network(ctx.prefix, NetworkArgs(ctx))
        cluster = Cluster(
            ctx.prefix,
            ClusterArgs(
                ctx,
                network=network,
                kms_key_arn=store.kms_key_arn,
                ci_access=CiAccess(
                    roles.deploy_role_arn, roles.preview_role_arn, roles.monitor_role_arn
                ),
            ),
        )
        Tracking(
            ctx.prefix,
            TrackingArgs(
                ctx,
                provider=cluster.provider,
                oidc=cluster.oidc,
                vpc_id=network.vpc_id,
                private_subnet_ids=network.private_subnet_ids,
                cluster_security_group_id=cluster.security_group_id,
                bucket_name=store.bucket_name,
                bucket_arn=store.bucket_arn,
                kms_key_arn=store.kms_key_arn,
            ),
        )
        ModelServing(
            ctx.prefix,
            ModelServingArgs(
                ctx,
                provider=cluster.provider,
                oidc=cluster.oidc,
                bucket_arn=store.bucket_arn,
                kms_key_arn=store.kms_key_arn,
                image_tag="1.0.0",
                model_uri=MODEL_URI,
                tracking_uri="http://mlflow.mlflow.svc.cluster.local:5000",
            ),
        )

    return program


@pytest.fixture(scope="module")
def with_monitor() -> ProgramRun:
    return run_pulumi(_program(drift_monitor=True), project="churn", stack="dev")


def _entries(run: ProgramRun) -> dict[str, Any]:
    return dict(run.one("eks:index:Cluster").inputs.get("accessEntries") or {})


def _grants(run: ProgramRun) -> dict[str, tuple[str, str | None, str, list[str], list[str]]]:
    """Entry -> (principal, policy ARN, scope type, namespaces, Kubernetes groups)."""
    grants = {}
    for name, entry in _entries(run).items():
        policies = list((entry.get("accessPolicies") or {}).values())
        assert len(policies) <= 1, f"{name}: more than one access policy"
        policy = policies[0] if policies else {"policyArn": None, "accessScope": {"type": ""}}
        scope = policy["accessScope"]
        grants[name] = (
            entry["principalArn"],
            policy["policyArn"],
            scope["type"],
            sorted(scope.get("namespaces") or []),
            sorted(entry.get("kubernetesGroups") or []),
        )
    return grants


def test_each_github_role_gets_its_policy_in_its_namespaces_only(
    with_monitor: ProgramRun,
) -> None:
    arn = {
        role: with_monitor.named(f"churn-dev-{role}").state["arn"]
        for role in ("deploy", "preview", "monitor")
    }
    assert _grants(with_monitor) == {
        # stack-up.yml: pulumi up installs Namespaces, CRDs, ClusterRoles (cluster-wide)
        "deploy": (arn["deploy"], ADMIN, "cluster", [], []),
        # drift.yml: port-forward to MLflow through the group's Role only (no Edit: Secrets)
        "monitor": (arn["monitor"], None, "", [], [PORT_FORWARD_GROUP]),
        # pulumi preview: reads the flavor's objects
        "preview": (arn["preview"], VIEW, "namespace", ["mlflow", "monitoring", "serving"], []),
    }


def _rbac(run: ProgramRun, kind: str) -> dict[str, Any]:
    [found] = [
        m
        for m in manifests(run)
        if m["kind"] == kind and m["metadata"]["name"] == "mlflow-port-forward"
    ]
    return found


def port_forward_violations(role: dict[str, Any]) -> list[str]:
    """What the Role grants beyond ``PORT_FORWARD_CALLS`` in the core API group."""
    found = []
    granted: dict[str, set[str]] = {}
    for rule in role.get("rules", []):
        if rule.get("apiGroups") != [""]:
            found.append(f"API groups {rule.get('apiGroups')}")
        for resource in rule.get("resources", []):
            if resource == "*" or resource.startswith("secrets"):
                found.append(f"resource {resource}")
            if "*" in rule.get("verbs", []):
                found.append(f"verb * on {resource}")
            granted.setdefault(resource, set()).update(rule.get("verbs", []))
    for resource, verbs in granted.items():
        extra = verbs - PORT_FORWARD_CALLS.get(resource, set())
        if extra:
            found.append(f"{sorted(extra)} on {resource}")
    return found


def test_monitor_group_may_port_forward_to_mlflow_and_read_no_secrets(
    with_monitor: ProgramRun,
) -> None:
    role, binding = _rbac(with_monitor, "Role"), _rbac(with_monitor, "RoleBinding")
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == "mlflow"
    assert port_forward_violations(role) == []
    granted = {r: set(rule["verbs"]) for rule in role["rules"] for r in rule["resources"]}
    assert granted == PORT_FORWARD_CALLS  # nothing kubectl needs is missing either
    [service_rule] = [rule for rule in role["rules"] if rule["resources"] == ["services"]]
    assert service_rule["resourceNames"] == ["mlflow"]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": PORT_FORWARD_GROUP}
    ]
    version = load_preset("dev").eks.kubernetes_version
    validate(role, version)
    validate(binding, version)


@pytest.mark.parametrize(
    ("rule", "violation"),
    [
        ({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}, "resource secrets"),
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}, "verb * on pods"),
        ({"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}, "resource *"),
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]}, "['delete'] on pods"),
        ({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]}, "API groups"),
    ],
)
def test_a_wider_port_forward_role_is_caught(
    with_monitor: ProgramRun, rule: dict[str, Any], violation: str
) -> None:
    role = copy.deepcopy(_rbac(with_monitor, "Role"))
    role["rules"].append(rule)
    assert any(v.startswith(violation) for v in port_forward_violations(role))


def test_no_monitor_entry_without_the_monitor_role() -> None:
    run = run_pulumi(_program(drift_monitor=False), project="churn", stack="dev")
    assert sorted(_entries(run)) == ["deploy", "preview"]


def test_no_access_entries_without_ci(eks_run: ProgramRun) -> None:
    assert "accessEntries" not in eks_run.one("eks:index:Cluster").inputs


def _deploy_statements(run: ProgramRun) -> dict[str, dict[str, Any]]:
    role = run.named("churn-dev-deploy").state["name"]
    [attached] = [
        p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role
    ]
    return {s["Sid"]: s for s in iter_policy_statements(attached.inputs["policy"])}


def test_deploy_role_pushes_to_the_stack_model_repository_only(
    with_monitor: ProgramRun,
) -> None:
    by_sid = _deploy_statements(with_monitor)
    repository = with_monitor.one("aws:ecr/repository:Repository").state["arn"]
    assert by_sid["PushModelImage"]["Resource"] == [repository]
    cluster = with_monitor.one("eks:index:Cluster").inputs["name"]
    assert by_sid["FindStackCluster"]["Resource"] == [
        f"arn:aws:eks:us-east-1:123456789012:cluster/{cluster}"
    ]
