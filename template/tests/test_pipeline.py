"""The whole run: nothing is trained when nothing changed since the champion was trained."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.pipeline import SUMMARY_DIR, Outcome


def _runs(client: MlflowClient, experiment: str) -> list[str]:
    found = client.get_experiment_by_name(experiment)
    return sorted(r.info.run_id for r in client.search_runs([found.experiment_id]))


def test_identical_rerun_trains_nothing_registers_nothing_and_exits_0(
    in_project: Path, client: MlflowClient, outcome: Outcome
) -> None:
    name = outcome.model_name
    versions = len(client.search_model_versions(f"name='{name}'"))
    runs = _runs(client, name)

    result = CliRunner().invoke(app, ["pipeline", "run"])

    assert result.exit_code == 0, result.output
    assert (
        f"unchanged: training data, code and config are those of champion version "
        f"{outcome.version}; nothing trained, nothing registered" in result.output
    )
    assert len(client.search_model_versions(f"name='{name}'")) == versions
    assert str(client.get_model_version_by_alias(name, "champion").version) == outcome.version
    assert _runs(client, name) == runs
    summary = json.loads((in_project / SUMMARY_DIR / "candidate.json").read_text())
    assert (summary["status"], summary["version"]) == ("unchanged", outcome.version)


def test_new_evaluation_data_scores_the_champion_again_without_training(
    in_project: Path, client: MlflowClient, outcome: Outcome, write_config: Callable[..., Path]
) -> None:
    name = "rescore-test"  # its own model: the session champion keeps its evaluation tags
    private = {"batch": {"output": "outputs/rescore.csv"}, "monitor": {"report_dir": "outputs/r"}}
    config = write_config(in_project / "rescore", model={"name": name}, **private)
    first = CliRunner().invoke(app, ["pipeline", "run", "--config", str(config)])
    assert first.exit_code == 0, first.output
    fewer = pd.read_csv(in_project / "data" / "evaluation.csv").iloc[10:]
    fewer.to_csv(in_project / "rescore" / "evaluation.csv", index=False)
    changed = write_config(
        in_project / "rescore",
        model={"name": name},
        data={"evaluation": "rescore/evaluation.csv"},
        **private,
    )

    result = CliRunner().invoke(app, ["pipeline", "run", "--config", str(changed)])

    assert result.exit_code == 0, result.output
    assert "evaluation data changed, champion scored again" in result.output
    assert len(client.search_model_versions(f"name='{name}'")) == 1
    version = client.get_model_version_by_alias(name, "champion")
    rescored = client.get_run(version.tags["rescored_run"])
    assert rescored.data.tags["evaluation_data_rows"] == str(len(fewer))
    assert version.tags["evaluation_data_sha256"] == rescored.data.tags["evaluation_data_sha256"]
    assert 0.9 < rescored.data.metrics["roc_auc"] <= 1
    again = CliRunner().invoke(app, ["pipeline", "run", "--config", str(changed)])
    assert "champion scored again" not in again.output and again.exit_code == 0
