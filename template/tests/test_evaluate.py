"""Step 3: the challenger and the champion scored on the same evaluation data; the gate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from slipway.lifecycle import REPORT_ARTIFACT
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.config import FairnessConfig
from {{ cookiecutter.package_name }}.fairness import disparities, group_metrics
from {{ cookiecutter.package_name }}.pipeline import Outcome
from {{ cookiecutter.package_name }}.schema import TARGET

PLOTS = {
    "evaluation/confusion_matrix.png",
    "evaluation/fairness_cohort.png",
    "evaluation/permutation_importance.png",
    "evaluation/roc_curve.png",
    REPORT_ARTIFACT,
}


def test_metrics_fairness_importance_and_plots_are_logged(
    client: MlflowClient, outcome: Outcome
) -> None:
    report = outcome.report
    assert report is not None
    run = client.get_run(report.run_id)
    metrics = run.data.metrics
    assert metrics["roc_auc"] == pytest.approx(report.challenger["roc_auc"])
    assert 0.95 < metrics["roc_auc"] <= 1 and 0.9 < metrics["f1"] <= 1
    [cohort] = report.fairness
    assert set(cohort.groups) == {"A", "B"}
    assert sum(g["count"] for g in cohort.groups.values()) == report.evaluation_data.rows
    assert metrics["fairness.cohort.recall_difference"] == pytest.approx(cohort.difference)
    assert [i.mean for i in report.importance] == sorted(
        (i.mean for i in report.importance), reverse=True
    )
    assert len(report.importance) == 30
    logged = {a.path for a in client.list_artifacts(report.run_id, "evaluation")}
    assert logged == PLOTS


def test_fairness_gap_over_the_limit_refuses_the_candidate() -> None:
    truth = pd.Series([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0])
    predicted = np.array([1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0])  # group B misses 3 of 4
    groups = pd.DataFrame({"cohort": ["A"] * 6 + ["B"] * 6})
    [found] = group_metrics(truth, predicted, groups, FairnessConfig(max_difference=0.5))
    assert found.groups["A"]["recall"] == 1.0 and found.groups["B"]["recall"] == 0.25
    assert found.difference == pytest.approx(0.75)
    assert disparities([found]) == {"max_recall_difference[cohort]": (0.5, pytest.approx(0.75))}


def test_worse_model_on_relabelled_data_is_refused_on_the_same_evaluation_data(
    in_project: Path, client: MlflowClient, outcome: Outcome, write_config: Callable[..., Path]
) -> None:
    """Issue 15: the training labels follow a different, worse rule and C is huge. Scored on
    its own split it looked perfect; on the held-out evaluation data it loses to the champion."""
    train = pd.read_csv(in_project / "data" / "train.csv")
    train[TARGET] = (train["mean_area"] < 700).astype(int)
    train.to_csv(in_project / "relabelled.csv", index=False)
    config = write_config(
        in_project / "relabelled",
        data={"path": "relabelled.csv", "sample": None},
        model={"params": {"C": 10000, "max_iter": 500}},
    )
    name = outcome.model_name
    before = len(client.search_model_versions(f"name='{name}'"))

    result = CliRunner().invoke(app, ["pipeline", "run", "--config", str(config)])

    assert result.exit_code == 1, result.output
    champion = outcome.report.challenger["roc_auc"]  # v1 scored on this data when trained
    error = result.output.strip().splitlines()[-1]
    data = outcome.report.evaluation_data.describe()
    assert error.startswith(f"error: gate: champion v{outcome.version} wins on {data}: roc_auc ")
    assert f" vs {champion:.4f} (champion v{outcome.version})" in error
    assert "| roc_auc | " in result.output and f"| {champion:.4f} |" in result.output
    assert len(client.search_model_versions(f"name='{name}'")) == before
    assert str(client.get_model_version_by_alias(name, "champion").version) == outcome.version

    [refused] = client.search_runs(
        [client.get_experiment_by_name(outcome.model_name).experiment_id],
        "tags.training_data_uri = 'relabelled.csv'",
    )
    assert refused.info.status == "FINISHED"
    assert refused.data.tags["evaluation_data_sha256"] == outcome.report.evaluation_data.sha256
    assert refused.data.metrics["champion.roc_auc"] == pytest.approx(champion)
    assert refused.data.metrics["roc_auc"] < champion
    assert refused.data.tags["gate"].startswith(f"champion v{outcome.version} wins")
