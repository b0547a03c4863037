"""Tracking: SageMaker managed MLflow, wired to the artifact store and the execution role.

The preset chooses the flavor (docs/tracking-cost.md): ``mlflow_app`` (serverless, no
idle hourly charge) or ``tracking_server`` (sized by ``tracking_server_size``, billed
per hour). The tracking URI is the resource ARN, which the ``sagemaker-mlflow`` plugin
accepts as ``MLFLOW_TRACKING_URI`` (it describes the server or app for its URL, then signs
each MLflow REST call).

``clients`` are the roles that call this stack's MLflow and nothing else's: each gets an
inline policy naming this server's or app's ARN. A tracking server authorizes each MLflow
call as ``sagemaker-mlflow:<Call>``; an MLflow App every call as ``sagemaker:CallMlflowAppApi``
("Actions defined by Amazon SageMaker with MLflow" and "... Amazon SageMaker AI", service
authorization reference). An App's ARN carries a random id, so only a policy created after
it can name it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from slipway.aws import policy
from slipway.aws.context import StackContext

Access = Literal["read", "write", "manage"]
# What each access allows on a tracking server (MLflow calls) or an App.
SERVER_ACTIONS: dict[str, list[str]] = {
    "read": [
        "sagemaker:DescribeMlflowTrackingServer",
        "sagemaker-mlflow:Get*",
        "sagemaker-mlflow:List*",
        "sagemaker-mlflow:Search*",
    ],
    "write": ["sagemaker:DescribeMlflowTrackingServer", "sagemaker-mlflow:*"],
}
APP_ACTIONS: dict[str, list[str]] = {
    "read": ["sagemaker:DescribeMlflowApp", "sagemaker:CallMlflowAppApi"],
    "write": ["sagemaker:DescribeMlflowApp", "sagemaker:CallMlflowAppApi"],
    "manage": [
        "sagemaker:DescribeMlflowApp",
        "sagemaker:CallMlflowAppApi",
        "sagemaker:UpdateMlflowApp",
        "sagemaker:DeleteMlflowApp",
        "sagemaker:CreatePresignedMlflowAppUrl",
        "sagemaker:AddTags",
        "sagemaker:DeleteTags",
        "sagemaker:ListTags",
    ],
}


@dataclass(frozen=True)
class TrackingClient:
    """A role that uses the stack's MLflow: ``read`` (the drift check), ``write`` (log runs,
    register models) or ``manage`` (write, and update or delete an App: the deploy role)."""

    name: str
    """Logical name of the grant, e.g. ``deploy``."""
    role_arn: pulumi.Input[str]
    access: Access


@dataclass(frozen=True)
class TrackingArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    artifact_store_uri: pulumi.Input[str]
    """Where MLflow keeps artifacts: ``ArtifactStore.uri("mlflow")``."""
    role_arn: pulumi.Input[str]
    """Role SageMaker's MLflow assumes: ``Roles.execution_role_arn``."""
    clients: Sequence[TrackingClient] = ()
    """Default none. Roles that call this MLflow (``Roles.deploy_role_arn`` ...)."""


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
        server = sagemaker.tracking == "tracking_server"
        for client in args.clients:
            # a tracking server's lifecycle is the deploy role's by name (ProjectSageMaker)
            actions = (SERVER_ACTIONS if server else APP_ACTIONS)[
                "write" if server and client.access == "manage" else client.access
            ]
            aws.iam.RolePolicy(
                f"{name}-{client.name}-mlflow",
                role=pulumi.Output.from_input(client.role_arn).apply(
                    lambda arn: arn.rsplit("/", 1)[-1]
                ),
                policy=policy.document(
                    {
                        "Sid": "UseStackMlflow",
                        "Effect": "Allow",
                        "Action": actions,
                        "Resource": self.tracking_uri,
                    }
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"tracking_uri": self.tracking_uri, "ui_url": self.ui_url})
