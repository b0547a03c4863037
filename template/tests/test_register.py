"""Step 4: registration with lineage; the gate's promotion (local stack) records its approval."""

from __future__ import annotations

import tempfile
from pathlib import Path

from mlflow.tracking import MlflowClient
from slipway.lifecycle import CARD_ARTIFACT

from {{ cookiecutter.package_name }}.pipeline import Outcome


def test_champion_carries_lineage_and_an_automated_approval(
    client: MlflowClient, outcome: Outcome
) -> None:
    version = client.get_model_version_by_alias(outcome.model_name, "champion")
    assert str(version.version) == outcome.version
    run = client.get_run(version.run_id)
    tags = version.tags
    for key in (
        "training_data_sha256",
        "evaluation_data_sha256",
        "code_sha256",
        "config_sha256",
        "git_commit",
        "trained_by",
    ):
        assert tags[key] == run.data.tags[key], key
    assert float(tags["metric.roc_auc"]) == round(outcome.report.challenger["roc_auc"], 6)
    assert (tags["approved_by"], tags["approval_kind"]) == ("quality-gate", "automated")
    assert tags["approved_evaluation"] == version.run_id
    assert tags["approved_at"].endswith("+00:00")


def test_promotion_consumes_the_challenger_alias(client: MlflowClient, outcome: Outcome) -> None:
    model = client.get_registered_model(outcome.model_name)
    assert str(model.aliases.get("champion")) == outcome.version
    assert "challenger" not in model.aliases


def test_model_card_is_assembled_from_lineage_metrics_fairness_and_approval(
    client: MlflowClient, outcome: Outcome
) -> None:
    report = outcome.report
    with tempfile.TemporaryDirectory() as tmp:
        card = Path(client.download_artifacts(report.run_id, CARD_ARTIFACT, tmp)).read_text()
    assert card.startswith(f"# Model card: {outcome.model_name} version {outcome.version}")
    assert report.training_data.describe() in card and report.evaluation_data.describe() in card
    assert f"| roc_auc | {report.challenger['roc_auc']:.4f} | - |" in card
    assert "Per `cohort` group" in card
    assert "automated approval by quality-gate" in card
    assert "synthetic" in card  # the bundled cohort column says what it is
