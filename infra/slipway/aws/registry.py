"""Registry: the SageMaker model package group that holds the project's approved models.

See docs/components.md for how it relates to the MLflow registry used locally.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from slipway.aws.context import StackContext


@dataclass(frozen=True)
class RegistryArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""


class Registry(pulumi.ComponentResource):
    """Outputs: group_name, group_arn."""

    group_name: pulumi.Output[str]
    group_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:aws:Registry", name, None, opts)
        ctx = args.context
        group = aws.sagemaker.ModelPackageGroup(
            f"{name}-group",
            model_package_group_name=f"{ctx.prefix}-models",
            model_package_group_description=f"Approved models of {ctx.project} ({ctx.environment})",
            tags=ctx.tags,
            opts=ctx.stateful(self),
        )
        self.group_name = group.model_package_group_name
        self.group_arn = group.arn
        self.register_outputs({"group_name": self.group_name, "group_arn": self.group_arn})
