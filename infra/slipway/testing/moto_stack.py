"""Emulated AWS for deploy tests: moto in-process (no sockets) plus SageMaker UpdateEndpoint.

Used by slipway's own tests and by every generated project's ``tests/test_deploy.py``;
call it inside ``moto.mock_aws()``.

moto has no UpdateEndpoint and no monitoring schedules. ``UpdateEndpointHook`` answers
UpdateEndpoint, CreateMonitoringSchedule and DescribeMonitoringSchedule with botocore
``before-call`` event handlers (parameters kept at ``before-parameter-build``), the hook
botocore's Stubber is built on. This is neither Stubber nor a moto server hook: botocore
validates the request against the SageMaker service model first, then the handler records
it and applies it to moto's in-process backends. UpdateEndpoint follows SageMaker's
blue/green semantics: when one of the request's AutoRollbackConfiguration alarms is in
ALARM in moto's CloudWatch once the new fleet takes traffic (``during_update`` lets a
test make one fire then), the endpoint stays on the old configuration, ``InService``, with
``FailureReason`` set; otherwise it switches. Schedules are kept in ``schedules`` (moto
runs no monitoring job). Nothing else is stubbed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3

from slipway.alarms import VariantAlarm, variant_alarms
from slipway.deploy.spec import Autoscaling, Deployment, ServingSpec
from slipway.presets import load_preset

ACCOUNT = "123456789012"  # moto's default account
IMAGE_TAG = "0123abc"
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


def image_uri(region: str, prefix: str) -> str:
    """The image ``create_stack(aws, prefix)`` pushed to the stack's repository."""
    return f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{prefix}-model:{IMAGE_TAG}"


