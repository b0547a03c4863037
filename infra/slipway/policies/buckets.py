"""S3 buckets: encrypted, TLS-only, private, versioned, expiring (stack policies).

pulumi-aws 7 declares each bucket setting as its own resource, so every check matches a
bucket with the settings that target it. A bucket that receives S3 server access logs
(the ``targetBucket`` of a ``BucketLogging``) is judged by the rules AWS sets for it:
SSE-S3 rather than SSE-KMS, and no versioning required.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pulumi_policy import PolicyResource, StackValidationArgs

from slipway.policies.base import as_list, of_type, stack_policy, statements, targets

BUCKET = "aws:s3/bucket:Bucket"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")

Problems = Iterator[tuple[str, str | None]]


def _settings(
    resources: Sequence[PolicyResource], type_: str, bucket: PolicyResource
) -> list[PolicyResource]:
    return [s for s in of_type(resources, type_) if targets(s, "bucket", bucket)]


def _log_targets(resources: Sequence[PolicyResource]) -> list[PolicyResource]:
    return [
        b
        for b in of_type(resources, BUCKET)
        if any(targets(log, "targetBucket", b) for log in of_type(resources, LOGGING))
    ]


def _name(bucket: PolicyResource) -> str:
    return str(bucket.props.get("bucket") or bucket.name)


def _default_encryption(setting: PolicyResource) -> list[dict[str, str]]:
    return [
        dict(rule.get("applyServerSideEncryptionByDefault") or {})
        for rule in as_list(setting.props.get("rules"))
    ]


def _encrypted(args: StackValidationArgs) -> Problems:
    log_targets = _log_targets(args.resources)
    for bucket in of_type(args.resources, BUCKET):
        defaults = [
            d for s in _settings(args.resources, ENCRYPTION, bucket) for d in _default_encryption(s)
        ]
        if bucket in log_targets:
            if not any(d.get("sseAlgorithm") == "AES256" for d in defaults):
                yield f"{_name(bucket)} receives access logs: default encryption SSE-S3", bucket.urn
            continue
        if not any(
            d.get("sseAlgorithm") in KMS_ALGORITHMS and d.get("kmsMasterKeyId") for d in defaults
        ):
            yield f"{_name(bucket)}: no default encryption with a KMS key", bucket.urn


def _denies_plain_http(statement: dict[str, object], arns: set[str]) -> bool:
    condition = statement.get("Condition") or {}
    secure = (condition.get("Bool") or {}) if isinstance(condition, dict) else {}
    return (
        statement.get("Effect") == "Deny"
        and statement.get("Principal") in ("*", {"AWS": "*"}, {"AWS": ["*"]})
        and str(secure.get("aws:SecureTransport")).lower() == "false"
        and arns <= set(as_list(statement.get("Resource")))
    )


def _tls_only(args: StackValidationArgs) -> Problems:
    for bucket in of_type(args.resources, BUCKET):
        arn = str(bucket.props.get("arn"))
        covered = {arn, f"{arn}/*"}
        documents = [p.props.get("policy") for p in _settings(args.resources, POLICY, bucket)]
        if not any(
            _denies_plain_http(dict(s), covered) for doc in documents for s in statements(doc)
        ):
            yield (
                (
                    f"{_name(bucket)}: no bucket policy denying requests without TLS "
                    "(aws:SecureTransport false) on the bucket and its objects"
                ),
                bucket.urn,
            )


def _private(args: StackValidationArgs) -> Problems:
    for bucket in of_type(args.resources, BUCKET):
        blocks = _settings(args.resources, PUBLIC_ACCESS, bucket)
        if not any(all(b.props.get(flag) is True for flag in PUBLIC_ACCESS_FLAGS) for b in blocks):
            yield f"{_name(bucket)}: public access not fully blocked", bucket.urn


def _versioned(args: StackValidationArgs) -> Problems:
    log_targets = _log_targets(args.resources)
    for bucket in of_type(args.resources, BUCKET):
        if bucket in log_targets:
            continue
        versioning = _settings(args.resources, VERSIONING, bucket)
        statuses = [(v.props.get("versioningConfiguration") or {}) for v in versioning]
        if not any(s.get("status") == "Enabled" for s in statuses):
            yield f"{_name(bucket)}: versioning not enabled", bucket.urn


def _expiring(args: StackValidationArgs) -> Problems:
    for bucket in of_type(args.resources, BUCKET):
        rules = [
            rule
            for lifecycle in _settings(args.resources, LIFECYCLE, bucket)
            for rule in as_list(lifecycle.props.get("rules"))
            if rule.get("status") == "Enabled"
        ]
        if not any(r.get("expiration") or r.get("noncurrentVersionExpiration") for r in rules):
            yield f"{_name(bucket)}: no enabled lifecycle rule expires objects", bucket.urn


JUDGED = (BUCKET, ENCRYPTION, POLICY, PUBLIC_ACCESS, VERSIONING, LIFECYCLE, LOGGING)

POLICIES = [
    stack_policy(
        "s3-buckets-encrypted-with-kms",
        "S3 buckets encrypt by default with a KMS key (SSE-S3 for access-log targets, the "
        "only default encryption S3 server access logging delivers to).",
        JUDGED,
        _encrypted,
        remediation="Add a BucketServerSideEncryptionConfiguration with sse_algorithm aws:kms "
        "and kms_master_key_id (slipway.aws.ArtifactStore does).",
    ),
    stack_policy(
        "s3-buckets-tls-only",
        "S3 bucket policies deny every request made without TLS.",
        JUDGED,
        _tls_only,
        remediation="Attach a bucket policy with a Deny statement on the bucket and bucket/* "
        'for Condition {"Bool": {"aws:SecureTransport": "false"}}.',
    ),
    stack_policy(
        "s3-buckets-private",
        "S3 buckets block every kind of public access.",
        JUDGED,
        _private,
        remediation="Add a BucketPublicAccessBlock with all four flags true.",
    ),
    stack_policy(
        "s3-buckets-versioned",
        "S3 buckets holding data keep object versions (access-log targets excepted).",
        JUDGED,
        _versioned,
        remediation="Add a BucketVersioning with status Enabled.",
    ),
    stack_policy(
        "s3-buckets-expire-objects",
        "S3 buckets expire old objects or versions (storage cost stays bounded).",
        JUDGED,
        _expiring,
        remediation="Add a BucketLifecycleConfiguration with an enabled expiration or "
        "noncurrent_version_expiration rule (retention comes from the stack preset).",
    ),
]
