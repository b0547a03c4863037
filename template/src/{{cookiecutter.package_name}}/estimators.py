"""Model choice: the scikit-learn pipelines this project can train."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

ESTIMATORS: Mapping[str, Callable[..., BaseEstimator]] = {
    "logistic_regression": LogisticRegression,
    "random_forest": RandomForestClassifier,
}
# Types beyond skops' defaults that loading each model needs (models are saved with skops,
# which refuses unlisted types): reviewed here, recorded in the model's MLmodel file.
TRUSTED_TYPES: Mapping[str, list[str]] = {
    "logistic_regression": [],
    "random_forest": ["sklearn.tree._tree.Tree"],
}


def build_pipeline(estimator: str, params: Mapping[str, Any], seed: int) -> Pipeline:
    """Scaling then the chosen classifier, seeded for reproducible runs."""
    model = ESTIMATORS[estimator](**params)
    if "random_state" in model.get_params():
        model.set_params(random_state=seed)
    return Pipeline([("scale", StandardScaler()), ("classify", model)])
