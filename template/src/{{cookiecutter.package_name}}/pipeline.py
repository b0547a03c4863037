"""The lifecycle in order: ingest, train, evaluate + gate, register, promote, predict, monitor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlflow.tracking import MlflowClient
from slipway.lifecycle import StepProgress, Tracking, configure_tracking, promote, use_experiment

from {{ cookiecutter.package_name }}.config import PipelineConfig
from {{ cookiecutter.package_name }}.data import ingest
from {{ cookiecutter.package_name }}.evaluate import evaluate, gate
from {{ cookiecutter.package_name }}.monitor import DriftReport, monitor
from {{ cookiecutter.package_name }}.predict import Predictions, batch_predict
from {{ cookiecutter.package_name }}.register import register
from {{ cookiecutter.package_name }}.train import train

STEPS = 7


@dataclass(frozen=True)
class Outcome:
    tracking: Tracking
    model_name: str
    version: str
    metrics: dict[str, float]
    predictions: Predictions
    drift: DriftReport


def open_registry(root: Path, config: PipelineConfig) -> tuple[Tracking, MlflowClient]:
    """Tracking store of the project (embedded unless MLFLOW_TRACKING_URI is set)."""
    tracking = configure_tracking(root)
    use_experiment(tracking, config.experiment)
    return tracking, MlflowClient(tracking.uri, tracking.uri)


def run(config: PipelineConfig, root: Path) -> Outcome:
    """Run every step; a failed gate raises ``GateRejected`` before anything is registered."""
    name = config.model.name
    with StepProgress(STEPS) as progress:
        with progress.step("ingest + validate"):
            dataset = ingest(config.data, root, config.batch.input)
        with progress.step("train"):
            tracking, client = open_registry(root, config)
            trained = train(dataset, config.model, root)
        with progress.step("evaluate + gate"):
            metrics = evaluate(trained)
            verdict = gate(metrics, config.gate, client, name)
            client.set_tag(trained.run_id, "gate", verdict.summary())
            verdict.raise_for_failure()
        with progress.step("register"):
            version = register(client, trained, dataset, metrics, name, root)
        with progress.step("promote"):
            move = promote(client, name, config.gate.approved_by, str(version.version))
        with progress.step("batch predict"):
            predictions = batch_predict(
                client, name, root / config.batch.input, root / config.batch.output
            )
        with progress.step("monitor"):
            drift = monitor(client, name, root / config.batch.input, config.monitor, root)
    return Outcome(tracking, name, move.current, metrics, predictions, drift)
