"""Step 7: drift of recent inputs against the champion's training profile."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.pipeline import Outcome
from {{ cookiecutter.package_name }}.schema import FEATURE_MAX


def test_unseen_rows_from_the_same_population_do_not_drift(outcome: Outcome) -> None:
    assert not outcome.drift.result.retrain_needed
    summary = json.loads(outcome.drift.json.read_text())
    assert summary["retrain_needed"] is False
    assert len(summary["features"]) == len(FEATURE_MAX)
    assert outcome.drift.html.read_text().count("<tr") == len(FEATURE_MAX) + 1


def test_shifted_inputs_say_retrain_needed(
    in_project: Path, outcome: Outcome, write_config: Callable[..., Path]
) -> None:
    batch = pd.read_csv(in_project / "data" / "batch.csv")
    shifted = in_project / "shifted.csv"
    (batch * 1.4).clip(upper=pd.Series(FEATURE_MAX), axis=1).to_csv(shifted, index=False)
    config = write_config(in_project / "shifted", monitor={"report_dir": "outputs/shifted"})
    result = CliRunner().invoke(app, ["monitor", "--input", str(shifted), "-c", str(config)])
    assert result.exit_code == 3, result.output
    assert "retrain needed" in result.output
    summary = json.loads((in_project / "outputs" / "shifted" / "drift_summary.json").read_text())
    assert summary["retrain_needed"] is True and "mean_radius" in summary["drifted_features"]
