"""Step 5: batch predictions record the model version that made them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.pipeline import Outcome


def test_every_input_row_is_scored_by_the_champion(project: Path, outcome: Outcome) -> None:
    inputs = pd.read_csv(project / "data" / "batch.csv")
    predictions = pd.read_csv(outcome.predictions.path)
    assert len(predictions) == len(inputs) == outcome.predictions.rows
    assert set(predictions["prediction"]) == {0, 1}
    assert set(predictions["model_version"].astype(str)) == {outcome.version}
    assert set(predictions["model_name"]) == {outcome.model_name}


def test_malformed_input_writes_no_predictions(in_project: Path, outcome: Outcome) -> None:
    bad = in_project / "bad.csv"
    batch = pd.read_csv(in_project / "data" / "batch.csv")
    batch.drop(columns=["mean_area"]).to_csv(bad, index=False)
    out = in_project / "bad_predictions.csv"
    result = CliRunner().invoke(app, ["predict", "--input", str(bad), "--output", str(out)])
    assert result.exit_code == 2
    assert "error: mean_area: required column is missing" in result.output
    assert not out.exists()
