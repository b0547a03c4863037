"""Numpy column chunks, Parquet read column by column, lazy pandas / scipy, profile exactness."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats
from slipway.drift import DriftResult, DriftThresholds, build_profile, detect_drift, file_chunks
from slipway.drift.profile import numeric_profile
from slipway.drift.sources import ParquetChunks, arrow_to_numpy

RNG = np.random.default_rng(19)
REFERENCE = pd.DataFrame({"x": RNG.normal(0, 1, 4000), "n": RNG.poisson(4, 4000)})
CURRENT = pd.DataFrame({"x": RNG.normal(0.3, 1.2, 2500), "n": RNG.poisson(5, 2500)})
CURRENT.loc[::97, "x"] = np.nan


def assert_same_numbers(one: DriftResult, other: DriftResult) -> None:
    assert one.current_rows == other.current_rows
    for mine, theirs in zip(one.features, other.features, strict=True):
        for field in ("drifted", "test", "missing", "current_rows"):
            assert getattr(mine, field) == getattr(theirs, field), field
        for field in ("score", "psi", "wasserstein", "ks_statistic", "ks_pvalue", "chi2"):
            a, b = getattr(mine, field), getattr(theirs, field)
            assert (a is None) == (b is None), field
            if a is not None:
                assert a == pytest.approx(b, rel=1e-9, abs=1e-12), field


def _frames(frame: pd.DataFrame, rows: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), rows):
        yield frame.iloc[start : start + rows]


def test_numpy_column_chunks_give_the_frames_result() -> None:
    profile = build_profile(REFERENCE)
    frames = detect_drift(profile, _frames(CURRENT, 600), workers=2)
    arrays = ({name: chunk[name].to_numpy() for name in chunk} for chunk in _frames(CURRENT, 600))
    assert_same_numbers(detect_drift(profile, arrays, workers=2), frames)
    whole = {name: CURRENT[name].to_numpy() for name in CURRENT}  # one mapping, not chunks
    assert_same_numbers(detect_drift(profile, whole, workers=1), frames)
    assert frames.features[0].missing == len(range(0, 2500, 97))


def test_parquet_is_read_by_column_with_the_same_result_as_frames(tmp_path: Path) -> None:
    path = tmp_path / "current.parquet"
    CURRENT.to_parquet(path, row_group_size=1000)
    profile = build_profile(REFERENCE)
    source = file_chunks(path, ["x", "n"], chunk_rows=700)
    assert isinstance(source, ParquetChunks) and source.rows == 2500
    by_column = detect_drift(profile, source)  # ColumnStreams: one feature per worker
    frames = list(file_chunks(path, ["x", "n"], chunk_rows=700))  # iterated: frames as before
    assert [len(f) for f in frames] == [700, 700, 700, 400]
    assert_same_numbers(by_column, detect_drift(profile, iter(frames)))
    np.testing.assert_array_equal(source.read_column("x"), CURRENT["x"].to_numpy())


@pytest.mark.parametrize("kind", [pa.float64(), pa.float32(), pa.int64(), pa.int16(), pa.uint8()])
def test_arrow_columns_become_numpy_like_to_pandas(kind: pa.DataType) -> None:
    plain = pa.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3], kind)
    nulls = pa.array([3, None, 4, 1, None, 9, 2, None, 5, 3], kind)
    for array in (plain, nulls, plain.slice(3, 5), nulls.slice(1, 7), nulls.slice(3, 1)):
        expected = array.to_pandas().to_numpy()
        got = arrow_to_numpy(array)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_strings_still_convert() -> None:
    strings = pa.array(["a", None, "b"])
    assert list(arrow_to_numpy(strings)) == ["a", None, "b"]


def test_p_values_are_computed_for_the_deciding_test_only(rng: np.random.Generator) -> None:
    reference = pd.DataFrame({"x": rng.normal(size=3000), "c": rng.choice(list("abc"), 3000)})
    current = pd.DataFrame({"x": rng.normal(0.2, 1, 900), "c": rng.choice(list("abcd"), 900)})
    profile = build_profile(reference)
    by_distance = detect_drift(profile, current)
    assert [f.test for f in by_distance.features] == ["wasserstein", "psi"]
    assert all(f.ks_pvalue is None and f.chi2_pvalue is None for f in by_distance.features)
    by_test = detect_drift(
        profile, current, DriftThresholds(numeric_test="ks", categorical_test="chi2")
    )
    x, c = by_test.features
    assert x.ks_pvalue == x.score and 0 <= x.score < 0.01
    # chi-square of the current counts (the unseen "d" under "other") against the reference
    counts = current["c"].value_counts()
    observed = np.array([counts.get(k, 0) for k in "abc"] + [counts.get("d", 0)], float)
    shares = reference["c"].value_counts(normalize=True)
    expected = np.clip([shares[k] for k in "abc"] + [0.0], 1e-4, None)
    raw = stats.chisquare(observed, expected / expected.sum() * len(current))
    assert c.chi2 == pytest.approx(raw.statistic, rel=1e-12)
    assert by_distance.features[1].chi2 == c.chi2
    assert c.score == c.chi2_pvalue == pytest.approx(raw.pvalue, rel=1e-9)


def test_profile_area_and_cdf_match_their_definitions(rng: np.random.Generator) -> None:
    values = rng.lognormal(3, 0.7, 1800)
    profile = numeric_profile(values.copy(), sketch_size=100)
    grid, ordered = np.asarray(profile.grid), np.sort(values)
    np.testing.assert_array_equal(profile.cdf, np.searchsorted(ordered, grid, "right") / 1800)
    # integral of the empirical CDF from grid[0] to g = mean of max(0, g - max(v, grid[0]))
    area = np.maximum(0, grid[:, None] - np.maximum(values, grid[0])[None, :]).mean(axis=1)
    np.testing.assert_allclose(profile.area, area, rtol=1e-9, atol=1e-9)
    assert profile.std == pytest.approx(np.std(values), rel=1e-12)


SCRIPT = """
import sys
from pathlib import Path
import numpy as np
from slipway.drift import Profile, detect_drift, file_chunks, numeric_profile, write_report
rng = np.random.default_rng(1)
profile = Profile(features={n: numeric_profile(rng.normal(size=5000)) for n in "xy"})
result = detect_drift(profile, file_chunks(Path(sys.argv[1]) / "current.parquet", "xy", 1000))
write_report(result, Path(sys.argv[1]) / "report")
assert result.current_rows == 2500 and result.features[0].test == "wasserstein", result
print(" ".join(sorted(sys.modules.keys() & {"pandas", "scipy", "scipy.stats"})) or "none")
"""


def test_numeric_parquet_monitoring_imports_neither_pandas_nor_scipy(tmp_path: Path) -> None:
    CURRENT.rename(columns={"n": "y"}).to_parquet(tmp_path / "current.parquet")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["none"]
