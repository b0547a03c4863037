"""What every run shares with the registry, locally and on the stack's engine: the tracking
store it opens, the inputs a model is trained from, and the rerun that trains nothing.

Light on purpose (no scikit-learn): the engine's validate and register steps need only this.
"""

from __future__ import annotations

from pathlib import Path

from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient
from slipway.lifecycle import (
    CHAMPION,
    Inputs,
    Tracking,
    code_sha256,
    config_sha256,
    configure_tracking,
    use_experiment,
)

from {{ cookiecutter.package_name }}.config import PipelineConfig
from {{ cookiecutter.package_name }}.data import Datasets

PACKAGE = Path(__file__).resolve().parent


def open_registry(root: Path, config: PipelineConfig) -> tuple[Tracking, MlflowClient]:
    """Tracking store of the project (embedded unless MLFLOW_TRACKING_URI is set)."""
    tracking = configure_tracking(root)
    use_experiment(tracking, config.experiment)
    return tracking, MlflowClient(tracking.uri, tracking.uri)


def model_inputs(data: Datasets, config: PipelineConfig) -> Inputs:
    """The versions a model is trained from: training data, this package's code, `model`."""
    return Inputs(
        training_data=data.training.version.sha256,
        code=code_sha256(PACKAGE),
        config=config_sha256({"model": config.model.model_dump(mode="json")}),
    )


def settle_unchanged(
    client: MlflowClient, config: PipelineConfig, data: Datasets, same: ModelVersion
) -> str:
    """Nothing to train: ``same`` was trained from the same data, code and config. A champion
    whose evaluation data changed is scored again on it (here and on the stack's engine,
    whose validate step calls this). Returns what the run says."""
    version = str(same.version)
    role = "champion" if CHAMPION in same.aliases else "challenger (awaiting approval)"
    message = (
        f"unchanged: training data, code and config are those of {role} version {version}; "
        "nothing trained, nothing registered"
    )
    if CHAMPION in same.aliases and (
        same.tags.get("evaluation_data_sha256") != data.evaluation.version.sha256
    ):
        from {{ cookiecutter.package_name }}.evaluate import rescore  # loads scikit-learn

        experiment_id = client.get_run(str(same.run_id)).info.experiment_id
        verdict = rescore(client, config, data.evaluation, same, experiment_id)
        message += f"; evaluation data changed, champion scored again: {verdict.summary()}"
    return message
