"""Stack config a test supplies the way a user would before `pulumi up`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# RFC 5737 TEST-NET-3: stands for the deployer's network, which slipway:apiAccessCidrs
# requires on EKS stacks (docs/eks.md#api-access); the generated files leave it unset.
API_ACCESS = ["203.0.113.0/24"]
# A pushed project image (unset in the generated files until the first push): the model
# server's on EKS, and on both flavors the training and batch steps' (no pipeline, CronJob
# or retrain wiring is declared without it).
IMAGE_TAG = "0.1.0"


def configure_eks(infra: Path, **values: Any) -> Path:
    """Write ``slipway:<key>`` values into every EKS stack file of ``infra``: by default the
    API access and image tag of a stack whose first image is pushed; a ``None`` removes a key."""
    values = {"apiAccessCidrs": API_ACCESS, "modelImageTag": IMAGE_TAG, **values}
    for stack_file in sorted(Path(infra).glob("Pulumi.*.yaml")):
        document = yaml.safe_load(stack_file.read_text())
        config = document.get("config") or {}
        if config.get("slipway:compute") != "eks":
            continue
        for key, value in values.items():
            if value is None:
                config.pop(f"slipway:{key}", None)
            else:
                config[f"slipway:{key}"] = value
        stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
    return Path(infra)


def configure_image(infra: Path, tag: str | None = IMAGE_TAG) -> Path:
    """``slipway:modelImageTag`` in every stack file of ``infra`` (both flavors), as after the
    first image push; ``None`` removes it (the bootstrap ``up``). EKS stacks also get the API
    access ``configure_eks`` writes."""
    configure_eks(infra, modelImageTag=tag)
    for stack_file in sorted(Path(infra).glob("Pulumi.*.yaml")):
        document = yaml.safe_load(stack_file.read_text())
        config = document.get("config") or {}
        if config.get("slipway:compute") == "eks":
            continue
        if tag is None:
            config.pop("slipway:modelImageTag", None)
        else:
            config["slipway:modelImageTag"] = tag
        document["config"] = config
        stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
    return Path(infra)
