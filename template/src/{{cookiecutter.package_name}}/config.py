"""The project's pipeline config (``config/pipeline.yaml``): data, model, thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from slipway.drift import DriftThresholds
from slipway.lifecycle import LifecycleError, StrictModel, load_config

from {{ cookiecutter.package_name }}.estimators import ESTIMATORS

DEFAULT_CONFIG = Path("config/pipeline.yaml")


class DataConfig(StrictModel):
    # A local file, or s3://bucket/prefix/: every CSV under it, as it is when the run reads it.
    path: Path | str = Path("data/train.csv")
    # Bundled sample written to `path` (and `batch.input`) when `path` is missing; null: never.
    sample: Literal["breast_cancer"] | None = "breast_cancer"

    @field_validator("path", mode="before")
    @classmethod
    def _location(cls, value: object) -> object:
        """``s3://`` URIs stay text (a Path would fold ``//``); anything else is a path."""
        text = str(value)
        if text.startswith("s3://"):
            if not text.removeprefix("s3://").split("/", 1)[0]:
                raise ValueError("must be s3://bucket/prefix/ or a local path")
            return text
        return Path(text)


class ModelConfig(StrictModel):
    name: str = Field(default="{{ cookiecutter.project_slug }}", min_length=1)
    estimator: Literal["logistic_regression", "random_forest"] = "logistic_regression"
    params: dict[str, float | int | str | bool | None] = Field(default_factory=dict)
    test_size: float = Field(default=0.25, gt=0, lt=1)
    seed: int = 42

    @model_validator(mode="after")
    def _known_params(self) -> ModelConfig:
        known = ESTIMATORS[self.estimator]().get_params()
        for key in self.params:
            if key not in known:
                raise ValueError(f"params.{key} is not a parameter of {self.estimator}")
        return self


class GateConfig(StrictModel):
    min_roc_auc: float = Field(default=0.9, ge=0, le=1)
    min_f1: float = Field(default=0.85, ge=0, le=1)
    compare_metric: Literal["roc_auc", "f1", "accuracy"] = "roc_auc"
    champion_margin: float = Field(default=0.0, ge=-1, le=1)
    approved_by: str = Field(default="quality-gate", min_length=1)

    def minimums(self) -> dict[str, float]:
        return {"roc_auc": self.min_roc_auc, "f1": self.min_f1}


class BatchConfig(StrictModel):
    input: Path = Path("data/batch.csv")
    output: Path = Path("outputs/predictions.csv")


class MonitorConfig(StrictModel):
    thresholds: DriftThresholds = Field(default_factory=DriftThresholds)
    report_dir: Path = Path("outputs/drift")


class PipelineConfig(StrictModel):
    experiment: str = Field(default="{{ cookiecutter.project_slug }}", min_length=1)
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    batch: BatchConfig = Field(default_factory=BatchConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)


def load(path: Path = DEFAULT_CONFIG) -> PipelineConfig:
    """Read and validate the config; raises :class:`LifecycleError` in one line."""
    return load_config(path, PipelineConfig)


__all__ = ["DEFAULT_CONFIG", "LifecycleError", "PipelineConfig", "load"]
