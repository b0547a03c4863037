"""Slipway's policy pack: the security and cost rules of a Slipway stack, as Pulumi
CrossGuard policies that ``pulumi preview`` and ``pulumi up`` enforce.

``pack_policies()`` is what the pack (``slipway/policy_pack``) serves: the built-in
``POLICIES`` plus those of installed plugins, distributions that declare an entry point in
the group ``slipway.policies`` naming a list of pulumi-policy policies
(docs/platform-teams.md). ``slipway.policies.offline`` runs them on a program run under
mocks, through pulumi-policy's own analyzer, as the CLI does.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

from pulumi_policy import Policy

from slipway.policies import (
    buckets,
    encryption,
    identity,
    network,
    protection,
    sizing,
    tagging,
    workloads,
)

PACK_NAME = "slipway"
PACK_DIR = Path(__file__).resolve().parents[1] / "policy_pack"
"""The policy pack directory (PulumiPolicy.yaml): ``pulumi preview --policy-pack <it>``."""
PLUGIN_GROUP = "slipway.policies"

POLICIES: list[Policy] = [
    *buckets.POLICIES,
    *encryption.POLICIES,
    *identity.POLICIES,
    *network.POLICIES,
    *protection.POLICIES,
    *sizing.POLICIES,
    *tagging.POLICIES,
    *workloads.POLICIES,
]


class PluginError(RuntimeError):
    """A ``slipway.policies`` entry point does not name a list of policies."""


def plugin_policies() -> list[Policy]:
    """Policies of every installed ``slipway.policies`` entry point, in name order."""
    found: list[Policy] = []
    for point in sorted(entry_points(group=PLUGIN_GROUP), key=lambda p: p.name):
        loaded = point.load()
        policies = list(loaded) if isinstance(loaded, list | tuple) else None
        if not policies or not all(isinstance(p, Policy) for p in policies):
            raise PluginError(
                f"entry point {point.name} = {point.value} ({PLUGIN_GROUP}): must name a "
                "non-empty list of pulumi_policy policies"
            )
        found.extend(policies)
    return found


def pack_policies() -> list[Policy]:
    """Built-in and plugin policies; a name used twice is refused."""
    policies = [*POLICIES, *plugin_policies()]
    seen: set[str] = set()
    for policy in policies:
        if policy.name in seen:
            raise PluginError(f"policy {policy.name}: defined twice in the pack")
        seen.add(policy.name)
    return policies
