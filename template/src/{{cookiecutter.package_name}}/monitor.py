"""Step 7, monitor: drift of recent inputs against the champion's training profile."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient
from slipway.drift import DriftError, DriftResult, Profile, detect_drift, write_report
from slipway.lifecycle import CHAMPION, LifecycleError, require_alias

from {{ cookiecutter.package_name }}.config import MonitorConfig
from {{ cookiecutter.package_name }}.data import load_features
from {{ cookiecutter.package_name }}.train import PROFILE_ARTIFACT


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


def monitor(
    client: MlflowClient, model_name: str, input_path: Path, config: MonitorConfig, root: Path
) -> DriftReport:
    current = load_features(input_path, "monitor input")
    try:
        result = detect_drift(reference_profile(client, model_name), current, config.thresholds)
    except DriftError as exc:
        raise LifecycleError(exc.field, exc.rule) from exc
    html, summary = write_report(result, root / config.report_dir)
    return DriftReport(result, html, summary)
