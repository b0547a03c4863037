"""Serve Slipway's policies to the Pulumi CLI (``pulumi preview --policy-pack <this dir>``).

The directory holds only this file and PulumiPolicy.yaml: the CLI puts it first on
``sys.path``, so any other module here would shadow one of the same name.
"""

from pulumi_policy import EnforcementLevel, PolicyPack
from slipway.policies import PACK_NAME, pack_policies

PolicyPack(
    name=PACK_NAME,
    policies=pack_policies(),
    enforcement_level=EnforcementLevel.MANDATORY,
)
