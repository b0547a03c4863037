"""One-line errors from config files and pandera schemas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest
from pydantic import Field
from slipway.lifecycle import LifecycleError, StrictModel, from_schema_error, load_config


class Gate(StrictModel):
    min_f1: float = Field(default=0.8, ge=0, le=1)


class Config(StrictModel):
    gate: Gate = Field(default_factory=Gate)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gate: {min_f1: 2}", "gate.min_f1: Input should be less than or equal to 1"),
        ("gate: {min_f2: 0.5}", "gate.min_f2: unknown key"),
        ("- a list", "must be a mapping"),
        ("gate: [unclosed", "not valid YAML"),
    ],
)
def test_bad_config_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(LifecycleError) as err:
        load_config(path, Config)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_valid_and_missing_config(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("gate: {min_f1: 0.5}")
    assert load_config(path, Config).gate.min_f1 == 0.5
    with pytest.raises(LifecycleError, match="config file not found"):
        load_config(tmp_path / "missing.yaml", Config)


SCHEMA = pa.DataFrameSchema(
    {"x": pa.Column(float, pa.Check.ge(0)), "y": pa.Column(int, pa.Check.isin([0, 1]))},
    strict=True,
    coerce=True,
)


@pytest.mark.parametrize(
    ("frame", "field", "rule"),
    [
        (pd.DataFrame({"x": [1.0, -1.0], "y": [0, 1]}), "x", "greater_than_or_equal_to(0)"),
        (pd.DataFrame({"x": [1.0]}), "y", "required column is missing"),
        (pd.DataFrame({"x": [1.0], "y": [0], "z": [1]}), "z", "column is not in the schema"),
        (pd.DataFrame({"x": [None, 1.0], "y": [0, 1]}), "x", "must not be null"),
        (pd.DataFrame({"x": ["a"], "y": [0]}), "x", "must be float64"),
    ],
)
def test_schema_errors_name_column_and_rule(frame: pd.DataFrame, field: str, rule: str) -> None:
    with pytest.raises((pa.errors.SchemaError, pa.errors.SchemaErrors)) as err:
        SCHEMA.validate(frame)
    converted = from_schema_error(err.value)
    assert converted.field == field and rule in converted.rule
