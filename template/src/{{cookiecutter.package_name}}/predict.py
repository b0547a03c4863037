"""Step 5, batch predict: score a file with the champion, recording the model version."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient
from slipway.lifecycle import CHAMPION, require_alias

from {{ cookiecutter.package_name }}.data import load_features


@dataclass(frozen=True)
class Predictions:
    path: Path
    model_version: str
    rows: int


def batch_predict(
    client: MlflowClient, model_name: str, input_path: Path, output_path: Path
) -> Predictions:
    """Write one prediction per input row, with the model name and version that made it."""
    champion = require_alias(client, model_name, CHAMPION)
    features = load_features(input_path, "batch.input")
    model = mlflow.pyfunc.load_model(f"models:/{model_name}/{champion.version}")
    scored = features.assign(
        prediction=model.predict(features), model_name=model_name, model_version=champion.version
    )
    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_suffix(output_path.suffix + ".partial")
    scored.to_csv(partial, index=False)
    os.replace(partial, output_path)  # never leave a half-written predictions file
    return Predictions(output_path, str(champion.version), len(scored))
