"""The lifecycle in order: ingest, train, evaluate + gate, register, promote, predict, monitor.

Nothing is trained when the champion (or the challenger awaiting approval) was trained from
the same data, code and config: the run says so and stops. A refused candidate stops after
the gate with both models' scores; bad data stops before anything is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient
from slipway.lifecycle import (
    CHAMPION,
    Approval,
    EvaluationReport,
    GateRejected,
    StepProgress,
    Tracking,
    git_commit,
    markdown_card,
    trained_by,
    unchanged_version,
    version_by_alias,
)

from {{ cookiecutter.package_name }}.config import PipelineConfig
from {{ cookiecutter.package_name }}.data import Datasets, ingest
from {{ cookiecutter.package_name }}.estimators import check_params
from {{ cookiecutter.package_name }}.evaluate import evaluate
from {{ cookiecutter.package_name }}.monitor import DriftReport, monitor
from {{ cookiecutter.package_name }}.predict import Predictions, batch_predict
from {{ cookiecutter.package_name }}.register import approve, card_notes, register, write_card
from {{ cookiecutter.package_name }}.registry import model_inputs, open_registry, settle_unchanged
from {{ cookiecutter.package_name }}.remote import SUMMARY_DIR as SUMMARY_DIR
from {{ cookiecutter.package_name }}.train import train

STEPS = 7


class Status(StrEnum):
    promoted = "promoted"
    awaiting_approval = "awaiting-approval"
    unchanged = "unchanged"
    refused = "refused"


@dataclass(frozen=True)
class Outcome:
    tracking: Tracking
    model_name: str
    status: Status
    version: str  # the champion, or the challenger awaiting approval
    message: str
    report: EvaluationReport | None = None
    predictions: Predictions | None = None
    drift: DriftReport | None = None


def write_summary(root: Path, outcome: Outcome, card: str = "") -> None:
    """``outputs/evaluation/candidate.json`` (status, version, evaluation run) and
    ``summary.md`` (what a reviewer reads): the CI job summary and the approval step use them."""
    out = root / SUMMARY_DIR
    out.mkdir(parents=True, exist_ok=True)
    facts = {
        "status": outcome.status.value,
        "model": outcome.model_name,
        "version": outcome.version,
        "evaluation": outcome.report.run_id if outcome.report else "",
        "message": outcome.message,
    }
    (out / "candidate.json").write_text(json.dumps(facts, indent=2) + "\n")
    (out / "summary.md").write_text(card or f"{outcome.message}\n")


def run(config: PipelineConfig, root: Path, stack: str = "local", force: bool = False) -> Outcome:
    """Run every step; a refused candidate raises ``GateRejected`` before it is registered."""
    check_params(config.model)  # before anything is written
    name = config.model.name
    needs_human = config.approval.needs_human(stack)
    with StepProgress(STEPS) as progress:
        with progress.step("ingest + validate"):
            data = ingest(config.data, config.fairness.sensitive_columns, root, config.batch.input)
            inputs = model_inputs(data, config)
        tracking, client = open_registry(root, config)
        same = None if force else unchanged_version(client, name, inputs)
        if same is not None:
            outcome = _unchanged(tracking, client, config, data, same)
            write_summary(root, outcome)
            return outcome
        with progress.step("train"):
            lineage = {
                "git_commit": git_commit(root),
                "trained_by": trained_by(),
                "stack": stack,
                "code_sha256": inputs.code,
                "config_sha256": inputs.config,
            }
            trained = train(data, config.model, inputs, lineage)
        with progress.step("evaluate + gate"):
            evaluation = evaluate(trained, data, config, client, stack, lineage)
            report = evaluation.report
            verdict = evaluation.verdict
            if not verdict.passed:
                refused = Outcome(tracking, name, Status.refused, "", verdict.summary(), report)
                write_summary(root, refused, markdown_card(report, None, None, card_notes(config)))
                raise GateRejected("gate", verdict.summary(), details=report.markdown())
        with progress.step("register"):
            version = str(register(client, trained.model_uri, report, inputs, lineage).version)
        with progress.step("promote"):
            if needs_human:
                card = write_card(client, config, version)
                status, message = (
                    Status.awaiting_approval,
                    (
                        f"version {version} is eligible and awaits a person's approval: "
                        f"promote --stack {stack} --version {version} --evaluation {report.run_id} "
                        "--approved-by <you>"
                    ),
                )
            else:
                approve(client, config, Approval.automated(report.run_id), version, False)
                card = write_card(client, config, version)
                status, message = Status.promoted, f"version {version} is the champion"
        outcome = Outcome(tracking, name, status, version, message, report)
        write_summary(root, outcome, card)
        if version_by_alias(client, name, CHAMPION) is None:
            return outcome  # nothing serves yet: no predictions, no drift to watch
        with progress.step("batch predict"):
            predictions = batch_predict(
                client, name, root / config.batch.input, root / config.batch.output
            )
        with progress.step("monitor"):
            drift = monitor(client, name, root / config.batch.input, config.monitor, root)
    return Outcome(tracking, name, status, version, message, report, predictions, drift)


def _unchanged(
    tracking: Tracking,
    client: MlflowClient,
    config: PipelineConfig,
    data: Datasets,
    same: ModelVersion,
) -> Outcome:
    """Nothing to train (``settle_unchanged``)."""
    message = settle_unchanged(client, config, data, same)
    return Outcome(tracking, config.model.name, Status.unchanged, str(same.version), message)
