"""Drift monitoring: reference profile, PSI and KS per feature, HTML + JSON report.

See docs/lifecycle.md ("Monitoring").
"""

from slipway.drift.detect import DriftResult, DriftThresholds, FeatureDrift, detect_drift
from slipway.drift.profile import FeatureProfile, Profile, build_profile
from slipway.drift.report import write_report
from slipway.drift.statistics import feature_ks, feature_psi, psi

__all__ = [
    "DriftResult",
    "DriftThresholds",
    "FeatureDrift",
    "FeatureProfile",
    "Profile",
    "build_profile",
    "detect_drift",
    "feature_ks",
    "feature_psi",
    "psi",
    "write_report",
]
