"""Gate comparison: absolute minimums, then the champion plus a margin."""

from __future__ import annotations

import pytest
from slipway.lifecycle import GateRejected, check_gate

CANDIDATE = {"roc_auc": 0.95, "f1": 0.90}


def test_passes_when_every_threshold_is_met() -> None:
    assert check_gate(CANDIDATE, {"roc_auc": 0.95, "f1": 0.9}).passed


def test_reports_each_missed_minimum_with_its_shortfall() -> None:
    result = check_gate(CANDIDATE, {"roc_auc": 0.97, "f1": 0.95})
    assert [f.threshold for f in result.failures] == ["min_roc_auc", "min_f1"]
    assert result.failures[0].shortfall == pytest.approx(0.02)
    assert "min_roc_auc: needs 0.9700, got 0.9500 (short by 0.0200)" in result.summary()


def test_candidate_must_beat_champion_by_margin() -> None:
    champion = {"roc_auc": 0.94}
    assert check_gate(CANDIDATE, {}, champion, "roc_auc", margin=0.01).passed
    refused = check_gate(CANDIDATE, {}, champion, "roc_auc", margin=0.02)
    [failure] = refused.failures
    assert failure.required == pytest.approx(0.96)
    with pytest.raises(GateRejected, match=r"^gate: champion roc_auc \+ margin"):
        refused.raise_for_failure()


def test_unknown_metric_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="precision"):
        check_gate(CANDIDATE, {"precision": 0.5})
