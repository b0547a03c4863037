"""Tracking (MLflow App vs tracking server per preset) and the model package group."""

from __future__ import annotations

from aws_helpers import stack_context
from slipway.aws import Registry, RegistryArgs, Tracking, TrackingArgs
from slipway.presets import load_preset
from slipway.testing import run_pulumi

ROLE = "arn:aws:iam::123456789012:role/churn-exec"
STORE = "s3://churn-bucket/mlflow/"


def test_tracking_flavor_and_wiring_follow_the_preset(preset_name: str) -> None:
    sagemaker = load_preset(preset_name).sagemaker
    run = run_pulumi(
        lambda: Tracking(
            "churn",
            TrackingArgs(stack_context(preset_name), artifact_store_uri=STORE, role_arn=ROLE),
        )
    )
    [component] = run.of_type("slipway:aws:Tracking")
    if sagemaker.tracking == "tracking_server":
        server = run.one("aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer")
        assert server.inputs["trackingServerSize"] == sagemaker.tracking_server_size
        assert run.of_type("aws:sagemaker/mlflowApp:MlflowApp") == []
    else:
        server = run.one("aws:sagemaker/mlflowApp:MlflowApp")
        assert run.of_type("aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer") == []
    assert (server.inputs["artifactStoreUri"], server.inputs["roleArn"]) == (STORE, ROLE)
    assert component.registered_outputs["tracking_uri"] == server.state["arn"]


def test_registry_is_one_protected_group_in_prod() -> None:
    run = run_pulumi(lambda: Registry("churn", RegistryArgs(stack_context("prod"))))
    group = run.one("aws:sagemaker/modelPackageGroup:ModelPackageGroup")
    assert group.inputs["modelPackageGroupName"] == "churn-prod-models"
    assert group.protect and group.retain_on_delete
    assert group.tags["managed-by"] == "slipway"
