"""Where the monitor step reads (local files, S3 data capture) and where its metrics go
(a Pushgateway on loopback, CloudWatch in moto)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families
from slipway.drift import (
    DriftError,
    DriftResult,
    build_profile,
    current_chunks,
    detect_drift,
    publish_metrics,
    push_metrics,
    report_prefix,
    upload_report,
)
from slipway.sandbox.server import EmulatedAws
from slipway.serving.capture import capture_record

RNG = np.random.default_rng(11)
NAMES = ["x", "y"]
REFERENCE = pd.DataFrame({"x": RNG.normal(0, 1, 3000), "y": RNG.normal(5, 2, 3000)})
CURRENT = pd.DataFrame({"x": RNG.normal(0.8, 1, 600), "y": RNG.normal(5, 2, 600)})
BUCKET = "captures"


@pytest.fixture(scope="module")
def result() -> DriftResult:
    """x shifted by 0.8 std, y not: half the features drifted."""
    found = detect_drift(build_profile(REFERENCE), CURRENT)
    assert [f.feature for f in found.drifted] == ["x"]
    return found


class _Recorder(BaseHTTPRequestHandler):
    """Records every PUT (one subclass per test, see ``gateway``) and answers ``status``."""

    requests: ClassVar[list[tuple[str, str, str, bytes]]]
    status: ClassVar[int]

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).requests.append((self.command, self.path, self.headers["Content-Type"], body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[tuple[str, type[_Recorder]]]:
    """A Pushgateway stand-in on 127.0.0.1 that records what it is sent."""
    handler = type("Recorder", (_Recorder,), {"requests": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_the_pushgateway_gets_every_gauge_under_the_model_group(
    result: DriftResult, gateway: tuple[str, type[_Recorder]]
) -> None:
    url, recorder = gateway
    before = time.time()
    sent = push_metrics(result, "churn", url)
    [(method, path, _, body)] = recorder.requests
    assert (method, path) == ("PUT", "/metrics/job/slipway_drift/model/churn")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    samples = {(s.name, s.labels.get("feature")): s for f in families.values() for s in f.samples}
    assert sent == len(samples) == 2 * len(NAMES) + 4
    for feature in result.features:
        score = samples["slipway_drift_score", feature.feature]
        assert score.value == pytest.approx(feature.score)
        assert score.labels["test"] == feature.test
        assert samples["slipway_drift_drifted", feature.feature].value == float(feature.drifted)
    assert samples["slipway_drift_share", None].value == 0.5
    assert samples["slipway_drift_retrain_needed", None].value == 1.0
    assert samples["slipway_drift_current_rows", None].value == len(CURRENT)
    stamp = samples["slipway_drift_last_run_timestamp_seconds", None].value
    assert before <= stamp <= time.time()


def test_a_refusing_pushgateway_is_an_error(
    result: DriftResult, gateway: tuple[str, type[_Recorder]]
) -> None:
    url, recorder = gateway
    recorder.status = 400
    with pytest.raises(OSError, match="400"):
        push_metrics(result, "churn", url)


@pytest.fixture(scope="module")
def aws() -> Iterator[EmulatedAws]:
    """One moto server for this module's tests (each uses its own keys)."""
    with EmulatedAws("eu-west-1") as emulated:
        emulated.aws("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield emulated


def test_cloudwatch_holds_the_drifted_share_and_scores(
    result: DriftResult, aws: EmulatedAws
) -> None:
    cloudwatch = aws.aws("cloudwatch")
    publish_metrics(result, "churn", client=cloudwatch)
    now = datetime.now(UTC)
    queries = [
        {
            "Id": "share",
            "MetricStat": {
                "Metric": {
                    "Namespace": "Slipway/Drift",
                    "MetricName": "DriftedShare",
                    "Dimensions": [{"Name": "Model", "Value": "churn"}],
                },
                "Period": 60,
                "Stat": "Maximum",
            },
        },
        {
            "Id": "x",
            "MetricStat": {
                "Metric": {
                    "Namespace": "Slipway/Drift",
                    "MetricName": "DriftScore",
                    "Dimensions": [
                        {"Name": "Model", "Value": "churn"},
                        {"Name": "Feature", "Value": "x"},
                    ],
                },
                "Period": 60,
                "Stat": "Maximum",
            },
        },
    ]
    data = cloudwatch.get_metric_data(
        MetricDataQueries=queries,
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=5),
    )["MetricDataResults"]
    values = {d["Id"]: d["Values"] for d in data}
    assert values["share"] == [0.5]
    assert values["x"] == [pytest.approx(result.features[0].score)]
    listed = cloudwatch.list_metrics(Namespace="Slipway/Drift", MetricName="Drifted")["Metrics"]
    assert len(listed) == len(NAMES)


def _capture_record(rows: pd.DataFrame) -> str:
    """One SageMaker data-capture line, as the model server writes it: a CSV request body
    without header."""
    body = rows.to_csv(header=False, index=False).strip()
    return json.dumps(capture_record((1_767_225_600.0, body.encode(), "text/csv", b"[0]")))


def test_an_s3_prefix_streams_its_capture_files_and_a_path_its_file(
    aws: EmulatedAws, tmp_path: Path
) -> None:
    s3 = aws.aws("s3")
    halves = (CURRENT.iloc[:300], CURRENT.iloc[300:])
    for hour, half in enumerate(halves):
        lines = [_capture_record(half.iloc[i : i + 50]) for i in range(0, len(half), 50)]
        s3.put_object(
            Bucket=BUCKET,
            Key=f"data-capture/ep/AllTraffic/2026/01/01/0{hour}/a.jsonl",
            Body="\n".join(lines).encode(),
        )
    s3.put_object(Bucket=BUCKET, Key="data-capture/ep/notes.txt", Body=b"not capture")
    chunks = list(current_chunks(f"s3://{BUCKET}/data-capture/", NAMES, 250, s3_client=s3))
    assert [len(c) for c in chunks] == [250, 250, 100]
    streamed = pd.concat(chunks, ignore_index=True).astype(float)
    pd.testing.assert_frame_equal(streamed, CURRENT, check_exact=False, rtol=1e-12)

    local = tmp_path / "current.csv"
    CURRENT.to_csv(local, index=False)
    assert [len(c) for c in current_chunks(str(local), NAMES, 400)] == [400, 200]
    with pytest.raises(DriftError, match=r"holds no \.jsonl capture files"):
        list(current_chunks(f"s3://{BUCKET}/elsewhere/", NAMES, s3_client=s3))
    with pytest.raises(DriftError, match="is not a file"):
        list(current_chunks(tmp_path / "missing.csv", NAMES))


def test_reports_go_under_the_input_buckets_monitoring_prefix(
    aws: EmulatedAws, tmp_path: Path
) -> None:
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    prefix = report_prefix(f"s3://{BUCKET}/data-capture/ep/", when)
    assert prefix == f"s3://{BUCKET}/monitoring/drift/20260304T050607Z/"
    report = tmp_path / "drift_summary.json"
    report.write_text('{"retrain_needed": false}')
    s3 = aws.aws("s3")
    assert upload_report([report], prefix, s3) == [f"{prefix}drift_summary.json"]
    body = s3.get_object(Bucket=BUCKET, Key="monitoring/drift/20260304T050607Z/drift_summary.json")
    assert json.loads(body["Body"].read()) == {"retrain_needed": False}
    with pytest.raises(DriftError, match=r"is not an s3://bucket/prefix URI$"):
        report_prefix("data/batch.csv")
