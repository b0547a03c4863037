"""Keep one test's process-wide state from reaching the next test on the same xdist worker.

MLflow's ``set_tracking_uri``, ``set_registry_uri`` and ``set_experiment`` write environment
variables (so that subprocesses inherit them) besides module globals: a fixture that calls
them leaks both into every later test of its worker unless it undoes them.
"""

from __future__ import annotations

import os

import pytest

MLFLOW_ENV = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID")
# Set by their owners once per process, on purpose; not a test's leak.
PROCESS_ENV = (
    "PYTEST_CURRENT_TEST",  # pytest: the test being run
    "KMP_DUPLICATE_LIB_OK",  # scikit-learn, when first imported (OpenMP runtime settings)
    "KMP_INIT_AT_FORK",
)


def undo_mlflow_globals(patch: pytest.MonkeyPatch) -> None:
    """Clear MLflow's tracking state now and have ``patch`` restore it (environment variables
    and the module globals behind them) when it undoes."""
    import mlflow.tracking._model_registry.utils as registry
    import mlflow.tracking._tracking_service.utils as tracking
    import mlflow.tracking.fluent as fluent

    for name in MLFLOW_ENV:
        patch.setenv(name, "")  # records the value before, or its absence, for the undo
        patch.delenv(name)
    patch.setattr(tracking, "_tracking_uri", None)
    patch.setattr(registry, "_registry_uri", None)
    patch.setattr(fluent, "_active_experiment_id", None)


def leaked_environment(before: dict[str, str]) -> list[str]:
    """Restore ``os.environ`` to ``before`` (but ``PROCESS_ENV``); return what differed."""
    changed = sorted(
        name
        for name in set(before) | set(os.environ)
        if before.get(name) != os.environ.get(name) and name not in PROCESS_ENV
    )
    for name in changed:
        if name in before:
            os.environ[name] = before[name]
        else:
            del os.environ[name]
    return changed
