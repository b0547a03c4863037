"""Per-group metrics of the sensitive columns (fairlearn), for the evaluation and the gate.

fairlearn is imported inside :func:`group_metrics`, the one place that needs it, so the
CLI starts without it.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, precision_score, recall_score
from slipway.lifecycle import GroupMetrics

from {{ cookiecutter.package_name }}.config import FairnessConfig


def group_metrics(
    truth: pd.Series, predicted: np.ndarray, groups: pd.DataFrame, config: FairnessConfig
) -> list[GroupMetrics]:
    """Recall, precision, accuracy, selection rate and count per value of each sensitive
    column; ``difference`` is the largest gap in ``config.metric`` between two groups."""
    from fairlearn.metrics import MetricFrame, count, selection_rate

    metrics = {
        "recall": partial(recall_score, zero_division=0),
        "precision": partial(precision_score, zero_division=0),
        "accuracy": accuracy_score,
        "selection_rate": selection_rate,
        "count": count,
    }
    found = []
    for column in config.sensitive_columns:
        frame = MetricFrame(
            metrics=metrics, y_true=truth, y_pred=predicted, sensitive_features=groups[column]
        )
        by_group = frame.by_group
        found.append(
            GroupMetrics(
                column=column,
                metric=config.metric,
                max_difference=config.max_difference,
                difference=float(frame.difference()[config.metric]),
                groups={
                    str(group): {name: float(value) for name, value in row.items()}
                    for group, row in by_group.iterrows()
                },
            )
        )
    return found


def disparities(found: list[GroupMetrics]) -> dict[str, tuple[float, float]]:
    """The gate's maximums: ``max_<metric>_difference[<column>]`` -> (maximum, actual)."""
    return {
        f"max_{g.metric}_difference[{g.column}]": (g.max_difference, g.difference) for g in found
    }
