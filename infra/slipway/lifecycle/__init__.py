"""Lifecycle machinery every Slipway project shares: tracking, gate, registry aliases,
lineage, approval, evaluation record and model card.

See docs/lifecycle.md. Needs the ``ml`` extra (mlflow, pandera, ...).
"""

from slipway.lifecycle.approval import Approval, check_approval
from slipway.lifecycle.card import CARD_ARTIFACT, markdown_card, sagemaker_card_content
from slipway.lifecycle.config import StrictModel, load_config
from slipway.lifecycle.errors import GateRejected, LifecycleError, from_schema_error
from slipway.lifecycle.evaluation import (
    REPORT_ARTIFACT,
    EvaluationReport,
    GroupMetrics,
    Importance,
    load_report,
)
from slipway.lifecycle.gate import Champion, GateFailure, GateResult, check_gate
from slipway.lifecycle.lineage import (
    DataVersion,
    Inputs,
    code_sha256,
    config_sha256,
    file_sha256,
    git_commit,
    trained_by,
    training_tags,
)
from slipway.lifecycle.progress import StepProgress
from slipway.lifecycle.registry import (
    CHALLENGER,
    CHAMPION,
    COMPARED_TAG,
    AliasMove,
    candidate,
    model_uri,
    promote,
    register_challenger,
    require_alias,
    rollback,
    unchanged_version,
    version_by_alias,
)
from slipway.lifecycle.tracking import Tracking, configure_tracking, use_experiment

__all__ = [
    "CARD_ARTIFACT",
    "CHALLENGER",
    "CHAMPION",
    "COMPARED_TAG",
    "REPORT_ARTIFACT",
    "AliasMove",
    "Approval",
    "Champion",
    "DataVersion",
    "EvaluationReport",
    "GateFailure",
    "GateRejected",
    "GateResult",
    "GroupMetrics",
    "Importance",
    "Inputs",
    "LifecycleError",
    "StepProgress",
    "StrictModel",
    "Tracking",
    "candidate",
    "check_approval",
    "check_gate",
    "code_sha256",
    "config_sha256",
    "configure_tracking",
    "file_sha256",
    "from_schema_error",
    "git_commit",
    "load_config",
    "load_report",
    "markdown_card",
    "model_uri",
    "promote",
    "register_challenger",
    "require_alias",
    "rollback",
    "sagemaker_card_content",
    "trained_by",
    "training_tags",
    "unchanged_version",
    "use_experiment",
    "version_by_alias",
]
