"""Quality gate: absolute minimums, then "beat the champion by a margin"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from slipway.lifecycle.errors import GateRejected


@dataclass(frozen=True)
class GateFailure:
    """One threshold the candidate missed."""

    threshold: str
    required: float
    actual: float

    @property
    def shortfall(self) -> float:
        return self.required - self.actual

    def __str__(self) -> str:
        return (
            f"{self.threshold}: needs {self.required:.4f}, got {self.actual:.4f} "
            f"(short by {self.shortfall:.4f})"
        )


@dataclass(frozen=True)
class GateResult:
    failures: list[GateFailure] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        return "passed" if self.passed else "; ".join(str(f) for f in self.failures)

    def raise_for_failure(self) -> None:
        if not self.passed:
            raise GateRejected("gate", self.summary())


def check_gate(
    candidate: Mapping[str, float],
    minimums: Mapping[str, float],
    champion: Mapping[str, float] | None = None,
    compare_metric: str = "roc_auc",
    margin: float = 0.0,
) -> GateResult:
    """Compare a candidate's metrics with ``min_<metric>`` thresholds and the champion.

    ``minimums`` maps metric names to their minimum (``{"roc_auc": 0.9}`` is
    reported as ``min_roc_auc``). With a champion, the candidate's
    ``compare_metric`` must reach the champion's plus ``margin``.
    """
    failures = [
        GateFailure(f"min_{name}", minimum, _metric(candidate, name))
        for name, minimum in minimums.items()
        if _metric(candidate, name) < minimum
    ]
    if champion is not None and compare_metric in champion:
        required = champion[compare_metric] + margin
        actual = _metric(candidate, compare_metric)
        if actual < required:
            failures.append(GateFailure(f"champion {compare_metric} + margin", required, actual))
    return GateResult(failures)


def _metric(metrics: Mapping[str, float], name: str) -> float:
    if name not in metrics:
        raise KeyError(f"candidate has no metric {name!r}; it has {sorted(metrics)}")
    return float(metrics[name])
