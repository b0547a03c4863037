"""The deploy flow end to end against moto: the first release creates the endpoint, later
ones roll it blue/green; SageMaker's alarm rollback is detected and recorded.

UpdateEndpoint and monitoring schedules, which moto lacks, are answered by botocore
before-call hooks (slipway.testing.moto_stack), with SageMaker's rollback semantics.
"""

from __future__ import annotations

import io
import tarfile
from typing import Any

import pytest
from mlflow.tracking import MlflowClient
from slipway.deploy import DeployError, RolledBack, StackOutputs, deploy_champion, rollback
from slipway.deploy.rollout import PACKAGE_TAG, PREVIOUS_TAG
from slipway.testing.moto_stack import Clients, create_stack, image_uri

from .conftest import ENDPOINT, IMAGE, REGION


def _deploy(aws: Clients, stack: dict[str, str], registry: tuple[str, str], **kw: Any) -> Any:
    return deploy_champion(
        MlflowClient(tracking_uri=registry[0], registry_uri=registry[0]),
        "churn",
        aws,
        StackOutputs.from_mapping(stack),
        kw.pop("image", IMAGE),
        "alice",
        poll_seconds=1,
        **kw,
    )


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

    # model package: in the group, approved, approver recorded, the stack's own image
    package = aws("sagemaker").describe_model_package(ModelPackageName=first.package_arn)
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["CustomerMetadataProperties"]["approved-by"] == "alice"
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
    assert request["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": f"{ENDPOINT}-Invocation5XXErrors"},
        {"AlarmName": f"{ENDPOINT}-ModelLatency"},
    ]
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
    # refused before the export: no archive, no (approved) package, no endpoint
    assert aws("s3").list_objects_v2(Bucket="churn-dev-bucket")["KeyCount"] == 0
    packages = aws("sagemaker").list_model_packages(ModelPackageGroupName="churn-dev-models")
    assert packages["ModelPackageSummaryList"] == []
    assert aws("sagemaker").list_endpoints()["Endpoints"] == []


def test_an_image_that_was_never_pushed_is_refused_before_any_write(
    aws, stack, champion_registry
) -> None:
    unpushed = f"{stack['modelRepositoryUrl']}:never-pushed"
    with pytest.raises(DeployError, match=f"image: {unpushed} is not in ECR"):
        _deploy(aws, stack, champion_registry, image=unpushed)
    assert aws("s3").list_objects_v2(Bucket="churn-dev-bucket")["KeyCount"] == 0


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
