"""Per-feature drift and the overall "retrain needed" verdict, over streamed chunks."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, cast, runtime_checkable

import numpy as np
from pydantic import BaseModel, Field

from slipway.drift.accumulate import CategoryAccumulator, NumericAccumulator
from slipway.drift.errors import DriftError
from slipway.drift.histogram import Histogram, category_histogram, numeric_histogram
from slipway.drift.profile import CategoryProfile, Profile
from slipway.drift.statistics import chi_square_pvalue, chi_square_statistic, ks_pvalue, psi

if TYPE_CHECKING:
    import pandas as pd

Test = Literal["wasserstein", "ks", "psi", "chi2"]


class DriftThresholds(BaseModel, extra="forbid", frozen=True):
    """Which test decides per feature, its threshold, and the share of drifted features
    above which retraining is needed.

    ``auto`` follows Evidently's data-drift preset: up to ``small_reference`` reference rows,
    KS for numeric and chi-square for categorical features (p-value below the threshold);
    above, normalised Wasserstein (>= ``wasserstein``) and PSI (>= ``psi``)."""

    wasserstein: float = Field(default=0.1, gt=0)
    psi: float = Field(default=0.2, gt=0)
    ks_pvalue: float = Field(default=0.01, gt=0, lt=1)
    chi2_pvalue: float = Field(default=0.01, gt=0, lt=1)
    numeric_test: Literal["auto", "wasserstein", "ks", "psi"] = "auto"
    categorical_test: Literal["auto", "chi2", "psi"] = "auto"
    small_reference: int = Field(default=1000, ge=0)
    max_drifted_share: float = Field(default=0.25, ge=0, lt=1)

    def test_for(self, categorical: bool, reference_rows: int) -> Test:
        chosen = self.categorical_test if categorical else self.numeric_test
        if chosen != "auto":
            return chosen
        small = reference_rows <= self.small_reference
        if categorical:
            return "chi2" if small else "psi"
        return "ks" if small else "wasserstein"


class FeatureDrift(BaseModel, frozen=True):
    feature: str
    kind: Literal["numeric", "categorical"]
    test: Test
    score: float = Field(description="the deciding statistic (a p-value for ks and chi2)")
    threshold: float
    drifted: bool
    reasons: list[str]
    current_rows: int
    missing: int
    psi: float
    wasserstein: float | None = None
    ks_statistic: float | None = None
    ks_pvalue: float | None = None
    chi2: float | None = None
    chi2_pvalue: float | None = None
    histogram: Histogram | None = Field(default=None, description="for the report's plot")

    @property
    def relative(self) -> float:
        """The deciding statistic against its threshold: 1 at the threshold, above 1 drifted
        (``score / threshold``; for a p-value ``log(p) / log(threshold)``)."""
        if self.test in ("ks", "chi2"):
            return float(np.log(max(self.score, 1e-300)) / np.log(self.threshold))
        return self.score / self.threshold


class DriftResult(BaseModel, frozen=True):
    thresholds: DriftThresholds
    reference_rows: int
    current_rows: int
    features: list[FeatureDrift]

    @property
    def drifted(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.drifted]

    @property
    def drifted_share(self) -> float:
        return len(self.drifted) / len(self.features) if self.features else 0.0

    @property
    def retrain_needed(self) -> bool:
        return self.drifted_share > self.thresholds.max_drifted_share

    def summary(self) -> dict[str, object]:
        """JSON-ready summary (also what the JSON report holds)."""
        return {
            "retrain_needed": self.retrain_needed,
            "drifted_share": round(self.drifted_share, 4),
            "drifted_features": [f.feature for f in self.drifted],
            **self.model_dump(mode="json"),
        }


Accumulator = NumericAccumulator | CategoryAccumulator
Chunk: TypeAlias = "pd.DataFrame | Mapping[str, Any]"  # a frame, or column name -> values


@runtime_checkable
class ColumnStreams(Protocol):
    """Current data that can be read one column at a time (``sources.ParquetChunks``)."""

    rows: int

    def column(self, name: str) -> Iterator[np.ndarray]: ...


def detect_drift(
    profile: Profile,
    current: Chunk | Iterable[Chunk],
    thresholds: DriftThresholds | None = None,
    workers: int | None = None,
) -> DriftResult:
    """Compare ``current`` (a frame or a mapping of column name -> values, or chunks of
    either streamed from a source) with the reference ``profile``, feature by feature;
    features are spread over ``workers`` threads (default: every core, at most 2 -- numpy
    sorts outside the GIL). A source with ``ColumnStreams`` is read column by column, each
    worker decoding its own feature."""
    limits = thresholds or DriftThresholds()
    accumulators: dict[str, Accumulator] = {
        name: CategoryAccumulator(p) if isinstance(p, CategoryProfile) else NumericAccumulator(p)
        for name, p in profile.features.items()
    }
    with ThreadPoolExecutor(workers or min(os.cpu_count() or 1, 2)) as pool:
        if not _is_frame(current) and isinstance(current, ColumnStreams):
            rows = _by_column(current, accumulators, pool)
        else:
            rows = _by_chunk(current, accumulators, pool)
    if rows == 0:
        raise DriftError("current data", "has no rows")
    features = [_verdict(name, acc, limits) for name, acc in accumulators.items()]
    reference_rows = max((p.count for p in profile.features.values()), default=0)
    return DriftResult(
        thresholds=limits, reference_rows=reference_rows, current_rows=rows, features=features
    )


def _by_column(
    current: ColumnStreams, accumulators: dict[str, Accumulator], pool: ThreadPoolExecutor
) -> int:
    def one(name: str) -> None:
        for values in current.column(name):
            accumulators[name].update(values)

    list(pool.map(one, accumulators))
    return current.rows


def _by_chunk(
    current: Chunk | Iterable[Chunk],
    accumulators: dict[str, Accumulator],
    pool: ThreadPoolExecutor,
) -> int:
    one = _is_frame(current) or isinstance(current, Mapping)
    chunks = cast("Iterable[Chunk]", [current] if one else current)
    rows = 0
    for chunk in chunks:
        for name in accumulators:
            if name not in chunk:
                raise DriftError(name, "missing from the current data")
        columns = [chunk[name] for name in accumulators]
        list(pool.map(lambda acc, column: acc.update(column), accumulators.values(), columns))
        rows += len(columns[0]) if columns else len(chunk)
    return rows


def _is_frame(value: object) -> bool:
    """Whether ``value`` is a pandas frame (without importing pandas when nobody has)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


