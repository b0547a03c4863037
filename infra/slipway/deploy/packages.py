"""Model packages: register in the group (PendingManualApproval), approve with the
approval on record, and refuse to deploy one that a person should have approved but did not.

Every package carries the MLflow model and its approval (who, which kind, when, after which
evaluation, who trained it) as customer metadata, sent whole with both the create and the
approve call (AWS merges UpdateModelPackage metadata into the package's, moto replaces it:
either way the package ends with the full set). Outside dev (``needs_human``) a package
approved only by the automated gate, or by the person who trained the model, is refused.
"""

from __future__ import annotations

from typing import Any

from slipway.deploy.artifact import ExportedModel
from slipway.deploy.errors import DeployError
from slipway.lifecycle.approval import AUTOMATED, HUMAN, Approval, check_approval
from slipway.lifecycle.errors import LifecycleError

APPROVER_KEY = "approved-by"
KIND_KEY = "approval-kind"
AT_KEY = "approved-at"
EVALUATION_KEY = "approved-evaluation"
TRAINER_KEY = "trained-by"


def package_metadata(model: ExportedModel, approval: Approval, trained_by: str) -> dict[str, str]:
    return {
        "mlflow-model": model.name,
        "mlflow-version": model.version,
        APPROVER_KEY: approval.by,
        KIND_KEY: approval.kind,
        AT_KEY: approval.at,
        EVALUATION_KEY: approval.evaluation,
        TRAINER_KEY: trained_by,
    }


def register_package(
    sagemaker: Any, group: str, model: ExportedModel, image_uri: str, metadata: dict[str, str]
) -> str:
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
            CustomerMetadataProperties=metadata,
        )["ModelPackageArn"]
    )


def approve_package(sagemaker: Any, package_arn: str, metadata: dict[str, str]) -> None:
    """Approve the package with the approval on record (``metadata``: package_metadata)."""
    if not metadata.get(APPROVER_KEY, "").strip():
        raise DeployError("approved_by", "must name who approves the package")
    sagemaker.update_model_package(
        ModelPackageArn=package_arn,
        ModelApprovalStatus="Approved",
        ApprovalDescription=(
            f"{metadata[KIND_KEY]} approval by {metadata[APPROVER_KEY]} at {metadata[AT_KEY]} "
            f"after evaluation {metadata[EVALUATION_KEY]}"
        )[:1024],
        CustomerMetadataProperties=metadata,
    )


def package_approval(package: dict[str, Any]) -> Approval | None:
    """The approval a described package records (None: none recorded)."""
    meta = package.get("CustomerMetadataProperties") or {}
    if APPROVER_KEY not in meta:
        return None
    kind = HUMAN if meta.get(KIND_KEY) == HUMAN else AUTOMATED
    return Approval(meta[APPROVER_KEY], kind, meta.get(AT_KEY, ""), meta.get(EVALUATION_KEY, ""))


def require_approved(sagemaker: Any, package_arn: str, needs_human: bool) -> dict[str, Any]:
    """The package, if SageMaker has it Approved and (``needs_human``) a person other than
    the trainer approved it; otherwise a refusal naming why."""
    package: dict[str, Any] = sagemaker.describe_model_package(ModelPackageName=package_arn)
    if package.get("ModelApprovalStatus") != "Approved":
        raise DeployError(
            "model package", f"{package_arn} is {package.get('ModelApprovalStatus')}, not Approved"
        )
    trainer = (package.get("CustomerMetadataProperties") or {}).get(TRAINER_KEY, "")
    try:
        check_approval(package_approval(package), trainer, needs_human, "model package")
    except LifecycleError as exc:
        raise DeployError(exc.field, f"{package_arn}: {exc.rule}") from None
    return package
