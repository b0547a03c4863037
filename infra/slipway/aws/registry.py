"""Registry: the SageMaker model package group that holds the project's approved models.

See docs/components.md for how it relates to the MLflow registry used locally.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from slipway.aws.tags import Deployment


@dataclass(frozen=True)
class RegistryArgs:
    deployment: Deployment


class Registry(pulumi.ComponentResource):
    """Outputs: group_name, group_arn."""

    group_name: pulumi.Output[str]
    group_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:aws:Registry", name, None, opts)
        dep = args.deployment
        group = aws.sagemaker.ModelPackageGroup(
            f"{name}-group",
            model_package_group_name=f"{dep.prefix}-models",
            model_package_group_description=f"Approved models of {dep.project} ({dep.environment})",
            tags=dep.tags,
            opts=dep.stateful(self),
        )
        self.group_name = group.model_package_group_name
        self.group_arn = group.arn
        self.register_outputs({"group_name": self.group_name, "group_arn": self.group_arn})
