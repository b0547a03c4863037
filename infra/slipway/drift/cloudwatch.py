"""Drift results as CloudWatch metrics: one ``DriftScore`` per feature, plus the share of
drifted features, under one namespace with a ``Model`` dimension."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slipway.drift.detect import DriftResult
from slipway.names import DRIFT_NAMESPACE

BATCH = 20  # datums per PutMetricData call (the oldest service limit, safe everywhere)


def metric_data(result: DriftResult, model: str) -> list[dict[str, Any]]:
    """The datums: ``DriftScore`` per feature (its deciding statistic; a p-value for KS and
    chi-square), ``Drifted`` per feature (0/1) and ``DriftedShare`` for the model."""
    now = datetime.now(UTC)
    data: list[dict[str, Any]] = []
    for feature in result.features:
        dims = [{"Name": "Model", "Value": model}, {"Name": "Feature", "Value": feature.feature}]
        data.append(
            {
                "MetricName": "DriftScore",
                "Dimensions": dims,
                "Timestamp": now,
                "Value": feature.score,
                "Unit": "None",
            }
        )
        data.append(
            {
                "MetricName": "Drifted",
                "Dimensions": dims,
                "Timestamp": now,
                "Value": float(feature.drifted),
                "Unit": "Count",
            }
        )
    data.append(
        {
            "MetricName": "DriftedShare",
            "Dimensions": [{"Name": "Model", "Value": model}],
            "Timestamp": now,
            "Value": result.drifted_share,
            "Unit": "None",
        }
    )
    return data


def publish_metrics(
    result: DriftResult, model: str, client: Any = None, namespace: str = DRIFT_NAMESPACE
) -> int:
    """Put the drift metrics of ``model`` into CloudWatch; returns how many were sent."""
    if client is None:
        import boto3

        client = boto3.client("cloudwatch")
    data = metric_data(result, model)
    for start in range(0, len(data), BATCH):
        client.put_metric_data(Namespace=namespace, MetricData=data[start : start + BATCH])
    return len(data)
