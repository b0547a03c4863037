"""Compact, JSON-serialisable reference profile of the training features.

Saved with the model at training time so that monitoring never reloads the
training data: per numeric feature, quantile bin edges with the reference share
of each bin (for PSI) and an evenly spaced quantile summary of the sorted
reference values (an ECDF sketch, for KS).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

PROFILE_VERSION = 1


class FeatureProfile(BaseModel, frozen=True):
    """Reference distribution of one numeric feature."""

    count: int
    mean: float
    std: float
    min: float
    max: float
    edges: list[float] = Field(description="interior bin edges; bins are (-inf, e0], ... (eN, inf)")
    fractions: list[float] = Field(description="reference share of each of len(edges)+1 bins")
    quantiles: list[float] = Field(description="sorted ECDF sketch: evenly spaced quantiles")

    def bin_shares(self, values: np.ndarray) -> np.ndarray:
        """Share of ``values`` in each reference bin."""
        index = np.searchsorted(np.asarray(self.edges), values, side="left")
        counts = np.bincount(index, minlength=len(self.edges) + 1)
        return counts / max(len(values), 1)


class Profile(BaseModel, frozen=True):
    """Reference profile of a data set's numeric features."""

    version: int = PROFILE_VERSION
    features: dict[str, FeatureProfile]

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=1))
        return path

    @classmethod
    def load(cls, path: Path) -> Profile:
        return cls.model_validate(json.loads(path.read_text()))


def build_profile(frame: pd.DataFrame, bins: int = 10, sketch_size: int = 1000) -> Profile:
    """Profile every numeric column of ``frame`` (drop the target first)."""
    numeric = frame.select_dtypes(include="number")
    return Profile(
        features={str(name): _feature(numeric[name].dropna().to_numpy(float), bins, sketch_size)
                  for name in numeric.columns}
    )


def _feature(values: np.ndarray, bins: int, sketch_size: int) -> FeatureProfile:
    if values.size == 0:
        raise ValueError("cannot profile a feature with no values")
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
    points = min(sketch_size, values.size)
    sketch = np.quantile(values, np.linspace(0, 1, points)) if points > 1 else values
    profile = FeatureProfile(
        count=int(values.size),
        mean=float(values.mean()),
        std=float(values.std()),
        min=float(values.min()),
        max=float(values.max()),
        edges=edges.tolist(),
        fractions=[],
        quantiles=np.sort(sketch).tolist(),
    )
    return profile.model_copy(update={"fractions": profile.bin_shares(values).tolist()})
