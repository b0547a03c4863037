"""The project's pipeline config (``config/pipeline.yaml``): data, model, thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from slipway.drift import DriftThresholds
from slipway.lifecycle import LifecycleError, StrictModel, load_config

DEFAULT_CONFIG = Path("config/pipeline.yaml")


class DataConfig(StrictModel):
    # A local file, or s3://bucket/prefix/: every CSV under it, as it is when the run reads it.
    path: Path | str = Path("data/train.csv")
    # Held-out evaluation set, versioned apart from the training data: the challenger and
    # the champion are both scored on it.
    evaluation: Path | str = Path("data/evaluation.csv")
    # Bundled sample written to `path`, `evaluation` (and `batch.input`) when `path` is
    # missing; null: never.
    sample: Literal["breast_cancer"] | None = "breast_cancer"

    @field_validator("path", "evaluation", mode="before")
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
    # Checked against the estimator where a model is built (estimators.check_params): the
    # config loads without scikit-learn, as the engine's steps that fit nothing do.
    params: dict[str, float | int | str | bool | None] = Field(default_factory=dict)
    seed: int = 42


class GateConfig(StrictModel):
    min_roc_auc: float = Field(default=0.9, ge=0, le=1)
    min_f1: float = Field(default=0.85, ge=0, le=1)
    compare_metric: Literal["roc_auc", "f1", "accuracy"] = "roc_auc"
    champion_margin: float = Field(default=0.0, ge=-1, le=1)

    def minimums(self) -> dict[str, float]:
        return {"roc_auc": self.min_roc_auc, "f1": self.min_f1}


class FairnessConfig(StrictModel):
    # Columns of the training and evaluation data that name groups of people. They are
    # never model inputs; evaluation reports `metric` per group and the gate refuses a
    # candidate whose largest gap between two groups exceeds `max_difference`.
    sensitive_columns: list[str] = Field(default_factory=lambda: ["cohort"])
    metric: Literal["recall", "precision", "accuracy", "selection_rate"] = "recall"
    max_difference: float = Field(default=0.25, ge=0, le=1)


class ApprovalConfig(StrictModel):
    # Stacks where the gate's verdict is enough to crown a champion (`local`: the embedded
    # MLflow). On any other stack a person approves: `promote --approved-by`.
    automated: list[str] = Field(default_factory=lambda: ["local", "dev"])

    def needs_human(self, stack: str) -> bool:
        return stack not in self.automated


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
    fairness: FairnessConfig = Field(default_factory=FairnessConfig)
    approval: ApprovalConfig = Field(default_factory=ApprovalConfig)
    batch: BatchConfig = Field(default_factory=BatchConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)


def load(path: Path = DEFAULT_CONFIG) -> PipelineConfig:
    """Read and validate the config; raises :class:`LifecycleError` in one line."""
    return load_config(path, PipelineConfig)


__all__ = ["DEFAULT_CONFIG", "LifecycleError", "PipelineConfig", "load"]
