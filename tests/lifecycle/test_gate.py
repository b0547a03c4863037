"""Gate comparison: minimums, fairness maximums, then the champion (scored on the same
evaluation data) plus a margin; the verdict names the winner and the data."""

from __future__ import annotations

import pytest
from slipway.lifecycle import Champion, GateRejected, check_gate

CANDIDATE = {"roc_auc": 0.95, "f1": 0.90}
DATA = "data/evaluation.csv (sha256 1a2b3c4d5e6f, 114 rows)"


def test_passes_when_every_threshold_is_met() -> None:
    result = check_gate(CANDIDATE, {"roc_auc": 0.95, "f1": 0.9}, data=DATA)
    assert result.passed
    assert result.summary() == f"challenger roc_auc 0.9500 on {DATA} (no champion to compare)"


def test_reports_each_missed_minimum_with_its_shortfall() -> None:
    result = check_gate(CANDIDATE, {"roc_auc": 0.97, "f1": 0.95})
    assert [f.threshold for f in result.failures] == ["min_roc_auc", "min_f1"]
    assert result.failures[0].shortfall == pytest.approx(0.02)
    assert "min_roc_auc: needs >= 0.9700, got 0.9500 (short by 0.0200)" in result.summary()


def test_fairness_maximum_is_an_upper_bound() -> None:
    result = check_gate(CANDIDATE, {}, maximums={"max_recall_difference[cohort]": (0.1, 0.3)})
    [failure] = result.failures
    assert failure.shortfall == pytest.approx(0.2)
    assert str(failure) == (
        "max_recall_difference[cohort]: needs <= 0.1000, got 0.3000 (over by 0.2000)"
    )
    assert check_gate(CANDIDATE, {}, maximums={"max_recall_difference[cohort]": (0.1, 0.1)}).passed


def test_champion_scored_on_the_same_data_wins_unless_beaten_by_the_margin() -> None:
    champion = Champion("3", {"roc_auc": 0.94})
    won = check_gate(CANDIDATE, {}, champion, "roc_auc", margin=0.01, data=DATA)
    assert won.passed
    assert (
        won.summary()
        == f"challenger wins on {DATA}: roc_auc 0.9500 (challenger) vs 0.9400 (champion v3)"
    )

    refused = check_gate(CANDIDATE, {}, champion, "roc_auc", margin=0.02, data=DATA)
    [failure] = refused.failures
    assert failure.threshold == "champion v3 roc_auc + margin"
    assert failure.required == pytest.approx(0.96)
    with pytest.raises(GateRejected, match=r"^gate: champion v3 wins on data/evaluation.csv"):
        refused.raise_for_failure()


def test_unknown_metric_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="precision"):
        check_gate(CANDIDATE, {"precision": 0.5})
