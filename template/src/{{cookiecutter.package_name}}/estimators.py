"""Model choice: the scikit-learn pipelines this project can train."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from slipway.lifecycle import LifecycleError

from {{ cookiecutter.package_name }}.config import ModelConfig

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


def check_params(config: ModelConfig) -> None:
    """Refuse a ``model.params`` key that is not a parameter of the chosen estimator."""
    known = ESTIMATORS[config.estimator]().get_params()
    for key in config.params:
        if key not in known:
            raise LifecycleError("model", f"params.{key} is not a parameter of {config.estimator}")


def build_pipeline(config: ModelConfig) -> Pipeline:
    """Scaling then the chosen classifier, seeded for reproducible runs."""
    check_params(config)
    model = ESTIMATORS[config.estimator](**config.params)
    if "random_state" in model.get_params():
        model.set_params(random_state=config.seed)
    return Pipeline([("scale", StandardScaler()), ("classify", model)])
