"""Record a workload's AWS calls as IAM requests, with botocore event hooks.

One line turns it on in a workload's entry point (or in a rehearsal that starts it)::

    SLIPWAY_ACCESS_LOG=/tmp/requests.jsonl   # where requests are appended (JSON lines)
    SLIPWAY_ACCESS_PRINCIPAL=<role ARN>       # optional: the role the workload runs as
    slipway.access.recorder.install()         # no-op when SLIPWAY_ACCESS_LOG is unset

``install`` hooks ``provide-client-params`` (the API parameters as the caller gave them) on
every botocore session created afterwards and on boto3's default session, so clients made
by any library in the process are covered; ``install(session_or_client)`` hooks one
explicitly. Each call becomes one or more ``AccessRequest`` (``to_requests``): the IAM action
(service authorization reference names, e.g. S3 HeadObject -> ``s3:GetObject``), the resource
ARN and the condition keys the request supplies. The call itself is not changed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from slipway.access.request import AccessRequest, write_jsonl

LOG_ENV = "SLIPWAY_ACCESS_LOG"
PRINCIPAL_ENV = "SLIPWAY_ACCESS_PRINCIPAL"
ACCOUNT_ENV = "SLIPWAY_ACCESS_ACCOUNT"
DEFAULT_ACCOUNT = "123456789012"  # moto's default account
EVENT = "provide-client-params"

# IAM service prefix where it differs from the botocore signing name.
IAM_PREFIX = {"monitoring": "cloudwatch", "execute-api": "execute-api"}
# Calls IAM does not authorize ("No permissions are required to perform this operation",
# STS GetCallerIdentity API reference).
UNAUTHORIZED = {("sts", "GetCallerIdentity")}
# S3 operations whose IAM action has another name (Amazon S3 User Guide, "Required
# permissions for Amazon S3 API operations").
S3_ACTIONS = {
    "HeadObject": "GetObject",
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "AbortMultipartUpload": "AbortMultipartUpload",
    "DeleteObjects": "DeleteObject",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
}
# SageMaker resource type per name parameter (service authorization reference: ARNs are
# arn:aws:sagemaker:<region>:<account>:<type>/<name>, names lower-cased).
SAGEMAKER_NAMES = {
    "EndpointName": "endpoint",
    "EndpointConfigName": "endpoint-config",
    "ModelName": "model",
    "ModelPackageGroupName": "model-package-group",
    "TrainingJobName": "training-job",
    "ProcessingJobName": "processing-job",
    "TransformJobName": "transform-job",
    "MonitoringScheduleName": "monitoring-schedule",
    "PipelineName": "pipeline",
    "TrackingServerName": "mlflow-tracking-server",
    "JobDefinitionName": "data-quality-job-definition",
    "ModelCardName": "model-card",
}

_lock = threading.Lock()
_installed: dict[str, Any] = {}


def install(target: Any = None, *, log: Path | str | None = None, principal: str = "") -> bool:
    """Record every AWS call made after this into ``log`` (default ``$SLIPWAY_ACCESS_LOG``).

    ``target``: a boto3/botocore session or a client (hooks only it); default: every session
    created from now on plus boto3's default session. Returns False (nothing hooked) when no
    log is given.
    """
    path = log or os.environ.get(LOG_ENV)
    if not path:
        return False
    handler = Recorder(Path(path), principal or os.environ.get(PRINCIPAL_ENV, ""))
    if target is not None:
        _events_of(target).register(f"{EVENT}.*.*", handler)
        return True
    with _lock:
        if "handler" in _installed:
            _installed["handler"].retarget(handler)
            return True
        _installed["handler"] = handler
        _hook_new_sessions(handler)
        import boto3

        if boto3.DEFAULT_SESSION is not None:
            boto3.DEFAULT_SESSION.events.register(f"{EVENT}.*.*", handler)
    return True


def uninstall() -> None:
    """Undo ``install()`` (sessions created from now on are not hooked; boto3's default
    session is unhooked)."""
    import boto3
    import botocore.session

    with _lock:
        handler = _installed.pop("handler", None)
        original = _installed.pop("init", None)
        if original is not None:
            botocore.session.Session.__init__ = original  # type: ignore[method-assign]
        if handler is not None and boto3.DEFAULT_SESSION is not None:
            boto3.DEFAULT_SESSION.events.unregister(f"{EVENT}.*.*", handler)


def _events_of(target: Any) -> Any:
    if hasattr(target, "meta") and hasattr(target.meta, "events"):
        return target.meta.events  # a client
    if hasattr(target, "events"):
        return target.events  # boto3.Session
    return target.get_component("event_emitter")  # botocore Session


def _hook_new_sessions(handler: Recorder) -> None:
    import botocore.session

    original = botocore.session.Session.__init__
    _installed["init"] = original

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if "handler" in _installed:
            self.get_component("event_emitter").register(f"{EVENT}.*.*", _installed["handler"])

    botocore.session.Session.__init__ = init  # type: ignore[method-assign]


class Recorder:
    """The ``provide-client-params`` handler: appends each call's requests to ``path``."""

    def __init__(self, path: Path, principal: str) -> None:
        self.path = path
        self.principal = principal

    def retarget(self, other: Recorder) -> None:
        self.path, self.principal = other.path, other.principal

    def __call__(
        self, params: Mapping[str, Any], model: Any, context: Mapping[str, Any], **_: Any
    ) -> None:
        service = model.service_model.signing_name or model.service_model.endpoint_prefix
        region = str(context.get("client_region") or "us-east-1")
        account = self.principal.split(":")[4] if self.principal.count(":") >= 5 else ""
        requests = to_requests(
            service,
            model.name,
            dict(params),
            region=region,
            account=account or os.environ.get(ACCOUNT_ENV, DEFAULT_ACCOUNT),
            principal=self.principal,
        )
        if requests:
            with _lock:
                write_jsonl(self.path, requests, append=True)


