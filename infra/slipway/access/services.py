"""Requests AWS services make with the stack's roles, each row citing the AWS page it is from.

A row applies when the stack declares what it needs (an MLflow server or App, a cluster);
its resource is read from that declaration (the artifact store, the model image's
repository). What SageMaker does for the endpoint and Model Monitor, which the release
creates, is read from the serving spec (``slipway.access.release``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from slipway.access.request import AccessRequest
from slipway.access.stack import StackAccess
from slipway.testing import ProgramRun

MLFLOW_ROLE = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/mlflow-create-tracking-server-iam.html"
)
# SageMaker's own jobs look a bucket's region up: the managed policy AWS offers for
# SageMaker execution roles grants s3:GetBucketLocation (AllowS3BucketActions).
SAGEMAKER_FULL_ACCESS = (
    "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSageMakerFullAccess.html"
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


def s3_list(stack: StackAccess, prefix: str, origin: str) -> list[AccessRequest]:
    """List ``prefix`` of the stack's bucket (``s3:ListBucket`` with ``s3:prefix``)."""
    bucket = f"arn:aws:s3:::{stack.outputs['bucketName']}"
    return [_r("s3:ListBucket", bucket, origin, **{"s3:prefix": prefix})]


def logs(stack: StackAccess, group: str, origin: str) -> list[AccessRequest]:
    arn = f"arn:aws:logs:{stack.region}:{stack.account}:log-group:{group}"
    stream = f"{arn}:log-stream:x"
    return [_r("logs:CreateLogStream", stream, origin), _r("logs:PutLogEvents", stream, origin)]


def service_requests(stack: StackAccess, run: ProgramRun) -> Iterator[Row]:
    """Every service-made request of the stack, by the role it is made with."""
    roles = {role.arn: kind for kind, role in stack.roles.items()}
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
        for request in s3_list(stack, "mlflow/1/run/artifacts/", MLFLOW_ROLE):
            yield kind, request
        bucket = f"arn:aws:s3:::{stack.outputs['bucketName']}"
        yield kind, _r("s3:GetBucketLocation", bucket, SAGEMAKER_FULL_ACCESS)
    if "node" in stack.roles:
        repository = stack.outputs.get("modelRepositoryUrl", "")
        for request in image_pull(f"{repository}:0.1.0", EKS_NODE):
            yield "node", request
