"""S3 bucket and its configuration resources (encryption, versioning, access block...)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slipway.sandbox.appliers.base import (
    Applied,
    Applier,
    Declared,
    call,
    ignore_missing,
    pascal,
    tag_list,
)
from slipway.sandbox.server import AwsClients


def _create_bucket(aws: AwsClients, d: Declared) -> Applied:
    s3 = aws("s3")
    extra: dict[str, Any] = {}
    if aws.region != "us-east-1":
        extra["CreateBucketConfiguration"] = {"LocationConstraint": aws.region}
    call(d, "bucket", s3.create_bucket, Bucket=d.physical, **extra)
    if d.tags:
        call(d, "tags", s3.put_bucket_tagging, Bucket=d.physical, Tagging={"TagSet": tag_list(d)})
    return Applied(d.physical, {"bucket": d.physical, "arn": f"arn:aws:s3:::{d.physical}"})


def _delete_bucket(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    s3 = aws("s3")
    if state.get("forceDestroy"):
        versions = s3.list_object_versions(Bucket=id_)
        for entry in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            s3.delete_object(Bucket=id_, Key=entry["Key"], VersionId=entry["VersionId"])
    ignore_missing(s3.delete_bucket, Bucket=id_)


def _bucket_setting(
    prop: str, put: str, delete: str | None, request: Callable[[dict[str, Any]], dict[str, Any]]
) -> Applier:
    """Applier of a resource that is one ``put_bucket_*`` call on an existing bucket."""

    def create(aws: AwsClients, d: Declared) -> Applied:
        bucket = d.inputs["bucket"]
        call(d, prop, getattr(aws("s3"), put), Bucket=bucket, **request(d.inputs))
        return Applied(bucket, {"bucket": bucket})

    def remove(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
        if delete is not None:
            ignore_missing(getattr(aws("s3"), delete), Bucket=id_)

    return Applier(create, remove)


def _encryption(inputs: dict[str, Any]) -> dict[str, Any]:
    return {"ServerSideEncryptionConfiguration": {"Rules": pascal(inputs["rules"])}}


def _versioning(inputs: dict[str, Any]) -> dict[str, Any]:
    return {"VersioningConfiguration": pascal(inputs["versioningConfiguration"])}


def _public_access(inputs: dict[str, Any]) -> dict[str, Any]:
    keys = ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets")
    config = {key[:1].upper() + key[1:]: bool(inputs.get(key, False)) for key in keys}
    return {"PublicAccessBlockConfiguration": config}


def _ownership(inputs: dict[str, Any]) -> dict[str, Any]:
    return {"OwnershipControls": {"Rules": [pascal(inputs["rule"])]}}


def _lifecycle(inputs: dict[str, Any]) -> dict[str, Any]:
    rules = pascal(inputs["rules"])
    for rule in rules:
        rule["ID"] = rule.pop("Id", rule.get("ID"))
        rule.setdefault("Filter", {})
    return {"LifecycleConfiguration": {"Rules": rules}}


def _policy(inputs: dict[str, Any]) -> dict[str, Any]:
    """The bucket policy as moto can enforce it.

    moto evaluates a bucket policy's statements without their ``Condition`` (moto 5:
    ``FakeBucket.get_permission``), so the TLS-only ``Deny`` (``aws:SecureTransport`` false)
    would refuse every request, TLS or not. Conditioned ``Deny`` statements are kept out
    of moto; the declared policy stays in the sandbox state, and the IAM access matrix
    evaluates it with a real policy engine (docs/sandbox.md).
    """
    policy = json.loads(inputs["policy"])
    policy["Statement"] = [
        s
        for s in policy.get("Statement", [])
        if not (s.get("Effect") == "Deny" and s.get("Condition"))
    ]
    return {"Policy": json.dumps(policy)}


APPLIERS = {
    "aws:s3/bucket:Bucket": Applier(_create_bucket, _delete_bucket),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        _bucket_setting("rules", "put_bucket_encryption", "delete_bucket_encryption", _encryption)
    ),
    "aws:s3/bucketVersioning:BucketVersioning": _bucket_setting(
        "versioningConfiguration", "put_bucket_versioning", None, _versioning
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_setting(
        "blockPublicAcls", "put_public_access_block", "delete_public_access_block", _public_access
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _bucket_setting(
        "rule", "put_bucket_ownership_controls", "delete_bucket_ownership_controls", _ownership
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_setting(
        "rules", "put_bucket_lifecycle_configuration", "delete_bucket_lifecycle", _lifecycle
    ),
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_setting(
        "policy", "put_bucket_policy", "delete_bucket_policy", _policy
    ),
}
