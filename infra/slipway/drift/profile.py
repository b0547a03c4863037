"""Compact, JSON-serialisable reference profile of the training features.

Saved with the model at training time so that monitoring never reloads the training
data. Per numeric feature: moments, decile bin edges with the reference share of each
bin (PSI) and a quantile sketch -- at most ``sketch_size + 1`` reference values (every
distinct value when there are fewer) with the reference CDF just below and at each one
and the integral of the CDF up to it. With those, the streamed current data gives
Wasserstein and KS exactly at the sketch points (docs/drift.md). Per categorical feature:
the share of each of the ``top`` most frequent categories and of the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    import pandas as pd

PROFILE_VERSION: Literal[2] = 2
OTHER = "__other__"


class FeatureProfile(BaseModel, frozen=True):
    """Reference distribution of one numeric feature."""

    kind: Literal["numeric"] = "numeric"
    count: int
    missing: int = 0
    mean: float
    std: float = Field(description="population std (ddof=0), Evidently's Wasserstein norm")
    min: float
    max: float
    edges: list[float] = Field(description="interior bin edges; bins are (-inf, e0], ... (eN, inf)")
    fractions: list[float] = Field(description="reference share of each of len(edges)+1 bins")
    grid: list[float] = Field(description="sorted distinct reference values (the sketch)")
    cdf: list[float] = Field(description="reference share <= each grid value")
    cdf_below: list[float] = Field(description="reference share < each grid value")
    area: list[float] = Field(description="integral of the reference CDF from grid[0] to each")

    def bin_shares(self, values: np.ndarray) -> np.ndarray:
        """Share of ``values`` in each reference bin."""
        index = np.searchsorted(np.asarray(self.edges), values, side="left")
        counts = np.bincount(index, minlength=len(self.edges) + 1)
        return counts / max(len(values), 1)


class CategoryProfile(BaseModel, frozen=True):
    """Reference distribution of one categorical feature."""

    kind: Literal["categorical"] = "categorical"
    count: int
    missing: int = 0
    shares: dict[str, float] = Field(description=f"share per category; the rest under {OTHER!r}")


AnyFeature = Annotated[FeatureProfile | CategoryProfile, Field(discriminator="kind")]


class Profile(BaseModel, frozen=True):
    """Reference profile of a data set's features (in the model's input order)."""

    version: Literal[2] = PROFILE_VERSION
    features: dict[str, AnyFeature]

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json())
        return path

    @classmethod
    def load(cls, path: Path) -> Profile:
        return cls.model_validate(json.loads(path.read_text()))


def build_profile(
    frame: pd.DataFrame,
    bins: int = 10,
    sketch_size: int = 1000,
    categorical: Iterable[str] = (),
    top: int = 100,
) -> Profile:
    """Profile every column of ``frame`` (drop the target first): numeric dtypes as numeric
    features unless named in ``categorical``; strings, booleans and categories as categorical."""
    forced = set(categorical)
    return Profile(
        features={
            str(name): profile_series(frame[name], name in forced, bins, sketch_size, top)
            for name in frame.columns
        }
    )


def profile_series(
    series: pd.Series,
    categorical: bool = False,
    bins: int = 10,
    sketch_size: int = 1000,
    top: int = 100,
) -> FeatureProfile | CategoryProfile:
    """Profile one column; numeric unless ``categorical`` or of a non-numeric dtype."""
    import pandas as pd

    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if categorical or not numeric:
        return _categorical(series, top)
    values = series.to_numpy(dtype=float, na_value=np.nan)
    finite = values[np.isfinite(values)]
    return numeric_profile(finite, len(values) - finite.size, bins, sketch_size)


def numeric_profile(
    values: np.ndarray, missing: int = 0, bins: int = 10, sketch_size: int = 1000
) -> FeatureProfile:
    """Profile finite numeric ``values`` (sorted in place)."""
    if values.size == 0:
        raise ValueError("cannot profile a feature with no values")
    if sketch_size % bins:
        raise ValueError(f"sketch_size {sketch_size} must be a multiple of bins {bins}")
    values.sort()
    n = values.size
    index = np.round(np.linspace(0, n - 1, sketch_size + 1)).astype(np.int64)
    edges = np.unique(values[index[sketch_size // bins :: sketch_size // bins][:-1]])
    grid = np.unique(values) if n <= sketch_size + 1 else np.unique(values[index])
    center = float(values[n // 2])
    below = np.searchsorted(values, grid, side="left")
    upto = np.searchsorted(values, grid, side="right")
    mean, std = float(values.mean()), float(values.std())
    running = values - center  # sums around the median keep precision
    np.cumsum(running, out=running)  # in place: one copy of the column at a time
    sums = np.where(upto > 0, running[np.maximum(upto - 1, 0)], 0.0)
    del running
    integral = (grid - center) * upto - sums  # n * integral of the CDF up to each point
    cdf_edges = np.searchsorted(values, edges, side="right") / n
    return FeatureProfile(
        count=n,
        missing=missing,
        mean=mean,
        std=std,
        min=float(values[0]),
        max=float(values[-1]),
        edges=edges.tolist(),
        fractions=np.diff(np.concatenate(([0.0], cdf_edges, [1.0]))).tolist(),
        grid=grid.tolist(),
        cdf=(upto / n).tolist(),
        cdf_below=(below / n).tolist(),
        area=((integral - integral[0]) / n).tolist(),
    )


def _categorical(series: pd.Series, top: int) -> CategoryProfile:
    values = series.dropna().astype(str)
    if values.empty:
        raise ValueError("cannot profile a feature with no values")
    shares = values.value_counts(normalize=True)
    kept = {str(k): float(v) for k, v in shares.iloc[:top].items()}
    rest = 1.0 - sum(kept.values())
    if len(shares) > top:
        kept[OTHER] = rest
    return CategoryProfile(count=len(values), missing=int(series.isna().sum()), shares=kept)
