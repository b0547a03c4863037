"""Step 3, evaluate + gate: held-out metrics, plots, thresholds and the champion."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import mlflow
from mlflow.tracking import MlflowClient
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    RocCurveDisplay,
    accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from slipway.lifecycle import GateResult, champion_metrics, check_gate

from {{ cookiecutter.package_name }}.config import GateConfig
from {{ cookiecutter.package_name }}.train import TrainedModel


def evaluate(trained: TrainedModel) -> dict[str, float]:
    """Metrics of the model on the held-out split, logged to its run with two plots."""
    scores = trained.pipeline.predict_proba(trained.x_test)[:, 1]
    predicted = trained.pipeline.predict(trained.x_test)
    truth = trained.y_test
    metrics = {
        "roc_auc": float(roc_auc_score(truth, scores)),
        "f1": float(f1_score(truth, predicted)),
        "accuracy": float(accuracy_score(truth, predicted)),
        "precision": float(precision_score(truth, predicted, zero_division=0)),
        "recall": float(recall_score(truth, predicted)),
    }
    matplotlib.use("Agg")  # headless: plots go to files only
    with mlflow.start_run(run_id=trained.run_id):
        mlflow.log_metrics(metrics)
        for path, display in (
            (
                "evaluation/confusion_matrix.png",
                ConfusionMatrixDisplay.from_predictions(truth, predicted),
            ),
            ("evaluation/roc_curve.png", RocCurveDisplay.from_predictions(truth, scores)),
        ):
            mlflow.log_figure(display.figure_, path)
            plt.close(display.figure_)
    return metrics


def gate(
    metrics: dict[str, float], config: GateConfig, client: MlflowClient, model_name: str
) -> GateResult:
    """Thresholds from config, then beat the current champion by the configured margin."""
    return check_gate(
        metrics,
        config.minimums(),
        champion_metrics(client, model_name),
        config.compare_metric,
        config.champion_margin,
    )