def _verdict(name: str, acc: Accumulator, limits: DriftThresholds) -> FeatureDrift:
    if acc.count == 0:
        raise DriftError(name, "has no usable values in the current data")
    categorical = isinstance(acc, CategoryAccumulator)
    test = limits.test_for(categorical, acc.profile.count)
    stats: dict[str, float] = {}
    # p-values need scipy.stats (~1-3 s, ~75 MB): computed only for the deciding test
    if isinstance(acc, CategoryAccumulator):
        reference, current = acc.shares()
        stats["psi"] = psi(reference, current)
        stats["chi2"] = chi_square_statistic(reference, current, acc.count)
        if test == "chi2":
            stats["chi2_pvalue"] = chi_square_pvalue(stats["chi2"], len(reference))
        histogram = category_histogram(acc)
    else:
        stats["psi"] = psi(np.asarray(acc.profile.fractions), acc.bin_shares())
        stats["wasserstein"] = acc.wasserstein_norm()
        stats["ks_statistic"] = acc.ks_statistic()
        if test == "ks":
            stats["ks_pvalue"] = ks_pvalue(stats["ks_statistic"], acc.profile.count, acc.count)
        histogram = numeric_histogram(acc)
    key = {"ks": "ks_pvalue", "chi2": "chi2_pvalue"}.get(test, test)
    score, threshold = stats[key], getattr(limits, key)
    is_pvalue = key.endswith("pvalue")
    drifted = score < threshold if is_pvalue else score >= threshold
    reason = f"{key.replace('_', ' ')} {score:.3g} {'<' if is_pvalue else '>='} {threshold}"
    return FeatureDrift(
        feature=name,
        kind="categorical" if categorical else "numeric",
        test=test,
        score=score,
        threshold=threshold,
        drifted=drifted,
        reasons=[reason] if drifted else [],
        current_rows=acc.count,
        missing=acc.missing,
        histogram=histogram,
        **stats,
    )
