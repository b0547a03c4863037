"""An evaluation record as a project's pipeline logs it, for tests of what is built from it
(model cards, the deploy flow)."""

from __future__ import annotations

from typing import Any

from slipway.lifecycle import DataVersion, EvaluationReport, GroupMetrics

EVALUATION_DATA = DataVersion(uri="data/evaluation.csv", sha256="e" * 64, rows=114)


def evaluation_report(run_id: str, **changes: Any) -> EvaluationReport:
    """A passed candidate of model ``churn`` trained by carol; ``changes`` replace fields."""
    report = EvaluationReport(
        model_name="churn",
        run_id=run_id,
        stack="dev",
        estimator="logistic_regression",
        params={"C": 1.0},
        training_data=DataVersion(uri="data/train.csv", sha256="t" * 64, rows=341),
        evaluation_data=EVALUATION_DATA,
        lineage={"trained_by": "carol", "git_commit": "abc123"},
        compare_metric="roc_auc",
        challenger={"roc_auc": 0.99, "f1": 0.97},
        champion={"roc_auc": 0.98, "f1": 0.96},
        champion_version="1",
        gate=f"challenger wins on {EVALUATION_DATA.describe()}: roc_auc 0.9900 vs 0.9800",
        passed=True,
        fairness=[
            GroupMetrics(
                column="cohort",
                metric="recall",
                max_difference=0.25,
                difference=0.03,
                groups={"A": {"recall": 1.0, "count": 57}, "B": {"recall": 0.97, "count": 57}},
            )
        ],
    )
    return report.model_copy(update=changes)
