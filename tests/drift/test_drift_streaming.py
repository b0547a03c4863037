"""Wasserstein against the compact profile, chunked streaming, categoricals, parallelism."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from slipway.drift import DriftThresholds, build_profile, detect_drift, numeric_profile
from slipway.drift.statistics import feature_wasserstein_norm

SAMPLES = {
    "normal": lambda rng, n, s: rng.normal(s, 1, n),
    "exponential": lambda rng, n, s: rng.exponential(1 + s, n),
    "lognormal": lambda rng, n, s: rng.lognormal(s, 1, n),
    "integers": lambda rng, n, s: rng.poisson(5 + 3 * s, n).astype(float),
}


@pytest.mark.parametrize("kind", SAMPLES)
@pytest.mark.parametrize("shift", [0.0, 0.1, 0.5])
def test_wasserstein_from_the_sketch_is_within_the_issue_tolerance(
    rng: np.random.Generator, kind: str, shift: float
) -> None:
    reference, current = SAMPLES[kind](rng, 200_000, 0.0), SAMPLES[kind](rng, 100_000, shift)
    exact = stats.wasserstein_distance(reference, current) / np.std(reference)
    sketched = feature_wasserstein_norm(numeric_profile(reference.copy()), current)
    assert abs(sketched - exact) < 0.001  # the issue allows 0.005 against Evidently


def _chunks(frame: pd.DataFrame, rows: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), rows):
        yield frame.iloc[start : start + rows]


def test_chunked_stream_gives_the_same_result_as_one_frame(rng: np.random.Generator) -> None:
    reference = pd.DataFrame({"x": rng.normal(0, 1, 20_000), "c": rng.choice(list("abc"), 20_000)})
    current = pd.DataFrame({"x": rng.normal(0.3, 1, 7_001), "c": rng.choice(list("abcd"), 7_001)})
    profile = build_profile(reference)
    whole = detect_drift(profile, current, workers=1)
    streamed = detect_drift(profile, _chunks(current, 1000), workers=2)
    assert streamed.current_rows == whole.current_rows == 7_001
    for one, other in zip(whole.features, streamed.features, strict=True):
        assert one.drifted == other.drifted
        for field in ("score", "psi", "wasserstein", "ks_statistic", "chi2"):
            mine, theirs = getattr(one, field), getattr(other, field)
            assert (mine is None) == (theirs is None)
            if mine is not None:
                assert mine == pytest.approx(theirs, rel=1e-9, abs=1e-12)


def test_categorical_features_use_chi_square_then_psi(rng: np.random.Generator) -> None:
    reference = pd.DataFrame({"c": rng.choice(["a", "b", "c"], 900, p=[0.5, 0.3, 0.2])})
    same = pd.DataFrame({"c": rng.choice(["a", "b", "c"], 900, p=[0.5, 0.3, 0.2])})
    moved = pd.DataFrame({"c": rng.choice(["a", "b", "new"], 900, p=[0.2, 0.3, 0.5])})
    profile = build_profile(reference)
    assert profile.features["c"].kind == "categorical"
    calm, drifted = detect_drift(profile, same), detect_drift(profile, moved)
    assert calm.features[0].test == "chi2" and not calm.features[0].drifted
    assert drifted.features[0].drifted and drifted.features[0].score < 1e-10
    by_psi = detect_drift(profile, moved, DriftThresholds(categorical_test="psi"))
    assert by_psi.features[0].test == "psi" and by_psi.features[0].score > 1


def test_numeric_codes_can_be_declared_categorical(rng: np.random.Generator) -> None:
    frame = pd.DataFrame({"code": rng.integers(0, 4, 500), "x": rng.normal(size=500)})
    profile = build_profile(frame, categorical=["code"])
    assert profile.features["code"].kind == "categorical"
    assert sorted(profile.features["code"].shares) == ["0", "1", "2", "3"]  # type: ignore[union-attr]


def test_memory_is_bounded_by_the_chunk_not_the_data(rng: np.random.Generator) -> None:
    profile = build_profile(pd.DataFrame({"x": rng.normal(size=50_000)}))

    def stream(chunks: int) -> Iterator[pd.DataFrame]:
        for _ in range(chunks):
            yield pd.DataFrame({"x": rng.normal(size=20_000)})

    peaks = []
    for chunks in (5, 50):  # 0.1 M and 1 M rows
        tracemalloc.start()
        detect_drift(profile, stream(chunks), workers=1)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0] and peaks[1] < 2_000_000  # 1 M rows would be 8 MB


def test_both_workers_give_identical_numbers(rng: np.random.Generator) -> None:
    frame = pd.DataFrame({f"f{i}": rng.normal(i, 1, 30_000) for i in range(6)})
    profile = build_profile(frame)
    current = frame + 0.05
    one, two = detect_drift(profile, current, workers=1), detect_drift(profile, current, workers=2)
    assert one == two
