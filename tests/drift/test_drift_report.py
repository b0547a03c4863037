"""The drift report: distributions drawn from the profile and the streamed counts, the
deciding test stated per feature, most drifted first."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_cases import mixed_result
from slipway.drift import DriftResult, build_profile, detect_drift, write_report
from slipway.drift.report import render_html

Mixed = tuple[pd.DataFrame, pd.DataFrame, DriftResult]


@pytest.fixture(scope="module")
def mixed() -> Mixed:
    return mixed_result()


def test_numeric_histogram_matches_the_raw_data_it_never_reread(mixed: Mixed) -> None:
    reference, current, result = mixed
    shifted = next(f for f in result.features if f.feature == "shifted")
    h = shifted.histogram
    assert h is not None and len(h.edges) == len(h.reference) + 1 == 31
    # the range spans both data sets, and the shares are those of the raw values
    assert h.edges[0] == min(reference["shifted"].min(), current["shifted"].min())
    assert h.edges[-1] == pytest.approx(max(reference["shifted"].max(), current["shifted"].max()))
    for values, shares in ((reference["shifted"], h.reference), (current["shifted"], h.current)):
        raw, _ = np.histogram(values, bins=np.asarray(h.edges))
        assert np.abs(raw / len(values) - np.asarray(shares)).max() < 0.005
        assert sum(shares) == pytest.approx(1)


def test_few_distinct_values_and_categories_get_one_bar_each(mixed: Mixed) -> None:
    reference, _, result = mixed
    by_name = {f.feature: f for f in result.features}
    count = by_name["count"].histogram
    assert count is not None and count.edges == []
    values = sorted(reference["count"].unique())
    assert count.labels[: len(values)] == [f"{v:.4g}" for v in values]
    for label, ref_share in zip(count.labels, count.reference, strict=False):
        assert ref_share == pytest.approx((reference["count"] == float(label)).mean())
    plan = by_name["plan"].histogram
    assert plan is not None and plan.labels == ["basic", "pro", "team", "(other)"]
    assert plan.current == pytest.approx([0.4, 0.3, 0.2, 0.1], abs=0.03)
    assert plan.reference[-1] == 0  # "gold" is new: all of it is the current's


def test_cards_are_sorted_by_the_deciding_statistic_against_its_threshold(mixed: Mixed) -> None:
    _, _, result = mixed
    page = render_html(result)
    order = re.findall(r'data-feature="([^"]+)"', page)
    expected = sorted(result.features, key=lambda f: -f.relative)
    assert order == [f.feature for f in expected] and len(order) == 4
    assert [f.drifted for f in expected][:2] == [True, True] and expected[0].relative > 1
    assert expected[-1].relative < 1 and not expected[-1].drifted
    assert page.count('class="dist"') == 4 and page.count('class="mark"') == 4


def test_the_page_names_only_the_tests_that_decide(rng: np.random.Generator) -> None:
    """455 reference rows: KS decides every numeric feature, so a Wasserstein above 0.1 is
    context, and the page must not present 'Wasserstein >= 0.1' as a rule (the old page
    listed every threshold and showed 0.1025 beside 'no')."""
    reference = pd.DataFrame({"a": rng.normal(0, 1, 455), "b": rng.normal(0, 1, 455)})
    current = pd.DataFrame({"a": rng.normal(0.1, 1, 114), "b": rng.normal(0, 1, 114)})
    result = detect_drift(build_profile(reference), current)
    assert [f.test for f in result.features] == ["ks", "ks"]
    page = render_html(result)
    assert "KS p-value &lt; 0.01" in page or "KS p-value < 0.01" in page
    assert "Wasserstein &ge;" not in page and "Wasserstein ≥" not in page
    assert page.count("drift if &lt; 0.01") == 6  # per feature: card, gauge label, table row
    assert "Context, not deciding: normalised Wasserstein" in page


def test_report_is_self_contained(mixed: Mixed, tmp_path: Path) -> None:
    _, _, result = mixed
    html, summary = write_report(result, tmp_path)
    page = html.read_text()
    assert not re.search(r"(src|href)=\"(https?:)?//", page) and "<script" not in page
    doc = json.loads(summary.read_text())
    assert doc["features"][0]["histogram"]["reference"]  # the plot data travels in the JSON
