"""Emulated AWS for deploy tests: moto in-process (no sockets) plus SageMaker UpdateEndpoint.

Used by slipway's own tests and by every generated project's ``tests/test_deploy.py``;
call it inside ``moto.mock_aws()``.

moto has no UpdateEndpoint. ``UpdateEndpointHook`` answers it with a botocore
``before-call`` event handler (parameters kept at ``before-parameter-build``), the
hook botocore's Stubber is built on. This is neither Stubber nor a moto server hook:
botocore validates the request against the SageMaker service model first, then the
handler records it and applies the switch to moto's in-process SageMaker backend, so
later ``describe_endpoint`` calls see the new configuration. Nothing else is stubbed.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

ACCOUNT = "123456789012"  # moto's default account
IMAGE_PATH = "dkr.ecr.{region}.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
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


def image_uri(region: str) -> str:
    """A SageMaker prebuilt-style image URI in ``region``."""
    return f"{ACCOUNT}.{IMAGE_PATH.format(region=region)}"


class UpdateEndpointHook:
    """Answers SageMaker UpdateEndpoint for the clients of the emitters it is registered on."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def register(self, events: Any) -> None:
        """``events``: a client's ``meta.events`` or a session's ``events`` (its future clients)."""
        events.register("before-parameter-build.sagemaker.UpdateEndpoint", self._keep_params)
        events.register("before-call.sagemaker.UpdateEndpoint", self._update_endpoint)

    def unregister(self, events: Any) -> None:
        events.unregister("before-parameter-build.sagemaker.UpdateEndpoint", self._keep_params)
        events.unregister("before-call.sagemaker.UpdateEndpoint", self._update_endpoint)

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["update_endpoint"] = dict(params)

    def _update_endpoint(
        self, context: dict[str, Any], request_signer: Any, **_: Any
    ) -> tuple[Any, dict[str, Any]]:
        from botocore.awsrequest import AWSResponse
        from moto.backends import get_backend

        params = context["update_endpoint"]
        self.requests.append(params)
        backend = get_backend("sagemaker")[ACCOUNT][request_signer.region_name]
        endpoint = backend.endpoints[params["EndpointName"]]
        backend.describe_endpoint_config(params["EndpointConfigName"])  # must exist, as in AWS
        endpoint.endpoint_config_name = params["EndpointConfigName"]
        parsed = {"EndpointArn": endpoint.arn, "ResponseMetadata": {"HTTPStatusCode": 200}}
        return AWSResponse(None, 200, {}, None), parsed  # the (http, parsed) pair Stubber returns


class Clients:
    """``aws(service)``: one client per service in ``region``, UpdateEndpoint answered.

    With ``session``, the hook goes on the session's events, so every client of that
    session answers UpdateEndpoint, including the ones the code under test creates when
    ``session`` is boto3's default; ``close()`` takes it off again.
    """

    def __init__(self, region: str, session: boto3.Session | None = None) -> None:
        self.region = region
        self.hook = UpdateEndpointHook()
        self._session = session
        self._clients: dict[str, Any] = {}
        if session is not None:
            self.hook.register(session.events)

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            if self._session is None:
                client = boto3.client(service, region_name=self.region)  # type: ignore[call-overload]
                self.hook.register(client.meta.events)
            else:
                client = self._session.client(service, region_name=self.region)  # type: ignore[call-overload]
            self._clients[service] = client
        return self._clients[service]

    def close(self) -> None:
        if self._session is not None:
            self.hook.unregister(self._session.events)


def _alarm(aws: Clients, name: str, metric: str, dimensions: dict[str, str]) -> None:
    aws("cloudwatch").put_metric_alarm(
        AlarmName=name,
        MetricName=metric,
        Namespace="AWS/SageMaker",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
    )


def create_stack(
    aws: Clients,
    prefix: str,
    *,
    serverless: bool = False,
    alarms: bool = True,
    preset: str = "dev",
) -> dict[str, str]:
    """What the infra stack creates and exports (``pulumi stack output --json``).

    A KMS key, the artifact bucket, the model package group, the inference role and an
    endpoint (``<prefix>-endpoint``, realtime or serverless) on an initial configuration
    ``initial-config``; with ``alarms``, the endpoint's 5XX and latency alarms, plus
    another endpoint's alarm that a deploy must not use. ``preset``: the stack's preset
    output (outside dev, only a person's approval deploys).
    """
    endpoint = f"{prefix}-endpoint"
    bucket = f"{prefix}-bucket"
    key_arn = aws("kms").create_key(Description="artifacts")["KeyMetadata"]["Arn"]
    placement: dict[str, Any] = (
        {}
        if aws.region == "us-east-1"  # the one region S3 refuses a LocationConstraint for
        else {"CreateBucketConfiguration": {"LocationConstraint": aws.region}}
    )
    aws("s3").create_bucket(Bucket=bucket, **placement)
    aws("sagemaker").create_model_package_group(ModelPackageGroupName=f"{prefix}-models")
    role = aws("iam").create_role(RoleName=f"{prefix}-inference", AssumeRolePolicyDocument=TRUST)
    aws("sagemaker").create_model(
        ModelName="initial",
        ExecutionRoleArn=role["Role"]["Arn"],
        PrimaryContainer={
            "Image": image_uri(aws.region),
            "ModelDataUrl": f"s3://{bucket}/models/initial/model.tar.gz",
        },
    )
    size: dict[str, Any] = (
        {"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}
        if serverless
        else {"InitialInstanceCount": 1, "InstanceType": "ml.t2.medium"}
    )
    aws("sagemaker").create_endpoint_config(
        EndpointConfigName="initial-config",
        ProductionVariants=[{"VariantName": "primary", "ModelName": "initial", **size}],
        KmsKeyId=key_arn,
    )
    aws("sagemaker").create_endpoint(EndpointName=endpoint, EndpointConfigName="initial-config")
    if alarms:
        for metric in ("Invocation5XXErrors", "ModelLatency"):
            dims = {"EndpointName": endpoint, "VariantName": "primary"}
            _alarm(aws, f"{endpoint}-{metric}", metric, dims)
        _alarm(aws, "other-5xx", "Invocation5XXErrors", {"EndpointName": "other"})
    return {
        "bucketName": bucket,
        "kmsKeyArn": key_arn,
        "modelPackageGroupName": f"{prefix}-models",
        "inferenceRoleArn": role["Role"]["Arn"],
        "endpointName": endpoint,
        "preset": preset,
    }
