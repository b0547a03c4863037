"""ArtifactStore: KMS, versioning, privacy, TLS-only, lifecycle, logging, protection."""

from __future__ import annotations

from aws_helpers import stack_context, statements
from slipway.aws import ArtifactStore, ArtifactStoreArgs
from slipway.presets import load_preset
from slipway.testing import ProgramRun, run_pulumi

BUCKET = "aws:s3/bucket:Bucket"


def _run(preset: str) -> ProgramRun:
    return run_pulumi(
        lambda: ArtifactStore("store", ArtifactStoreArgs(stack_context(preset))), stack=preset
    )


def test_bucket_is_encrypted_with_a_rotated_customer_key() -> None:
    run = _run("dev")
    key = run.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    sse = run.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    rule = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert rule == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key.state["arn"]}
    assert sse.inputs["bucket"] == run.named("store-bucket").state["bucket"]


def test_bucket_is_versioned_private_and_tls_only() -> None:
    run = _run("dev")
    bucket = run.named("store-bucket").state
    versioning = run.one("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    block = run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block[flag] is True, flag
    [deny] = statements(run.one("aws:s3/bucketPolicy:BucketPolicy"))
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sorted(deny["Resource"]) == [bucket["arn"], bucket["arn"] + "/*"]


def test_lifecycle_follows_the_preset(preset_name: str) -> None:
    retention = load_preset(preset_name).retention
    run = _run(preset_name)
    [lifecycle] = [
        r
        for r in run.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        if r.name == "store-lifecycle"
    ]
    rules = {rule["id"]: rule for rule in lifecycle.inputs["rules"]}
    noncurrent = rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"]
    assert noncurrent["noncurrentDays"] == retention.noncurrent_version_days
    capture = rules["expire-data-capture"]
    assert capture["filter"] == {"prefix": "data-capture/"}
    assert capture["expiration"]["days"] == retention.capture_days


def test_access_logging_only_where_the_preset_asks(preset_name: str) -> None:
    run = _run(preset_name)
    logging = run.of_type("aws:s3/bucketLogging:BucketLogging")
    if not load_preset(preset_name).access_logging:
        assert logging == [] and len(run.of_type(BUCKET)) == 1
        return
    logs_bucket = run.named("store-access-logs").state["bucket"]
    assert [r.inputs["targetBucket"] for r in logging] == [logs_bucket]
    logs_policy = run.named("store-access-logs-policy")
    effects = {s["Sid"]: s["Effect"] for s in statements(logs_policy)}
    assert effects == {"AllowS3ServerAccessLogs": "Allow", "DenyInsecureTransport": "Deny"}
    logs_block = run.named("store-access-logs-public-access").inputs
    assert logs_block["blockPublicPolicy"] and logs_block["restrictPublicBuckets"]


def test_stateful_resources_are_protected_only_in_prod(preset_name: str) -> None:
    run = _run(preset_name)
    keep = preset_name == "prod"
    stateful = [*run.of_type(BUCKET), run.one("aws:kms/key:Key")]
    assert {(r.name, r.protect, r.retain_on_delete) for r in stateful} == {
        (r.name, keep, keep) for r in stateful
    }
    assert all(b.inputs["forceDestroy"] is (not keep) for b in run.of_type(BUCKET))


def test_children_are_parented_and_outputs_registered() -> None:
    run = _run("dev")
    [component] = run.of_type("slipway:aws:ArtifactStore")
    assert {r.parent_type for r in run.cloud_resources} == {"slipway:aws:ArtifactStore"}
    outputs = component.registered_outputs
    assert outputs["bucket_name"] == run.named("store-bucket").state["bucket"]
    assert outputs["kms_key_arn"] == run.one("aws:kms/key:Key").state["arn"]
