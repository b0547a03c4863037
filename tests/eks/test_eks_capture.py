"""Request capture on EKS: the model server's env, its IRSA policy, and the drift job's input."""

from __future__ import annotations

from typing import Any

from slipway.eks.irsa import ROLE_ANNOTATION
from slipway.eks.manifests import manifests
from slipway.presets import load_preset
from slipway.serving.capture import CaptureConfig
from slipway.testing import ProgramRun, iter_policy_statements


def _container(run: ProgramRun, kind: str, name: str) -> dict[str, Any]:
    manifest = next(
        m for m in manifests(run) if m["kind"] == kind and m["metadata"]["name"] == name
    )
    spec = manifest["spec"]["jobTemplate"]["spec"] if kind == "CronJob" else manifest["spec"]
    return dict(spec["template"]["spec"]["containers"][0])


def _serving_policy(run: ProgramRun) -> list[dict[str, Any]]:
    account = next(
        m
        for m in manifests(run)
        if m["kind"] == "ServiceAccount" and m["metadata"]["name"] == "model-server"
    )
    arn = account["metadata"]["annotations"][ROLE_ANNOTATION]
    role = next(r for r in run.of_type("aws:iam/role:Role") if r.state["arn"] == arn)
    policy = next(
        p
        for p in run.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.state["name"]
    )
    return list(iter_policy_statements(policy.inputs["policy"]))


def test_server_captures_to_the_drift_jobs_input_with_the_preset_sampling(
    eks_run: ProgramRun, preset_name: str
) -> None:
    env = {e["name"]: e["value"] for e in _container(eks_run, "Deployment", "model-server")["env"]}
    config = CaptureConfig.from_env(env)  # the server's own parsing of these variables
    assert config is not None
    bucket = eks_run.outputs["bucketName"]
    assert (config.bucket, config.prefix, config.service) == (
        bucket,
        "data-capture/",
        "model-server",
    )
    assert config.sampling_percent == load_preset(preset_name).eks.capture_sampling_percent
    assert config.kms_key_id == eks_run.outputs["kmsKeyArn"]
    command = _container(eks_run, "CronJob", "drift-check")["command"]
    drift_input = command[command.index("--input") + 1]
    assert drift_input == env["SLIPWAY_CAPTURE_S3_URI"] == f"s3://{bucket}/data-capture/"


def test_serving_role_may_only_put_kms_encrypted_captures(eks_run: ProgramRun) -> None:
    statements = _serving_policy(eks_run)
    bucket_arn = f"arn:aws:s3:::{eks_run.outputs['bucketName']}"
    key_arn = eks_run.outputs["kmsKeyArn"]
    writes = [
        s
        for s in statements
        if any(a.startswith("s3:Put") or a.startswith("s3:Delete") for a in s["Action"])
    ]
    assert writes == [
        {
            "Sid": "WriteCapture",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": [f"{bucket_arn}/data-capture/*"],
            "Condition": {"StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
        }
    ]
    reads = [r for s in statements if "s3:GetObject" in s["Action"] for r in s["Resource"]]
    assert reads == []  # the model comes from MLflow, which proxies artifacts
    kms = next(s for s in statements if s["Resource"] == [key_arn])
    assert "kms:GenerateDataKey" in kms["Action"]  # SSE-KMS PutObject needs a data key
