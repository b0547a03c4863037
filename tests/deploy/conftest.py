"""Fixtures of the deploy tests: emulated AWS in-process (moto, no sockets) and a champion.

moto has no UpdateEndpoint. ``Clients`` answers it with a botocore ``before-call``
event handler (parameters kept at ``before-parameter-build``), the hook botocore's
Stubber is built on. This is neither Stubber nor a moto server hook: botocore
validates the request against the SageMaker service model first, then the handler
records it and applies the switch to moto's in-process SageMaker backend, so later
describe_endpoint calls see the new configuration. Nothing else is stubbed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

REGION = "us-east-1"
ACCOUNT = "123456789012"
ENDPOINT = "churn-dev-endpoint"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


class Clients:
    """``aws(service)``: one client per service, all inside moto's mock."""

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}
        self.update_requests: list[dict[str, Any]] = []

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            client = boto3.client(service, region_name=REGION)  # type: ignore[call-overload]
            if service == "sagemaker":
                client.meta.events.register(
                    "before-parameter-build.sagemaker.UpdateEndpoint", self._keep_params
                )
                client.meta.events.register(
                    "before-call.sagemaker.UpdateEndpoint", self._update_endpoint
                )
            self._clients[service] = client
        return self._clients[service]

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["update_endpoint"] = dict(params)

    def _update_endpoint(self, context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        from botocore.awsrequest import AWSResponse
        from moto.backends import get_backend

        params = context["update_endpoint"]
        self.update_requests.append(params)
        backend = get_backend("sagemaker")[ACCOUNT][REGION]
        endpoint = backend.endpoints[params["EndpointName"]]
        backend.describe_endpoint_config(params["EndpointConfigName"])  # must exist, as in AWS
        endpoint.endpoint_config_name = params["EndpointConfigName"]
        parsed = {"EndpointArn": endpoint.arn, "ResponseMetadata": {"HTTPStatusCode": 200}}
        return AWSResponse(None, 200, {}, None), parsed  # the (http, parsed) pair Stubber returns


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clients]:
    from moto import mock_aws

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield Clients()


@pytest.fixture
def stack(aws: Clients) -> dict[str, str]:
    """What the infra stack would have created and exported (realtime endpoint + alarms)."""
    key_arn = aws("kms").create_key(Description="artifacts")["KeyMetadata"]["Arn"]
    aws("s3").create_bucket(Bucket="churn-dev-bucket")
    aws("sagemaker").create_model_package_group(ModelPackageGroupName="churn-dev-models")
    role_arn = aws("iam").create_role(RoleName="infer", AssumeRolePolicyDocument=TRUST)["Role"][
        "Arn"
    ]
    aws("sagemaker").create_model(
        ModelName="initial",
        ExecutionRoleArn=role_arn,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": "s3://churn-dev-bucket/models/x.tar.gz"},
    )
    aws("sagemaker").create_endpoint_config(
        EndpointConfigName="initial-config",
        ProductionVariants=[
            {
                "VariantName": "primary",
                "ModelName": "initial",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.t2.medium",
            }
        ],
        KmsKeyId=key_arn,
    )
    aws("sagemaker").create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="initial-config")
    for metric in ("Invocation5XXErrors", "ModelLatency"):
        aws("cloudwatch").put_metric_alarm(
            AlarmName=f"{ENDPOINT}-{metric}",
            MetricName=metric,
            Namespace="AWS/SageMaker",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
            Dimensions=[
                {"Name": "EndpointName", "Value": ENDPOINT},
                {"Name": "VariantName", "Value": "primary"},
            ],
        )
    aws("cloudwatch").put_metric_alarm(  # another endpoint's alarm: must not be used
        AlarmName="other-5xx",
        MetricName="Invocation5XXErrors",
        Namespace="AWS/SageMaker",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "EndpointName", "Value": "other"}],
    )
    return {
        "bucketName": "churn-dev-bucket",
        "kmsKeyArn": key_arn,
        "modelPackageGroupName": "churn-dev-models",
        "inferenceRoleArn": role_arn,
        "endpointName": ENDPOINT,
    }


@pytest.fixture(scope="session")
def champion_registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A sqlite MLflow registry whose model ``churn`` has a champion (version 1)."""
    import mlflow
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.create_experiment("deploy-test", artifact_location=(root / "artifacts").as_uri())
    mlflow.set_experiment("deploy-test")
    with mlflow.start_run():
        model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name="churn",
            pip_requirements=["scikit-learn"],  # no requirement inference: keeps the test fast
        )
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.set_registered_model_alias("churn", "champion", "1")
    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    return uri, str(Path(root))
