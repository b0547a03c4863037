"""slipway.access.recorder: a workload's botocore calls against moto become IAM requests
(action, resource ARN, condition keys) appended as JSON lines; the model server's capture
writer and the drift monitor's S3 and CloudWatch calls are recorded as they run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from slipway.access import recorder
from slipway.access.expectations import record_placeholders
from slipway.access.request import AccessRequest, read_jsonl, write_jsonl

ROLE = "arn:aws:iam::123456789012:role/churn-dev-serving"
BUCKET = "churn-dev-bucket"


@pytest.fixture(autouse=True)
def unhook() -> Iterator[None]:
    yield
    recorder.uninstall()


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        import boto3

        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield


def test_calls_become_iam_requests(moto: None, tmp_path: Path) -> None:
    import boto3

    log = tmp_path / "requests.jsonl"
    s3 = boto3.client("s3")
    assert recorder.install(s3, log=log, principal=ROLE)
    s3.put_object(
        Bucket=BUCKET, Key="data-capture/a.jsonl", Body=b"{}", ServerSideEncryption="aws:kms"
    )
    s3.head_object(Bucket=BUCKET, Key="data-capture/a.jsonl")
    s3.list_objects_v2(Bucket=BUCKET, Prefix="data-capture/")
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "data-capture/a.jsonl"}]})
    got = [(r.action, r.resource, dict(r.context)) for r in read_jsonl(log)]
    obj = f"arn:aws:s3:::{BUCKET}/data-capture/a.jsonl"
    assert got == [
        ("s3:PutObject", obj, {"s3:x-amz-server-side-encryption": "aws:kms"}),
        ("s3:GetObject", obj, {}),  # HeadObject is authorized as GetObject
        ("s3:ListBucket", f"arn:aws:s3:::{BUCKET}", {"s3:prefix": "data-capture/"}),
        ("s3:DeleteObject", obj, {}),
    ]
    assert {r.principal for r in read_jsonl(log)} == {ROLE}


def test_a_model_card_is_authorized_on_its_arn(moto: None, tmp_path: Path) -> None:
    """The deploy flow's SageMaker model card (resource type model-card): on its ARN, which
    the deploy role's grants on the stack prefix cover, not on ``*``."""
    import boto3

    log = tmp_path / "requests.jsonl"
    sagemaker = boto3.client("sagemaker")
    assert recorder.install(sagemaker, log=log, principal=ROLE)
    sagemaker.create_model_card(
        ModelCardName="churn-dev-models-v1", Content="{}", ModelCardStatus="PendingReview"
    )
    sagemaker.describe_model_card(ModelCardName="churn-dev-models-v1")
    card = "arn:aws:sagemaker:us-east-1:123456789012:model-card/churn-dev-models-v1"
    assert [(r.action, r.resource) for r in read_jsonl(log)] == [
        ("sagemaker:CreateModelCard", card),
        ("sagemaker:DescribeModelCard", card),
    ]


def test_install_honours_the_environment_and_hooks_new_sessions(
    moto: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.delenv(recorder.LOG_ENV, raising=False)
    assert recorder.install() is False  # off unless asked for
    log = tmp_path / "env.jsonl"
    monkeypatch.setenv(recorder.LOG_ENV, str(log))
    monkeypatch.setenv(recorder.PRINCIPAL_ENV, ROLE)
    assert recorder.install()
    boto3.Session().client("cloudwatch").put_metric_data(
        Namespace="Slipway/Drift", MetricData=[{"MetricName": "DriftedShare", "Value": 0.5}]
    )
    boto3.client("sts").get_caller_identity()  # IAM authorizes no permission for it
    [request] = read_jsonl(log)
    assert (request.action, request.resource, dict(request.context)) == (
        "cloudwatch:PutMetricData",
        "*",
        {"cloudwatch:namespace": "Slipway/Drift"},
    )
    monkeypatch.setenv(recorder.LOG_ENV, str(tmp_path / "off.jsonl"))
    recorder.install(log=tmp_path / "second.jsonl")  # re-install retargets, never doubles
    boto3.client("s3").list_objects_v2(Bucket=BUCKET)
    assert len(list(read_jsonl(tmp_path / "second.jsonl"))) == 1
    recorder.uninstall()
    boto3.Session().client("s3").list_objects_v2(Bucket=BUCKET)
    assert len(list(read_jsonl(tmp_path / "second.jsonl"))) == 1


def test_the_capture_writer_is_recorded(moto: None, tmp_path: Path) -> None:
    """The model server's request capture, as it flushes a batch to S3."""
    from slipway.serving.capture import CaptureConfig, CaptureWriter
    from slipway.serving.metrics import Metrics

    log = tmp_path / "capture.jsonl"
    recorder.install(log=log, principal=ROLE)
    key = "arn:aws:kms:us-east-1:123456789012:key/k"
    config = CaptureConfig(
        bucket=BUCKET,
        prefix="data-capture/",
        service="model-server",
        sampling_percent=100.0,
        kms_key_id=key,
    )
    writer = CaptureWriter(config, Metrics("models:/churn@champion", "1", "sklearn"))
    writer.add(b'{"inputs": [[1]]}', "application/json", b'{"predictions": [0]}')
    writer.close(5)
    requests = list(read_jsonl(log))
    assert [r.action for r in requests] == ["s3:PutObject"]
    assert requests[0].resource.startswith(f"arn:aws:s3:::{BUCKET}/data-capture/model-server/")
    assert requests[0].context == {
        "s3:x-amz-server-side-encryption": "aws:kms",
        "s3:x-amz-server-side-encryption-aws-kms-key-id": key,
    }


def test_placeholders_round_trip(tmp_path: Path) -> None:
    recorded = [AccessRequest(ROLE, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/models/x", {})]
    kept = record_placeholders(recorded, {"bucketName": BUCKET})
    assert kept[0].resource == "arn:aws:s3:::{bucketName}/models/x" and kept[0].principal == ""
    path = tmp_path / "kept.jsonl"
    write_jsonl(path, kept)
    assert json.loads(path.read_text())["resource"] == "arn:aws:s3:::{bucketName}/models/x"
    with pytest.raises(ValueError, match="resource: must be an ARN"):
        AccessRequest(ROLE, "s3:GetObject", "bucket/x")
