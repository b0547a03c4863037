"""Lifecycle machinery every Slipway project shares: tracking, gate, registry aliases, lineage.

See docs/lifecycle.md. Needs the ``ml`` extra (mlflow, pandera, ...).

Only the errors load with the package; every other name loads its module on first use
(mlflow alone is ~2 s): a project CLI's ``--help`` never pays for what it does not run.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from slipway.lifecycle.errors import GateRejected, LifecycleError, from_schema_error

if TYPE_CHECKING:
    from slipway.lifecycle.config import StrictModel, load_config
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

_LAZY = {
    "StrictModel": "config",
    "load_config": "config",
    "GateFailure": "gate",
    "GateResult": "gate",
    "check_gate": "gate",
    "approval_tags": "lineage",
    "file_sha256": "lineage",
    "git_commit": "lineage",
    "training_tags": "lineage",
    "StepProgress": "progress",
    "CHALLENGER": "registry",
    "CHAMPION": "registry",
    "AliasMove": "registry",
    "champion_metrics": "registry",
    "model_uri": "registry",
    "promote": "registry",
    "register_challenger": "registry",
    "require_alias": "registry",
    "rollback": "registry",
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
