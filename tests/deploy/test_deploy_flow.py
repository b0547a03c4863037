"""The deploy flow end to end against moto.

UpdateEndpoint, which moto lacks, is answered by a botocore before-call hook (conftest).
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import pytest
from evaluation_records import evaluation_report
from mlflow.tracking import MlflowClient
from slipway.deploy import DeployError, StackOutputs, deploy_champion, rollback
from slipway.deploy.rollout import PREVIOUS_TAG
from slipway.lifecycle import Approval
from slipway.testing.moto_stack import Clients, create_stack

from .conftest import ENDPOINT, IMAGE, STAGED, TRAINER


def _deploy(
    aws: Clients, stack: dict[str, str], registry: tuple[str, ...], name: str = "churn", **kw: Any
) -> Any:
    return deploy_champion(
        MlflowClient(tracking_uri=registry[0], registry_uri=registry[0]),
        name,
        aws,
        StackOutputs.from_mapping(stack),
        IMAGE,
        **kw,
    )


def _assert_nothing_written(aws: Clients, stack: dict[str, str]) -> None:
    """Refused before the export: no archive, no package, no card, endpoint untouched."""
    assert aws.hook.requests == []
    assert aws("s3").list_objects_v2(Bucket=stack["bucketName"])["KeyCount"] == 0
    group = stack["modelPackageGroupName"]
    packages = aws("sagemaker").list_model_packages(ModelPackageGroupName=group)
    assert packages["ModelPackageSummaryList"] == []
    assert aws("sagemaker").list_model_cards()["ModelCardSummaries"] == []
    endpoint = aws("sagemaker").describe_endpoint(EndpointName=stack["endpointName"])
    assert endpoint["EndpointConfigName"] == "initial-config"


def test_deploy_exports_registers_approves_and_rolls_out(aws, stack, champion_registry) -> None:
    deployed = _deploy(aws, stack, champion_registry, canary_percent=20, wait_seconds=120)

    # model.tar.gz: the MLflow model at the archive root, KMS-encrypted in the stack bucket
    assert deployed.model.uri == "s3://churn-dev-bucket/models/churn/v1/model.tar.gz"
    obj = aws("s3").get_object(Bucket="churn-dev-bucket", Key="models/churn/v1/model.tar.gz")
    assert obj["ServerSideEncryption"] == "aws:kms"
    assert obj["SSEKMSKeyId"] == stack["kmsKeyArn"]
    with tarfile.open(fileobj=io.BytesIO(obj["Body"].read()), mode="r:gz") as tar:
        names = tar.getnames()
    assert {"MLmodel", "model.skops", "requirements.txt"} <= set(names)

    # model package: in the group, approved with the approval on record (the gate's: dev)
    package = aws("sagemaker").describe_model_package(ModelPackageName=deployed.package_arn)
    assert package["ModelPackageGroupName"] == "churn-dev-models"
    assert package["ModelApprovalStatus"] == "Approved"
    meta = package["CustomerMetadataProperties"]
    assert (meta["approved-by"], meta["approval-kind"], meta["trained-by"]) == (
        "quality-gate",
        "automated",
        TRAINER,
    )
    assert package["ApprovalDescription"].startswith("automated approval by quality-gate at ")
    assert package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == deployed.model.uri

    # new endpoint config: same variants, new model, previous config tagged; endpoint switched
    rollout = deployed.rollout
    assert rollout.previous_config == "initial-config"
    config = aws("sagemaker").describe_endpoint_config(EndpointConfigName=rollout.new_config)
    variant = config["ProductionVariants"][0]
    assert (variant["VariantName"], variant["InstanceType"]) == ("primary", "ml.t2.medium")
    model = aws("sagemaker").describe_model(ModelName=variant["ModelName"])
    assert model["Containers"][0]["ModelPackageName"] == deployed.package_arn
    tags = aws("sagemaker").list_tags(ResourceArn=config["EndpointConfigArn"])["Tags"]
    assert {"Key": PREVIOUS_TAG, "Value": "initial-config"} in tags
    assert aws("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == (
        rollout.new_config
    )

    # blue/green canary with auto-rollback on exactly this endpoint's alarms
    (request,) = aws.hook.requests
    policy = request["DeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert policy["Type"] == "CANARY"
    assert policy["CanarySize"] == {"Type": "CAPACITY_PERCENT", "Value": 20}
    assert policy["WaitIntervalInSeconds"] == 120
    alarms = request["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert alarms == [
        {"AlarmName": f"{ENDPOINT}-Invocation5XXErrors"},
        {"AlarmName": f"{ENDPOINT}-ModelLatency"},
    ]


def test_rollback_returns_to_previous_configuration(aws, stack, champion_registry) -> None:
    deployed = _deploy(aws, stack, champion_registry)
    back = rollback(aws("sagemaker"), ENDPOINT)
    assert (back.previous_config, back.new_config) == (
        deployed.rollout.new_config,
        "initial-config",
    )
    assert aws("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == (
        "initial-config"
    )
    with pytest.raises(DeployError, match="rollback: initial-config was not deployed by slipway"):
        rollback(aws("sagemaker"), ENDPOINT)


def test_deploy_refused_while_an_alarm_fires(aws, stack, champion_registry) -> None:
    aws("cloudwatch").set_alarm_state(
        AlarmName=f"{ENDPOINT}-ModelLatency", StateValue="ALARM", StateReason="test"
    )
    with pytest.raises(DeployError, match=r"alarms: .*ModelLatency already firing"):
        _deploy(aws, stack, champion_registry)
    _assert_nothing_written(aws, stack)


def test_endpoint_without_alarms_is_refused_unless_auto_rollback_is_off(
    aws, champion_registry
) -> None:
    bare = create_stack(aws, "bare", alarms=False)
    endpoint = bare["endpointName"]
    with pytest.raises(DeployError) as refused:
        _deploy(aws, bare, champion_registry)
    assert str(refused.value) == (
        "alarms: the endpoint has no CloudWatch alarms to roll back on; "
        "pass --no-auto-rollback to deploy without them"
    )
    assert aws.hook.requests == []
    assert aws("s3").list_objects_v2(Bucket="bare-bucket")["KeyCount"] == 0
    assert aws("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointConfigName"] == (
        "initial-config"
    )

    deployed = _deploy(aws, bare, champion_registry, canary_percent=15, auto_rollback=False)
    (request,) = aws.hook.requests
    assert request["EndpointConfigName"] == deployed.rollout.new_config
    deployment = request["DeploymentConfig"]
    assert set(deployment) == {"BlueGreenUpdatePolicy"}  # no AutoRollbackConfiguration
    routing = deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert (routing["Type"], routing["CanarySize"]["Value"]) == ("CANARY", 15)
    assert deployed.rollout.alarms == ()
    assert aws("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointConfigName"] == (
        deployed.rollout.new_config
    )


def test_alarms_are_rolled_back_on_even_with_auto_rollback_off(
    aws, stack, champion_registry
) -> None:
    _deploy(aws, stack, champion_registry, auto_rollback=False)
    (request,) = aws.hook.requests
    alarms = request["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert [a["AlarmName"] for a in alarms] == [
        f"{ENDPOINT}-Invocation5XXErrors",
        f"{ENDPOINT}-ModelLatency",
    ]


def test_missing_stack_output_is_named() -> None:
    with pytest.raises(DeployError, match="stack outputs: missing endpointName"):
        StackOutputs.from_mapping(
            {
                "bucketName": "b",
                "kmsKeyArn": "k",
                "modelPackageGroupName": "g",
                "inferenceRoleArn": "r",
            }
        )


@pytest.mark.parametrize("share", [0, 51])
def test_canary_share_bounds(share: int) -> None:
    from slipway.deploy.rollout import blue_green

    with pytest.raises(DeployError, match="canary_percent: must be between 1 and 50"):
        blue_green(["a"], share, 60)


def test_outside_dev_only_a_person_other_than_the_trainer_approves(aws, champion_registry) -> None:
    """Issue 15: a staging stack refuses a champion approved only by the gate or by the
    person who trained it (before any write); a reviewer's approval ships with its card."""
    staging = create_stack(aws, "churn-staging", preset="staging")
    approve = champion_registry[2]

    refusals = {
        Approval.automated("run-1"): "approved only by the automated gate (quality-gate); "
        "outside dev a person approves (promote --approved-by)",
        Approval.human(TRAINER, "run-1"): f"{TRAINER} trained this model and cannot approve "
        "it; another person approves",
    }
    for approval, rule in refusals.items():
        version = approve(approval)
        with pytest.raises(DeployError) as refused:
            _deploy(aws, staging, champion_registry, STAGED)
        assert str(refused.value) == f"approval: champion version {version}: {rule}"
        _assert_nothing_written(aws, staging)

    reviewed = approve(Approval.human("bob", "run-1"))
    deployed = _deploy(aws, staging, champion_registry, STAGED)
    assert deployed.approval.by == "bob"
    package = aws("sagemaker").describe_model_package(ModelPackageName=deployed.package_arn)
    meta = package["CustomerMetadataProperties"]
    assert (meta["approved-by"], meta["approval-kind"], meta["approved-evaluation"]) == (
        "bob",
        "human",
        "run-1",
    )
    card = aws("sagemaker").describe_model_card(ModelCardName=f"churn-staging-models-v{reviewed}")
    assert card["ModelCardArn"] == deployed.model_card_arn
    assert card["ModelCardStatus"] == "Approved"
    assert card["SecurityConfig"] == {"KmsKeyId": staging["kmsKeyArn"]}
    content = json.loads(card["Content"])
    report = evaluation_report("any")
    [evaluation] = content["evaluation_details"]
    groups = {
        g["name"]: {m["name"]: m["value"] for m in g["metric_data"]}
        for g in evaluation["metric_groups"]
    }
    assert groups["challenger (this model)"] == report.challenger
    assert groups["previous champion v1"] == report.champion
    assert groups["per cohort group"] == {
        "A recall": 1.0,
        "B recall": 0.97,
        "recall difference": 0.03,
    }
    assert content["model_overview"]["model_artifact"] == [deployed.model.uri]
    details = content["additional_information"]["custom_details"]
    assert (details["approved_by"], details["model_package_arn"]) == ("bob", deployed.package_arn)


