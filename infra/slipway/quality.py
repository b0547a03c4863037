"""Model quality on live traffic: captured requests joined to their ground truth by event id.

Labels arrive after the fact: a system of record uploads them under ``ground-truth/`` as
JSON lines in SageMaker Model Monitor's ground-truth format (Developer Guide, "Ingest
Ground Truth Labels and Merge Them With Predictions")::

    {"groundTruthData": {"data": "1", "encoding": "CSV"},
     "eventMetadata": {"eventId": "<the captured record's eventId>"}, "eventVersion": "0"}

``data`` holds one label per input row of the captured request (CSV). Both SageMaker data
capture and the EKS model server (``slipway.serving.capture``) give every captured request
an ``eventMetadata.eventId``; ``labelled_rows`` joins on it and ``measure`` scores the
champion on the labelled inputs: accuracy and ROC AUC, published like the drift metrics
(CloudWatch ``Slipway/ModelQuality`` on SageMaker, the Pushgateway on EKS), where an alarm
below the preset's ``alarms.min_accuracy`` / ``min_roc_auc`` starts a retrain.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slipway.drift.capture import CaptureError, record_rows
from slipway.drift.errors import DriftError
from slipway.drift.sources import s3_location
from slipway.names import QUALITY_NAMESPACE

if TYPE_CHECKING:
    import pandas as pd

LABEL = "label"
QUALITY_METRICS_JOB = "slipway_quality"
MIN_ROWS = 2  # ROC AUC needs both classes; fewer labelled rows say nothing


@dataclass(frozen=True)
class Quality:
    """The champion's quality on the labelled requests of a window."""

    model: str
    version: str
    rows: int
    accuracy: float
    roc_auc: float | None
    """None when the labelled rows hold one class only (ROC AUC is undefined)."""
    unmatched_labels: int
    """Ground-truth records whose event id matched no captured request."""

    def below(self, min_accuracy: float, min_roc_auc: float) -> list[str]:
        """The thresholds missed, as ``metric value < minimum`` lines."""
        missed = []
        if self.accuracy < min_accuracy:
            missed.append(f"accuracy {self.accuracy:.4f} < {min_accuracy}")
        if self.roc_auc is not None and self.roc_auc < min_roc_auc:
            missed.append(f"roc_auc {self.roc_auc:.4f} < {min_roc_auc}")
        return missed


def ground_truth(lines: Iterable[str | bytes]) -> dict[str, list[str]]:
    """Event id -> its labels (one per input row) from ground-truth JSON lines."""
    labels: dict[str, list[str]] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            event = str(record["eventMetadata"]["eventId"])
            data = record["groundTruthData"]["data"]
        except (ValueError, KeyError, TypeError) as exc:
            raise DriftError(
                f"ground truth line {number}", f"not a ground-truth record: {exc}"
            ) from exc
        labels[event] = [v.strip() for v in next(csv.reader(io.StringIO(str(data))), [])]
    return labels


def labelled_rows(
    captures: Iterable[str | bytes], labels: dict[str, list[str]], names: Sequence[str]
) -> tuple[list[dict[str, Any]], int]:
    """Captured input rows that have a label (``label`` column) and the number of labels
    that matched no captured request (not captured, or not sampled)."""
    rows: list[dict[str, Any]] = []
    matched: set[str] = set()
    for line in captures:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            event = str(record["eventMetadata"]["eventId"])
            inputs = record_rows(record, names)
        except (ValueError, KeyError, TypeError, CaptureError):
            continue  # the drift check reports undecodable captures; quality skips them
        if event not in labels:
            continue
        if len(labels[event]) != len(inputs):
            raise DriftError(
                f"ground truth of event {event}",
                f"has {len(labels[event])} labels for {len(inputs)} captured rows",
            )
        matched.add(event)
        rows.extend({**row, LABEL: label} for row, label in zip(inputs, labels[event], strict=True))
    return rows, len(set(labels) - matched)


