"""Sizes within the preset's allowed list (cost) and endpoint features AWS supports."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pulumi_policy import ResourceValidationArgs

from slipway.deploy import rules
from slipway.policies.base import as_list, resource_policy, stack_preset

ENDPOINT = rules.ENDPOINT_COMPONENT
NODE_GROUPS = ("eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup")
RDS = "aws:rds/instance:Instance"


def _sizes(args: ResourceValidationArgs) -> tuple[Sequence[str | None], Sequence[str], str]:
    """(chosen sizes, allowed sizes, preset key that lists them)."""
    preset = stack_preset(args)
    props, type_ = args.props, args.resource_type
    if type_ == ENDPOINT:
        return rules.instance_types(props), preset.sagemaker.allowed_instance_types, "sagemaker"
    if type_ == RDS:
        return [props.get("instanceClass")], preset.eks.allowed_instance_types, "eks"
    return list(as_list(props.get("instanceTypes"))), preset.eks.allowed_instance_types, "eks"


def _allowed(args: ResourceValidationArgs) -> Iterator[str]:
    yield from rules.outside(*_sizes(args))


def _serverless_capture(args: ResourceValidationArgs) -> Iterator[str]:
    yield from rules.serverless_capture(args.props)


POLICIES = [
    resource_policy(
        "instance-types-allowed",
        "Endpoints and monitoring jobs (the serving spec), EKS nodes and databases use the "
        "instance types the stack preset allows.",
        (ENDPOINT, RDS, *NODE_GROUPS),
        _allowed,
        remediation="Pick a size from the preset's allowed_instance_types, or add it there "
        "(stacks/<preset>.yaml) through review.",
    ),
    resource_policy(
        "serverless-endpoints-without-capture",
        "Serverless SageMaker endpoints declare no data capture (the serving spec).",
        (ENDPOINT,),
        _serverless_capture,
        remediation="Drop data_capture, or serve on instances (endpoint: realtime).",
    ),
]
