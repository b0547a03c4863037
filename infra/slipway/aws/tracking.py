"""Tracking: SageMaker managed MLflow, wired to the artifact store and the execution role.

The preset chooses the flavor (docs/tracking-cost.md): ``mlflow_app`` (serverless, no
idle hourly charge) or ``tracking_server`` (sized by ``tracking_server_size``, billed
per hour). The tracking URI is the resource ARN, which the ``sagemaker-mlflow`` plugin
accepts as ``MLFLOW_TRACKING_URI``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from slipway.aws.context import StackContext


@dataclass(frozen=True)
class TrackingArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    artifact_store_uri: pulumi.Input[str]
    """Where MLflow keeps artifacts: ``ArtifactStore.uri("mlflow")``."""
    role_arn: pulumi.Input[str]
    """Role SageMaker's MLflow assumes: ``Roles.execution_role_arn``."""


class Tracking(pulumi.ComponentResource):
    """Outputs: tracking_uri (ARN), ui_url (tracking server only)."""

    tracking_uri: pulumi.Output[str]
    ui_url: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: TrackingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:aws:Tracking", name, None, opts)
        ctx = args.context
        sagemaker = ctx.preset.sagemaker
        common: dict[str, Any] = {
            "artifact_store_uri": args.artifact_store_uri,
            "role_arn": args.role_arn,
            "tags": ctx.tags,
            "opts": pulumi.ResourceOptions(parent=self),
        }
        self.ui_url = None
        if sagemaker.tracking == "tracking_server":
            server = aws.sagemaker.MlflowTrackingServer(
                f"{name}-server",
                tracking_server_name=f"{ctx.prefix}-mlflow",
                tracking_server_size=sagemaker.tracking_server_size,
                automatic_model_registration=False,  # see docs/components.md
                **common,
            )
            self.tracking_uri = server.arn
            self.ui_url = server.tracking_server_url
        else:
            app = aws.sagemaker.MlflowApp(f"{name}-app", name=f"{ctx.prefix}-mlflow", **common)
            self.tracking_uri = app.arn
        self.register_outputs({"tracking_uri": self.tracking_uri, "ui_url": self.ui_url})
