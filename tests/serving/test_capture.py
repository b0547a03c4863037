"""Request capture: the SageMaker record format, sampling, the bounded buffer, and the real
server writing to a moto S3 on 127.0.0.1 that ``slipway.drift.s3_capture_chunks`` reads."""

from __future__ import annotations

import base64
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from serving_support import FEATURES, asgi_call
from slipway.drift import s3_capture_chunks
from slipway.drift.capture import record_rows
from slipway.sandbox.server import EmulatedAws
from slipway.serving.capture import (
    CaptureConfig,
    CaptureWriter,
    capture_record,
    object_key,
)
from slipway.serving.metrics import Metrics
from slipway.serving.probe import free_port, wait_until_ready

REGION = "eu-west-1"
BUCKET = "capture-bucket"
JSON_ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
CSV_ROWS = [[4.9, 3.0, 1.4, 0.2], [5.9, 3.0, 5.1, 1.8], [6.3, 2.5, 4.9, 1.5]]


def _config(**overrides: Any) -> CaptureConfig:
    settings: dict[str, Any] = {
        "bucket": BUCKET,
        "prefix": "data-capture/",
        "service": "model-server",
        "sampling_percent": 100.0,
        "flush_seconds": 3600.0,
    }
    return CaptureConfig(**{**settings, **overrides})


def _metrics() -> Metrics:
    return Metrics("models:/iris/1", "1", "sklearn")


def _value(metrics: Metrics, name: str, labels: dict[str, str] | None = None) -> float:
    return float(metrics.registry.get_sample_value(name, labels) or 0.0)


# -- configuration -------------------------------------------------------------------------
def test_capture_is_off_without_a_uri() -> None:
    assert CaptureConfig.from_env({}) is None


def test_configuration_from_the_environment() -> None:
    config = CaptureConfig.from_env(
        {
            "SLIPWAY_CAPTURE_S3_URI": "s3://bucket/data-capture",
            "SLIPWAY_CAPTURE_SAMPLING_PERCENT": "12.5",
            "SLIPWAY_CAPTURE_FLUSH_SECONDS": "30",
            "SLIPWAY_CAPTURE_MAX_RECORDS": "500",
            "SLIPWAY_CAPTURE_KMS_KEY_ID": "arn:aws:kms:eu-west-1:123456789012:key/k",
        }
    )
    assert config == CaptureConfig(
        "bucket",
        "data-capture/",
        "model-server",
        12.5,
        30.0,
        500,
        "arn:aws:kms:eu-west-1:123456789012:key/k",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SLIPWAY_CAPTURE_S3_URI", "https://bucket/data-capture/"),
        ("SLIPWAY_CAPTURE_S3_URI", "s3:///data-capture/"),
        ("SLIPWAY_CAPTURE_SAMPLING_PERCENT", "101"),
        ("SLIPWAY_CAPTURE_SAMPLING_PERCENT", "-1"),
        ("SLIPWAY_CAPTURE_SAMPLING_PERCENT", "half"),
        ("SLIPWAY_CAPTURE_SAMPLING_PERCENT", "nan"),
        ("SLIPWAY_CAPTURE_FLUSH_SECONDS", "0"),
        ("SLIPWAY_CAPTURE_MAX_RECORDS", "0"),
        ("SLIPWAY_CAPTURE_SERVICE", "a/b"),
    ],
)
def test_bad_configuration_names_the_variable(name: str, value: str) -> None:
    environ = {"SLIPWAY_CAPTURE_S3_URI": "s3://bucket/data-capture/", name: value}
    with pytest.raises(ValueError, match=f"^{name}: must .*{value!r}"):
        CaptureConfig.from_env(environ)


# -- record format -------------------------------------------------------------------------
def test_json_record_is_sagemaker_data_capture() -> None:
    body = json.dumps({"inputs": JSON_ROWS}).encode()
    record = capture_record((1_700_000_000.0, body, "application/json", b'{"predictions":[0,2]}'))
    assert record["captureData"] == {
        "endpointInput": {
            "observedContentType": "application/json",
            "mode": "INPUT",
            "data": body.decode(),
            "encoding": "JSON",
        },
        "endpointOutput": {
            "observedContentType": "application/json",
            "mode": "OUTPUT",
            "data": '{"predictions":[0,2]}',
            "encoding": "JSON",
        },
    }
    assert record["eventMetadata"]["inferenceTime"] == "2023-11-14T22:13:20Z"
    assert len(record["eventMetadata"]["eventId"]) == 36
    assert record["eventVersion"] == "0"
    assert record_rows(record, FEATURES) == [dict(zip(FEATURES, r, strict=True)) for r in JSON_ROWS]


