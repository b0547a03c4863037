"""Current data from local files and SageMaker data capture in S3; metrics to CloudWatch."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from slipway.drift import (
    CaptureReader,
    DriftError,
    build_profile,
    detect_drift,
    file_chunks,
    publish_metrics,
    s3_capture_chunks,
)
from slipway.sandbox.server import EmulatedAws

RNG = np.random.default_rng(3)
REGION = {"LocationConstraint": "eu-west-1"}
NAMES = ["x", "y"]
FRAME = pd.DataFrame({"x": RNG.normal(0, 1, 2500), "y": RNG.normal(5, 2, 2500)})


def capture_line(body: str, media: str, encoding: str) -> str:
    data = base64.b64encode(body.encode()).decode() if encoding == "BASE64" else body
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": media,
                    "mode": "INPUT",
                    "data": data,
                    "encoding": encoding,
                },
                "endpointOutput": {
                    "observedContentType": "text/csv",
                    "mode": "OUTPUT",
                    "data": "1",
                    "encoding": "CSV",
                },
            },
            "eventMetadata": {"eventId": "e", "inferenceTime": "2025-01-01T00:00:00Z"},
            "eventVersion": "0",
        }
    )


def capture_lines(frame: pd.DataFrame) -> list[str]:
    """The frame as captured requests, cycling through the body shapes a client may send."""
    lines = []
    for i, (x, y) in enumerate(frame.itertuples(index=False)):
        shape = i % 4
        if shape == 0:
            lines.append(capture_line(f"{x},{y}", "text/csv", "CSV"))
        elif shape == 1:
            split = {"dataframe_split": {"columns": NAMES, "data": [[x, y]]}}
            lines.append(capture_line(json.dumps(split), "application/json", "JSON"))
        elif shape == 2:
            records = {"dataframe_records": [{"x": x, "y": y}]}
            lines.append(capture_line(json.dumps(records), "application/json", "BASE64"))
        else:
            lines.append(capture_line(json.dumps({"inputs": [[x, y]]}), "application/json", "JSON"))
    return lines


def test_capture_shapes_decode_to_the_same_rows() -> None:
    reader = CaptureReader(NAMES, chunk_rows=1000)
    frames = list(reader.chunks([("mem", capture_lines(FRAME.iloc[:2100]))]))
    assert [len(f) for f in frames] == [1000, 1000, 100] and reader.skipped == 0
    decoded = pd.concat(frames).astype(float).reset_index(drop=True)
    pd.testing.assert_frame_equal(decoded, FRAME.iloc[:2100].reset_index(drop=True))


def test_undecodable_records_are_skipped_and_counted() -> None:
    reader = CaptureReader(NAMES)
    lines = [
        "{not json",
        capture_line("1,2,3", "text/csv", "CSV"),
        json.dumps([1]),
        capture_line("x,y\n1,2", "text/csv", "CSV"),
    ]
    frames = list(reader.chunks([("mem", lines)]))
    assert reader.skipped == 3 and frames[0].to_dict("records") == [{"x": "1", "y": "2"}]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_local_files_stream_in_chunks(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"current{suffix}"
    if suffix == ".csv":
        FRAME.assign(extra="ignored").to_csv(path, index=False)
    elif suffix == ".parquet":
        FRAME.to_parquet(path)
    else:
        FRAME.to_json(path, orient="records", lines=True)
    chunks = list(file_chunks(path, NAMES, chunk_rows=1000))
    assert [len(c) for c in chunks] == [1000, 1000, 500]
    assert list(chunks[0].columns) == NAMES
    result = detect_drift(build_profile(FRAME), iter(chunks))
    assert result.current_rows == 2500  # identical data: no distance at all
    assert all(f.test == "wasserstein" and f.score < 1e-6 for f in result.features)


def test_bad_local_sources_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(DriftError, match=r"is not a file$"):
        list(file_chunks(tmp_path / "nope.csv", NAMES))
    (tmp_path / "data.txt").write_text("x\n1\n")
    with pytest.raises(DriftError, match=r"has an unsupported suffix"):
        list(file_chunks(tmp_path / "data.txt", NAMES))
    FRAME[["x"]].to_parquet(tmp_path / "only_x.parquet")
    with pytest.raises(DriftError, match=r"^y: missing from the current data$"):
        list(file_chunks(tmp_path / "only_x.parquet", NAMES))


@pytest.fixture(scope="module")
def aws() -> Iterator[EmulatedAws]:
    with EmulatedAws("eu-west-1") as emulated:
        yield emulated


def test_s3_data_capture_is_streamed_and_cloudwatch_gets_one_metric_per_feature(
    aws: EmulatedAws,
) -> None:
    s3, cloudwatch = aws.aws("s3"), aws.aws("cloudwatch")
    s3.create_bucket(Bucket="capture", CreateBucketConfiguration=REGION)
    shifted = FRAME.assign(x=FRAME["x"] + 1.0)
    lines = capture_lines(shifted)
    prefix = "datacapture/endpoint/AllTraffic/2025/01/01"
    for hour, start in enumerate(range(0, len(lines), 1000)):
        body = "\n".join(lines[start : start + 1000]) + "\n"
        s3.put_object(Bucket="capture", Key=f"{prefix}/{hour:02d}/part.jsonl", Body=body.encode())
    s3.put_object(Bucket="capture", Key=f"{prefix}/readme.txt", Body=b"not capture")

    chunks = s3_capture_chunks("s3://capture/datacapture/endpoint", NAMES, 700, client=s3)
    result = detect_drift(build_profile(FRAME), chunks, workers=2)
    assert result.current_rows == 2500
    assert [f.feature for f in result.drifted] == ["x"]

    sent = publish_metrics(result, "churn", client=cloudwatch)
    assert sent == 2 * len(NAMES) + 1
    metrics = cloudwatch.list_metrics(Namespace="Slipway/Drift", MetricName="DriftScore")["Metrics"]
    dimensions = [d for m in metrics for d in m["Dimensions"]]
    features = sorted(d["Value"] for d in dimensions if d["Name"] == "Feature")
    assert features == NAMES


def test_s3_source_errors_name_the_uri(aws: EmulatedAws) -> None:
    s3 = aws.aws("s3")
    with pytest.raises(DriftError, match=r"^capture: is not an s3://bucket/prefix URI$"):
        list(s3_capture_chunks("capture", NAMES, client=s3))
    s3.create_bucket(Bucket="empty", CreateBucketConfiguration=REGION)
    with pytest.raises(DriftError, match=r"^s3://empty/x: holds no .jsonl capture files$"):
        list(s3_capture_chunks("s3://empty/x", NAMES, client=s3))
