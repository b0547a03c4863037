"""MLflow, serving and observability on the cluster; every Kubernetes object validated offline."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from crd_validation import is_custom_resource, validate_custom_resource
from eks_support import MODEL_URI, stack_config
from slipway.eks.irsa import ROLE_ANNOTATION
from slipway.eks.manifests import ManifestError, manifests, reveal, validate
from slipway.presets import load_preset
from slipway.testing import ProgramRun, RecordedResource, iter_policy_statements


def _policy(run: ProgramRun, role: RecordedResource) -> list[dict[str, Any]]:
    for attached in run.of_type("aws:iam/rolePolicy:RolePolicy"):
        if attached.inputs["role"] == role.state["name"]:
            return list(iter_policy_statements(attached.inputs["policy"]))
    raise AssertionError(f"no policy on {role.name}")


def _role_by_arn(run: ProgramRun, arn: str) -> RecordedResource:
    return next(r for r in run.of_type("aws:iam/role:Role") if r.state["arn"] == arn)


def _artifact_bucket(run: ProgramRun) -> str:
    return str(run.named("churn-" + run.outputs["preset"] + "-bucket").state["bucket"])


def _written_objects(statements: list[dict[str, Any]]) -> list[str]:
    return [res for s in statements if "s3:PutObject" in s["Action"] for res in s["Resource"]]


def test_every_kubernetes_object_matches_the_kubernetes_schemas(
    eks_run: ProgramRun, preset_name: str
) -> None:
    version = load_preset(preset_name).eks.kubernetes_version
    found = manifests(eks_run)
    kinds = {m["kind"] for m in found}
    assert {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ServiceAccount",
        "CronJob",
        "Secret",
        "Namespace",
        "ServiceMonitor",
        "PrometheusRule",
    } <= kinds
    for manifest in found:
        if is_custom_resource(manifest):
            validate_custom_resource(manifest, version)
        else:
            validate(manifest, version)


@pytest.mark.parametrize(
    ("kind", "path", "value", "error"),
    [
        ("Deployment", ("spec", "replica"), 2, "Additional properties are not allowed"),
        ("HorizontalPodAutoscaler", ("spec", "maxReplicas"), "many", "is not of type 'integer'"),
        ("CronJob", ("spec", "jobTemplate", "spec", "backoffLimit"), [], "is not of type"),
        ("ServiceMonitor", ("metadata", "labels"), {"a": 1}, "metadata.labels.a: 1 is not of type"),
        ("PrometheusRule", ("status",), {}, "top-level fields must be"),
    ],
)
def test_a_broken_object_is_rejected_naming_it(
    eks_run: ProgramRun, kind: str, path: tuple[str, ...], value: Any, error: str
) -> None:
    manifest = copy.deepcopy(next(m for m in manifests(eks_run) if m["kind"] == kind))
    target = manifest
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ManifestError, match=f"^{kind} .*{error}"):
        validate(manifest, "1.35")


def test_mlflow_chart_values_wire_rds_s3_and_irsa(eks_run: ProgramRun, preset_name: str) -> None:
    preset = load_preset(preset_name)
    release = next(
        r for r in eks_run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "mlflow"
    )
    values = reveal(release.inputs["values"])
    database = eks_run.one("aws:rds/instance:Instance")
    bucket = _artifact_bucket(eks_run)
    postgres = values["backendStore"]["postgres"]
    assert (postgres["enabled"], postgres["host"]) == (True, database.state["address"])
    assert "password" not in postgres  # the password travels in a Kubernetes Secret
    secret = next(m for m in manifests(eks_run) if m["kind"] == "Secret")
    assert values["backendStore"]["existingDatabaseSecret"]["name"] == secret["metadata"]["name"]
    assert secret["stringData"]["password"] == reveal(database.inputs["password"])
    assert values["artifactRoot"]["s3"] == {"enabled": True, "bucket": bucket, "path": "mlflow"}
    assert release.inputs["version"] == preset.eks.mlflow_chart_version
    sizes = preset.eks.mlflow_resources
    assert values["resources"] == {
        "requests": {"cpu": sizes.cpu_request, "memory": sizes.memory_request},
        "limits": {"cpu": sizes.cpu_limit, "memory": sizes.memory_limit},
    }
    role = _role_by_arn(eks_run, values["serviceAccount"]["annotations"][ROLE_ANNOTATION])
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    sub = next(v for k, v in trust["Condition"]["StringEquals"].items() if k.endswith(":sub"))
    assert sub == f"system:serviceaccount:mlflow:{values['serviceAccount']['name']}"
    objects = [
        res
        for s in _policy(eks_run, role)
        if s["Sid"] in ("ReadObjects", "WriteObjects")
        for res in s["Resource"]
    ]
    assert objects and all(o == f"arn:aws:s3:::{bucket}/mlflow/*" for o in objects)


def test_database_is_encrypted_private_and_protected_per_preset(
    eks_run: ProgramRun, preset_name: str
) -> None:
    preset = load_preset(preset_name)
    database = eks_run.one("aws:rds/instance:Instance")
    inputs = database.inputs
    assert inputs["storageEncrypted"] is True and inputs["publiclyAccessible"] is False
    assert inputs["kmsKeyId"] == eks_run.one("aws:kms/key:Key").state["arn"]
    assert inputs["allocatedStorage"] == preset.eks.database_storage_gb
    assert inputs["multiAz"] is preset.eks.database_multi_az
    assert inputs["deletionProtection"] is preset.deletion_protection
    assert (database.protect, database.retain_on_delete) == (preset.deletion_protection,) * 2
    private = sorted(
        s.state["name"] for s in eks_run.of_type("aws:ec2/subnet:Subnet") if "private" in s.name
    )
    assert sorted(eks_run.one("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"]) == private
    ingress = eks_run.one("aws:ec2/securityGroup:SecurityGroup").inputs["ingress"]
    assert [(r["fromPort"], "cidrBlocks" in r) for r in ingress] == [(5432, False)]


def test_model_server_is_probed_bounded_and_locked_down(
    eks_run: ProgramRun, eks_infra: Path, preset_name: str
) -> None:
    sizes = load_preset(preset_name).eks.serving
    found = {m["kind"]: m for m in manifests(eks_run) if m["metadata"]["name"] == "model-server"}
    pod = found["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/ping"
    assert container["resources"] == {
        "requests": {"cpu": sizes.cpu_request, "memory": sizes.memory_request},
        "limits": {"cpu": sizes.cpu_limit, "memory": sizes.memory_limit},
    }
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "SLIPWAY_MODEL_URI", "value": MODEL_URI} in container["env"]
    tag = stack_config(eks_infra, preset_name)["slipway:modelImageTag"]
    assert container["image"] == f"{eks_run.outputs['modelRepositoryUrl']}:{tag}"
    hpa = found["HorizontalPodAutoscaler"]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (sizes.min_replicas, sizes.max_replicas)
    assert found["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    annotations = found["ServiceAccount"]["metadata"]["annotations"]
    role = _role_by_arn(eks_run, annotations[ROLE_ANNOTATION])
    assert all(o.endswith("/data-capture/*") for o in _written_objects(_policy(eks_run, role)))


def test_image_repository_scans_on_push_with_immutable_tags(
    eks_run: ProgramRun, preset_name: str
) -> None:
    repository = eks_run.one("aws:ecr/repository:Repository").inputs
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    rules = json.loads(eks_run.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"])
    keep = load_preset(preset_name).eks.ecr_keep_images
    assert rules["rules"][-1]["selection"]["countNumber"] == keep


def test_alerts_scrape_and_drift_check_follow_the_preset(
    eks_run: ProgramRun, preset_name: str
) -> None:
    preset = load_preset(preset_name)
    found = {m["kind"]: m for m in manifests(eks_run)}
    monitor = found["ServiceMonitor"]["spec"]
    service = next(m for m in manifests(eks_run) if m["kind"] == "Service")
    assert monitor["selector"]["matchLabels"].items() <= service["spec"]["selector"].items()
    assert monitor["endpoints"][0]["path"] == "/metrics"
    assert monitor["endpoints"][0]["port"] in {p["name"] for p in service["spec"]["ports"]}
    rules = {r["alert"]: r for r in found["PrometheusRule"]["spec"]["groups"][0]["rules"]}
    assert set(rules) == {
        "ModelServerErrors",
        "ModelLatencyP99High",
        "ModelDriftDetected",
        "ModelDriftCheckStale",
    }
    assert rules["ModelLatencyP99High"]["expr"].endswith(f"> {preset.alarms.latency_p99_ms / 1000}")
    assert rules["ModelServerErrors"]["expr"].endswith(f"> {preset.alarms.errors_5xx}")
    cron = next(
        m
        for m in manifests(eks_run)
        if m["kind"] == "CronJob" and m["metadata"]["name"] == "drift-check"
    )["spec"]
    assert cron["schedule"] == preset.eks.monitor_schedule
    command = cron["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"]
    bucket = _artifact_bucket(eks_run)
    assert command == [
        "churn",
        "monitor",
        "--config",
        "/home/app/config/pipeline.yaml",  # the image's copy: the job's workdir is empty
        "--input",
        f"s3://{bucket}/data-capture/",
        "--publish",
        "prometheus",
        "--upload-report",
        "--retrain-job",
        "training/training",
    ]
    stack = next(
        r
        for r in eks_run.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "kube-prometheus-stack"
    )
    values = reveal(stack.inputs["values"])["prometheus"]["prometheusSpec"]
    assert values["retention"] == f"{preset.eks.prometheus_retention_days}d"


def test_no_role_grants_every_action_on_every_resource(eks_run: ProgramRun) -> None:
    for role in eks_run.of_type("aws:iam/role:Role"):
        if not any(
            p.inputs["role"] == role.state["name"]
            for p in eks_run.of_type("aws:iam/rolePolicy:RolePolicy")
        ):
            continue
        for statement in _policy(eks_run, role):
            wildcard_action = any(a == "*" or a.endswith(":*") for a in statement["Action"])
            assert not (wildcard_action and "*" in statement["Resource"]), role.name


def test_tracking_keeps_the_urns_of_its_former_type(eks_run: ProgramRun) -> None:
    """``slipway:eks:Tracking`` was ``slipway:eks:MlflowServer``: the alias lets the engine
    match existing stacks' component and, through it, every child (nothing is replaced)."""
    tracking = eks_run.one("slipway:eks:Tracking")
    specs = [alias.get("spec", {}) for alias in tracking.aliases]
    # no parentUrn/noParent: the alias keeps the current parent (the stack)
    assert {"type": "slipway:eks:MlflowServer", "parentUrn": ""} in specs
    children = {r.type for r in eks_run.children_of(tracking)}
    assert {"aws:rds/instance:Instance", "kubernetes:helm.sh/v3:Release"} <= children


def test_every_resource_name_is_unique_in_the_stack(eks_run: ProgramRun) -> None:
    """Pulumi tells same-named resources apart only by their parents in the URN; the
    sandbox's state (type::name) cannot, and replaced two of the three namespaces on every
    apply. Each namespace now has its own name, aliased to the old one so that existing
    stacks keep them (a replaced namespace deletes everything in it)."""
    names = [(r.type, r.name) for r in eks_run.cloud_resources]
    assert sorted(n for n in names if names.count(n) > 1) == []
    prefix = f"churn-{eks_run.outputs['preset']}"
    for namespace in eks_run.of_type("kubernetes:core/v1:Namespace"):
        specs = [alias.get("spec", {}) for alias in namespace.aliases]
        assert namespace.name == f"{prefix}-{namespace.inputs['metadata']['name']}-namespace"
        assert any(spec.get("name") == f"{prefix}-namespace" for spec in specs), specs
