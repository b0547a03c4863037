"""Drift statistics between a reference profile and current values."""

from __future__ import annotations

import numpy as np
from scipy import stats

from slipway.drift.profile import FeatureProfile

# Empty bins would make PSI infinite; clip shares to this floor (a common choice).
PSI_FLOOR = 1e-4


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population Stability Index of two bin-share vectors."""
    ref = np.clip(np.asarray(reference, float), PSI_FLOOR, None)
    cur = np.clip(np.asarray(current, float), PSI_FLOOR, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def feature_psi(profile: FeatureProfile, values: np.ndarray) -> float:
    return psi(np.asarray(profile.fractions), profile.bin_shares(values))


def feature_ks(profile: FeatureProfile, values: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value (scipy) against the ECDF sketch."""
    result = stats.ks_2samp(np.asarray(profile.quantiles), values)
    return float(result.statistic), float(result.pvalue)
