"""Step 7, monitor: drift of recent inputs against the champion's training profile.

The inputs are a local CSV / Parquet / JSONL file or the endpoint's captured requests under
an ``s3://bucket/prefix``; both are streamed in chunks, each validated with the feature
schema. The result can be published as CloudWatch metrics or to a Prometheus Pushgateway.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient
from slipway.drift import (
    DriftError,
    DriftResult,
    Profile,
    current_chunks,
    detect_drift,
    is_s3,
    publish_metrics,
    push_metrics,
    report_prefix,
    upload_report,
    write_report,
)
from slipway.drift.sources import CHUNK_ROWS
from slipway.lifecycle import CHAMPION, LifecycleError, require_alias

from {{ cookiecutter.package_name }}.config import MonitorConfig
from {{ cookiecutter.package_name }}.data import validate
from {{ cookiecutter.package_name }}.schema import FEATURE_SCHEMA, FEATURES

FIELD = "monitor input"
PROFILE_ARTIFACT = "drift/reference_profile.json"  # logged by train beside the model


class Publish(StrEnum):
    """Where the drift metrics go."""

    none = "none"
    cloudwatch = "cloudwatch"
    prometheus = "prometheus"


@dataclass(frozen=True)
class DriftReport:
    result: DriftResult
    html: Path
    json: Path


def reference_profile(client: MlflowClient, model_name: str) -> Profile:
    """The profile logged with the champion at training time (no training data reloaded)."""
    champion = require_alias(client, model_name, CHAMPION)
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(
            run_id=champion.run_id, artifact_path=PROFILE_ARTIFACT, dst_path=tmp
        )
        return Profile.load(Path(local))


def current_data(location: str | Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """The inputs at ``location`` (a file or an ``s3://`` capture prefix), chunk by chunk,
    each chunk checked against the feature schema (first violation: its column and rule)."""
    if not is_s3(location) and not Path(location).is_file():
        raise LifecycleError(FIELD, f"file not found: {location}")
    for chunk in current_chunks(location, FEATURES, chunk_rows):
        yield validate(chunk, FEATURE_SCHEMA)


def monitor(
    client: MlflowClient,
    model_name: str,
    location: str | Path,
    config: MonitorConfig,
    root: Path,
    chunk_rows: int = CHUNK_ROWS,
) -> DriftReport:
    """Compare the inputs at ``location`` with the champion's profile and write the report
    (nothing is written when the inputs are bad)."""
    profile = reference_profile(client, model_name)
    try:
        result = detect_drift(profile, current_data(location, chunk_rows), config.thresholds)
    except DriftError as exc:
        raise LifecycleError(exc.field, exc.rule) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise LifecycleError(FIELD, f"not a readable file: {location}") from exc
    html, summary = write_report(result, root / config.report_dir)
    return DriftReport(result, html, summary)


def parse_publish(value: str) -> Publish:
    """The ``--publish`` target named by ``value``."""
    try:
        return Publish(value)
    except ValueError:
        choices = ", ".join(p.value for p in Publish)
        raise LifecycleError("--publish", f"must be one of {choices} (got {value!r})") from None


def check_publish(target: Publish, pushgateway: str | None, upload: bool, location: str) -> None:
    """Refuse option combinations that cannot work, before any work is done."""
    if target is Publish.prometheus and not pushgateway:
        raise LifecycleError("--pushgateway", "required with --publish prometheus")
    if upload and not is_s3(location):
        raise LifecycleError("--upload-report", "needs an s3:// --input")


def publish(result: DriftResult, model_name: str, target: Publish, pushgateway: str | None) -> str:
    """Send the drift metrics of ``model_name`` to ``target``; says where they went."""
    if target is Publish.cloudwatch:
        sent = publish_metrics(result, model_name)
        return f"{sent} CloudWatch metrics (Slipway/Drift, Model={model_name})"
    if target is Publish.prometheus and pushgateway:
        sent = push_metrics(result, model_name, pushgateway)
        return f"{sent} samples to the Pushgateway {pushgateway} (model={model_name})"
    return "not published"


def upload(report: DriftReport, location: str) -> str:
    """Copy the HTML and JSON report to ``s3://<bucket>/monitoring/drift/<timestamp>/``."""
    prefix = report_prefix(location)
    upload_report([report.html, report.json], prefix)
    return prefix