def measure(
    model: Any, frame: pd.DataFrame, name: str, version: str, unmatched: int = 0
) -> Quality:
    """Accuracy and ROC AUC of ``model`` (scikit-learn, with ``predict_proba``) on ``frame``."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    if len(frame) < MIN_ROWS:
        raise DriftError("ground truth", f"{len(frame)} labelled rows; needs at least {MIN_ROWS}")
    truth = frame[LABEL].astype(int)
    features = frame.drop(columns=[LABEL])
    predicted = model.predict(features)
    auc = None
    if truth.nunique() == 2:
        auc = float(roc_auc_score(truth, model.predict_proba(features)[:, 1]))
    return Quality(
        model=name,
        version=version,
        rows=len(frame),
        accuracy=float(accuracy_score(truth, predicted)),
        roc_auc=auc,
        unmatched_labels=unmatched,
    )


def s3_lines(uri: str, client: Any) -> Iterator[bytes]:
    """Every line of every ``.jsonl`` object under ``s3://bucket/prefix``, in key order."""
    bucket, prefix = s3_location(uri)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = sorted(
        i["Key"] for p in pages for i in p.get("Contents", []) if i["Key"].endswith(".jsonl")
    )
    for key in keys:
        yield from client.get_object(Bucket=bucket, Key=key)["Body"].iter_lines()


def metric_data(quality: Quality) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    dims = [{"Name": "Model", "Value": quality.model}]
    values = {"Accuracy": quality.accuracy, "LabelledRows": float(quality.rows)}
    if quality.roc_auc is not None:
        values["RocAuc"] = quality.roc_auc
    return [
        {"MetricName": k, "Dimensions": dims, "Timestamp": now, "Value": v, "Unit": "None"}
        for k, v in values.items()
    ]


def publish_cloudwatch(quality: Quality, client: Any = None) -> int:
    """Put the quality metrics under ``Slipway/ModelQuality``; returns how many."""
    if client is None:
        import boto3

        client = boto3.client("cloudwatch")
    data = metric_data(quality)
    client.put_metric_data(Namespace=QUALITY_NAMESPACE, MetricData=data)
    return len(data)


def push_prometheus(quality: Quality, gateway: str, timeout: float = 30) -> int:
    """PUT the quality gauges to the Pushgateway (job ``slipway_quality``, key ``model``)."""
    from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

    registry = CollectorRegistry()
    gauges = {
        "slipway_quality_accuracy": ("Accuracy on labelled requests", quality.accuracy),
        "slipway_quality_roc_auc": ("ROC AUC on labelled requests", quality.roc_auc),
        "slipway_quality_labelled_rows": ("Labelled rows scored", float(quality.rows)),
        "slipway_quality_last_run_timestamp_seconds": ("When quality was measured", time.time()),
    }
    for metric, (doc, value) in gauges.items():
        if value is not None:
            Gauge(metric, doc, registry=registry).set(value)
    push_to_gateway(
        gateway,
        job=QUALITY_METRICS_JOB,
        registry=registry,
        grouping_key={"model": quality.model},
        timeout=timeout,
    )
    return sum(len(family.samples) for family in registry.collect())


def assess(
    model: Any,
    name: str,
    version: str,
    features: Sequence[str],
    captures_uri: str,
    ground_truth_uri: str,
    client: Any,
) -> Quality:
    """The champion's quality on every captured request under ``captures_uri`` that has a
    label under ``ground_truth_uri`` (both ``s3://`` prefixes of JSON lines)."""
    import pandas as pd

    labels = ground_truth(s3_lines(ground_truth_uri, client))
    if not labels:
        raise DriftError("ground truth", f"no ground-truth records under {ground_truth_uri}")
    rows, unmatched = labelled_rows(s3_lines(captures_uri, client), labels, features)
    frame = pd.DataFrame(rows, columns=[*features, LABEL])
    frame[list(features)] = frame[list(features)].apply(pd.to_numeric)
    return measure(model, frame, name, version, unmatched)
