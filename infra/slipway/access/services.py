"""Requests AWS services make with the stack's roles, each row citing the AWS page it is from.

A row applies when the stack declares what it needs (an endpoint, a data-quality job, a
cluster ...); its resource is read from that declaration (the model's image and data, the
endpoint configuration's capture destination and key, the job definition's image).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from slipway.access.request import AccessRequest
from slipway.access.stack import StackAccess
from slipway.testing import ProgramRun

SAGEMAKER_ROLES = "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html"
DATA_CAPTURE = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture.html"
MODEL_MONITOR = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-quality.html"
MLFLOW_ROLE = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/mlflow-create-tracking-server-iam.html"
)
SSE_KMS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"
EKS_NODE = "https://docs.aws.amazon.com/eks/latest/userguide/create-node-role.html"
ECR_PULL = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-pull.html"
IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^:@]+)")

Row = tuple[str, AccessRequest]  # (role kind, request)


def _r(action: str, resource: str, origin: str, **context: Any) -> AccessRequest:
    return AccessRequest("", action, resource, context, f"service:{origin}")


def image_pull(image: str, origin: str) -> list[AccessRequest]:
    """Pulling ``image`` from ECR: a token (no resource), then layers of its repository."""
    match = IMAGE.match(image)
    if not match:
        return []
    account, region, repository = match.groups()
    repo = f"arn:aws:ecr:{region}:{account}:repository/{repository}"
    return [
        _r("ecr:GetAuthorizationToken", "*", origin),
        _r("ecr:BatchGetImage", repo, origin),
        _r("ecr:GetDownloadUrlForLayer", repo, origin),
    ]


def s3_object(
    stack: StackAccess, uri: str, write: bool, origin: str, *, sse_header: bool = False
) -> list[AccessRequest]:
    """Read or write an object under ``uri`` of the stack's bucket, through its KMS key
    (SSE-KMS: GenerateDataKey to write, Decrypt to read, via S3); ``sse_header``: the
    writer names SSE-KMS in the request (``s3:x-amz-server-side-encryption``)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    obj = f"arn:aws:s3:::{bucket}/{key}" + ("object" if key.endswith("/") else "")
    via = {
        "kms:ViaService": f"s3.{stack.region}.amazonaws.com",
        "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{bucket}",
    }
    key_arn = str(stack.outputs.get("kmsKeyArn", ""))
    header = {"s3:x-amz-server-side-encryption": "aws:kms"} if sse_header else {}
    requests = [_r("s3:PutObject" if write else "s3:GetObject", obj, origin, **header)]
    if key_arn:
        requests.append(
            _r("kms:GenerateDataKey" if write else "kms:Decrypt", key_arn, SSE_KMS, **via)
        )
    return requests


def logs(stack: StackAccess, group: str, origin: str) -> list[AccessRequest]:
    arn = f"arn:aws:logs:{stack.region}:{stack.account}:log-group:{group}"
    stream = f"{arn}:log-stream:x"
    return [_r("logs:CreateLogStream", stream, origin), _r("logs:PutLogEvents", stream, origin)]


def service_requests(stack: StackAccess, run: ProgramRun) -> Iterator[Row]:
    """Every service-made request of the stack, by the role it is made with."""
    roles = {role.arn: kind for kind, role in stack.roles.items()}
    for model in run.of_type("aws:sagemaker/model:Model"):
        kind = roles.get(model.inputs.get("executionRoleArn", ""), "infer")
        container = model.inputs.get("primaryContainer") or {}
        for request in image_pull(str(container.get("image", "")), SAGEMAKER_ROLES):
            yield kind, request
        if container.get("modelDataUrl"):
            for request in s3_object(stack, container["modelDataUrl"], False, SAGEMAKER_ROLES):
                yield kind, request
        endpoint = stack.outputs.get("endpointName", "")
        for request in logs(stack, f"/aws/sagemaker/Endpoints/{endpoint}", SAGEMAKER_ROLES):
            yield kind, request
    for config in run.of_type("aws:sagemaker/endpointConfiguration:EndpointConfiguration"):
        capture = config.inputs.get("dataCaptureConfig")
        variants = config.inputs.get("productionVariants") or []
        if capture and variants:
            found = next(
                (
                    m
                    for m in run.of_type("aws:sagemaker/model:Model")
                    if m.state.get("name") == variants[0].get("modelName")
                ),
                None,
            )
            kind = roles.get(found.inputs["executionRoleArn"], "infer") if found else "infer"
            uri = capture["destinationS3Uri"].rstrip("/") + "/endpoint/variant/2026/01/01/00/"
            for request in s3_object(stack, uri, True, DATA_CAPTURE):
                yield kind, request
    for job in run.of_type("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"):
        kind = roles.get(job.inputs.get("roleArn", ""), "exec")
        spec = job.inputs.get("dataQualityAppSpecification") or {}
        for request in image_pull(str(spec.get("imageUri", "")), MODEL_MONITOR):
            yield kind, request
        bucket = stack.outputs["bucketName"]
        for uri, write in (
            (f"s3://{bucket}/data-capture/endpoint/variant/2026/01/01/00/x.jsonl", False),
            (f"s3://{bucket}/monitoring/baseline/statistics.json", False),
            (f"s3://{bucket}/monitoring/reports/endpoint/x/constraint_violations.json", True),
        ):
            for request in s3_object(stack, uri, write, MODEL_MONITOR):
                yield kind, request
        for request in logs(stack, "/aws/sagemaker/ProcessingJobs", MODEL_MONITOR):
            yield kind, request
    for server in (
        *run.of_type("aws:sagemaker/mlflowApp:MlflowApp"),
        *run.of_type("aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer"),
    ):
        kind = roles.get(server.inputs.get("roleArn", ""), "exec")
        store = str(server.inputs.get("artifactStoreUri", "")).rstrip("/")
        for write in (True, False):
            for request in s3_object(
                stack, f"{store}/1/run/artifacts/model/MLmodel", write, MLFLOW_ROLE
            ):
                yield kind, request
    if "node" in stack.roles:
        repository = stack.outputs.get("modelRepositoryUrl", "")
        for request in image_pull(f"{repository}:0.1.0", EKS_NODE):
            yield "node", request
