"""The evaluation record of a candidate: both models' scores on one evaluation set, the
gate's verdict, per-group (fairness) metrics, feature importance and lineage.

Logged with the candidate's run as ``evaluation/report.json``; the model card, the CI job
summary and the SageMaker model card are all rendered from it, so they cannot disagree.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from slipway.lifecycle.lineage import DataVersion

REPORT_ARTIFACT = "evaluation/report.json"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GroupMetrics(_Frozen):
    """Metrics per value of one sensitive column; ``difference`` is the largest gap of
    ``metric`` between two groups (fairlearn ``MetricFrame.difference``)."""

    column: str
    metric: str
    max_difference: float
    difference: float
    groups: dict[str, dict[str, float]]


class Importance(_Frozen):
    """Permutation importance of one feature: mean and spread of the score drop."""

    feature: str
    mean: float
    std: float


class EvaluationReport(_Frozen):
    model_name: str
    run_id: str
    stack: str
    estimator: str
    params: dict[str, Any]
    training_data: DataVersion
    evaluation_data: DataVersion
    lineage: dict[str, str]
    compare_metric: str
    challenger: dict[str, float]
    champion: dict[str, float] | None = None
    champion_version: str | None = None
    gate: str
    passed: bool
    fairness: list[GroupMetrics] = []
    importance: list[Importance] = []

    def comparison_rows(self) -> list[tuple[str, str, str]]:
        """(metric, challenger, champion) rows, the gate's metric first."""
        names = sorted(self.challenger, key=lambda m: (m != self.compare_metric, m))
        champion = self.champion or {}
        return [
            (
                name,
                f"{self.challenger[name]:.4f}",
                f"{champion[name]:.4f}" if name in champion else "-",
            )
            for name in names
        ]

    def champion_label(self) -> str:
        return f"champion v{self.champion_version}" if self.champion_version else "champion (none)"

    def markdown(self) -> str:
        """The evaluation as a reviewer reads it (CI job summary, model card)."""
        lines = [
            f"**Gate:** {'passed' if self.passed else 'refused'}: {self.gate}",
            "",
            f"Evaluation data: `{self.evaluation_data.describe()}`; "
            f"evaluation run `{self.run_id}`.",
            "",
            f"| metric | challenger | {self.champion_label()} |",
            "|---|---:|---:|",
            *(f"| {m} | {a} | {b} |" for m, a, b in self.comparison_rows()),
        ]
        for group in self.fairness:
            verdict = "ok" if group.difference <= group.max_difference else "over the limit"
            lines += [
                "",
                f"Per `{group.column}` group ({group.metric} difference {group.difference:.4f}, "
                f"max {group.max_difference:.4f}: {verdict}):",
                "",
                "| group | count | " + " | ".join(_metric_names(group)) + " |",
                "|---|---:|" + "---:|" * len(_metric_names(group)),
                *(
                    f"| {name} | {int(values.get('count', 0))} | "
                    + " | ".join(f"{values[m]:.4f}" for m in _metric_names(group))
                    + " |"
                    for name, values in sorted(group.groups.items())
                ),
            ]
        if self.importance:
            top = ", ".join(f"{i.feature} ({i.mean:.4f})" for i in self.importance[:5])
            lines += [
                "",
                f"Most important features (permutation, {self.compare_metric} drop): {top}",
            ]
        return "\n".join(lines) + "\n"

    def dump(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.model_dump(mode="json"), indent=2) + "\n")
        return path


def _metric_names(group: GroupMetrics) -> list[str]:
    first = next(iter(group.groups.values()), {})
    return [m for m in first if m != "count"]


def load_report(client: Any, run_id: str) -> EvaluationReport | None:
    """The evaluation record logged with ``run_id`` (None for runs from before it existed)."""
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = client.download_artifacts(run_id, REPORT_ARTIFACT, tmp)
        except (MlflowException, OSError):
            return None
        return EvaluationReport.model_validate_json(Path(local).read_text())
