"""The training data's schema (pandera): columns, types and plausible value ranges."""

from __future__ import annotations

import pandera.pandas as pa

# Upper bound of each cell-nucleus measurement (all are non-negative); the data's
# maxima sit well inside these, values beyond them are measurement errors.
MEASUREMENT_MAX = {
    "radius": 60.0,
    "texture": 100.0,
    "perimeter": 500.0,
    "area": 10_000.0,
    "smoothness": 1.0,
    "compactness": 2.0,
    "concavity": 2.0,
    "concave_points": 1.0,
    "symmetry": 1.0,
    "fractal_dimension": 1.0,
}
FEATURE_MAX = {
    pattern.format(measurement): upper
    for pattern in ("mean_{}", "{}_error", "worst_{}")
    for measurement, upper in MEASUREMENT_MAX.items()
}
FEATURES = list(FEATURE_MAX)
TARGET = "target"

FEATURE_SCHEMA = pa.DataFrameSchema(
    {
        name: pa.Column(float, [pa.Check.ge(0), pa.Check.le(upper)], nullable=False)
        for name, upper in FEATURE_MAX.items()
    },
    strict=True,
    coerce=True,
)
TRAINING_SCHEMA = FEATURE_SCHEMA.add_columns(
    {TARGET: pa.Column(int, pa.Check.isin([0, 1]), nullable=False)}
)


def labelled_schema(sensitive_columns: list[str]) -> pa.DataFrameSchema:
    """Training/evaluation data: features, target and the configured sensitive columns
    (group labels, read as text, never model inputs)."""
    return TRAINING_SCHEMA.add_columns(
        {name: pa.Column(str, nullable=False) for name in sensitive_columns}
    )
