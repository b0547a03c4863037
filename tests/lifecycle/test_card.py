"""Model cards from the evaluation record: the Markdown card and the SageMaker ModelCard
``Content`` (the model card JSON schema's sections and value types)."""

from __future__ import annotations

import json
from typing import Any

from evaluation_records import evaluation_report
from slipway.lifecycle import (
    Approval,
    DataVersion,
    Importance,
    markdown_card,
    sagemaker_card_content,
)

REPORT = evaluation_report(
    "run-1",
    stack="staging",
    params={"C": 10000, "max_iter": 500},
    training_data=DataVersion(
        uri="s3://b/data/train.csv", sha256="t" * 64, rows=341, version_id="v-123"
    ),
    challenger={"f1": 0.9, "roc_auc": 0.9532},
    champion={"f1": 0.99, "roc_auc": 0.9993},
    gate="champion v1 wins on ...",
    passed=False,
    importance=[Importance(feature="worst_area", mean=0.02, std=0.01)],
)


def test_markdown_card_puts_the_gate_metric_first_and_names_every_version() -> None:
    card = markdown_card(REPORT, None, None, ["cohort is synthetic"])
    assert card.startswith("# Model card: churn candidate\n")
    rows = [line for line in card.splitlines() if line.startswith("| ") and "0." in line]
    assert rows[0] == "| roc_auc | 0.9532 | 0.9993 |"  # the gate's metric, then the rest
    assert "`s3://b/data/train.csv (sha256 tttttttttttt, version v-123, 341 rows)`" in card
    assert "| A | 57 | 1.0000 |" in card and card.index("| A |") < card.index("| B |")
    assert "not approved" in card and "- cohort is synthetic" in card
    approved = markdown_card(
        REPORT, "2", Approval("bob", "human", "2026-01-01T00:00:00+00:00", "run-1")
    )
    assert "human approval by bob at 2026-01-01T00:00:00+00:00 (evaluation run-1)" in approved


def _types(node: Any, path: str = "") -> dict[str, type]:
    if isinstance(node, dict):
        return {
            k: v for key, value in node.items() for k, v in _types(value, f"{path}.{key}").items()
        }
    if isinstance(node, list):
        return {k: v for item in node for k, v in _types(item, f"{path}[]").items()}
    return {path: type(node)}


def test_sagemaker_content_has_the_schema_sections_and_value_types() -> None:
    approval = Approval("bob", "human", "2026-01-01T00:00:00+00:00", "run-1")
    content = json.loads(
        sagemaker_card_content(
            REPORT,
            "2",
            approval,
            package_arn="arn:pkg/2",
            model_data_uri="s3://b/m.tar.gz",
            image_uri="img:1",
        )
    )
    assert set(content) == {
        "model_overview",
        "intended_uses",
        "training_details",
        "evaluation_details",
        "additional_information",
    }
    types = _types(content)
    # metric values are numbers, everything else the schema types as strings
    assert {t for p, t in types.items() if p.endswith("metric_data[].value")} == {float}
    assert {t for p, t in types.items() if not p.endswith("metric_data[].value")} == {str}
    assert content["intended_uses"]["risk_rating"] in {"High", "Medium", "Low", "Unknown"}
    hyper = content["training_details"]["training_job_details"]["hyper_parameters"]
    assert hyper == [{"name": "C", "value": "10000"}, {"name": "max_iter", "value": "500"}]
    [evaluation] = content["evaluation_details"]
    assert [g["name"] for g in evaluation["metric_groups"]] == [
        "challenger (this model)",
        "previous champion v1",
        "per cohort group",
    ]
    assert {m["type"] for g in evaluation["metric_groups"] for m in g["metric_data"]} == {"number"}
    details = content["additional_information"]["custom_details"]
    assert details["approval_kind"] == "human" and details["model_package_arn"] == "arn:pkg/2"
