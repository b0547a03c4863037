"""Model packages: register in the group (PendingManualApproval), approve with approver."""

from __future__ import annotations

from typing import Any

from slipway.deploy.artifact import ExportedModel
from slipway.deploy.errors import DeployError

APPROVER_KEY = "approved-by"


def register_package(sagemaker: Any, group: str, model: ExportedModel, image_uri: str) -> str:
    """Create a model package awaiting manual approval; return its ARN."""
    return str(
        sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelPackageDescription=f"{model.name} version {model.version} (sha256 {model.sha256})",
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": image_uri, "ModelDataUrl": model.uri}],
                "SupportedContentTypes": ["text/csv", "application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            CustomerMetadataProperties={
                "mlflow-model": model.name,
                "mlflow-version": model.version,
            },
        )["ModelPackageArn"]
    )


def approve_package(sagemaker: Any, package_arn: str, approver: str) -> None:
    """Approve the package and record who did it."""
    if not approver.strip():
        raise DeployError("approved_by", "must name who approves the package")
    sagemaker.update_model_package(
        ModelPackageArn=package_arn,
        ModelApprovalStatus="Approved",
        ApprovalDescription=f"approved by {approver}",
        CustomerMetadataProperties={APPROVER_KEY: approver},
    )


def require_approved(sagemaker: Any, package_arn: str) -> dict[str, Any]:
    package: dict[str, Any] = sagemaker.describe_model_package(ModelPackageName=package_arn)
    if package.get("ModelApprovalStatus") != "Approved":
        raise DeployError(
            "model package", f"{package_arn} is {package.get('ModelApprovalStatus')}, not Approved"
        )
    return package
