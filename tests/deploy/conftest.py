"""Fixtures of the deploy tests: emulated AWS in-process (moto, no sockets) and a registry.

``slipway.testing.moto_stack`` answers UpdateEndpoint, which moto lacks, with a botocore
``before-call`` hook (see its docstring); nothing else is stubbed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from evaluation_records import evaluation_report
from isolation import undo_mlflow_globals
from slipway.lifecycle import Approval
from slipway.lifecycle.store_seed import seed_store
from slipway.testing.moto_stack import Clients, create_stack, image_uri

REGION = "us-east-1"
ENDPOINT = "churn-dev-endpoint"
IMAGE = image_uri(REGION, "churn-dev")
TRAINER = "carol"
STAGED = "churn-staged"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clients]:
    from moto import mock_aws

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield Clients(REGION)


@pytest.fixture
def stack(aws: Clients) -> dict[str, str]:
    """What the infra stack would have created and exported (realtime endpoint + alarms)."""
    return create_stack(aws, "churn-dev")


@pytest.fixture(scope="session")
def champion_registry(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, str, Callable[[Approval], str]]:
    """A sqlite MLflow registry whose model ``churn`` has a champion (version 1, approved by
    the gate), and ``approve(approval)``: a new version of model STAGED (the same model
    files, trained by TRAINER) made its champion with ``approval``; returns its version."""
    import mlflow
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression
    from slipway.lifecycle import REPORT_ARTIFACT, promote

    with pytest.MonkeyPatch.context() as patch:
        undo_mlflow_globals(patch)  # set_tracking_uri and set_experiment set them
        root = tmp_path_factory.mktemp("mlflow")
        seed_store(root / "mlflow.db")
        uri = f"sqlite:///{root / 'mlflow.db'}"
        mlflow.set_tracking_uri(uri)
        mlflow.create_experiment("deploy-test", artifact_location=(root / "artifacts").as_uri())
        mlflow.set_experiment("deploy-test")
        with mlflow.start_run() as run:
            model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
            mlflow.sklearn.log_model(
                model,
                name="model",
                registered_model_name="churn",
                pip_requirements=["scikit-learn"],  # no requirement inference: keeps the test fast
            )
            report = evaluation_report(run.info.run_id)
            mlflow.log_dict(report.model_dump(mode="json"), REPORT_ARTIFACT)
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        client.set_model_version_tag("churn", "1", "trained_by", TRAINER)
        promote(client, "churn", Approval.automated(run.info.run_id), "1")
    source = client.get_model_version_download_uri("churn", "1")  # files, not models:/m-id
    client.create_registered_model(STAGED)

    def approve(approval: Approval) -> str:
        version = client.create_model_version(STAGED, source, run_id=run.info.run_id)
        client.set_model_version_tag(STAGED, version.version, "trained_by", TRAINER)
        promote(client, STAGED, approval, str(version.version))
        return str(version.version)

    return uri, str(Path(root)), approve
