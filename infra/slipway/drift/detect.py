"""Per-feature drift and the overall "retrain needed" verdict."""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, Field

from slipway.drift.profile import Profile
from slipway.drift.statistics import feature_ks, feature_psi
from slipway.lifecycle.errors import LifecycleError


class DriftThresholds(BaseModel, extra="forbid", frozen=True):
    """A feature drifts when PSI reaches ``psi`` or the KS p-value falls below ``ks_pvalue``;
    retraining is needed when the share of drifted features exceeds ``max_drifted_share``."""

    psi: float = Field(default=0.2, gt=0)
    ks_pvalue: float = Field(default=0.01, gt=0, lt=1)
    max_drifted_share: float = Field(default=0.25, ge=0, lt=1)


class FeatureDrift(BaseModel, frozen=True):
    feature: str
    psi: float
    ks_statistic: float
    ks_pvalue: float
    drifted: bool
    reasons: list[str]


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


def detect_drift(
    profile: Profile, current: pd.DataFrame, thresholds: DriftThresholds | None = None
) -> DriftResult:
    """Compare ``current`` with the reference ``profile``, feature by feature."""
    limits = thresholds or DriftThresholds()
    if current.empty:
        raise LifecycleError("current data", "has no rows")
    rows = []
    for name, reference in profile.features.items():
        if name not in current.columns:
            raise LifecycleError(name, "missing from the current data")
        values = pd.to_numeric(current[name], errors="coerce").dropna().to_numpy(float)
        if values.size == 0:
            raise LifecycleError(name, "has no numeric values in the current data")
        score = feature_psi(reference, values)
        ks_stat, ks_p = feature_ks(reference, values)
        reasons = [f"psi {score:.3f} >= {limits.psi}"] if score >= limits.psi else []
        if ks_p < limits.ks_pvalue:
            reasons.append(f"ks p-value {ks_p:.2g} < {limits.ks_pvalue}")
        rows.append(FeatureDrift(feature=name, psi=score, ks_statistic=ks_stat, ks_pvalue=ks_p,
                                 drifted=bool(reasons), reasons=reasons))
    reference_rows = max((f.count for f in profile.features.values()), default=0)
    return DriftResult(thresholds=limits, reference_rows=reference_rows,
                       current_rows=len(current), features=rows)
