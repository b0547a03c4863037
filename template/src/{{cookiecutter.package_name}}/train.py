"""Step 2, train: fit the configured scikit-learn pipeline and log it to MLflow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.data.pandas_dataset import from_pandas
from mlflow.models import infer_signature
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from slipway.drift import build_profile
from slipway.lifecycle import git_commit

from {{ cookiecutter.package_name }}.config import ModelConfig
from {{ cookiecutter.package_name }}.data import Dataset
from {{ cookiecutter.package_name }}.estimators import build_pipeline
from {{ cookiecutter.package_name }}.schema import TARGET

MODEL_ARTIFACT = "model"
PROFILE_ARTIFACT = "drift/reference_profile.json"


@dataclass(frozen=True)
class TrainedModel:
    run_id: str
    model_uri: str
    pipeline: Pipeline
    x_test: pd.DataFrame
    y_test: pd.Series


@dataclass(frozen=True)
class Fitted:
    """A fitted pipeline and the split it was fitted on (the test part is held out)."""

    pipeline: Pipeline
    x_train: pd.DataFrame
    x_test: pd.DataFrame
    y_test: pd.Series


def split(
    dataset: Dataset, config: ModelConfig
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """Training and held-out parts (seeded, stratified): the same data and config always
    give the same split, wherever it runs."""
    parts = train_test_split(
        dataset.features, dataset.target, test_size=config.test_size,
        random_state=config.seed, stratify=dataset.target,
    )
    x_train, x_test, y_train, y_test = parts
    return x_train, x_test, y_train, y_test


def fit(dataset: Dataset, config: ModelConfig) -> Fitted:
    """Fit on the training part of the split."""
    x_train, x_test, y_train, y_test = split(dataset, config)
    pipeline = build_pipeline(config.estimator, config.params, config.seed)
    pipeline.fit(x_train, y_train)
    return Fitted(pipeline, x_train, x_test, y_test)


def model_format(fitted: Fitted) -> dict[str, Any]:
    """How the model is saved, logged or archived (MLflow's sklearn flavor)."""
    return {
        "signature": infer_signature(fitted.x_train, fitted.pipeline.predict(fitted.x_train)),
        "input_example": fitted.x_train.head(3),
        # Declared, not inferred: inference re-imports the model in a subprocess (slow).
        "serialization_format": mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
        "pip_requirements": mlflow.sklearn.get_default_pip_requirements(include_cloudpickle=True),
    }


def log_trained(
    fitted: Fitted, dataset: Dataset, config: ModelConfig, tags: dict[str, str]
) -> TrainedModel:
    """One MLflow run: params, the data as an input, lineage tags, model and drift profile."""
    with mlflow.start_run() as run:
        mlflow.log_params({"estimator": config.estimator, "test_size": config.test_size,
                           "seed": config.seed, **config.params})
        source = from_pandas(
            dataset.frame, source=str(dataset.path), targets=TARGET, name=dataset.path.name
        )
        mlflow.log_input(source, context="training")
        mlflow.set_tags({"training_data_sha256": dataset.sha256, "dataset_digest": source.digest,
                         **tags})
        info = mlflow.sklearn.log_model(fitted.pipeline, name=MODEL_ARTIFACT, **model_format(fitted))
        mlflow.log_dict(build_profile(dataset.features).model_dump(mode="json"), PROFILE_ARTIFACT)
    return TrainedModel(
        run.info.run_id, info.model_uri, fitted.pipeline, fitted.x_test, fitted.y_test
    )


def train(dataset: Dataset, config: ModelConfig, root: Path) -> TrainedModel:
    """Fit on the training split; log params, data digest, commit, model and drift profile."""
    return log_trained(fit(dataset, config), dataset, config, {"git_commit": git_commit(root)})