def test_a_package_approved_only_by_the_gate_is_refused_outside_dev(aws, stack) -> None:
    """The package check on its own: whoever approved a package out of band, deploy reads
    the approval it records."""
    from slipway.deploy.artifact import ExportedModel
    from slipway.deploy.packages import (
        approve_package,
        package_metadata,
        register_package,
        require_approved,
    )

    model = ExportedModel("churn", "7", "s3://churn-dev-bucket/models/churn/v7/model.tar.gz", "0")
    meta = package_metadata(model, Approval.automated("run-7"), TRAINER)
    sagemaker = aws("sagemaker")
    arn = register_package(sagemaker, stack["modelPackageGroupName"], model, IMAGE, meta)
    with pytest.raises(DeployError, match=r"is PendingManualApproval, not Approved"):
        require_approved(sagemaker, arn, needs_human=False)
    approve_package(sagemaker, arn, meta)
    assert require_approved(sagemaker, arn, needs_human=False)["ModelPackageArn"] == arn
    with pytest.raises(DeployError) as refused:
        require_approved(sagemaker, arn, needs_human=True)
    assert str(refused.value).startswith(f"model package: {arn}: approved only by the automated")


@pytest.mark.parametrize(
    ("preset", "needs_human"), [("dev", False), ("staging", True), ("prod", True), ("", True)]
)
def test_only_dev_stacks_take_the_gates_approval(preset: str, needs_human: bool) -> None:
    outputs = {
        "bucketName": "b",
        "kmsKeyArn": "k",
        "modelPackageGroupName": "g",
        "inferenceRoleArn": "r",
        "endpointName": "e",
    }
    if preset:
        outputs["preset"] = preset
    assert StackOutputs.from_mapping(outputs).needs_human_approval is needs_human
