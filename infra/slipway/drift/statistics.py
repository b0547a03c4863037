"""Drift statistics: PSI, KS p-value, chi-square, and one-shot helpers on in-memory values.

scipy is imported only for a p-value (``scipy.stats``: ~1-3 s and ~75 MB in a monitoring job).
"""

from __future__ import annotations

import numpy as np

from slipway.drift.accumulate import NumericAccumulator
from slipway.drift.profile import FeatureProfile

# Empty bins would make PSI infinite; clip shares to this floor (a common choice).
PSI_FLOOR = 1e-4


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population Stability Index of two bin-share vectors."""
    ref = np.clip(np.asarray(reference, float), PSI_FLOOR, None)
    cur = np.clip(np.asarray(current, float), PSI_FLOOR, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def ks_pvalue(statistic: float, reference_rows: int, current_rows: int) -> float:
    """Asymptotic two-sided p-value of a two-sample KS statistic (scipy's ``asymp`` method)."""
    from scipy import stats

    effective = round(reference_rows * current_rows / (reference_rows + current_rows))
    return float(np.clip(stats.kstwo.sf(statistic, max(effective, 1)), 0.0, 1.0))


def chi_square_statistic(reference: np.ndarray, current: np.ndarray, current_rows: int) -> float:
    """Pearson chi-square of the current category shares (``current_rows`` rows) against
    the reference shares (as ``scipy.stats.chisquare``)."""
    expected = np.clip(reference, PSI_FLOOR, None)
    expected = expected / expected.sum() * current_rows
    return float(np.sum((current * current_rows - expected) ** 2 / expected))


def chi_square_pvalue(statistic: float, categories: int) -> float:
    """p-value of a chi-square statistic over ``categories`` cells (``categories - 1`` dof)."""
    from scipy import stats

    return float(stats.chi2.sf(statistic, categories - 1))


def _accumulated(profile: FeatureProfile, values: np.ndarray) -> NumericAccumulator:
    acc = NumericAccumulator(profile)
    acc.update(np.asarray(values, float))
    return acc


def feature_psi(profile: FeatureProfile, values: np.ndarray) -> float:
    return psi(np.asarray(profile.fractions), _accumulated(profile, values).bin_shares())


def feature_ks(profile: FeatureProfile, values: np.ndarray) -> tuple[float, float]:
    """Two-sample KS statistic and asymptotic p-value of ``values`` against the profile."""
    acc = _accumulated(profile, values)
    statistic = acc.ks_statistic()
    return statistic, ks_pvalue(statistic, profile.count, acc.count)


def feature_wasserstein_norm(profile: FeatureProfile, values: np.ndarray) -> float:
    """Wasserstein distance of ``values`` to the profile over the reference std (Evidently's)."""
    return _accumulated(profile, values).wasserstein_norm()
