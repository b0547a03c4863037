"""Step 2, train: fit the configured scikit-learn pipeline on the training data and log it,
with the versions of its inputs, to MLflow."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import mlflow
import numpy as np
from mlflow.data.pandas_dataset import from_pandas
from mlflow.models import ModelSignature, infer_signature
from mlflow.types import Schema, TensorSpec
from sklearn.pipeline import Pipeline
from slipway.drift import build_profile
from slipway.lifecycle import Inputs

from {{ cookiecutter.package_name }}.config import ModelConfig
from {{ cookiecutter.package_name }}.data import Datasets
from {{ cookiecutter.package_name }}.estimators import TRUSTED_TYPES, build_pipeline
from {{ cookiecutter.package_name }}.monitor import PROFILE_ARTIFACT
from {{ cookiecutter.package_name }}.schema import TARGET

MODEL_ARTIFACT = "model"
# predict() returns one int64 class label per row: declared, so MLflow infers no integer
# output column (and prints no "integer column" hint).
OUTPUT_SCHEMA = Schema([TensorSpec(np.dtype(np.int64), (-1,))])


@dataclass(frozen=True)
class TrainedModel:
    run_id: str
    model_uri: str
    pipeline: Pipeline


def log_inputs(data: Datasets) -> None:
    """The training and evaluation files as MLflow dataset inputs of the active run."""
    with warnings.catch_warnings():
        # Both filtered here, where they arise, and nowhere else:
        # - MLflow registers its local-file source for both "" and "file" URIs, then warns
        #   that a path matches both (they are the same class of source);
        # - the dataset schema MLflow infers hints that integer columns cannot hold missing
        #   values: the target is an integer that the schema already declares non-null.
        warnings.filterwarnings("ignore", "The specified dataset source can be interpreted")
        warnings.filterwarnings("ignore", "Hint: Inferred schema contains integer column")
        for dataset, context in ((data.training, "training"), (data.evaluation, "evaluation")):
            source = from_pandas(
                dataset.frame, source=str(dataset.path), targets=TARGET, name=dataset.path.name
            )
            mlflow.log_input(source, context=context)


def train(
    data: Datasets, config: ModelConfig, inputs: Inputs, lineage: dict[str, str]
) -> TrainedModel:
    """Fit on every training row; log params, inputs and their versions, model and drift profile.

    The evaluation data is only logged as an input here: it is scored in the next step.
    """
    training = data.training
    pipeline = build_pipeline(config)
    with mlflow.start_run() as run:
        mlflow.log_params({"estimator": config.estimator, "seed": config.seed, **config.params})
        log_inputs(data)
        mlflow.set_tags(
            {
                **training.version.tags("training_data"),
                **data.evaluation.version.tags("evaluation_data"),
                **inputs.tags(),
                **lineage,
            }
        )
        pipeline.fit(training.features, training.target)
        info = mlflow.sklearn.log_model(
            pipeline,
            name=MODEL_ARTIFACT,
            signature=ModelSignature(infer_signature(training.features).inputs, OUTPUT_SCHEMA),
            input_example=training.features.head(3),
            # skops: loading cannot run arbitrary code, unlike pickle (types allow-listed)
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS,
            skops_trusted_types=TRUSTED_TYPES[config.estimator],
            # Declared, not inferred: inference re-imports the model in a subprocess (slow).
            pip_requirements=mlflow.sklearn.get_default_pip_requirements(include_skops=True),
        )
        mlflow.log_dict(build_profile(training.features).model_dump(mode="json"), PROFILE_ARTIFACT)
    return TrainedModel(run.info.run_id, info.model_uri, pipeline)
