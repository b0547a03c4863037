"""Every PrometheusRule expression parses as PromQL (promql-parser, the Rust parser used by
GreptimeDB) and names only metrics something in the cluster exports: the model server, the
drift job's Pushgateway push, or kube-state-metrics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import promql_parser
import pytest
from prometheus_client import CollectorRegistry
from slipway.drift import DriftResult, DriftThresholds
from slipway.drift.prometheus import drift_registry
from slipway.eks.manifests import manifests
from slipway.serving.metrics import Metrics
from slipway.testing import ProgramRun

# kube-state-metrics series the rules use (kube-prometheus-stack installs it).
KUBE_STATE_METRICS = frozenset({"kube_cronjob_created"})
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "gauge": ("",),
    "info": ("_info",),
}


def _series(registry: CollectorRegistry) -> set[str]:
    """The series names a registry exposes, by metric type."""
    return {
        family.name + suffix
        for family in registry.collect()
        for suffix in SUFFIXES.get(family.type, ("",))
    }


def exported_series() -> set[str]:
    server = Metrics("models:/m@champion", "1", "sklearn").registry
    drift = drift_registry(
        DriftResult(thresholds=DriftThresholds(), reference_rows=0, current_rows=0, features=[])
    )
    return _series(server) | _series(drift) | KUBE_STATE_METRICS


def selectors(expr: Any) -> Iterator[str]:
    """Metric names of every vector selector in a parsed expression."""
    if isinstance(expr, promql_parser.VectorSelector):
        if expr.name is not None:
            yield expr.name
        return
    children = [
        getattr(expr, attr, None) for attr in ("lhs", "rhs", "expr", "vector_selector", "param")
    ]
    children += list(getattr(expr, "args", None) or [])
    for child in children:
        if child is not None and not isinstance(child, (str, int, float)):
            yield from selectors(child)


def rule_expressions(run: ProgramRun) -> dict[str, str]:
    return {
        rule["alert"]: rule["expr"]
        for doc in manifests(run)
        if doc["kind"] == "PrometheusRule"
        for group in doc["spec"]["groups"]
        for rule in group["rules"]
    }


def test_every_alert_expression_parses_and_uses_exported_metrics(eks_run: ProgramRun) -> None:
    rules = rule_expressions(eks_run)
    assert {
        "ModelServerErrors",
        "ModelLatencyP99High",
        "ModelDriftDetected",
        "ModelDriftCheckStale",
    } <= set(rules)
    known = exported_series()
    for alert, expr in rules.items():
        used = set(selectors(promql_parser.parse(expr)))
        assert used, alert
        assert used <= known, f"{alert}: {sorted(used - known)} is exported by nothing"


@pytest.mark.parametrize(
    "expr",
    [
        "sum(rate(slipway_requests_total[60s]) > 1",  # unbalanced parenthesis
        "histogram_quantile(0.99, sum by (le) (rate(x_bucket[60 s])))",  # bad duration
        "slipway_drift_share >= ",  # missing operand
    ],
)
def test_a_broken_expression_is_refused(expr: str) -> None:
    with pytest.raises(ValueError):
        promql_parser.parse(expr)


def test_an_unexported_metric_is_found() -> None:
    used = set(
        selectors(
            promql_parser.parse("max(slipway_drift_shares) > 0.1 or on() kube_cronjob_created")
        )
    )
    assert used - exported_series() == {"slipway_drift_shares"}
