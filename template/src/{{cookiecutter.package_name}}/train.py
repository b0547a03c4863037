"""Step 2, train: fit the configured scikit-learn pipeline and log it to MLflow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


def train(dataset: Dataset, config: ModelConfig, root: Path) -> TrainedModel:
    """Fit on the training split; log params, data digest, commit, model and drift profile."""
    x_train, x_test, y_train, y_test = train_test_split(
        dataset.features,
        dataset.target,
        test_size=config.test_size,
        random_state=config.seed,
        stratify=dataset.target,
    )
    pipeline = build_pipeline(config.estimator, config.params, config.seed)
    with mlflow.start_run() as run:
        mlflow.log_params(
            {
                "estimator": config.estimator,
                "test_size": config.test_size,
                "seed": config.seed,
                **config.params,
            }
        )
        source = from_pandas(
            dataset.frame, source=str(dataset.path), targets=TARGET, name=dataset.path.name
        )
        mlflow.log_input(source, context="training")
        mlflow.set_tags(
            {
                "training_data_sha256": dataset.sha256,
                "dataset_digest": source.digest,
                "git_commit": git_commit(root),
            }
        )
        pipeline.fit(x_train, y_train)
        info = mlflow.sklearn.log_model(
            pipeline,
            name=MODEL_ARTIFACT,
            signature=infer_signature(x_train, pipeline.predict(x_train)),
            input_example=x_train.head(3),
            # Declared, not inferred: inference re-imports the model in a subprocess (slow).
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
            pip_requirements=mlflow.sklearn.get_default_pip_requirements(include_cloudpickle=True),
        )
        mlflow.log_dict(build_profile(dataset.features).model_dump(mode="json"), PROFILE_ARTIFACT)
    return TrainedModel(run.info.run_id, info.model_uri, pipeline, x_test, y_test)
