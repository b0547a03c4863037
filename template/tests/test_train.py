"""Step 2: train on the training data and log it, with its inputs' versions, to MLflow."""

from __future__ import annotations

from mlflow.entities import Run
from mlflow.models import get_model_info
from mlflow.tracking import MlflowClient

from {{ cookiecutter.package_name }}.pipeline import Outcome
from {{ cookiecutter.package_name }}.train import OUTPUT_SCHEMA, PROFILE_ARTIFACT


def _run(client: MlflowClient, outcome: Outcome) -> Run:
    version = client.get_model_version(outcome.model_name, outcome.version)
    return client.get_run(version.run_id)


def test_run_logs_params_and_the_versions_of_its_inputs(
    client: MlflowClient, outcome: Outcome, head_commit: str
) -> None:
    run = _run(client, outcome)
    report = outcome.report
    assert report is not None
    assert run.data.params["estimator"] == "logistic_regression"
    assert run.data.params["C"] == "1.0"
    tags = run.data.tags
    assert tags["training_data_sha256"] == report.training_data.sha256
    assert tags["evaluation_data_sha256"] == report.evaluation_data.sha256
    assert tags["training_data_uri"] == "data/train.csv"
    assert tags["evaluation_data_rows"] == str(report.evaluation_data.rows)
    assert len(tags["code_sha256"]) == len(tags["config_sha256"]) == 64
    assert tags["git_commit"] == head_commit  # the project repository's HEAD
    assert tags["trained_by"]  # who ran it
    inputs = {i.tags[0].value: i.dataset for i in run.inputs.dataset_inputs}
    assert {name: d.name for name, d in inputs.items()} == {
        "training": "train.csv",
        "evaluation": "evaluation.csv",
    }


def test_model_is_saved_with_skops_and_a_declared_signature(
    client: MlflowClient, outcome: Outcome
) -> None:
    version = client.get_model_version(outcome.model_name, outcome.version)
    info = get_model_info(version.source)
    assert info.flavors["sklearn"]["serialization_format"] == "skops"
    assert info.signature is not None and "mean_radius" in info.signature.inputs.input_names()
    assert "cohort" not in info.signature.inputs.input_names()
    assert info.signature.outputs == OUTPUT_SCHEMA  # declared: one int64 label per row
    assert info.saved_input_example_info is not None


def test_drift_profile_is_logged_with_the_run(client: MlflowClient, outcome: Outcome) -> None:
    run = _run(client, outcome)
    logged = {a.path for a in client.list_artifacts(run.info.run_id, "drift")}
    assert PROFILE_ARTIFACT in logged
