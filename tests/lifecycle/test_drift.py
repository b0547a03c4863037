"""Drift statistics, the reference profile and the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from slipway.drift import DriftThresholds, Profile, build_profile, detect_drift, psi, write_report
from slipway.lifecycle import LifecycleError

RNG = np.random.default_rng(7)
REFERENCE = pd.DataFrame({"a": RNG.normal(0, 1, 5000), "b": RNG.exponential(2, 5000)})


@pytest.fixture(scope="module")
def profile() -> Profile:
    return build_profile(REFERENCE)


def test_psi_of_identical_shares_is_zero_and_grows_with_shift() -> None:
    shares = np.full(10, 0.1)
    assert psi(shares, shares) == 0
    shifted = np.array([0.05] * 5 + [0.15] * 5)
    expected = 5 * (-0.05 * np.log(0.5)) + 5 * (0.05 * np.log(1.5))  # sum (c - r) ln(c / r)
    assert psi(shares, shifted) == pytest.approx(expected)


def test_profile_is_compact_and_round_trips_through_json(profile: Profile, tmp_path: Path) -> None:
    feature = profile.features["a"]
    assert len(feature.edges) == 9 and sum(feature.fractions) == pytest.approx(1)
    assert len(feature.quantiles) == 1000 and feature.count == 5000
    assert Profile.load(profile.save(tmp_path / "p.json")) == profile


def test_same_population_does_not_drift(profile: Profile) -> None:
    current = pd.DataFrame({"a": RNG.normal(0, 1, 800), "b": RNG.exponential(2, 800)})
    result = detect_drift(profile, current)
    assert not result.retrain_needed and result.drifted == []


def test_shifted_feature_drifts_and_ks_matches_scipy_on_raw_data(profile: Profile) -> None:
    current = pd.DataFrame({"a": RNG.normal(0.8, 1, 800), "b": RNG.exponential(2, 800)})
    result = detect_drift(profile, current, DriftThresholds(max_drifted_share=0.4))
    by_name = {f.feature: f for f in result.features}
    assert by_name["a"].drifted and by_name["a"].psi > 0.2 and not by_name["b"].drifted
    raw = stats.ks_2samp(REFERENCE["a"], current["a"]).statistic
    assert by_name["a"].ks_statistic == pytest.approx(raw, abs=0.01)  # sketch ~ raw data
    assert result.retrain_needed  # 1 of 2 features > 40 %


def test_missing_feature_is_one_line_error(profile: Profile) -> None:
    with pytest.raises(LifecycleError, match=r"^b: missing from the current data$"):
        detect_drift(profile, pd.DataFrame({"a": [0.1, 0.2]}))


def test_report_writes_html_and_json(profile: Profile, tmp_path: Path) -> None:
    current = pd.DataFrame({"a": RNG.normal(3, 1, 500), "b": RNG.exponential(2, 500)})
    result = detect_drift(profile, current)
    html, summary = write_report(result, tmp_path / "report")
    doc = json.loads(summary.read_text())
    assert doc["retrain_needed"] is True and doc["drifted_features"] == ["a"]
    page = html.read_text()
    assert "Retrain needed" in page and page.count("<tr") == 3
