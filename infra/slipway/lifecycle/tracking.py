"""Where MLflow keeps its state: embedded SQLite + local artifacts unless overridden."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from slipway.lifecycle.store_seed import seed_store

DB_NAME = "mlflow.db"
ARTIFACTS_DIR = "mlruns"


@dataclass(frozen=True)
class Tracking:
    """The tracking server a project talks to."""

    uri: str
    artifact_root: str | None  # local artifact dir of the embedded store; None when remote
    db_path: Path | None


def embedded_uri(project_dir: Path) -> str:
    return f"sqlite:///{(project_dir / DB_NAME).resolve()}"


def configure_tracking(project_dir: Path) -> Tracking:
    """Point MLflow at ``MLFLOW_TRACKING_URI`` or the project's embedded SQLite store (a new
    one is a copy of the empty store MLflow migrated once: ``store_seed``)."""
    remote = os.environ.get("MLFLOW_TRACKING_URI")
    if remote:
        tracking = Tracking(uri=remote, artifact_root=None, db_path=None)
    else:
        project_dir.mkdir(parents=True, exist_ok=True)
        db_path = (project_dir / DB_NAME).resolve()
        seed_store(db_path)
        tracking = Tracking(
            uri=embedded_uri(project_dir),
            artifact_root=(project_dir / ARTIFACTS_DIR).resolve().as_uri(),
            db_path=db_path,
        )
    mlflow.set_tracking_uri(tracking.uri)
    mlflow.set_registry_uri(tracking.uri)
    return tracking


def use_experiment(tracking: Tracking, name: str) -> str:
    """Create (with the embedded artifact root) or reuse an experiment; return its id."""
    client = MlflowClient(tracking.uri, tracking.uri)
    existing = client.get_experiment_by_name(name)
    experiment_id = (
        existing.experiment_id
        if existing
        else client.create_experiment(name, artifact_location=_artifact_location(tracking, name))
    )
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def _artifact_location(tracking: Tracking, name: str) -> str | None:
    return f"{tracking.artifact_root}/{name}" if tracking.artifact_root else None
