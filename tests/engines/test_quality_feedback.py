"""Labelled feedback (issue 14): ground truth joined to captured requests by event id gives
the champion's live quality; published to CloudWatch it trips the stack's own quality alarm,
whose ALARM state the stack's retrain rule matches.

The alarm and the rule are read from the SageMaker stack's declarations (the shared program
run); the captures, labels and metrics live in moto. moto stores alarms but never evaluates
them: the test applies the declared alarm's statistic, period, comparison and threshold to
the published datapoints, which is the whole of CloudWatch's rule for one evaluation period.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from matrix import STRUCTURAL_COMBOS
from program_runs import StackRun, single_run
from slipway.drift.errors import DriftError
from slipway.names import QUALITY_NAMESPACE
from slipway.quality import assess, publish_cloudwatch
from slipway.serving.capture import capture_record

BUCKET = "stack-bucket"
CAPTURES, LABELS = f"s3://{BUCKET}/data-capture/", f"s3://{BUCKET}/ground-truth/"
COMPARE = {
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
}


@pytest.fixture(scope="module")
def sagemaker_run(tmp_path_factory: pytest.TempPathFactory) -> StackRun:
    combo = next(
        c for c in STRUCTURAL_COMBOS if c["compute"] == "sagemaker" and c["monitoring"] == "yes"
    )
    return single_run(tmp_path_factory, combo, "dev")


@pytest.fixture(scope="module")
def model() -> tuple[Any, list[str], np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer(as_frame=True)
    x, y = data.data, data.target.to_numpy()
    x.columns = [str(c).replace(" ", "_") for c in x.columns]
    fitted = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x[:400], y[:400])
    return fitted, list(x.columns), x[400:].to_numpy(), y[400:]


@pytest.fixture
def s3() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def _capture(event: str, rows: np.ndarray) -> str:
    body = "\n".join(",".join(f"{v:.6g}" for v in row) for row in rows)
    request = (1_795_000_000.0, body.encode(), "text/csv", b"[0]")
    return json.dumps(capture_record(request, event_id=event))


def _label(event: str, labels: np.ndarray) -> str:
    return json.dumps(
        {
            "groundTruthData": {"data": ",".join(str(int(v)) for v in labels), "encoding": "CSV"},
            "eventMetadata": {"eventId": event},
            "eventVersion": "0",
        }
    )


def _upload(s3: Any, x: np.ndarray, truth: np.ndarray, labelled: int) -> None:
    """Requests of 4 rows each, captured; the first ``labelled`` requests get labels, plus
    one label whose request was never captured (sampling)."""
    requests = [(f"event-{i}", x[i : i + 4], truth[i : i + 4]) for i in range(0, len(x) - 3, 4)]
    captures = "\n".join(_capture(e, rows) for e, rows, _ in requests)
    labels = [_label(e, y) for e, _, y in requests[:labelled]] + [_label("never", truth[:1])]
    s3.put_object(Bucket=BUCKET, Key="data-capture/AllTraffic/2026/11/29/10/a.jsonl", Body=captures)
    s3.put_object(Bucket=BUCKET, Key="ground-truth/2026/11/29/labels.jsonl", Body="\n".join(labels))


def _quality_alarms(run: StackRun) -> list[dict[str, Any]]:
    alarms = [r for r in run.run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")]
    return [a.inputs for a in alarms if a.inputs.get("namespace") == QUALITY_NAMESPACE]


def _breached(cloudwatch: Any, alarm: dict[str, Any]) -> bool:
    """CloudWatch's verdict for one evaluation period of the declared alarm."""
    now = datetime.now(UTC)
    stats = cloudwatch.get_metric_statistics(
        Namespace=alarm["namespace"],
        MetricName=alarm["metricName"],
        Dimensions=[{"Name": k, "Value": v} for k, v in alarm["dimensions"].items()],
        StartTime=now - timedelta(seconds=int(alarm["period"])),
        EndTime=now + timedelta(minutes=1),
        Period=int(alarm["period"]),
        Statistics=[alarm["statistic"]],
    )["Datapoints"]
    assert len(stats) == 1, stats
    compare = COMPARE[alarm["comparisonOperator"]]
    return bool(compare(stats[0][alarm["statistic"]], float(alarm["threshold"])))


def test_labels_joined_to_captures_give_the_champions_quality(s3: Any, model: Any) -> None:
    fitted, features, x, truth = model
    _upload(s3, x, truth, labelled=20)
    quality = assess(fitted, "churn-model", "3", features, CAPTURES, LABELS, s3)
    assert quality.rows == 80 and quality.unmatched_labels == 1
    expected = float((fitted.predict(x[:80]) == truth[:80]).mean())
    assert quality.accuracy == pytest.approx(expected)
    assert quality.roc_auc is not None and quality.roc_auc > 0.9


def test_wrong_predictions_trip_the_stacks_quality_alarm_and_its_retrain_rule(
    s3: Any, model: Any, sagemaker_run: StackRun
) -> None:
    import boto3
    from moto.events.models import EventPattern

    fitted, features, x, truth = model
    _upload(s3, x, 1 - truth, labelled=20)  # the world changed: labels are now the opposite
    alarms = _quality_alarms(sagemaker_run)
    assert {a["metricName"] for a in alarms} == {"Accuracy", "RocAuc"}
    model_name = alarms[0]["dimensions"]["Model"]
    quality = assess(fitted, model_name, "3", features, CAPTURES, LABELS, s3)
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    publish_cloudwatch(quality, cloudwatch)
    assert all(_breached(cloudwatch, alarm) for alarm in alarms), quality

    rules = [
        r.inputs
        for r in sagemaker_run.run.of_type("aws:cloudwatch/eventRule:EventRule")
        if r.inputs.get("eventPattern")
    ]
    (retrain,) = rules
    pattern = EventPattern.load(retrain["eventPattern"])
    for alarm in sagemaker_run.run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        if alarm.inputs.get("namespace") != QUALITY_NAMESPACE:
            continue
        event = {
            "source": "aws.cloudwatch",
            "detail-type": "CloudWatch Alarm State Change",
            "resources": [alarm.state["arn"]],
            "detail": {"state": {"value": "ALARM"}},
        }
        assert pattern.matches_event(event), alarm.name  # type: ignore[arg-type]


def test_good_predictions_keep_the_alarm_quiet(
    s3: Any, model: Any, sagemaker_run: StackRun
) -> None:
    import boto3

    fitted, features, x, truth = model
    _upload(s3, x, truth, labelled=20)
    alarms = _quality_alarms(sagemaker_run)
    quality = assess(fitted, alarms[0]["dimensions"]["Model"], "3", features, CAPTURES, LABELS, s3)
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    publish_cloudwatch(quality, cloudwatch)
    assert not any(_breached(cloudwatch, alarm) for alarm in alarms), quality


def test_labels_that_match_no_capture_are_one_clear_error(s3: Any, model: Any) -> None:
    fitted, features, x, truth = model
    _upload(s3, x, truth, labelled=0)  # only the label of a request never captured
    with pytest.raises(DriftError, match="ground truth: 0 labelled rows"):
        assess(fitted, "churn-model", "3", features, CAPTURES, LABELS, s3)
