"""Read key properties back from moto and compare them with what the program declared."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from slipway.sandbox.server import AwsClients
from slipway.sandbox.state import Entry


@dataclass(frozen=True)
class Check:
    resource: str
    prop: str
    declared: Any
    actual: Any

    @property
    def ok(self) -> bool:
        return bool(self.declared == self.actual)


def _encryption(aws: AwsClients, entry: Entry) -> Iterator[Check]:
    rule = entry.state["rules"][0]
    default = rule["applyServerSideEncryptionByDefault"]
    got = aws("s3").get_bucket_encryption(Bucket=entry.id)["ServerSideEncryptionConfiguration"]
    actual = got["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    yield Check(entry.name, "sseAlgorithm", default["sseAlgorithm"], actual.get("SSEAlgorithm"))
    yield Check(
        entry.name, "kmsMasterKeyId", default.get("kmsMasterKeyId"), actual.get("KMSMasterKeyID")
    )


def _public_access(aws: AwsClients, entry: Entry) -> Iterator[Check]:
    got = aws("s3").get_public_access_block(Bucket=entry.id)["PublicAccessBlockConfiguration"]
    for key in (
        "blockPublicAcls",
        "ignorePublicAcls",
        "blockPublicPolicy",
        "restrictPublicBuckets",
    ):
        aws_key = key[:1].upper() + key[1:]
        yield Check(entry.name, key, bool(entry.state.get(key)), got.get(aws_key))


def _versioning(aws: AwsClients, entry: Entry) -> Iterator[Check]:
    got = aws("s3").get_bucket_versioning(Bucket=entry.id)
    declared = entry.state["versioningConfiguration"]["status"]
    yield Check(entry.name, "versioningConfiguration.status", declared, got.get("Status"))


def _trust_policy(aws: AwsClients, entry: Entry) -> Iterator[Check]:
    role = aws("iam").get_role(RoleName=entry.id)["Role"]
    document = role["AssumeRolePolicyDocument"]
    actual = json.loads(document) if isinstance(document, str) else document
    yield Check(entry.name, "assumeRolePolicy", json.loads(entry.state["assumeRolePolicy"]), actual)
    if entry.state.get("permissionsBoundary"):
        boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        yield Check(entry.name, "permissionsBoundary", entry.state["permissionsBoundary"], boundary)


def _variants(aws: AwsClients, entry: Entry) -> Iterator[Check]:
    got = aws("sagemaker").describe_endpoint_config(EndpointConfigName=entry.id)
    actual = {v["VariantName"]: v for v in got["ProductionVariants"]}
    for declared in entry.state["productionVariants"]:
        variant = actual.get(declared["variantName"], {})
        prefix = f"productionVariants[{declared['variantName']}]"
        yield Check(
            entry.name, f"{prefix}.modelName", declared["modelName"], variant.get("ModelName")
        )
        if "instanceType" in declared:
            yield Check(
                entry.name,
                f"{prefix}.instanceType",
                declared["instanceType"],
                variant.get("InstanceType"),
            )
        if "serverlessConfig" in declared:
            memory = declared["serverlessConfig"]["memorySizeInMb"]
            yield Check(
                entry.name,
                f"{prefix}.serverlessConfig.memorySizeInMb",
                int(memory),
                variant.get("ServerlessConfig", {}).get("MemorySizeInMB"),
            )


def _endpoint(aws: AwsClients, entry: Entry) -> Iterator[Check]:
    """The configuration the endpoint serves: another one means something outside the
    program changed it, and the next ``pulumi up`` would switch it back."""
    got = aws("sagemaker").describe_endpoint(EndpointName=entry.id)
    declared = entry.state["endpointConfigName"]
    yield Check(entry.name, "endpointConfigName", declared, got["EndpointConfigName"])


READ_BACKS: dict[str, Callable[[AwsClients, Entry], Iterator[Check]]] = {
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        _encryption
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _public_access,
    "aws:s3/bucketVersioning:BucketVersioning": _versioning,
    "aws:iam/role:Role": _trust_policy,
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": _variants,
    "aws:sagemaker/endpoint:Endpoint": _endpoint,
}


def read_back(aws: AwsClients, entries: list[Entry]) -> list[Check]:
    """Every check of every applied resource that has a read-back."""
    checks: list[Check] = []
    for entry in entries:
        reader = READ_BACKS.get(entry.type)
        if reader is not None and entry.in_moto:
            checks.extend(reader(aws, entry))
    return checks
