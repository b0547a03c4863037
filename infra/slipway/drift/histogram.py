"""Reference and current distributions of one feature, for the report's plots.

Drawn from what the detector already keeps -- the reference profile and the streamed
counts -- never from the data again. A numeric feature's reference CDF is known at the
profile's sketch points and the current CDF at the same points (the accumulator's counts),
so both are exact there and linear in between; the bins are equal-width over the range of
both. A feature with few distinct reference values gets one bar per value, a categorical
feature one bar per category.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, Field

from slipway.drift.profile import OTHER

if TYPE_CHECKING:
    from slipway.drift.accumulate import CategoryAccumulator, NumericAccumulator

BINS = 30  # bars of a continuous feature
BARS = 20  # at most this many categories; the rest is one bar
REST = "(other)"


class Histogram(BaseModel, frozen=True):
    """Share of the reference and of the current data per bin: ``edges`` (len + 1 of the
    shares) for equal-width bins, or ``labels`` for one bar per value or category."""

    reference: list[float]
    current: list[float]
    edges: list[float] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)


def numeric_histogram(acc: NumericAccumulator, bins: int = BINS) -> Histogram:
    """The reference and current shares of ``acc``'s feature over ``bins`` equal bins."""
    profile = acc.profile
    grid = np.asarray(profile.grid)
    point_mass = np.asarray(profile.cdf) - np.asarray(profile.cdf_below)
    if len(grid) <= bins and point_mass.sum() > 0.999:
        return _discrete(acc, grid, point_mass)
    low, high = min(profile.min, acc.low), max(profile.max, acc.high)
    if high <= low:
        high = low + 1.0
    edges = np.linspace(low, high, bins + 1)
    reference = _shares(edges, grid, np.asarray(profile.cdf))
    xs, cdf = grid, acc.upto / acc.count
    if acc.low < grid[0]:  # current values below the reference minimum: between low and grid[0]
        xs, cdf = np.concatenate(([acc.low], xs)), np.concatenate(([0.0], cdf))
    if acc.high > grid[-1]:
        xs, cdf = np.concatenate((xs, [acc.high])), np.concatenate((cdf, [1.0]))
    return Histogram(
        edges=edges.tolist(), reference=reference.tolist(), current=_shares(edges, xs, cdf).tolist()
    )


def _shares(edges: np.ndarray, xs: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """Share per bin of a distribution whose CDF is ``cdf`` at the points ``xs``."""
    at_edges = np.interp(edges, xs, cdf, left=0.0, right=1.0)
    at_edges[0], at_edges[-1] = 0.0, 1.0  # the range holds every value
    return np.diff(at_edges)


def _discrete(acc: NumericAccumulator, grid: np.ndarray, point_mass: np.ndarray) -> Histogram:
    current = (acc.upto - acc.below) / acc.count
    labels, reference, shares = [f"{g:.4g}" for g in grid], point_mass.tolist(), current.tolist()
    rest = 1.0 - float(current.sum())
    if rest > 1e-9:  # current values the reference never took
        labels, reference, shares = [*labels, REST], [*reference, 0.0], [*shares, rest]
    return Histogram(labels=labels, reference=reference, current=shares)


def category_histogram(acc: CategoryAccumulator, bars: int = BARS) -> Histogram:
    """The reference and current shares of the largest categories, the rest as one bar."""
    reference, current = acc.shares()  # the reference's categories, then the rest
    names = [c for c in acc.profile.shares if c != OTHER]
    kept = np.argsort(-np.maximum(reference[:-1], current[:-1]), kind="stable")[: bars - 1]
    rest = np.ones(len(reference), bool)
    rest[kept] = False
    labels = [names[i] for i in kept]
    ref, cur = reference[kept].tolist(), current[kept].tolist()
    if reference[rest].sum() + current[rest].sum() > 0:
        labels, ref, cur = (
            [*labels, REST],
            [*ref, reference[rest].sum()],
            [*cur, current[rest].sum()],
        )
    return Histogram(labels=labels, reference=ref, current=cur)