def to_requests(
    service: str,
    operation: str,
    params: Mapping[str, Any],
    *,
    region: str,
    account: str,
    principal: str = "",
    origin: str = "recorded",
) -> list[AccessRequest]:
    """The IAM requests one API call makes (none for calls IAM does not authorize)."""
    if (service, operation) in UNAUTHORIZED:
        return []
    build = _SERVICES.get(service, _generic)
    return [
        AccessRequest(principal, action, resource, context, origin)
        for action, resource, context in build(service, operation, params, region, account)
    ]


Built = list[tuple[str, str, dict[str, Any]]]


def _arn(service: str, region: str, account: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def _generic(service: str, operation: str, params: Mapping[str, Any], *_: str) -> Built:
    """An action named after the operation on ``*`` (services without resource mapping)."""
    return [(f"{IAM_PREFIX.get(service, service)}:{operation}", "*", {})]


def _s3(service: str, operation: str, params: Mapping[str, Any], *_: str) -> Built:
    bucket = params.get("Bucket")
    if not bucket:
        return [(f"s3:{operation}", "*", {})]
    action = "s3:" + S3_ACTIONS.get(operation, operation)
    if operation == "GetObject" and params.get("VersionId"):
        action = "s3:GetObjectVersion"
    bucket_arn = f"arn:aws:s3:::{bucket}"
    context: dict[str, Any] = {}
    if action in ("s3:ListBucket", "s3:ListBucketVersions"):
        if "Prefix" in params:
            context["s3:prefix"] = str(params["Prefix"])
        return [(action, bucket_arn, context)]
    if operation == "DeleteObjects":
        objects = (params.get("Delete") or {}).get("Objects") or []
        return [(action, f"{bucket_arn}/{o['Key']}", {}) for o in objects]
    if "Key" in params:
        if params.get("ServerSideEncryption"):
            context["s3:x-amz-server-side-encryption"] = str(params["ServerSideEncryption"])
        if params.get("SSEKMSKeyId"):
            context["s3:x-amz-server-side-encryption-aws-kms-key-id"] = str(params["SSEKMSKeyId"])
        built: Built = [(action, f"{bucket_arn}/{params['Key']}", context)]
        source = params.get("CopySource")
        if operation == "CopyObject" and source:
            src = source if isinstance(source, str) else f"{source['Bucket']}/{source['Key']}"
            built.append(("s3:GetObject", f"arn:aws:s3:::{src.lstrip('/')}", {}))
        return built
    return [(action, bucket_arn, context)]


def _kms(
    service: str, operation: str, params: Mapping[str, Any], region: str, account: str
) -> Built:
    key = str(params.get("KeyId") or "")
    if not key:
        return [(f"kms:{operation}", "*", {})]
    if not key.startswith("arn:"):
        key = _arn("kms", region, account, key if key.startswith("alias/") else f"key/{key}")
    return [(f"kms:{operation}", key, {})]


def _sagemaker(
    service: str, operation: str, params: Mapping[str, Any], region: str, account: str
) -> Built:
    action = f"sagemaker:{operation}"
    context = _sagemaker_context(operation, params)
    group = str(params.get("ModelPackageGroupName") or "")
    if operation == "CreateModelPackage" and group:
        # authorized on the package it creates (resource type model-package, service
        # authorization reference), whose version the call returns: the group's packages
        name = group.rsplit("/", 1)[-1].lower()
        return [(action, _arn("sagemaker", region, account, f"model-package/{name}/*"), context)]
    for param in ("ModelPackageName", "ModelPackageArn", "ResourceArn", "ModelPackageGroupName"):
        value = str(params.get(param) or "")
        if value.startswith("arn:"):
            return [(action, value, context)]
    for param, kind in SAGEMAKER_NAMES.items():
        if params.get(param):
            resource = _arn("sagemaker", region, account, f"{kind}/{str(params[param]).lower()}")
            return [(action, resource, context)]
    return [(action, "*", {})]


def _sagemaker_context(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Condition keys SageMaker supplies: the tags of a create, a package's approval status."""
    context: dict[str, Any] = {}
    if params.get("ModelApprovalStatus"):
        context["sagemaker:ModelApprovalStatus"] = str(params["ModelApprovalStatus"])
    tags = params.get("Tags") or []
    if not operation.startswith("Create") or not tags:
        return context
    context.update({f"aws:RequestTag/{t['Key']}": str(t["Value"]) for t in tags})
    context["aws:TagKeys"] = tuple(str(t["Key"]) for t in tags)
    return context


def _cloudwatch(
    service: str, operation: str, params: Mapping[str, Any], region: str, account: str
) -> Built:
    action = f"cloudwatch:{operation}"
    if operation == "PutMetricData":
        return [(action, "*", {"cloudwatch:namespace": str(params.get("Namespace", ""))})]
    names = params.get("AlarmNames") or ([params["AlarmName"]] if params.get("AlarmName") else [])
    if names and operation != "DescribeAlarms":
        return [(action, _arn("cloudwatch", region, account, f"alarm:{n}"), {}) for n in names]
    return [(action, "*", {})]


def _named(kind: str, param: str) -> Callable[[str, str, Mapping[str, Any], str, str], Built]:
    def build(
        service: str, operation: str, params: Mapping[str, Any], region: str, account: str
    ) -> Built:
        action = f"{service}:{operation}"
        value = params.get(param)
        if not value:
            return [(action, "*", {})]
        resource = str(value) if str(value).startswith("arn:") else f"{kind}{value}"
        return [
            (
                action,
                resource
                if resource.startswith("arn:")
                else _arn(service, region, account, resource),
                {},
            )
        ]

    return build


_SERVICES: dict[str, Callable[..., Built]] = {
    "s3": _s3,
    "kms": _kms,
    "sagemaker": _sagemaker,
    "monitoring": _cloudwatch,
    "ecr": _named("repository/", "repositoryName"),
    "eks": _named("cluster/", "name"),
    "sns": _named("", "TopicArn"),
    "logs": _named("log-group:", "logGroupName"),
}
