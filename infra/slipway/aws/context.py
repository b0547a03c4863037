"""Who and where a stack is: names, the standard tags and the stateful-resource options."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi

from slipway.presets import Preset

# AWS tag values: letters, digits, spaces and _ . : / = + - @, at most 256 characters.
TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{1,256}$")
NAME = re.compile(r"^[a-z][a-z0-9-]{0,47}$")


@dataclass(frozen=True)
class StackContext:
    """One stack of one project: the context every component is built in."""

    project: str
    """Pulumi project name (lowercase letters, digits, hyphens; at most 48 characters)."""
    """Pulumi project name (lowercase letters, digits, hyphens; at most 48 characters)."""
    environment: str
    """Stack name, e.g. ``dev`` (same rule as ``project``)."""
    """Stack name, e.g. ``dev`` (same rule as ``project``)."""
    owner: str
    """Team or person, tagged ``owner`` on every resource (an AWS tag value)."""
    """Team or person, tagged ``owner`` on every resource (an AWS tag value)."""
    preset: Preset
    """Environment defaults (sizes, retention, alarms, protection) from ``stacks/*.yaml``."""
    """Environment defaults (sizes, retention, alarms, protection) from ``stacks/*.yaml``."""
    permissions_boundary: pulumi.Input[str] | None = None
    """Default ``None``. The permissions boundary every role of the stack carries
    (``Roles.context`` sets it when GitHub Actions deploy the stack)."""

    def __post_init__(self) -> None:
        for field, value in (("project", self.project), ("environment", self.environment)):
            if not NAME.match(value):
                raise ValueError(
                    f"{field}: must be lowercase letters, digits and hyphens, starting with a "
                    f"letter, at most 48 characters (got {value!r})"
                )
        if not TAG_VALUE.match(self.owner):
            raise ValueError(
                "owner: must be 1-256 letters, digits, spaces or _ . : / = + - @ "
                f"(an AWS tag value) (got {self.owner!r})"
            )

    @property
    def prefix(self) -> str:
        """Prefix of every resource name of this stack, e.g. ``churn-model-dev``."""
        return f"{self.project}-{self.environment}"

    @property
    def tags(self) -> dict[str, str]:
        return {
            "project": self.project,
            "environment": self.environment,
            "owner": self.owner,
            "managed-by": "slipway",
        }

    def stateful(self, parent: pulumi.Resource) -> pulumi.ResourceOptions:
        """Options of resources holding data: protected and retained when the preset says so."""
        keep = self.preset.deletion_protection
        return pulumi.ResourceOptions(parent=parent, protect=keep, retain_on_delete=keep)
