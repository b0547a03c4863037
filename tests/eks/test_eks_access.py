"""Cluster access of the GitHub roles: access entries (deploy cluster-wide, preview per
namespace, monitor only through the RBAC group of MLflow's port-forward Role), and the deploy
role's IAM for release.yml on EKS (its cluster, its model repository, nothing else)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from eks_support import with_config
from slipway.eks.manifests import manifests, validate
from slipway.names import TRAINING_STARTER_GROUP
from slipway.presets import load_preset
from slipway.testing import ProgramRun, iter_policy_statements, run_program

REPO = "example-org/churn"
POLICY = "arn:aws:eks::aws:cluster-access-policy/"
VIEW, ADMIN = POLICY + "AmazonEKSViewPolicy", POLICY + "AmazonEKSClusterAdminPolicy"
PORT_FORWARD_GROUP = "slipway:mlflow-port-forward"
# What `kubectl port-forward service/mlflow` calls (resource -> verbs), and nothing else.
PORT_FORWARD_CALLS = {
    "services": {"get"},  # the Service, by name
    "pods": {"get", "list", "watch"},  # the pods of its selector; the chosen one
    "pods/portforward": {"get", "create"},  # WebSocket GET or SPDY POST
}


def _with_github(eks_infra: Path, dest: Path, monitoring: bool) -> ProgramRun:
    """The baked program (ci=none) with GitHub roles and monitoring turned on or off through
    its stack config alone, as a project would with `pulumi config set`."""
    infra = with_config(eks_infra, dest, "dev", githubRepository=REPO, monitoring=monitoring)
    return run_program(infra, "dev")


@pytest.fixture(scope="module")
def with_monitor(eks_infra: Path, tmp_path_factory: pytest.TempPathFactory) -> ProgramRun:
    return _with_github(eks_infra, tmp_path_factory.mktemp("github") / "infra", monitoring=True)


def _entries(run: ProgramRun) -> dict[str, Any]:
    return dict(run.one("eks:index:Cluster").inputs.get("accessEntries") or {})


def _grants(run: ProgramRun) -> dict[str, tuple[str, str | None, str, list[str], list[str]]]:
    """Entry -> (principal, policy ARN, scope type, namespaces, Kubernetes groups)."""
    grants = {}
    for name, entry in _entries(run).items():
        policies = list((entry.get("accessPolicies") or {}).values())
        assert len(policies) <= 1, f"{name}: more than one access policy"
        policy: dict[str, Any] = (
            policies[0] if policies else {"policyArn": None, "accessScope": {"type": ""}}
        )
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
        for role in ("deploy", "preview", "monitor", "candidate")
    }
    assert _grants(with_monitor) == {
        # stack-up.yml: pulumi up installs Namespaces, CRDs, ClusterRoles (cluster-wide)
        "deploy": (arn["deploy"], ADMIN, "cluster", [], []),
        # drift.yml: port-forward to MLflow through the group's Role only (no Edit: Secrets)
        "monitor": (arn["monitor"], None, "", [], [PORT_FORWARD_GROUP]),
        # release.yml's job candidate: the same (MLflow), and the group that may start and
        # follow the training Job (`pipeline run --on aws`, slipway.eks.training)
        "candidate": (
            arn["candidate"],
            None,
            "",
            [],
            sorted([PORT_FORWARD_GROUP, TRAINING_STARTER_GROUP]),
        ),
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


def test_no_monitor_entry_without_the_monitor_role(eks_infra: Path, tmp_path: Path) -> None:
    run = _with_github(eks_infra, tmp_path / "infra", monitoring=False)
    assert sorted(_entries(run)) == ["candidate", "deploy", "preview"]


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
