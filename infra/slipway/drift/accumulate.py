"""Streaming summaries of the current data, one per feature, updated chunk by chunk.

A numeric accumulator keeps, for every sketch point g of the reference profile, how many
current values are < g and <= g and their sum: O(sketch) memory whatever the data size.
Each chunk is sorted once and the sketch points are looked up in it (cheaper than binning
every value). From those sums the integral of the current CDF between sketch points is
exact, so the Wasserstein distance is exact up to where the two CDFs cross inside one
sketch cell, and KS is exact at the sketch points (docs/drift.md).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from slipway.drift.profile import OTHER, CategoryProfile, FeatureProfile


class NumericAccumulator:
    """Counts and sums of the current values of one numeric feature at the sketch points."""

    def __init__(self, profile: FeatureProfile) -> None:
        self.profile = profile
        grid = np.asarray(profile.grid)
        self.center = float(grid[len(grid) // 2])  # sums around the median keep precision
        self.grid = grid - self.center
        self.upto = np.zeros(len(grid), np.int64)
        self.below = np.zeros(len(grid), np.int64)
        self.sum_upto = np.zeros(len(grid))
        self.count = 0
        self.missing = 0
        self.total = 0.0
        self.low, self.high = np.inf, -np.inf  # current range, for the report's plot

    def update(self, column: Any) -> None:
        """Add a chunk of values (a numpy array, a pandas series or anything array-like)."""
        raw = _as_float(column)
        values = raw[np.isfinite(raw)]  # a copy: sorted in place below
        self.missing += raw.size - values.size
        if values.size == 0:
            return
        values -= self.center
        values.sort()
        self.low = min(self.low, float(values[0]) + self.center)
        self.high = max(self.high, float(values[-1]) + self.center)
        upto = np.searchsorted(values, self.grid, side="right")
        self.upto += upto
        self.below += np.searchsorted(values, self.grid, side="left")
        sums = np.cumsum(values)
        self.sum_upto += np.where(upto > 0, sums[np.maximum(upto - 1, 0)], 0.0)
        self.count += values.size
        self.total += float(sums[-1])

    def wasserstein(self) -> float:
        """First Wasserstein distance between the reference and the current data."""
        n, grid = self.count, self.grid
        integral = (grid * self.upto - self.sum_upto) / n  # of the current CDF up to each point
        below_min = integral[0]  # the reference CDF is 0 there
        above_max = ((self.total - self.sum_upto[-1]) - grid[-1] * (n - self.upto[-1])) / n
        cells = np.abs(np.diff(np.asarray(self.profile.area)) - np.diff(integral))
        return float(below_min + cells.sum() + above_max)

    def wasserstein_norm(self) -> float:
        """Evidently's ``wasserstein_distance_norm``: divided by the reference std (>= 0.001)."""
        return self.wasserstein() / max(self.profile.std, 0.001)

    def ks_statistic(self) -> float:
        """Largest gap between the two CDFs, at and just below each sketch point."""
        at = np.abs(np.asarray(self.profile.cdf) - self.upto / self.count)
        below = np.abs(np.asarray(self.profile.cdf_below) - self.below / self.count)
        return float(max(at.max(), below.max()))

    def bin_shares(self) -> np.ndarray:
        """Share of the current values in each reference PSI bin (edges are sketch points)."""
        where = np.searchsorted(np.asarray(self.profile.grid), self.profile.edges)
        upto = np.concatenate(([0], self.upto[where], [self.count]))
        return np.diff(upto) / self.count


class CategoryAccumulator:
    """Counts of the current categories of one categorical feature."""

    def __init__(self, profile: CategoryProfile) -> None:
        self.profile = profile
        self.counts: Counter[str] = Counter()
        self.missing = 0

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    def update(self, column: Any) -> None:
        import pandas as pd

        column = column if isinstance(column, pd.Series) else pd.Series(column)
        self.missing += int(column.isna().sum())
        self.counts.update(column.dropna().astype(str).value_counts().to_dict())

    def shares(self) -> tuple[np.ndarray, np.ndarray]:
        """(reference, current) shares over the reference categories plus the rest."""
        known = [c for c in self.profile.shares if c != OTHER]
        current = [self.counts.get(c, 0) for c in known]
        current.append(self.count - sum(current))
        reference = [self.profile.shares[c] for c in known]
        reference.append(self.profile.shares.get(OTHER, 0.0))
        return np.asarray(reference, float), np.asarray(current, float) / self.count


def _as_float(column: Any) -> np.ndarray:
    """Floats with NaN for missing or non-numeric values; numpy input stays out of pandas."""
    if isinstance(column, np.ndarray) and column.dtype.kind in "iuf":
        return column.astype(float, copy=False)
    import pandas as pd

    series = column if isinstance(column, pd.Series) else pd.Series(column)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
