"""KMS on every store: the stores' own settings, and key rotation (resource policies)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pulumi_policy import ResourceValidationArgs

from slipway.deploy import rules
from slipway.policies.base import ADVISORY, as_list, resource_policy

KEY = "aws:kms/key:Key"
RDS = "aws:rds/instance:Instance"
ECR = "aws:ecr/repository:Repository"
EKS_COMPONENT = "eks:index:Cluster"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
ENDPOINT = rules.ENDPOINT_COMPONENT
TOPIC = "aws:sns/topic:Topic"


def _get(props: Mapping[str, object], *path: str) -> object:
    value: object = props
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _stores(args: ResourceValidationArgs) -> Iterator[str]:
    props, type_ = args.props, args.resource_type
    if type_ == RDS:
        if props.get("storageEncrypted") is not True or not props.get("kmsKeyId"):
            yield "RDS storage is not encrypted with a KMS key (storage_encrypted, kms_key_id)"
    elif type_ == ECR:
        configs = as_list(props.get("encryptionConfigurations"))
        if not any(c.get("encryptionType") == "KMS" and c.get("kmsKey") for c in configs):
            yield "ECR images are not encrypted with a KMS key (encryption_configurations)"
    elif type_ == EKS_COMPONENT:
        if not props.get("encryptionConfigKeyArn"):
            yield "Kubernetes Secrets are not encrypted with a KMS key (encryption_config_key_arn)"
    elif type_ == EKS_CLUSTER:
        configs = as_list(props.get("encryptionConfig"))
        if not any(
            _get(c, "provider", "keyArn") and "secrets" in as_list(c.get("resources"))
            for c in configs
        ):
            yield "Kubernetes Secrets are not encrypted with a KMS key (encryption_config)"
    elif type_ == ENDPOINT:
        yield from rules.unencrypted(props)


def _rotation(args: ResourceValidationArgs) -> Iterator[str]:
    spec = args.props.get("customerMasterKeySpec") or args.props.get("keySpec")
    if spec in (None, "SYMMETRIC_DEFAULT") and args.props.get("enableKeyRotation") is not True:
        yield "automatic rotation is off (enable_key_rotation)"


def _topic(args: ResourceValidationArgs) -> Iterator[str]:
    if not args.props.get("kmsMasterKeyId"):
        yield "messages are not encrypted with a KMS key (kms_master_key_id)"


POLICIES = [
    resource_policy(
        "stores-encrypted-with-kms",
        "Data stores encrypt with a KMS key: RDS, ECR, Kubernetes Secrets, and in the serving "
        "spec (slipway:aws:Endpoint) SageMaker endpoint volumes and data capture, Model "
        "Monitor outputs and volumes.",
        (RDS, ECR, EKS_COMPONENT, EKS_CLUSTER, ENDPOINT),
        _stores,
        remediation="Pass the project key (ArtifactStore.kms_key_arn) to the store.",
    ),
    resource_policy(
        "kms-keys-rotate",
        "Symmetric KMS keys rotate automatically.",
        (KEY,),
        _rotation,
        remediation="Set enable_key_rotation=True.",
    ),
    resource_policy(
        "sns-topics-encrypted-with-kms",
        "SNS topics encrypt messages with a KMS key. Advisory: the alarm topic needs a "
        "customer key whose policy lets CloudWatch publish (slipway.aws.Monitoring does not "
        "yet), so this warns rather than blocks.",
        (TOPIC,),
        _topic,
        enforcement=ADVISORY,
        remediation="Set kms_master_key_id to a customer key whose key policy allows "
        "cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*.",
    ),
]
