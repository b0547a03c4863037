"""What the model relies on: permutation importance on the evaluation data.

Each feature is shuffled in turn and the drop in the gate's metric measured (scikit-learn's
``permutation_importance``, model-agnostic, no extra dependency). Three repeats keep it
cheap: about 90 predictions of the evaluation rows.
"""

from __future__ import annotations

import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline
from slipway.lifecycle import Importance

REPEATS = 3


def importance(
    pipeline: Pipeline, features: pd.DataFrame, truth: pd.Series, metric: str, seed: int
) -> list[Importance]:
    """Features by how much ``metric`` drops when each is shuffled, largest first."""
    result = permutation_importance(
        pipeline, features, truth, scoring=metric, n_repeats=REPEATS, random_state=seed
    )
    found = [
        Importance(feature=str(name), mean=float(mean), std=float(std))
        for name, mean, std in zip(
            features.columns, result.importances_mean, result.importances_std, strict=True
        )
    ]
    return sorted(found, key=lambda i: i.mean, reverse=True)
