"""Step 7: drift of recent inputs against the champion's training profile."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from slipway.sandbox.server import EmulatedAws
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.pipeline import Outcome
from {{ cookiecutter.package_name }}.schema import FEATURE_MAX

REGION = "{{ cookiecutter.aws_region }}"
BUCKET = "captures"


def test_unseen_rows_from_the_same_population_do_not_drift(outcome: Outcome) -> None:
    assert not outcome.drift.result.retrain_needed
    summary = json.loads(outcome.drift.json.read_text())
    assert summary["retrain_needed"] is False
    assert len(summary["features"]) == len(FEATURE_MAX)
    assert outcome.drift.html.read_text().count("<tr") == len(FEATURE_MAX) + 1


def test_shifted_inputs_say_retrain_needed(
    in_project: Path, outcome: Outcome, write_config: Callable[..., Path]
) -> None:
    batch = pd.read_csv(in_project / "data" / "batch.csv")
    shifted = in_project / "shifted.csv"
    (batch * 1.4).clip(upper=pd.Series(FEATURE_MAX), axis=1).to_csv(shifted, index=False)
    config = write_config(in_project / "shifted", monitor={"report_dir": "outputs/shifted"})
    result = CliRunner().invoke(app, ["monitor", "--input", str(shifted), "-c", str(config)])
    assert result.exit_code == 3, result.output
    assert "retrain needed" in result.output
    summary = json.loads((in_project / "outputs" / "shifted" / "drift_summary.json").read_text())
    assert summary["retrain_needed"] is True and "mean_radius" in summary["drifted_features"]


def _capture(rows: pd.DataFrame) -> str:
    """One SageMaker data-capture record of a CSV request (no header, model input order)."""
    body = rows[list(FEATURE_MAX)].to_csv(header=False, index=False).strip()
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": body,
                    "encoding": "CSV",
                }
            },
            "eventMetadata": {"eventId": "e", "inferenceTime": "2026-01-01T00:00:00Z"},
            "eventVersion": "0",
        }
    )


@pytest.fixture(scope="module")
def captured(project: Path, outcome: Outcome) -> Iterator[EmulatedAws]:
    """Emulated S3 (moto on 127.0.0.1) holding the batch rows as captured requests, in
    two capture files; the project's own boto3 clients point there."""
    batch = pd.read_csv(project / "data" / "batch.csv")
    with EmulatedAws(REGION) as aws, pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", aws.aws.endpoint_url)
        env.setenv("AWS_DEFAULT_REGION", REGION)
        s3 = aws.aws("s3")
        location = (
            {}
            if REGION == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
        )
        s3.create_bucket(Bucket=BUCKET, **location)
        for hour, part in enumerate((batch.iloc[::2], batch.iloc[1::2])):
            lines = [_capture(part.iloc[i : i + 10]) for i in range(0, len(part), 10)]
            s3.put_object(
                Bucket=BUCKET,
                Body="\n".join(lines).encode(),
                Key=f"data-capture/ep/AllTraffic/2026/01/01/0{hour}/c.jsonl",
            )
        yield aws


def test_captured_requests_in_s3_are_checked_published_and_uploaded(
    in_project: Path,
    outcome: Outcome,
    captured: EmulatedAws,
    write_config: Callable[..., Path],
) -> None:
    config = write_config(in_project / "s3", monitor={"report_dir": "outputs/s3"})
    result = CliRunner().invoke(
        app,
        [
            "monitor",
            "--input",
            f"s3://{BUCKET}/data-capture/",
            "--publish",
            "cloudwatch",
            "--upload-report",
            "-c",
            str(config),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((in_project / "outputs" / "s3" / "drift_summary.json").read_text())
    assert summary["retrain_needed"] is False
    assert summary["current_rows"] == len(pd.read_csv(in_project / "data" / "batch.csv"))
    metrics = captured.aws("cloudwatch").list_metrics(
        Namespace="Slipway/Drift", MetricName="DriftedShare"
    )["Metrics"]
    assert [m["Dimensions"] for m in metrics] == [[{"Name": "Model", "Value": outcome.model_name}]]
    keys = [
        o["Key"]
        for o in captured.aws("s3").list_objects_v2(Bucket=BUCKET, Prefix="monitoring/drift/")[
            "Contents"
        ]
    ]
    assert sorted(k.rsplit("/", 1)[1] for k in keys) == ["drift_report.html", "drift_summary.json"]


def test_an_out_of_range_captured_value_is_a_one_line_error_and_nothing_is_written(
    in_project: Path,
    outcome: Outcome,
    captured: EmulatedAws,
    write_config: Callable[..., Path],
) -> None:
    bad = pd.read_csv(in_project / "data" / "batch.csv").head(3).assign(mean_radius=-1.0)
    captured.aws("s3").put_object(
        Bucket=BUCKET,
        Body=_capture(bad).encode(),
        Key="bad-capture/ep/AllTraffic/2026/01/01/09/bad.jsonl",
    )
    config = write_config(in_project / "s3-bad", monitor={"report_dir": "outputs/s3-bad"})
    result = CliRunner().invoke(
        app, ["monitor", "--input", f"s3://{BUCKET}/bad-capture/", "-c", str(config)]
    )
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: mean_radius: ") and "greater_than_or_equal_to(0)" in line
    assert not (in_project / "outputs" / "s3-bad").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--publish", "prometheus"], "error: --pushgateway: required with --publish prometheus"),
        (["--publish", "email"], "error: --publish: must be one of none, cloudwatch, prometheus"),
        (["--upload-report"], "error: --upload-report: needs an s3:// --input"),
        (["--retrain-job", "training"], "error: --retrain-job: must be <namespace>/<cronjob>"),
    ],
)
def test_unusable_publish_options_are_refused_before_any_work(
    in_project: Path,
    outcome: Outcome,
    args: list[str],
    message: str,
) -> None:
    result = CliRunner().invoke(app, ["monitor", *args])
    assert result.exit_code == 2
    assert result.output.startswith(message)


def test_an_unreachable_pushgateway_exits_4_after_the_report(
    in_project: Path,
    outcome: Outcome,
    write_config: Callable[..., Path],
) -> None:
    config = write_config(in_project / "push", monitor={"report_dir": "outputs/push"})
    result = CliRunner().invoke(
        app,
        [
            "monitor",
            "--publish",
            "prometheus",
            "--pushgateway",
            "http://127.0.0.1:9",
            "-c",
            str(config),
        ],
    )
    assert result.exit_code == 4
    assert result.output.strip().splitlines()[-1].startswith("error: URLError: ")
    assert (in_project / "outputs" / "push" / "drift_summary.json").is_file()
