"""Lifecycle machinery every Slipway project shares: tracking, gate, registry aliases, lineage.

See docs/lifecycle.md. Needs the ``ml`` extra (mlflow, pandera, ...).
"""

from slipway.lifecycle.config import StrictModel, load_config
from slipway.lifecycle.errors import GateRejected, LifecycleError, from_schema_error
from slipway.lifecycle.gate import GateFailure, GateResult, check_gate
from slipway.lifecycle.lineage import approval_tags, file_sha256, git_commit, training_tags
from slipway.lifecycle.progress import StepProgress
from slipway.lifecycle.registry import (
    CHALLENGER,
    CHAMPION,
    AliasMove,
    champion_metrics,
    model_uri,
    promote,
    register_challenger,
    require_alias,
    rollback,
    version_by_alias,
)
from slipway.lifecycle.tracking import Tracking, configure_tracking, use_experiment

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "AliasMove",
    "GateFailure",
    "GateRejected",
    "GateResult",
    "LifecycleError",
    "StepProgress",
    "StrictModel",
    "Tracking",
    "approval_tags",
    "champion_metrics",
    "check_gate",
    "configure_tracking",
    "file_sha256",
    "from_schema_error",
    "git_commit",
    "load_config",
    "model_uri",
    "promote",
    "register_challenger",
    "require_alias",
    "rollback",
    "training_tags",
    "use_experiment",
    "version_by_alias",
]
