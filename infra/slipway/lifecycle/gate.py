"""Quality gate: absolute minimums, fairness maximums, then "beat the champion by a margin".

The champion is scored on the same evaluation data as the candidate, in the same run
(the project's ``evaluate`` step), so the comparison is like for like; the verdict names
the winner and the data it was decided on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from slipway.lifecycle.errors import GateRejected


@dataclass(frozen=True)
class GateFailure:
    """One threshold the candidate missed (``upper``: a maximum it went over)."""

    threshold: str
    required: float
    actual: float
    upper: bool = False

    @property
    def shortfall(self) -> float:
        return self.actual - self.required if self.upper else self.required - self.actual

    def __str__(self) -> str:
        bound, miss = ("<=", "over") if self.upper else (">=", "short")
        return (
            f"{self.threshold}: needs {bound} {self.required:.4f}, got {self.actual:.4f} "
            f"({miss} by {self.shortfall:.4f})"
        )


@dataclass(frozen=True)
class GateResult:
    """Failures (empty: passed) and the verdict line: who won, on which data."""

    failures: list[GateFailure] = field(default_factory=list)
    verdict: str = ""

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        reasons = "; ".join(str(f) for f in self.failures)
        return "; ".join(part for part in (self.verdict, reasons) if part) or "passed"

    def raise_for_failure(self) -> None:
        if not self.passed:
            raise GateRejected("gate", self.summary())


@dataclass(frozen=True)
class Champion:
    """The current champion's scores on the candidate's evaluation data."""

    version: str
    metrics: Mapping[str, float]


def check_gate(
    candidate: Mapping[str, float],
    minimums: Mapping[str, float],
    champion: Champion | None = None,
    compare_metric: str = "roc_auc",
    margin: float = 0.0,
    *,
    maximums: Mapping[str, tuple[float, float]] | None = None,
    data: str = "",
) -> GateResult:
    """Compare a candidate's metrics with ``min_<metric>`` thresholds and the champion.

    ``minimums`` maps metric names to their minimum (``{"roc_auc": 0.9}`` is reported as
    ``min_roc_auc``); ``maximums`` maps a threshold name to ``(maximum, actual)`` (fairness
    disparities). With a champion, the candidate's ``compare_metric`` must reach the
    champion's plus ``margin``. ``data`` describes the evaluation data both were scored on.
    """
    failures = [
        GateFailure(f"min_{name}", minimum, _metric(candidate, name))
        for name, minimum in minimums.items()
        if _metric(candidate, name) < minimum
    ]
    failures += [
        GateFailure(name, maximum, actual, upper=True)
        for name, (maximum, actual) in (maximums or {}).items()
        if actual > maximum
    ]
    on = f" on {data}" if data else ""
    score = _metric(candidate, compare_metric)
    if champion is None or compare_metric not in champion.metrics:
        verdict = f"challenger {compare_metric} {score:.4f}{on} (no champion to compare)"
        return GateResult(failures, verdict)
    held = float(champion.metrics[compare_metric])
    kept = score < held + margin
    if kept:
        failures.append(
            GateFailure(
                f"champion v{champion.version} {compare_metric} + margin", held + margin, score
            )
        )
    winner = f"champion v{champion.version}" if kept else "challenger"
    verdict = (
        f"{winner} wins{on}: {compare_metric} {score:.4f} (challenger) vs "
        f"{held:.4f} (champion v{champion.version})"
    )
    return GateResult(failures, verdict)


def _metric(metrics: Mapping[str, float], name: str) -> float:
    if name not in metrics:
        raise KeyError(f"candidate has no metric {name!r}; it has {sorted(metrics)}")
    return float(metrics[name])
