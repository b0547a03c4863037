"""Drift monitoring: a compact reference profile stored with the model, current data
streamed in chunks, normalised Wasserstein / PSI / KS / chi-square per feature, HTML +
JSON report, CloudWatch or Pushgateway metrics. See docs/drift.md.
"""

from slipway.drift.cloudwatch import metric_data, publish_metrics
from slipway.drift.detect import DriftResult, DriftThresholds, FeatureDrift, detect_drift
from slipway.drift.errors import DriftError
from slipway.drift.inputs import current_chunks, is_s3, report_prefix, upload_report
from slipway.drift.profile import (
    CategoryProfile,
    FeatureProfile,
    Profile,
    build_profile,
    numeric_profile,
)
from slipway.drift.prometheus import drift_registry, push_metrics
from slipway.drift.report import write_report
from slipway.drift.sources import CaptureReader, file_chunks, s3_capture_chunks
from slipway.drift.statistics import (
    feature_ks,
    feature_psi,
    feature_wasserstein_norm,
    ks_pvalue,
    psi,
)

__all__ = [
    "CaptureReader",
    "CategoryProfile",
    "DriftError",
    "DriftResult",
    "DriftThresholds",
    "FeatureDrift",
    "FeatureProfile",
    "Profile",
    "build_profile",
    "current_chunks",
    "detect_drift",
    "drift_registry",
    "feature_ks",
    "feature_psi",
    "feature_wasserstein_norm",
    "file_chunks",
    "is_s3",
    "ks_pvalue",
    "metric_data",
    "numeric_profile",
    "psi",
    "publish_metrics",
    "push_metrics",
    "report_prefix",
    "s3_capture_chunks",
    "upload_report",
    "write_report",
]
