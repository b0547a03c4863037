"""The first `pulumi up` of an EKS stack: no image and no champion yet, and it succeeds.

Before the first image push the stack declares the image repository and no model server
(nothing could pull an image); before the first champion the model server starts anyway and
answers /ping, so the Deployment becomes ready and Pulumi's wait on it ends
(docs/eks.md#bootstrap). The process-level first start is rehearsed in
tests/eks/test_eks_rehearsal.py against a real MLflow server.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from eks_support import with_config
from slipway.eks.manifests import manifests
from slipway.lifecycle.store_seed import seed_store
from slipway.serving import pending
from slipway.testing import run_program

WORKLOADS = {
    "kubernetes:apps/v1:Deployment",
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "kubernetes:policy/v1:PodDisruptionBudget",
    "kubernetes:batch/v1:CronJob",
}


def test_the_first_up_needs_no_image(eks_infra: Path, tmp_path: Path) -> None:
    infra = with_config(eks_infra, tmp_path / "infra", "dev", modelImageTag=None)
    run = run_program(infra, "dev")
    counts = run.type_counts()
    assert WORKLOADS.isdisjoint(counts)  # nothing that would pull an image that is not there
    assert counts["aws:ecr/repository:Repository"] == 1  # where CI pushes the first image
    assert run.outputs["modelRepositoryUrl"] and run.outputs["modelServiceName"]
    assert counts["kubernetes:helm.sh/v3:Release"] == 3  # MLflow, Prometheus, Pushgateway
    # no training or batch Jobs (CronJobs above) nor the drift check's retrain wiring
    assert not [t for t in counts if t.startswith("kubernetes:admissionregistration")]
    assert not {"trainingNamespace", "trainingCronJob", "batchCronJob"} & set(run.outputs)


def test_the_model_server_may_start_before_the_first_champion(eks_run: Any) -> None:
    [deployment] = [m for m in manifests(eks_run) if m["kind"] == "Deployment"]
    env = {
        e["name"]: e["value"]
        for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env[pending.ALLOW_NO_MODEL_ENV] == "true"


@pytest.fixture
def empty_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from mlflow import MlflowClient

    seed_store(tmp_path / "mlflow.db")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return MlflowClient()


def test_what_the_registry_lacks_is_named(empty_registry: Any) -> None:
    uri = "models:/churn@champion"
    assert pending.missing_registration(uri) == "registered model 'churn' does not exist yet"
    empty_registry.create_registered_model("churn")
    assert pending.missing_registration(uri) == (
        "alias 'champion' of registered model 'churn' is not set yet"
    )
    assert pending.missing_registration("models:/churn/3") == (
        "version 3 of registered model 'churn' does not exist yet"
    )
    assert pending.missing_registration("/opt/ml/model") is None  # a path never waits


def _call(app: Any, method: str, path: str) -> tuple[int, dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": []}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], json.loads(sent[1]["body"])


def test_without_a_model_the_server_is_ready_and_refuses_predictions() -> None:
    app = pending.PendingApp(
        "models:/churn@champion", "registered model 'churn' does not exist yet"
    )
    status, body = _call(app, "GET", "/ping")
    assert (status, body["status"]) == (200, "no model")
    status, body = _call(app, "POST", "/invocations")
    assert status == 503 and body["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert "does not exist yet" in body["message"]
    metrics = app.metrics.render().decode()
    assert 'slipway_request_errors_total{endpoint="/invocations",kind="server"} 1.0' in metrics
