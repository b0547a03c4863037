"""Drift statistics, the reference profile, the verdicts and the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from slipway.drift import (
    DriftError,
    DriftThresholds,
    Profile,
    build_profile,
    detect_drift,
    psi,
    write_report,
)

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
    assert feature.kind == "numeric" and feature.count == 5000
    assert len(feature.edges) == 9 and sum(feature.fractions) == pytest.approx(1)
    assert len(feature.grid) == 1001 and set(feature.edges) <= set(feature.grid)
    assert feature.std == pytest.approx(np.std(REFERENCE["a"]))
    assert Profile.load(profile.save(tmp_path / "p.json")) == profile


def test_same_population_does_not_drift(rng: np.random.Generator, profile: Profile) -> None:
    current = pd.DataFrame({"a": rng.normal(0, 1, 800), "b": rng.exponential(2, 800)})
    result = detect_drift(profile, current)
    assert not result.retrain_needed and result.drifted == []


def test_shifted_feature_drifts_and_statistics_match_scipy_on_raw_data(
    rng: np.random.Generator, profile: Profile
) -> None:
    current = pd.DataFrame({"a": rng.normal(0.8, 1, 800), "b": rng.exponential(2, 800)})
    result = detect_drift(profile, current, DriftThresholds(max_drifted_share=0.4))
    by_name = {f.feature: f for f in result.features}
    a = by_name["a"]
    assert a.test == "wasserstein" and a.drifted and a.psi > 0.2 and not by_name["b"].drifted
    raw = stats.ks_2samp(REFERENCE["a"], current["a"], method="asymp")
    assert a.ks_statistic == pytest.approx(raw.statistic, abs=0.002)  # sketch ~ raw data
    exact = stats.wasserstein_distance(REFERENCE["a"], current["a"]) / np.std(REFERENCE["a"])
    assert a.wasserstein == pytest.approx(exact, abs=0.002)
    assert result.retrain_needed  # 1 of 2 features > 40 %


def test_small_reference_uses_ks_like_evidently(rng: np.random.Generator) -> None:
    small = build_profile(REFERENCE.iloc[:500])
    current = pd.DataFrame({"a": rng.normal(0.5, 1, 300), "b": rng.exponential(2, 300)})
    result = detect_drift(small, current)
    a = result.features[0]
    assert [f.test for f in result.features] == ["ks", "ks"] and a.drifted
    # below 1000 + 1 rows the sketch holds every value: KS is exact
    raw = stats.ks_2samp(REFERENCE["a"].iloc[:500], current["a"], method="asymp")
    assert a.ks_statistic == pytest.approx(raw.statistic, abs=1e-12)
    assert a.score == pytest.approx(raw.pvalue, rel=1e-6)


def test_missing_feature_is_one_line_error(profile: Profile) -> None:
    with pytest.raises(DriftError, match=r"^b: missing from the current data$"):
        detect_drift(profile, pd.DataFrame({"a": [0.1, 0.2]}))


def test_feature_without_numbers_is_one_line_error(profile: Profile) -> None:
    with pytest.raises(DriftError, match=r"^b: has no usable values in the current data$"):
        detect_drift(profile, pd.DataFrame({"a": [0.1, 0.2], "b": ["x", None]}))


def test_report_writes_html_and_json(
    rng: np.random.Generator, profile: Profile, tmp_path: Path
) -> None:
    current = pd.DataFrame({"a": rng.normal(3, 1, 500), "b": rng.exponential(2, 500)})
    result = detect_drift(profile, current)
    html, summary = write_report(result, tmp_path / "report")
    doc = json.loads(summary.read_text())
    assert doc["retrain_needed"] is True and doc["drifted_features"] == ["a"]
    assert doc["features"][0]["wasserstein"] > 2.5
    page = html.read_text()
    assert "Retrain needed" in page and page.count("<tr") == 3
