"""Step 4: registration with lineage tags; the gate's promotion sets ``champion``."""

from __future__ import annotations

from mlflow.tracking import MlflowClient

from {{ cookiecutter.package_name }}.pipeline import Outcome


def test_champion_carries_lineage_tags(client: MlflowClient, outcome: Outcome) -> None:
    version = client.get_model_version_by_alias(outcome.model_name, "champion")
    assert str(version.version) == outcome.version
    run = client.get_run(version.run_id)
    tags = version.tags
    assert tags["training_data_sha256"] == run.data.tags["training_data_sha256"]
    assert tags["git_commit"] == run.data.tags["git_commit"]
    assert float(tags["metric.roc_auc"]) == round(outcome.metrics["roc_auc"], 6)
    assert tags["approved_by"] == "quality-gate"
    assert tags["approved_at"].endswith("+00:00")


def test_promotion_consumes_the_challenger_alias(client: MlflowClient, outcome: Outcome) -> None:
    model = client.get_registered_model(outcome.model_name)
    assert str(model.aliases.get("champion")) == outcome.version
    assert "challenger" not in model.aliases
