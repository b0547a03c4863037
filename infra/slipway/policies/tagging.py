"""Every taggable resource carries the stack's tags (cost allocation, ownership)."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterator
from functools import cache

from pulumi_policy import ResourceValidationArgs

from slipway.policies.base import inside_remote_component, resource_policy

# pulumi-eks components whose ``tags`` input tags what they create (pulumi-eks passes
# ``tags`` to its service roles, addons and the cluster: nodejs/eks/cluster/cluster.ts).
TAGGED_COMPONENTS = ("eks:index:Cluster", "eks:index:ManagedNodeGroup")
MANAGED_BY = "slipway"


@cache
def is_taggable(type_: str) -> bool:
    """Whether the resource behind a type token accepts ``tags`` (pulumi_aws classes, and
    the pulumi-eks components that pass their tags on)."""
    if type_ in TAGGED_COMPONENTS:
        return True
    if not type_.startswith("aws:"):
        return False
    module, _, class_name = type_.split(":", 1)[1].partition(":")
    with warnings.catch_warnings():  # pulumi_aws warns on its deprecated classes
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            package = importlib.import_module(f"pulumi_aws.{module.split('/')[0]}")
        except ImportError:
            return False
        return hasattr(getattr(package, class_name, None), "tags")


def expected_tags(owner: str | None = None) -> dict[str, str | None]:
    """The tags ``slipway.aws.StackContext`` writes; ``None``: any non-empty value."""
    import pulumi

    return {
        "project": pulumi.get_project(),
        "environment": pulumi.get_stack(),
        "owner": owner,
        "managed-by": MANAGED_BY,
    }


def _tagged(args: ResourceValidationArgs) -> Iterator[str]:
    creator = inside_remote_component(args.urn)
    if creator:
        args.not_applicable(f"created inside {creator}, whose own tags this policy checks")
    tags = args.props.get("tags") or {}
    for key, value in expected_tags().items():
        found = tags.get(key)
        if not found or (value is not None and found != value):
            yield f"tag {key} is {found!r}, expected {value or 'a value'!r}"


POLICIES = [
    resource_policy(
        "resources-tagged",
        "Taggable resources carry the tags project, environment (the stack), owner and "
        "managed-by=slipway.",
        is_taggable,
        _tagged,
        remediation="Pass StackContext.tags as the resource's tags.",
    ),
]
