"""The deploy flow end to end against moto: the first release creates the endpoint, later
ones roll it blue/green; SageMaker's alarm rollback is detected and recorded.

UpdateEndpoint and monitoring schedules, which moto lacks, are answered by botocore
before-call hooks (slipway.testing.moto_stack), with SageMaker's rollback semantics.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from typing import Any

import pytest
from evaluation_records import evaluation_report
from mlflow.tracking import MlflowClient
from slipway.deploy import DeployError, RolledBack, StackOutputs, deploy_champion, rollback
from slipway.deploy.rollout import PACKAGE_TAG, PREVIOUS_TAG
from slipway.lifecycle import Approval
from slipway.testing.moto_stack import Clients, create_stack, image_uri, stack_alarms

from .conftest import ENDPOINT, IMAGE, REGION, STAGED, TRAINER


def _deploy(
    aws: Clients, stack: dict[str, str], registry: tuple[str, ...], name: str = "churn", **kw: Any
) -> Any:
    return deploy_champion(
        MlflowClient(tracking_uri=registry[0], registry_uri=registry[0]),
        name,
        aws,
        StackOutputs.from_mapping(stack),
        kw.pop("image", IMAGE),
        poll_seconds=1,
        **kw,
    )


def _assert_nothing_written(aws: Clients, stack: dict[str, str]) -> None:
    """Refused before the export: no archive, no package, no card, no endpoint."""
    assert aws.hook.requests == []
    assert aws("s3").list_objects_v2(Bucket=stack["bucketName"])["KeyCount"] == 0
    group = stack["modelPackageGroupName"]
    packages = aws("sagemaker").list_model_packages(ModelPackageGroupName=group)
    assert packages["ModelPackageSummaryList"] == []
    assert aws("sagemaker").list_model_cards()["ModelCardSummaries"] == []
    assert aws("sagemaker").list_endpoints()["Endpoints"] == []


def _serving(aws: Clients, endpoint: str = ENDPOINT) -> str:
    return str(aws("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointConfigName"])


def test_first_release_creates_the_endpoint_and_the_next_rolls_it(
    aws, stack, champion_registry
) -> None:
    first = _deploy(aws, stack, champion_registry)

    # model.tar.gz: the MLflow model at the archive root, KMS-encrypted in the stack bucket
    assert first.model.uri == "s3://churn-dev-bucket/models/churn/v1/model.tar.gz"
    obj = aws("s3").get_object(Bucket="churn-dev-bucket", Key="models/churn/v1/model.tar.gz")
    assert (obj["ServerSideEncryption"], obj["SSEKMSKeyId"]) == ("aws:kms", stack["kmsKeyArn"])
    with tarfile.open(fileobj=io.BytesIO(obj["Body"].read()), mode="r:gz") as tar:
        assert {"MLmodel", "model.skops", "requirements.txt"} <= set(tar.getnames())

    # model package: in the group, approved with the approval on record (the gate's: dev),
    # the stack's own image
    package = aws("sagemaker").describe_model_package(ModelPackageName=first.package_arn)
    assert package["ModelPackageGroupName"] == "churn-dev-models"
    assert package["ModelApprovalStatus"] == "Approved"
    meta = package["CustomerMetadataProperties"]
    assert (meta["approved-by"], meta["approval-kind"], meta["trained-by"]) == (
        "quality-gate",
        "automated",
        TRAINER,
    )
    assert package["ApprovalDescription"].startswith("automated approval by quality-gate at ")
    container = package["InferenceSpecification"]["Containers"][0]
    assert container["Image"] == IMAGE == f"{stack['modelRepositoryUrl']}:0123abc"

    # the first release created the endpoint from the serving spec; no update, no canary
    assert first.rollout.created and aws.hook.requests == []
    assert _serving(aws) == first.rollout.new_config
    config = aws("sagemaker").describe_endpoint_config(EndpointConfigName=first.rollout.new_config)
    (variant,) = config["ProductionVariants"]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.t2.medium", 1)
    assert config["KmsKeyId"] == stack["kmsKeyArn"]
    tags = {
        t["Key"]: t["Value"]
        for t in aws("sagemaker").list_tags(ResourceArn=config["EndpointConfigArn"])["Tags"]
    }
    assert tags[PACKAGE_TAG] == first.package_arn and PREVIOUS_TAG not in tags
    # what exists only with the endpoint: its autoscaling, registered by the runtime
    (target,) = aws("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker"
    )["ScalableTargets"]
    assert target["ResourceId"] == f"endpoint/{ENDPOINT}/variant/primary"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 2)

    # the second release: blue/green ALL_AT_ONCE (one instance) with a baking period and
    # auto-rollback on exactly this endpoint's alarms
    second = _deploy(aws, stack, champion_registry)
    (request,) = aws.hook.requests
    policy = request["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"] == {
        "Type": "ALL_AT_ONCE",
        "WaitIntervalInSeconds": 120,
    }
    assert policy["TerminationWaitInSeconds"] == 120
    # every alarm the stack's monitoring declares for the variant (five), none of others
    assert request["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": name} for name in stack_alarms(ENDPOINT)
    ]
    assert len(stack_alarms(ENDPOINT)) == 5 == len(stack_alarms(ENDPOINT, serverless=True)) + 2
    assert second.rollout.previous_config == first.rollout.new_config
    assert _serving(aws) == second.rollout.new_config


def test_rollback_returns_to_previous_configuration(aws, stack, champion_registry) -> None:
    first = _deploy(aws, stack, champion_registry)
    second = _deploy(aws, stack, champion_registry)
    back = rollback(aws("sagemaker"), ENDPOINT)
    assert (back.previous_config, back.new_config) == (
        second.rollout.new_config,
        first.rollout.new_config,
    )
    assert _serving(aws) == first.rollout.new_config
    with pytest.raises(DeployError, match="is the endpoint's first release; nothing to return to"):
        rollback(aws("sagemaker"), ENDPOINT)


def test_an_alarm_rollback_mid_release_is_recorded_in_the_registry(
    aws, stack, champion_registry
) -> None:
    first = _deploy(aws, stack, champion_registry)
    alarm = f"{ENDPOINT}-Invocation5XXErrors"

    def fire(_: dict[str, Any]) -> None:  # the new fleet errors during the baking period
        aws("cloudwatch").set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="5xx")

    aws.hook.during_update = fire
    with pytest.raises(RolledBack, match=rf"rolled {ENDPOINT} back to {first.rollout.new_config}"):
        _deploy(aws, stack, champion_registry)
    # what serves is the first release; the registry says the second one is not approved
    assert _serving(aws) == first.rollout.new_config
    summaries = aws("sagemaker").list_model_packages(ModelPackageGroupName="churn-dev-models")[
        "ModelPackageSummaryList"
    ]
    status = {
        p["ModelPackageArn"]: aws("sagemaker").describe_model_package(
            ModelPackageName=p["ModelPackageArn"]
        )
        for p in summaries
    }
    assert status[first.package_arn]["ModelApprovalStatus"] == "Approved"
    (rejected,) = [p for arn, p in status.items() if arn != first.package_arn]
    assert rejected["ModelApprovalStatus"] == "Rejected"
    assert alarm in rejected["ApprovalDescription"]


def test_a_canary_needs_a_fleet_it_fits(aws, champion_registry) -> None:
    """AWS: CanarySize at most 50% of the variant's instances. One instance shifts all at
    once (the preset's policy); a canary asked for there is refused before any write."""
    one = create_stack(aws, "one")
    with pytest.raises(DeployError, match="a 10% canary does not fit a 1-instance fleet"):
        _deploy(aws, one, champion_registry, canary_percent=10, image=image_uri(REGION, "one"))
    assert aws("s3").list_objects_v2(Bucket="one-bucket")["KeyCount"] == 0

    two = create_stack(aws, "two", instances=2)
    _deploy(aws, two, champion_registry, image=image_uri(REGION, "two"))
    _deploy(aws, two, champion_registry, image=image_uri(REGION, "two"))
    (request,) = aws.hook.requests
    routing = request["DeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert (routing["Type"], routing["CanarySize"]) == (
        "CANARY",
        {"Type": "CAPACITY_PERCENT", "Value": 50},
    )


def test_deploy_refused_while_an_alarm_fires(aws, stack, champion_registry) -> None:
    aws("cloudwatch").set_alarm_state(
        AlarmName=f"{ENDPOINT}-ModelLatency", StateValue="ALARM", StateReason="test"
    )
    with pytest.raises(DeployError, match=r"alarms: .*ModelLatency already firing"):
        _deploy(aws, stack, champion_registry)
    _assert_nothing_written(aws, stack)


def test_an_image_that_was_never_pushed_is_refused_before_any_write(
    aws, stack, champion_registry
) -> None:
    unpushed = f"{stack['modelRepositoryUrl']}:never-pushed"
    with pytest.raises(DeployError, match=f"image: {unpushed} is not in ECR"):
        _deploy(aws, stack, champion_registry, image=unpushed)
    _assert_nothing_written(aws, stack)


def test_endpoint_without_alarms_is_refused_unless_auto_rollback_is_off(
    aws, champion_registry
) -> None:
    bare = create_stack(aws, "bare", alarms=False)
    image = image_uri(REGION, "bare")
    with pytest.raises(DeployError) as refused:
        _deploy(aws, bare, champion_registry, image=image)
    assert str(refused.value) == (
        "alarms: the endpoint has no CloudWatch alarms to roll back on; "
        "pass --no-auto-rollback to deploy without them"
    )
    assert aws("s3").list_objects_v2(Bucket="bare-bucket")["KeyCount"] == 0

    _deploy(aws, bare, champion_registry, image=image, auto_rollback=False)
    deployed = _deploy(aws, bare, champion_registry, image=image, auto_rollback=False)
    (request,) = aws.hook.requests
    assert set(request["DeploymentConfig"]) == {"BlueGreenUpdatePolicy"}  # no rollback config
    assert deployed.rollout.alarms == ()
    assert _serving(aws, bare["endpointName"]) == deployed.rollout.new_config


CAPTURE = {"EnableCapture": True, "InitialSamplingPercentage": 10, "DestinationS3Uri": "s3://b/c"}


def _drop_key(spec: dict[str, Any]) -> None:
    spec["kms_key_id"] = ""


def _oversize(spec: dict[str, Any]) -> None:
    spec["variants"][0]["InstanceType"] = "ml.p4d.24xlarge"


def _capture(key: str) -> Callable[[dict[str, Any]], None]:
    def edit(spec: dict[str, Any]) -> None:
        spec["data_capture"] = {**CAPTURE, "KmsKeyId": key} if key else CAPTURE

    return edit


@pytest.mark.parametrize(
    ("serverless", "edit", "problem"),
    [
        (False, _drop_key, "endpoint instance volumes are not encrypted with a KMS key"),
        (False, _capture(""), "captured requests are not encrypted with a KMS key"),
        (False, _oversize, "ml.p4d.24xlarge is not in the preset's sagemaker.allowed_instance"),
        (True, _capture("arn:aws:kms:us-east-1:1:key/k"), "data capture on a serverless endpoint"),
    ],
    ids=["instance-volumes-key", "capture-key", "instance-type", "serverless-capture"],
)
def test_a_spec_breaking_the_policy_packs_rules_is_refused_before_any_write(
    aws: Clients,
    champion_registry: tuple[str, ...],
    serverless: bool,
    edit: Callable[[dict[str, Any]], None],
    problem: str,
) -> None:
    """The rules the policy pack judges the spec by (slipway.deploy.rules), again at
    release: a spec the pack never saw (no --policy-pack, or unknown in a preview)."""
    broken = create_stack(aws, "broken", serverless=serverless)
    spec = json.loads(broken["serving"])
    edit(spec)
    broken["serving"] = json.dumps(spec)
    with pytest.raises(DeployError, match=f"^serving: {problem}"):
        _deploy(aws, broken, champion_registry, image=image_uri(REGION, "broken"))
    assert aws("s3").list_objects_v2(Bucket="broken-bucket")["KeyCount"] == 0
    assert aws("sagemaker").list_endpoints()["Endpoints"] == []


def test_missing_stack_output_is_named() -> None:
    with pytest.raises(DeployError, match="stack outputs: missing endpointName, serving"):
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
    image = image_uri(REGION, "churn-staging")
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
            _deploy(aws, staging, champion_registry, STAGED, image=image)
        assert str(refused.value) == f"approval: champion version {version}: {rule}"
        _assert_nothing_written(aws, staging)

    reviewed = approve(Approval.human("bob", "run-1"))
    deployed = _deploy(aws, staging, champion_registry, STAGED, image=image)
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
        "serving": json.dumps({"endpoint_name": "e", "role_arn": "r", "variants": []}),
    }
    if preset:
        outputs["preset"] = preset
    assert StackOutputs.from_mapping(outputs).needs_human_approval is needs_human
