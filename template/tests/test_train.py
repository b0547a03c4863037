"""Step 2: train and log to MLflow."""

from __future__ import annotations

from mlflow.entities import Run
from mlflow.models import get_model_info
from mlflow.tracking import MlflowClient

from {{ cookiecutter.package_name }}.config import DataConfig
from {{ cookiecutter.package_name }}.pipeline import Outcome
from {{ cookiecutter.package_name }}.train import PROFILE_ARTIFACT


def _run(client: MlflowClient, outcome: Outcome) -> Run:
    version = client.get_model_version(outcome.model_name, outcome.version)
    return client.get_run(version.run_id)


def test_run_logs_params_data_digest_and_commit(
    client: MlflowClient, outcome: Outcome, head_commit: str
) -> None:
    run = _run(client, outcome)
    assert run.data.params["estimator"] == "logistic_regression"
    assert run.data.params["C"] == "1.0"
    assert len(run.data.tags["training_data_sha256"]) == 64
    assert run.data.tags["git_commit"] == head_commit  # the project repository's HEAD
    [dataset_input] = run.inputs.dataset_inputs
    assert dataset_input.dataset.digest == run.data.tags["dataset_digest"]
    assert dataset_input.dataset.name == DataConfig().path.name


def test_model_has_signature_and_input_example(client: MlflowClient, outcome: Outcome) -> None:
    version = client.get_model_version(outcome.model_name, outcome.version)
    info = get_model_info(version.source)
    assert info.signature is not None and "mean_radius" in info.signature.inputs.input_names()
    assert info.saved_input_example_info is not None


def test_drift_profile_is_logged_with_the_run(client: MlflowClient, outcome: Outcome) -> None:
    run = _run(client, outcome)
    logged = {a.path for a in client.list_artifacts(run.info.run_id, "drift")}
    assert PROFILE_ARTIFACT in logged
