"""Lifecycle machinery every Slipway project shares: tracking, gate, registry aliases,
lineage, approval, evaluation record and model card.

See docs/lifecycle.md. Needs the ``ml`` extra (mlflow, pandera, ...).

Only the errors load with the package; every other name loads its module on first use
(mlflow alone is ~2 s): a project CLI's ``--help`` never pays for what it does not run.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from slipway.lifecycle.errors import GateRejected, LifecycleError, from_schema_error

if TYPE_CHECKING:
    from slipway.lifecycle.approval import Approval, check_approval
    from slipway.lifecycle.card import CARD_ARTIFACT, markdown_card, sagemaker_card_content
    from slipway.lifecycle.config import StrictModel, load_config
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

_LAZY = {
    "Approval": "approval",
    "check_approval": "approval",
    "CARD_ARTIFACT": "card",
    "markdown_card": "card",
    "sagemaker_card_content": "card",
    "StrictModel": "config",
    "load_config": "config",
    "REPORT_ARTIFACT": "evaluation",
    "EvaluationReport": "evaluation",
    "GroupMetrics": "evaluation",
    "Importance": "evaluation",
    "load_report": "evaluation",
    "Champion": "gate",
    "GateFailure": "gate",
    "GateResult": "gate",
    "check_gate": "gate",
    "DataVersion": "lineage",
    "Inputs": "lineage",
    "code_sha256": "lineage",
    "config_sha256": "lineage",
    "file_sha256": "lineage",
    "git_commit": "lineage",
    "trained_by": "lineage",
    "training_tags": "lineage",
    "StepProgress": "progress",
    "CHALLENGER": "registry",
    "CHAMPION": "registry",
    "COMPARED_TAG": "registry",
    "AliasMove": "registry",
    "candidate": "registry",
    "model_uri": "registry",
    "promote": "registry",
    "register_challenger": "registry",
    "require_alias": "registry",
    "rollback": "registry",
    "unchanged_version": "registry",
    "version_by_alias": "registry",
    "Tracking": "tracking",
    "configure_tracking": "tracking",
    "use_experiment": "tracking",
}


def __getattr__(name: str) -> Any:
    """Import the mlflow-backed names on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


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
