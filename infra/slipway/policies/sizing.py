"""Sizes within the preset's allowed list (cost) and endpoint features AWS supports."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pulumi_policy import ResourceValidationArgs

from slipway.policies.base import as_list, resource_policy, stack_preset

ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
DATA_QUALITY = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
NODE_GROUPS = ("eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup")
RDS = "aws:rds/instance:Instance"


def _sizes(args: ResourceValidationArgs) -> tuple[list[str | None], tuple[str, ...], str]:
    """(chosen sizes, allowed sizes, preset key that lists them)."""
    preset = stack_preset(args)
    props, type_ = args.props, args.resource_type
    if type_ == ENDPOINT_CONFIG:
        chosen = [v.get("instanceType") for v in as_list(props.get("productionVariants"))]
    elif type_ == DATA_QUALITY:
        cluster = (props.get("jobResources") or {}).get("clusterConfig") or {}
        chosen = [cluster.get("instanceType")]
    elif type_ == RDS:
        return [props.get("instanceClass")], preset.eks.allowed_instance_types, "eks"
    else:
        return list(as_list(props.get("instanceTypes"))), preset.eks.allowed_instance_types, "eks"
    return chosen, preset.sagemaker.allowed_instance_types, "sagemaker"


def _allowed(args: ResourceValidationArgs) -> Iterator[str]:
    chosen, allowed, section = _sizes(args)
    for size in chosen:
        if size and size not in allowed:
            yield (
                f"{size} is not in the preset's {section}.allowed_instance_types "
                f"({', '.join(allowed)})"
            )


def _serverless_capture(args: ResourceValidationArgs) -> Iterator[str]:
    variants = as_list(args.props.get("productionVariants"))
    capture = args.props.get("dataCaptureConfig")
    if any(v.get("serverlessConfig") for v in variants) and isinstance(capture, Mapping):
        yield "data capture on a serverless endpoint (AWS does not support it)"


POLICIES = [
    resource_policy(
        "instance-types-allowed",
        "Endpoints, monitoring jobs, EKS nodes and databases use the instance types the "
        "stack preset allows.",
        (ENDPOINT_CONFIG, DATA_QUALITY, RDS, *NODE_GROUPS),
        _allowed,
        remediation="Pick a size from the preset's allowed_instance_types, or add it there "
        "(stacks/<preset>.yaml) through review.",
    ),
    resource_policy(
        "serverless-endpoints-without-capture",
        "Serverless SageMaker endpoints declare no data capture.",
        (ENDPOINT_CONFIG,),
        _serverless_capture,
        remediation="Drop data_capture_config, or serve on instances (endpoint: realtime).",
    ),
]
