"""Model cards assembled from the evaluation record, lineage and the approval on record.

* :func:`markdown_card`: ``model_card.md``, logged with the model's run (rewritten when a
  person approves it);
* :func:`sagemaker_card_content`: the ``Content`` of a SageMaker ``ModelCard`` (the model
  card JSON schema's snake_case sections), created by the deploy flow next to the model
  package (docs/lifecycle.md, "Model card").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slipway.lifecycle.approval import Approval
from slipway.lifecycle.evaluation import EvaluationReport

CARD_ARTIFACT = "model_card.md"
PROBLEM_TYPE = "Binary Classification"


def markdown_card(
    report: EvaluationReport,
    version: str | None,
    approval: Approval | None,
    notes: Sequence[str] = (),
) -> str:
    """The model card of ``report``'s candidate (registered as ``version``, if it was)."""
    title = (
        f"{report.model_name} version {version}" if version else f"{report.model_name} candidate"
    )
    params = ", ".join(f"{k}={v}" for k, v in sorted(report.params.items())) or "defaults"
    lineage = report.lineage
    status = approval.describe() if approval else "not approved (awaiting approval or refused)"
    lines = [
        f"# Model card: {title}",
        "",
        "## Model",
        f"- {PROBLEM_TYPE}: `{report.estimator}` ({params})",
        f"- Trained by {lineage.get('trained_by', '?')} on stack `{report.stack}`, "
        f"MLflow run `{report.run_id}`",
        "",
        "## Lineage",
        f"- Training data: `{report.training_data.describe()}`",
        f"- Evaluation data: `{report.evaluation_data.describe()}`",
        f"- Code: sha256 `{lineage.get('code_sha256', '?')[:12]}`, "
        f"git commit `{lineage.get('git_commit', '?')}`",
        f"- Config: sha256 `{lineage.get('config_sha256', '?')[:12]}`",
        "",
        "## Evaluation",
        "",
        report.markdown().rstrip(),
        "",
        "## Approval",
        f"- {status}",
    ]
    if notes:
        lines += ["", "## Caveats", *(f"- {note}" for note in notes)]
    return "\n".join(lines) + "\n"


def sagemaker_card_content(
    report: EvaluationReport,
    version: str,
    approval: Approval,
    *,
    package_arn: str,
    model_data_uri: str,
    image_uri: str,
    notes: Sequence[str] = (),
) -> str:
    """``Content`` of a SageMaker ModelCard for model package ``package_arn``."""
    groups: list[dict[str, Any]] = [_metric_group("challenger (this model)", report.challenger)]
    if report.champion:
        groups.append(_metric_group(f"previous {report.champion_label()}", report.champion))
    for fair in report.fairness:
        values = {
            f"{group} {fair.metric}": metrics[fair.metric] for group, metrics in fair.groups.items()
        }
        values[f"{fair.metric} difference"] = fair.difference
        groups.append(_metric_group(f"per {fair.column} group", values))
    fairness = "; ".join(
        f"{f.column}: {f.metric} difference {f.difference:.4f} (max {f.max_difference:.4f})"
        for f in report.fairness
    )
    content = {
        "model_overview": {
            "model_id": f"{report.model_name}/{version}",
            "model_description": f"MLflow model {report.model_name} version {version}",
            "model_creator": report.lineage.get("trained_by", "unknown"),
            "problem_type": PROBLEM_TYPE,
            "algorithm_type": report.estimator,
            "model_artifact": [model_data_uri],
            "inference_environment": {"container_image": [image_uri]},
        },
        "intended_uses": {"risk_rating": "Unknown"},
        "training_details": {
            "training_observations": (
                f"Trained on {report.training_data.describe()}, git commit "
                f"{report.lineage.get('git_commit', 'unknown')}, MLflow run {report.run_id}."
            ),
            "training_job_details": {
                "training_datasets": [report.training_data.uri],
                "hyper_parameters": [
                    {"name": str(k), "value": str(v)} for k, v in sorted(report.params.items())
                ],
            },
        },
        "evaluation_details": [
            {
                "name": f"evaluation {report.run_id}",
                "evaluation_observation": report.gate,
                "datasets": [report.evaluation_data.uri],
                "metadata": {
                    "sha256": report.evaluation_data.sha256,
                    "rows": str(report.evaluation_data.rows),
                },
                "metric_groups": groups,
            }
        ],
        "additional_information": {
            "ethical_considerations": fairness or "no sensitive columns configured",
            "caveats_and_recommendations": " ".join(notes) or "none recorded",
            "custom_details": {
                **{key: value for key, value in approval.tags().items()},
                "model_package_arn": package_arn,
                "training_data_sha256": report.training_data.sha256,
                "evaluation_data_sha256": report.evaluation_data.sha256,
            },
        },
    }
    return json.dumps(content, sort_keys=True)


def _metric_group(name: str, metrics: dict[str, float]) -> dict[str, Any]:
    return {
        "name": name,
        "metric_data": [
            {"name": metric, "type": "number", "value": float(value)}
            for metric, value in sorted(metrics.items())
        ],
    }
