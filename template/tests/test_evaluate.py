"""Step 3: evaluate on the held-out split and gate against thresholds and the champion."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.config import GateConfig
from {{ cookiecutter.package_name }}.evaluate import gate
from {{ cookiecutter.package_name }}.pipeline import Outcome


def test_metrics_and_plots_are_logged(client: MlflowClient, outcome: Outcome) -> None:
    run_id = client.get_model_version(outcome.model_name, outcome.version).run_id
    metrics = client.get_run(run_id).data.metrics
    assert metrics["roc_auc"] == pytest.approx(outcome.metrics["roc_auc"])
    assert 0.9 < metrics["roc_auc"] <= 1 and 0.8 < metrics["f1"] <= 1
    plots = {a.path for a in client.list_artifacts(run_id, "evaluation")}
    assert plots == {"evaluation/confusion_matrix.png", "evaluation/roc_curve.png"}


def test_gate_names_the_missed_threshold_and_the_shortfall(
    client: MlflowClient, outcome: Outcome
) -> None:
    worse = {**outcome.metrics, "roc_auc": outcome.metrics["roc_auc"] - 0.01}
    verdict = gate(worse, GateConfig(min_roc_auc=0.5, min_f1=0.5), client, outcome.model_name)
    [failure] = verdict.failures
    assert failure.threshold == "champion roc_auc + margin"
    assert failure.shortfall == pytest.approx(0.01)
    assert gate(outcome.metrics, GateConfig(), client, outcome.model_name).passed


def test_refused_candidate_exits_1_and_is_not_registered(
    in_project: Path, client: MlflowClient, outcome: Outcome, write_config: Callable[..., Path]
) -> None:
    config = write_config(in_project / "refused", gate={"min_f1": 0.999})
    before = len(client.search_model_versions(f"name='{outcome.model_name}'"))
    result = CliRunner().invoke(app, ["pipeline", "run", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "error: gate: min_f1: needs 0.9990, got" in result.output
    assert len(client.search_model_versions(f"name='{outcome.model_name}'")) == before