def test_csv_and_binary_bodies_keep_their_encoding() -> None:
    csv_record = capture_record((0.0, b"1,2,3,4\n", "text/csv; charset=utf-8", b"{}"))
    assert csv_record["captureData"]["endpointInput"]["encoding"] == "CSV"
    assert record_rows(csv_record, FEATURES) == [dict(zip(FEATURES, "1234", strict=True))]
    binary = capture_record((0.0, b"\xff\xfe", "application/json", b"{}"))
    captured = binary["captureData"]["endpointInput"]
    assert captured["encoding"] == "BASE64"
    assert base64.b64decode(captured["data"]) == b"\xff\xfe"


def test_object_key_is_dated_per_service() -> None:
    key = object_key(_config(), 1_700_000_000.0)
    assert key.startswith("data-capture/model-server/2023/11/14/22/")
    assert key.endswith(".jsonl") and len(key.rsplit("/", 1)[1]) == 36 + len(".jsonl")


# -- buffer, sampling, delivery ------------------------------------------------------------
@pytest.fixture(scope="module")
def aws() -> Iterator[EmulatedAws]:
    """moto on 127.0.0.1 with a bucket and a KMS key; fake credentials in os.environ."""
    with EmulatedAws(REGION) as emulated:
        emulated.aws("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield emulated


@pytest.fixture(scope="module")
def kms_key(aws: EmulatedAws) -> str:
    return str(aws.aws("kms").create_key()["KeyMetadata"]["Arn"])


def _captured_rows(aws: EmulatedAws, prefix: str) -> list[dict[str, Any]]:
    frames = s3_capture_chunks(f"s3://{BUCKET}/{prefix}", FEATURES, client=aws.aws("s3"))
    return [row for frame in frames for row in frame.to_dict(orient="records")]


def test_sampling_keeps_about_the_configured_share(aws: EmulatedAws) -> None:
    random.seed(7)
    for percent, low, high in ((0.0, 0, 0), (25.0, 2300, 2700), (100.0, 10_000, 10_000)):
        writer = CaptureWriter(
            _config(sampling_percent=percent, max_records=20_000), _metrics(), client=aws.aws("s3")
        )
        for _ in range(10_000):
            writer.add(b"1,2,3,4", "text/csv", b"{}")
        assert low <= len(writer._buffer) <= high, percent
        writer._buffer.clear()
        writer.close()


def test_full_buffer_drops_and_counts(aws: EmulatedAws) -> None:
    metrics = _metrics()
    writer = CaptureWriter(_config(max_records=3, prefix="full/"), metrics, client=aws.aws("s3"))
    writer._wake.set = lambda: None  # type: ignore[method-assign]  # keep it from flushing early
    for _ in range(5):
        writer.add(b"1,2,3,4", "text/csv", b"{}")
    assert _value(metrics, "slipway_capture_dropped_total", {"reason": "buffer_full"}) == 2
    del writer._wake.set
    writer.close()
    assert _value(metrics, "slipway_capture_records_total") == 3
    assert len(_captured_rows(aws, "full/")) == 3


def test_flush_writes_one_kms_encrypted_object(aws: EmulatedAws, kms_key: str) -> None:
    writer = CaptureWriter(
        _config(prefix="kms/", kms_key_id=kms_key), _metrics(), client=aws.aws("s3")
    )
    writer.add(b"1,2,3,4\n5,6,7,8\n", "text/csv", b'{"predictions":[0,1]}')
    assert writer.flush() == 1 and writer.flush() == 0
    writer.close()
    [item] = aws.aws("s3").list_objects_v2(Bucket=BUCKET, Prefix="kms/")["Contents"]
    head = aws.aws("s3").head_object(Bucket=BUCKET, Key=item["Key"])
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", kms_key)
    assert [r["petal_width"] for r in _captured_rows(aws, "kms/")] == ["4", "8"]


# -- the real server -----------------------------------------------------------------------
def _start(
    model_uri: str, env: dict[str, str], workers: int
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "slipway.serving",
            "--model-uri",
            model_uri,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env={**os.environ, "AWS_DEFAULT_REGION": REGION, **env},
    )
    wait_until_ready(port, proc)
    return proc, port


def _post(port: int, body: bytes, content_type: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/invocations", body, {"Content-Type": content_type})
    status = conn.getresponse().status
    conn.close()
    return status


def test_server_captures_json_and_csv_and_writes_them_on_shutdown(
    aws: EmulatedAws, kms_key: str, model_uri: str
) -> None:
    endpoint = aws.aws.endpoint_url
    proc, port = _start(
        model_uri,
        {
            "AWS_ENDPOINT_URL": endpoint,
            "SLIPWAY_CAPTURE_S3_URI": f"s3://{BUCKET}/data-capture/",
            "SLIPWAY_CAPTURE_KMS_KEY_ID": kms_key,
            "SLIPWAY_CAPTURE_FLUSH_SECONDS": "3600",  # only the shutdown flush writes
        },
        workers=1,
    )
    try:
        json_body = json.dumps({"dataframe_split": {"columns": FEATURES, "data": JSON_ROWS}})
        csv_body = "\n".join([",".join(FEATURES), *(",".join(map(str, r)) for r in CSV_ROWS)])
        assert _post(port, json_body.encode(), "application/json") == 200
        assert _post(port, csv_body.encode(), "text/csv") == 200
        assert _post(port, b"{", "application/json") == 400  # failed requests are not captured
    finally:
        proc.terminate()  # uvicorn shuts down gracefully, then re-raises SIGTERM
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)
    rows = sorted(
        tuple(float(v) for v in row.values())
        for row in _captured_rows(aws, "data-capture/model-server/")
    )
    assert rows == sorted(tuple(row) for row in JSON_ROWS + CSV_ROWS)
    keys = [
        o["Key"]
        for o in aws.aws("s3").list_objects_v2(Bucket=BUCKET, Prefix="data-capture/")["Contents"]
    ]
    assert all(k.startswith(f"data-capture/model-server/{time.gmtime().tm_year}/") for k in keys)


def test_requests_succeed_and_failures_are_counted_when_s3_is_down(
    aws: EmulatedAws, model_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slipway.serving import create_app

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing there
    monkeypatch.setenv("SLIPWAY_CAPTURE_S3_URI", f"s3://{BUCKET}/data-capture/")
    monkeypatch.setenv("SLIPWAY_CAPTURE_FLUSH_SECONDS", "0.1")
    app = create_app(model_uri)
    assert app.capture is not None
    body = json.dumps({"inputs": JSON_ROWS}).encode()
    try:
        assert [asgi_call(app, "POST", "/invocations", body)[0] for _ in range(3)] == [200] * 3
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _value(
            app.metrics, "slipway_capture_upload_failures_total"
        ):
            time.sleep(0.1)
        assert _value(app.metrics, "slipway_capture_upload_failures_total") >= 1
        dropped = {"reason": "upload_failed"}
        assert _value(app.metrics, "slipway_capture_dropped_total", dropped) >= 1
        assert _value(app.metrics, "slipway_capture_records_total") == 0
        assert asgi_call(app, "POST", "/invocations", body)[0] == 200
    finally:
        app.capture.close()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SLIPWAY_CAPTURE_S3_URI", "bucket/data-capture/"),
        ("SLIPWAY_CAPTURE_SAMPLING_PERCENT", "150"),
    ],
)
def test_server_refuses_bad_capture_settings(model_uri: str, name: str, value: str) -> None:
    env = {**os.environ, "SLIPWAY_CAPTURE_S3_URI": "s3://bucket/data-capture/", name: value}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "slipway.serving",
            "--model-uri",
            model_uri,
            "--port",
            str(free_port()),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: server: {name}: must "
        + ("be s3://bucket/prefix" if "URI" in name else "be a number from 0 to 100")
        + f" (got {value!r})"
    ]
