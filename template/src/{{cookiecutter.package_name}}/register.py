"""Step 4, register: a new model version with lineage tags and the ``challenger`` alias."""

from __future__ import annotations

from pathlib import Path

from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient
from slipway.lifecycle import git_commit, register_challenger, training_tags

from {{ cookiecutter.package_name }}.data import Dataset
from {{ cookiecutter.package_name }}.train import TrainedModel


def register(
    client: MlflowClient,
    trained: TrainedModel,
    dataset: Dataset,
    metrics: dict[str, float],
    model_name: str,
    root: Path,
) -> ModelVersion:
    tags = training_tags(dataset.sha256, git_commit(root), metrics)
    return register_challenger(client, trained.model_uri, model_name, tags)