class UpdateEndpointHook:
    """Answers what moto lacks for the clients of the emitters it is registered on."""

    OPERATIONS = ("UpdateEndpoint", "CreateMonitoringSchedule", "DescribeMonitoringSchedule")

    def __init__(self, account: str = ACCOUNT) -> None:
        self.account = account
        self.requests: list[dict[str, Any]] = []
        self.schedules: dict[str, dict[str, Any]] = {}
        self.during_update: Callable[[dict[str, Any]], None] | None = None

    def register(self, events: Any) -> None:
        """``events``: a client's ``meta.events`` or a session's ``events`` (its future clients)."""
        for operation in self.OPERATIONS:
            events.register(f"before-parameter-build.sagemaker.{operation}", self._keep_params)
            events.register(f"before-call.sagemaker.{operation}", self._answer)

    def unregister(self, events: Any) -> None:
        for operation in self.OPERATIONS:
            events.unregister(f"before-parameter-build.sagemaker.{operation}", self._keep_params)
            events.unregister(f"before-call.sagemaker.{operation}", self._answer)

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["gap_params"] = dict(params)

    def _answer(
        self, model: Any, context: dict[str, Any], request_signer: Any, **_: Any
    ) -> tuple[Any, dict[str, Any]]:
        from botocore.awsrequest import AWSResponse
        from botocore.exceptions import ClientError

        params, region = context["gap_params"], request_signer.region_name
        try:
            parsed = getattr(self, f"_{model.name}")(params, region)
        except KeyError as missing:
            error = {"Code": "ValidationException", "Message": f"Could not find {missing}"}
            raise ClientError({"Error": error}, model.name) from None
        parsed["ResponseMetadata"] = {"HTTPStatusCode": 200}
        return AWSResponse(None, 200, {}, None), parsed  # the (http, parsed) pair Stubber returns

    def _UpdateEndpoint(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        from moto.backends import get_backend

        self.requests.append(params)
        backend = get_backend("sagemaker")[self.account][region]
        endpoint = backend.endpoints[params["EndpointName"]]
        backend.describe_endpoint_config(params["EndpointConfigName"])  # must exist, as in AWS
        if self.during_update is not None:
            self.during_update(params)
        firing = self._firing(params, region)
        if firing:
            reason = (
                f"Deployment failed: alarm {firing[0]} went into ALARM during the baking "
                "period; rolled back to the previous endpoint configuration"
            )
            endpoint.failure_reason = reason  # type: ignore[assignment]
        else:
            endpoint.endpoint_config_name = params["EndpointConfigName"]
            endpoint.failure_reason = None
        return {"EndpointArn": endpoint.arn}

    def _firing(self, params: dict[str, Any], region: str) -> list[str]:
        from moto.backends import get_backend

        rollback = (params.get("DeploymentConfig") or {}).get("AutoRollbackConfiguration") or {}
        names = [a["AlarmName"] for a in rollback.get("Alarms", [])]
        alarms = get_backend("cloudwatch")[self.account][region].alarms
        return [n for n in names if n in alarms and alarms[n].state_value == "ALARM"]

    def _CreateMonitoringSchedule(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        name = params["MonitoringScheduleName"]
        arn = f"arn:aws:sagemaker:{region}:{self.account}:monitoring-schedule/{name.lower()}"
        self.schedules[name] = {**params, "MonitoringScheduleArn": arn}
        return {"MonitoringScheduleArn": arn}

    def _DescribeMonitoringSchedule(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        schedule = self.schedules[params["MonitoringScheduleName"]]
        return {
            **{k: v for k, v in schedule.items() if k != "Tags"},
            "MonitoringScheduleStatus": "Scheduled",
            "CreationTime": 0,
            "LastModifiedTime": 0,
        }


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


def _alarm(aws: Clients, name: str, alarm: VariantAlarm, dimensions: dict[str, str]) -> None:
    statistic = (
        {"ExtendedStatistic": alarm.extended_statistic}
        if alarm.extended_statistic
        else {"Statistic": alarm.statistic}
    )
    aws("cloudwatch").put_metric_alarm(
        AlarmName=name,
        MetricName=alarm.metric,
        Namespace=alarm.namespace,
        Period=300,
        EvaluationPeriods=1,
        Threshold=alarm.threshold,
        ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        **statistic,
    )


def stack_alarms(endpoint: str, *, serverless: bool = False) -> list[str]:
    """Names of the alarms ``create_stack`` gives ``endpoint``: the ones
    ``slipway.aws.monitoring`` declares for its variant (``slipway.alarms``), sorted."""
    declared = variant_alarms(load_preset("dev").alarms, "serverless" if serverless else "realtime")
    return sorted(f"{endpoint}-{a.metric}" for a in declared)


def push_image(ecr: Any, repository_url: str, tag: str) -> str:
    """Record an image manifest under ``tag`` as ``docker push`` would; the image URI.

    Only the registry entry: no layers are uploaded (no container engine here)."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": f"sha256:{tag:0>64}"[:71], "size": 0},
        "layers": [],
    }
    ecr.put_image(
        repositoryName=repository_url.split("/", 1)[1],
        imageManifest=json.dumps(manifest),
        imageTag=tag,
    )
    return f"{repository_url}:{tag}"


def serving_spec(
    prefix: str, role_arn: str, key_arn: str, *, serverless: bool, instances: int = 1
) -> ServingSpec:
    """The serving spec ``slipway.aws.Endpoint`` exports, for a stack made here."""
    variant: dict[str, Any] = (
        {
            "VariantName": "primary",
            "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
        }
        if serverless
        else {
            "VariantName": "primary",
            "InstanceType": "ml.t2.medium",
            "InitialInstanceCount": instances,
            "InitialVariantWeight": 1,
        }
    )
    return ServingSpec(
        endpoint_name=f"{prefix}-endpoint",
        role_arn=role_arn,
        variants=[variant],
        kms_key_id="" if serverless else key_arn,
        autoscaling=None if serverless else Autoscaling(instances, instances + 1, 200, 300, 60),
        deployment=None
        if serverless
        else Deployment(*(("CANARY", 120, 50) if instances > 1 else ("ALL_AT_ONCE", 120, 0))),
        tags={"project": prefix, "managed-by": "slipway"},
        allowed_instance_types=load_preset("dev").sagemaker.allowed_instance_types,
    )


def create_stack(
    aws: Clients,
    prefix: str,
    *,
    serverless: bool = False,
    alarms: bool = True,
    instances: int = 1,
    preset: str = "dev",
) -> dict[str, str]:
    """What the infra stack creates and exports (``pulumi stack output --json``).

    A KMS key, the artifact bucket, the model package group, the inference role, the
    serving image repository with one pushed image (tag ``IMAGE_TAG``) and the serving
    spec of ``<prefix>-endpoint`` (realtime with ``instances`` instances, or serverless);
    no endpoint: the first release creates it. With ``alarms``, the alarms the stack's
    monitoring declares for the variant (``stack_alarms``: five realtime, three serverless),
    plus another endpoint's alarm that a deploy must not use. ``preset``:
    the stack's preset output (outside dev, only a person's approval deploys).
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
    repository = aws("ecr").create_repository(repositoryName=f"{prefix}-model")["repository"]
    push_image(aws("ecr"), repository["repositoryUri"], IMAGE_TAG)
    if alarms:
        declared = variant_alarms(
            load_preset("dev").alarms, "serverless" if serverless else "realtime"
        )
        for alarm in declared:
            dims = {"EndpointName": endpoint, "VariantName": "primary"}
            _alarm(aws, f"{endpoint}-{alarm.metric}", alarm, dims)
        errors = next(a for a in declared if a.key == "5xx")
        _alarm(aws, "other-5xx", errors, {"EndpointName": "other"})
    spec = serving_spec(
        prefix, role["Role"]["Arn"], key_arn, serverless=serverless, instances=instances
    )
    return {
        "bucketName": bucket,
        "kmsKeyArn": key_arn,
        "modelPackageGroupName": f"{prefix}-models",
        "inferenceRoleArn": role["Role"]["Arn"],
        "endpointName": endpoint,
        "modelRepositoryUrl": repository["repositoryUri"],
        "serving": spec.to_json(),
        "preset": preset,
    }
