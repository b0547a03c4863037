"""Cluster add-ons the workloads rely on: metrics-server (the HPA's resource metrics), the EBS
CSI driver with an encrypted gp3 StorageClass (Prometheus' volume), and a Deployment that
leaves ``replicas`` to its HPA (pulumi-kubernetes#2491)."""

from __future__ import annotations

import json
from typing import Any

from slipway.eks.manifests import manifests
from slipway.testing import ProgramRun, RecordedResource, iter_policy_statements


def _addons(run: ProgramRun) -> dict[str, RecordedResource]:
    return {a.inputs["addonName"]: a for a in run.of_type("aws:eks/addon:Addon")}


def _role(run: ProgramRun, arn: str) -> RecordedResource:
    return next(r for r in run.of_type("aws:iam/role:Role") if r.state["arn"] == arn)


def _model_server(run: ProgramRun, kind: str) -> dict[str, Any]:
    return next(
        m for m in manifests(run) if m["kind"] == kind and m["metadata"]["name"] == "model-server"
    )


def test_metrics_server_is_an_eks_addon_of_the_cluster(eks_run: ProgramRun) -> None:
    """The HPA's CPU target reads metrics.k8s.io, which only metrics-server serves; EKS does not
    install it (EKS User Guide, "View resource usage with the Kubernetes Metrics Server"); it is
    in the EKS community add-ons catalog as ``metrics-server``."""
    hpa = _model_server(eks_run, "HorizontalPodAutoscaler")
    assert hpa["spec"]["metrics"][0]["type"] == "Resource"
    addon = _addons(eks_run).get("metrics-server")
    assert addon is not None
    assert addon.inputs["clusterName"] == eks_run.outputs["clusterName"]


def test_the_deployment_leaves_replicas_to_its_autoscaler(eks_run: ProgramRun) -> None:
    """Under server-side apply, a declared ``spec.replicas`` conflicts with the HPA controller's
    scale subresource on the next `pulumi up` (pulumi-kubernetes#2491); Kubernetes' HPA guide:
    remove ``spec.replicas`` from the manifest when an HPA manages the workload."""
    deployment = _model_server(eks_run, "Deployment")
    hpa = _model_server(eks_run, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert "replicas" not in deployment["spec"]


def test_ebs_csi_driver_addon_runs_with_its_own_role(eks_run: ProgramRun) -> None:
    addon = _addons(eks_run)["aws-ebs-csi-driver"]
    role = _role(eks_run, addon.inputs["serviceAccountRoleArn"])
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    sub = next(v for k, v in trust["Condition"]["StringEquals"].items() if k.endswith(":sub"))
    assert sub == "system:serviceaccount:kube-system:ebs-csi-controller-sa"
    attached = [
        a.inputs["policyArn"]
        for a in eks_run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.state["name"]
    ]
    assert attached == ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]
    key = eks_run.one("aws:kms/key:Key").state["arn"]
    [policy] = [
        p
        for p in eks_run.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.state["name"]
    ]
    statements = list(iter_policy_statements(policy.inputs["policy"]))
    assert all(s["Resource"] == [key] for s in statements)
    grants = next(s for s in statements if "kms:CreateGrant" in s["Action"])
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_the_storage_class_makes_encrypted_gp3_volumes_with_the_project_key(
    eks_run: ProgramRun,
) -> None:
    """EKS 1.30+ marks no StorageClass as default, and its gp2 class uses the in-tree
    provisioner that needs the EBS CSI driver anyway (EKS User Guide, Kubernetes 1.30 notes)."""
    [storage_class] = [m for m in manifests(eks_run) if m["kind"] == "StorageClass"]
    assert storage_class["provisioner"] == "ebs.csi.aws.com"
    key = eks_run.one("aws:kms/key:Key").state["arn"]
    assert storage_class["parameters"] == {"type": "gp3", "encrypted": "true", "kmsKeyId": key}
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"  # the pod's zone
