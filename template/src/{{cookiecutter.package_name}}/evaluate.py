"""Step 3, evaluate + gate: the challenger AND the current champion scored on the same
held-out evaluation data, in the same run; per-group metrics, feature importance, plots;
then the gate (minimums, fairness maximums, beat the champion by the margin).

Everything is computed before anything is logged, and logged with client calls that leave
the run's status alone: a failure here cannot leave a run FAILED or half-written.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import mlflow
import numpy as np
from mlflow.entities import Metric, RunTag
from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.pipeline import Pipeline
from slipway.lifecycle import (
    CHAMPION,
    COMPARED_TAG,
    REPORT_ARTIFACT,
    Champion,
    EvaluationReport,
    GateResult,
    LifecycleError,
    check_gate,
    version_by_alias,
)

from {{ cookiecutter.package_name }}.config import PipelineConfig
from {{ cookiecutter.package_name }}.data import Dataset, Datasets
from {{ cookiecutter.package_name }}.fairness import disparities, group_metrics
from {{ cookiecutter.package_name }}.train import TrainedModel

METRIC_KEY = re.compile(r"[^\w\-. /]")  # characters MLflow refuses in a metric name


@dataclass(frozen=True)
class Scores:
    metrics: dict[str, float]
    probability: np.ndarray
    predicted: np.ndarray


@dataclass(frozen=True)
class Evaluation:
    report: EvaluationReport
    verdict: GateResult


def score(model: Pipeline, data: Dataset) -> Scores:
    """The same metrics for any model on ``data``."""
    probability = model.predict_proba(data.features)[:, 1]
    predicted = model.predict(data.features)
    truth = data.target
    metrics = {
        "roc_auc": float(roc_auc_score(truth, probability)),
        "f1": float(f1_score(truth, predicted)),
        "accuracy": float(accuracy_score(truth, predicted)),
        "precision": float(precision_score(truth, predicted, zero_division=0)),
        "recall": float(recall_score(truth, predicted)),
    }
    return Scores(metrics, probability, predicted)


def score_champion(client: MlflowClient, name: str, data: Dataset) -> tuple[str, Scores] | None:
    """The current champion, loaded from the registry, scored on ``data`` (None: no champion)."""
    champion = version_by_alias(client, name, CHAMPION)
    if champion is None:
        return None
    model = mlflow.sklearn.load_model(f"models:/{name}/{champion.version}")
    try:
        return str(champion.version), score(model, data)
    except (KeyError, ValueError) as exc:
        raise LifecycleError(
            CHAMPION, f"version {champion.version} cannot score {data.version.uri}: {exc}"
        ) from exc


def evaluate(
    trained: TrainedModel,
    data: Datasets,
    config: PipelineConfig,
    client: MlflowClient,
    stack: str,
    lineage: dict[str, str],
) -> Evaluation:
    """Score both models on the evaluation data, gate, and log it all to the challenger's run."""
    from {{ cookiecutter.package_name }}.explain import importance  # not imported by a no-op run

    held_out = data.evaluation
    challenger = score(trained.pipeline, held_out)
    champion = score_champion(client, config.model.name, held_out)
    groups = group_metrics(held_out.target, challenger.predicted, held_out.frame, config.fairness)
    ranked = importance(
        trained.pipeline,
        held_out.features,
        held_out.target,
        config.gate.compare_metric,
        config.model.seed,
    )
    verdict = check_gate(
        challenger.metrics,
        config.gate.minimums(),
        Champion(*(champion[0], champion[1].metrics)) if champion else None,
        config.gate.compare_metric,
        config.gate.champion_margin,
        maximums=disparities(groups),
        data=held_out.version.describe(),
    )
    report = EvaluationReport(
        model_name=config.model.name,
        run_id=trained.run_id,
        stack=stack,
        estimator=config.model.estimator,
        params=dict(config.model.params),
        training_data=data.training.version,
        evaluation_data=held_out.version,
        lineage=lineage,
        compare_metric=config.gate.compare_metric,
        challenger=challenger.metrics,
        champion=champion[1].metrics if champion else None,
        champion_version=champion[0] if champion else None,
        gate=verdict.summary(),
        passed=verdict.passed,
        fairness=groups,
        importance=ranked,
    )
    _log(client, report, held_out, challenger, champion)
    return Evaluation(report, verdict)


def _log(
    client: MlflowClient,
    report: EvaluationReport,
    held_out: Dataset,
    challenger: Scores,
    champion: tuple[str, Scores] | None,
) -> None:
    from {{ cookiecutter.package_name }} import plots  # matplotlib: not imported by a no-op run

    run_id = report.run_id
    metrics = dict(report.challenger)
    if champion:
        metrics.update({f"champion.{k}": v for k, v in champion[1].metrics.items()})
    for group in report.fairness:
        metrics[f"fairness.{group.column}.{group.metric}_difference"] = group.difference
        for name, values in group.groups.items():
            key = f"fairness.{group.column}.{METRIC_KEY.sub('_', name)}"
            metrics.update({f"{key}.{k}": v for k, v in values.items()})
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(name, value, now, 0) for name, value in metrics.items()],
        tags=[RunTag("gate", report.gate), RunTag(COMPARED_TAG, report.champion_version or "none")],
    )
    data = f"evaluation data: {held_out.version.describe()}"
    models = {"challenger": challenger}
    if champion:
        models[f"champion v{champion[0]}"] = champion[1]
    figures = {
        "evaluation/roc_curve.png": plots.roc(
            held_out.target, {k: s.probability for k, s in models.items()}, data
        ),
        "evaluation/confusion_matrix.png": plots.confusion(
            held_out.target, {k: s.predicted for k, s in models.items()}, data
        ),
        "evaluation/permutation_importance.png": plots.importance(
            report.importance, report.compare_metric, data
        ),
        **{f"evaluation/fairness_{g.column}.png": plots.fairness(g, data) for g in report.fairness},
    }
    for path, figure in figures.items():
        client.log_figure(run_id, figure, path)
    client.log_dict(run_id, report.model_dump(mode="json"), REPORT_ARTIFACT)


def rescore(
    client: MlflowClient,
    config: PipelineConfig,
    held_out: Dataset,
    champion: ModelVersion,
    experiment_id: str,
) -> GateResult:
    """Score the champion again on new evaluation data (its training inputs are unchanged):
    a run of its own, and the champion's version tags name the data it was last scored on."""
    name, version = config.model.name, str(champion.version)
    scores = score(mlflow.sklearn.load_model(f"models:/{name}/{version}"), held_out)
    verdict = check_gate(
        scores.metrics,
        config.gate.minimums(),
        None,
        config.gate.compare_metric,
        data=held_out.version.describe(),
    )
    tags = {
        **held_out.version.tags("evaluation_data"),
        "rescored_version": version,
        "gate": verdict.summary(),
    }
    run = client.create_run(experiment_id, run_name=f"rescore-v{version}", tags=tags)
    now = int(time.time() * 1000)
    metrics = [Metric(k, v, now, 0) for k, v in scores.metrics.items()]
    client.log_batch(run.info.run_id, metrics=metrics)
    client.set_terminated(run.info.run_id)
    for key, value in {
        **held_out.version.tags("evaluation_data"),
        "rescored_run": run.info.run_id,
    }.items():
        client.set_model_version_tag(name, version, key, value)
    return verdict
