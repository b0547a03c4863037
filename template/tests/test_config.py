"""Bad config: one line naming the field and the rule, exit 2, registry untouched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"gate": {"min_auc": 0.9}}, "error: gate.min_auc: unknown key"),
        ({"gate": {"min_roc_auc": 1.5}}, "error: gate.min_roc_auc: Input should be less than or"),
        ({"model": {"params": {"depth": 3}}}, "error: model: params.depth is not a parameter of"),
        ({"data": {"path": "missing.csv", "sample": None}}, "error: data.path: file not found"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    write_config: Callable[..., Path],
    overrides: dict,
    expected: str,
) -> None:
    config = write_config(tmp_path, **overrides)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["pipeline", "run", "--config", str(config)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and lines[0].startswith(expected), result.output
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlruns").exists()
