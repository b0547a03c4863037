"""Deploy runtime: champion -> model.tar.gz in S3 -> approved model package -> endpoint.

Called by a generated project's CLI and CI (``<package> deploy``); see docs/deploy.md.
Names are imported lazily: ``slipway.deploy.spec`` is read by the Pulumi components too,
which must not pull MLflow in.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "DeployError": "slipway.deploy.errors",
    "Deployed": "slipway.deploy.flow",
    "deploy_champion": "slipway.deploy.flow",
    "StackOutputs": "slipway.deploy.outputs",
    "Rollout": "slipway.deploy.rollout",
    "rollback": "slipway.deploy.rollout",
    "RolledBack": "slipway.deploy.settle",
    "ServingSpec": "slipway.deploy.spec",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'slipway.deploy' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
