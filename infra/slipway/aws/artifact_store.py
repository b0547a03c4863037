"""ArtifactStore: the project's S3 bucket (data, models, data capture, MLflow artifacts).

Encrypted with a customer-managed KMS key (rotation on), versioned, private, TLS-only,
with lifecycle rules and, where the preset says so, server access logging.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from slipway.aws import policy
from slipway.aws.context import StackContext
from slipway.names import BUCKET_PREFIXES

KMS_DELETION_WINDOW_DAYS = 30  # the AWS maximum: the longest chance to cancel a deletion


@dataclass(frozen=True)
class ArtifactStoreArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""


class ArtifactStore(pulumi.ComponentResource):
    """Bucket + KMS key; outputs: bucket_name, bucket_arn, kms_key_arn, logs_bucket_name."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    logs_bucket_name: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:aws:ArtifactStore", name, None, opts)
        ctx = args.context
        child = pulumi.ResourceOptions(parent=self)
        stateful = ctx.stateful(self)

        key = aws.kms.Key(
            f"{name}-key",
            description=f"Slipway artifacts of {ctx.prefix}",
            enable_key_rotation=True,
            deletion_window_in_days=KMS_DELETION_WINDOW_DAYS,
            tags=ctx.tags,
            opts=stateful,
        )
        aws.kms.Alias(
            f"{name}-key-alias", name=f"alias/{ctx.prefix}", target_key_id=key.key_id, opts=child
        )

        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            force_destroy=not ctx.preset.deletion_protection,
            tags=ctx.tags,
            opts=stateful,
        )
        block = self._make_private(name, bucket)
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=policy.document(policy.deny_insecure_transport(bucket.arn)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[block]),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": key.arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        retention = ctx.preset.retention
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-noncurrent-versions",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {
                        "noncurrent_days": retention.noncurrent_version_days
                    },
                },
                {
                    "id": "expire-data-capture",
                    "status": "Enabled",
                    "filter": {"prefix": BUCKET_PREFIXES["capture"]},
                    "expiration": {"days": retention.capture_days},
                },
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )

        self.logs_bucket_name = None
        if ctx.preset.access_logging:
            logs = self._logs_bucket(name, ctx, bucket)
            self.logs_bucket_name = logs.bucket

        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.kms_key_arn = key.arn
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "kms_key_arn": self.kms_key_arn,
                "logs_bucket_name": self.logs_bucket_name,
            }
        )

    def uri(self, area: str, key: str = "") -> pulumi.Output[str]:
        """``s3://`` URI of an area (data, models, capture, mlflow, monitoring) or a key in it."""
        return pulumi.Output.concat("s3://", self.bucket_name, "/", BUCKET_PREFIXES[area], key)

    def _make_private(self, name: str, bucket: aws.s3.Bucket) -> aws.s3.BucketPublicAccessBlock:
        """No ACLs (bucket owner owns every object) and no public access of any kind."""
        child = pulumi.ResourceOptions(parent=self)
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        return aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )

    def _logs_bucket(self, name: str, ctx: StackContext, source: aws.s3.Bucket) -> aws.s3.Bucket:
        """Target of S3 server access logs (SSE-S3: log delivery cannot use SSE-KMS)."""
        child = pulumi.ResourceOptions(parent=self)
        logs = aws.s3.Bucket(
            f"{name}-access-logs",
            force_destroy=not ctx.preset.deletion_protection,
            tags=ctx.tags,
            opts=ctx.stateful(self),
        )
        block = self._make_private(f"{name}-access-logs", logs)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-access-logs-encryption",
            bucket=logs.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-access-logs-lifecycle",
            bucket=logs.id,
            rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"days": ctx.preset.retention.log_days},
                }
            ],
            opts=child,
        )
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        aws.s3.BucketPolicy(
            f"{name}-access-logs-policy",
            bucket=logs.id,
            policy=policy.document(
                {
                    "Sid": "AllowS3ServerAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": pulumi.Output.concat(logs.arn, "/*"),
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": source.arn},
                        "StringEquals": {"aws:SourceAccount": account_id.account_id},
                    },
                },
                policy.deny_insecure_transport(logs.arn),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[block]),
        )
        aws.s3.BucketLogging(
            f"{name}-access-logging",
            bucket=source.id,
            target_bucket=logs.id,
            target_prefix=pulumi.Output.concat(source.bucket, "/"),
            opts=child,
        )
        return logs
