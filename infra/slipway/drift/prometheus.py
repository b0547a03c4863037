"""Drift results as Prometheus metrics pushed to a Pushgateway (the EKS drift CronJob).

The same numbers as the CloudWatch metrics (``slipway.drift.cloudwatch``), as gauges of a
fresh registry, PUT to the gateway under job ``slipway_drift`` and grouping key
``model``: each push replaces the model's previous group, so a feature that disappeared
does not linger. ``slipway_drift_last_run_timestamp_seconds`` lets an alert notice a
drift check that stopped reporting.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from slipway.drift.detect import DriftResult
from slipway.names import DRIFT_METRICS_JOB

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry


def drift_registry(result: DriftResult, now: float | None = None) -> CollectorRegistry:
    """A registry holding the drift gauges of ``result`` (prometheus-client is imported here:
    ~90 ms that a CloudWatch-only monitoring job does not pay)."""
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry()
    score = Gauge(
        "slipway_drift_score",
        "Deciding drift statistic per feature (a p-value for ks and chi2)",
        ["feature", "test"],
        registry=registry,
    )
    drifted = Gauge(
        "slipway_drift_drifted", "1 if the feature drifted, else 0", ["feature"], registry=registry
    )
    for feature in result.features:
        score.labels(feature.feature, feature.test).set(feature.score)
        drifted.labels(feature.feature).set(float(feature.drifted))
    Gauge("slipway_drift_share", "Share of drifted features", registry=registry).set(
        result.drifted_share
    )
    Gauge(
        "slipway_drift_retrain_needed",
        "1 if the share is above the project's limit",
        registry=registry,
    ).set(float(result.retrain_needed))
    Gauge("slipway_drift_current_rows", "Rows of current data compared", registry=registry).set(
        result.current_rows
    )
    Gauge(
        "slipway_drift_last_run_timestamp_seconds",
        "When the drift check finished",
        registry=registry,
    ).set(time.time() if now is None else now)
    return registry


def push_metrics(result: DriftResult, model: str, gateway: str, timeout: float = 30) -> int:
    """PUT the drift gauges of ``model`` to the Pushgateway at ``gateway`` (``host:port`` or
    a URL); returns how many samples were sent."""
    from prometheus_client import push_to_gateway

    registry = drift_registry(result)
    push_to_gateway(
        gateway,
        job=DRIFT_METRICS_JOB,
        registry=registry,
        grouping_key={"model": model},
        timeout=timeout,
    )
    return sum(len(family.samples) for family in registry.collect())
