"""What the infra stack exported, as the deploy runtime needs it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slipway.deploy.errors import DeployError
from slipway.deploy.spec import ServingSpec

REQUIRED = (
    "bucketName",
    "kmsKeyArn",
    "modelPackageGroupName",
    "inferenceRoleArn",
    "endpointName",
    "serving",
)
# Presets whose stacks take a model the automated gate approved; on any other (or unknown)
# preset, a person must have approved it (slipway.lifecycle.approval).
AUTOMATED_APPROVAL_PRESETS = ("dev",)


@dataclass(frozen=True)
class StackOutputs:
    bucket: str
    kms_key_arn: str
    group: str
    role_arn: str
    endpoint: str
    serving: ServingSpec
    repository: str = ""
    """``modelRepositoryUrl``: the stack's ECR repository of the serving image."""
    preset: str = ""
    """``preset``: the stack's slipway preset (dev, staging, prod)."""

    @property
    def needs_human_approval(self) -> bool:
        """Outside dev a person approves what is deployed (an unknown preset counts as not dev)."""
        return self.preset not in AUTOMATED_APPROVAL_PRESETS

    @classmethod
    def from_mapping(cls, outputs: dict[str, Any]) -> StackOutputs:
        missing = [key for key in REQUIRED if not outputs.get(key)]
        if missing:
            raise DeployError(
                "stack outputs", f"missing {', '.join(missing)} (is this a sagemaker stack?)"
            )
        return cls(
            bucket=str(outputs["bucketName"]),
            kms_key_arn=str(outputs["kmsKeyArn"]),
            group=str(outputs["modelPackageGroupName"]),
            role_arn=str(outputs["inferenceRoleArn"]),
            endpoint=str(outputs["endpointName"]),
            serving=ServingSpec.from_value(outputs["serving"]),
            repository=str(outputs.get("modelRepositoryUrl") or ""),
            preset=str(outputs.get("preset") or ""),
        )

    @classmethod
    def from_file(cls, path: Path) -> StackOutputs:
        """``pulumi stack output --json > FILE`` (or the sandbox's outputs.json)."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise DeployError("--outputs", f"{path}: not a readable JSON file ({exc})") from None
        return cls.from_mapping(data)
