"""The lifecycle steps as the stack's engine runs them: one container per step.

validate -> train -> evaluate (+ gate) -> register makes the training pipeline (SageMaker
Pipeline steps, or the containers of the training Job on EKS); batch scores on its own. The
functions are the local run's (``pipeline.py``) fed differently: data from the stack's
bucket with the S3 versions read, inputs and outputs where the engine puts them
(``slipway.jobs.contract``), runs and models in the stack's MLflow. ``container.py`` is the
image's entry point that calls them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mlflow
from slipway.jobs import contract
from slipway.jobs.s3data import read_prefix
from slipway.lifecycle import (
    CHAMPION,
    GateRejected,
    LifecycleError,
    promote,
    register_challenger,
    training_tags,
    version_by_alias,
)

from {{ cookiecutter.package_name }}.config import PipelineConfig
from {{ cookiecutter.package_name }}.data import Dataset, load_training
from {{ cookiecutter.package_name }}.evaluate import evaluate as score, gate
from {{ cookiecutter.package_name }}.pipeline import open_registry
from {{ cookiecutter.package_name }}.predict import batch_predict
from {{ cookiecutter.package_name }}.train import Fitted, fit, log_trained, model_format, split

TRAINING_DATA = "train.csv"
VERSIONS = "versions.json"
UNKNOWN = "unknown"


def _s3() -> Any:
    import boto3

    return boto3.client("s3")


def _env(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise LifecycleError(name, "not set: the step runs in the stack's engine (docs/engines.md)")
    return value


def config_sha256(config: PipelineConfig) -> str:
    return hashlib.sha256(
        json.dumps(config.model.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()


def lineage(
    config: PipelineConfig, versions: Mapping[str, Any], env: Mapping[str, str]
) -> dict[str, str]:
    """What a model version records of where it came from."""
    tags = {
        "git_commit": env.get("SLIPWAY_GIT_COMMIT") or UNKNOWN,
        "model_config_sha256": config_sha256(config),
        "stack": env.get("SLIPWAY_STACK", ""),
        "trigger": env.get("SLIPWAY_TRIGGER", ""),
        "data.source": str(versions.get("source", "")),
    }
    for index, version in enumerate(versions.get("versions", [])):
        tags[f"data.{index}"] = f"{version['uri']}@{version['version_id']}"
    return tags


def unchanged(client: Any, config: PipelineConfig, sha256: str, commit: str) -> str:
    """Why nothing needs training (empty: train): the champion was trained on the same data
    snapshot, image commit and model config."""
    champion = version_by_alias(client, config.model.name, CHAMPION)
    if champion is None:
        return ""
    tags = champion.tags
    same = (
        tags.get("training_data_sha256") == sha256
        and tags.get("model_config_sha256") == config_sha256(config)
        and tags.get("git_commit") == commit
        and commit != UNKNOWN
    )
    return f"unchanged: data, code and config are those of champion version {champion.version}" if same else ""


def validate(layout: contract.Layout, config: PipelineConfig, env: Mapping[str, str]) -> dict[str, Any]:
    """Read the training data from ``s3://<bucket>/data/train/`` (each object's current
    version), check it against the schema, keep the snapshot content-addressed under
    ``pipelines/datasets/<sha256>/`` and say whether anything changed since the champion."""
    s3 = _s3()
    out = layout.output(contract.DATASET)
    snapshot = read_prefix(s3, _env(env, "SLIPWAY_DATA_URI") + "train/", out / TRAINING_DATA)
    dataset = load_training(snapshot.path, "data.path")
    (out / VERSIONS).write_text(snapshot.to_json())
    _, client = open_registry(Path.cwd(), config)
    why = unchanged(client, config, dataset.sha256, env.get("SLIPWAY_GIT_COMMIT") or UNKNOWN)
    uri = f"{_env(env, 'SLIPWAY_PIPELINES_URI')}datasets/{dataset.sha256}/"
    contract.upload_prefix(s3, out, uri)  # the data trained on, kept whatever lands later
    facts = {
        "changed": not why,
        "message": why or f"{len(dataset.frame)} rows from {len(snapshot.versions)} objects",
        "uri": uri,
        "sha256": dataset.sha256,
        "versions": [v.__dict__ for v in snapshot.versions],
    }
    (out / contract.DATASET_FILE).write_text(json.dumps(facts, indent=1))
    return facts


def _changed(layout: contract.Layout) -> dict[str, Any]:
    """Validate's facts (``dataset.json``) when the step got them: a Kubernetes Job's steps
    share them; a SageMaker step gets the content-addressed snapshot only, and runs at all
    because the pipeline's Changed condition read them."""
    path = layout.input(contract.DATASET) / contract.DATASET_FILE
    return contract.read_json(path) if path.is_file() else {"changed": True}


def _dataset(layout: contract.Layout) -> tuple[Dataset, dict[str, Any]]:
    directory = layout.input(contract.DATASET)
    versions = contract.read_json(directory / VERSIONS)
    return load_training(directory / TRAINING_DATA, "data.path"), versions


def train(layout: contract.Layout, config: PipelineConfig) -> Path:
    """Fit on the snapshot and save the MLflow model where the engine keeps it (SageMaker
    uploads ``/opt/ml/model`` as model.tar.gz). No MLflow run: the same inputs give the same
    model, so SageMaker may reuse this step from an earlier run."""
    facts = _changed(layout)
    model_dir = layout.output(contract.MODEL)
    if not facts["changed"]:
        return model_dir  # Kubernetes: nothing to train (SageMaker skips the step)
    dataset, _ = _dataset(layout)
    fitted = fit(dataset, config.model)
    target = model_dir / "mlflow-model"
    mlflow.sklearn.save_model(fitted.pipeline, str(target), **model_format(fitted))
    for item in target.iterdir():  # the model directory itself is the MLflow model
        shutil.move(str(item), model_dir / item.name)
    target.rmdir()
    return model_dir


def evaluate(layout: contract.Layout, config: PipelineConfig, env: Mapping[str, str]) -> dict[str, Any]:
    """Log the trained model as a run of the stack's MLflow (params, data versions, commit,
    model, drift profile), score it on the held-out split and gate it against the
    champion; the verdict goes to ``verdict.json`` (the pipeline's Gate reads it)."""
    out = layout.output(contract.EVALUATION)
    facts = _changed(layout)
    if not facts["changed"]:
        verdict = {"passed": False, "changed": False, "summary": facts["message"]}
        (out / contract.VERDICT_FILE).write_text(json.dumps(verdict))
        return verdict
    dataset, versions = _dataset(layout)
    with tempfile.TemporaryDirectory() as scratch:
        pipeline = mlflow.sklearn.load_model(str(layout.model(Path(scratch) / "model")))
    x_train, x_test, _, y_test = split(dataset, config.model)
    _, client = open_registry(Path.cwd(), config)
    tags = lineage(config, versions, env)
    trained = log_trained(Fitted(pipeline, x_train, x_test, y_test), dataset, config.model, tags)
    metrics = score(trained)
    result = gate(metrics, config.gate, client, config.model.name)
    client.set_tag(trained.run_id, "gate", result.summary())
    verdict = {
        "passed": result.passed,
        "changed": True,
        "summary": result.summary(),
        "run_id": trained.run_id,
        "model_uri": trained.model_uri,
        "metrics": metrics,
        "sha256": dataset.sha256,
        "tags": tags,
    }
    (out / contract.VERDICT_FILE).write_text(json.dumps(verdict, indent=1))
    if not result.passed and layout.gate_exits:
        raise GateRejected("gate", result.summary())
    return verdict


def register(
    layout: contract.Layout,
    config: PipelineConfig,
    env: Mapping[str, str],
    model_data: str | None = None,
    image: str | None = None,
) -> str:
    """Register the gated candidate in MLflow with its lineage, promote it (the gate's
    approval, as the local run does) and, on SageMaker, add it to the stack's model package
    group with the same version and lineage; returns the version (empty: unchanged)."""
    verdict = contract.read_json(layout.input(contract.EVALUATION) / contract.VERDICT_FILE)
    if not verdict.get("changed", True):
        return ""
    _, client = open_registry(Path.cwd(), config)
    name = config.model.name
    tags = {**training_tags(verdict["sha256"], verdict["tags"]["git_commit"], verdict["metrics"]), **verdict["tags"]}
    version = str(register_challenger(client, verdict["model_uri"], name, tags).version)
    promote(client, name, config.gate.approved_by, version)
    group = env.get("SLIPWAY_MODEL_PACKAGE_GROUP")
    if group and model_data and image:
        model_package(group, name, version, verdict, model_data, image)
    return version


def model_package(group: str, name: str, version: str, verdict: Mapping[str, Any], model_data: str, image: str) -> str:
    """The same version in SageMaker's registry, awaiting the deploy's approval, with its
    lineage (the keys the deploy runtime writes: mlflow-model, mlflow-version)."""
    import boto3

    tags = verdict["tags"]
    metadata = {
        "mlflow-model": name,
        "mlflow-version": version,
        "mlflow-run": str(verdict["run_id"]),
        "git-commit": tags["git_commit"],
        "data-sha256": str(verdict["sha256"]),
        **{f"metric-{k}": f"{v:.6f}" for k, v in sorted(verdict["metrics"].items())},
        **{k.replace(".", "-"): v for k, v in tags.items() if k.startswith("data.") and k != "data.source"},
    }
    response = boto3.client("sagemaker").create_model_package(
        ModelPackageGroupName=group,
        ModelPackageDescription=f"{name} version {version} (run {verdict['run_id']})",
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": image, "ModelDataUrl": model_data}],
            "SupportedContentTypes": ["text/csv", "application/json"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        CustomerMetadataProperties=dict(list(metadata.items())[:50]),
    )
    return str(response["ModelPackageArn"])


def batch(layout: contract.Layout, config: PipelineConfig, env: Mapping[str, str]) -> list[Path]:
    """Score every CSV under ``batch/input/`` with the champion; the predictions (each row
    with the model version that made it) go to ``batch/predictions/<run>/``."""
    s3 = _s3()
    batch_uri = env.get("SLIPWAY_BATCH_URI") or ""
    inputs = layout.fetch(contract.BATCH_INPUT, batch_uri + "input/", s3)
    out = layout.output(contract.PREDICTIONS)
    _, client = open_registry(Path.cwd(), config)
    written = []
    for source in sorted(inputs.rglob("*.csv")):
        result = batch_predict(client, config.model.name, source, out / source.name)
        written.append(result.path)
    if not written:
        raise LifecycleError("batch input", f"no .csv under {inputs}")
    run = env.get("SLIPWAY_JOB") or "run"
    layout.publish(contract.PREDICTIONS, f"{batch_uri}predictions/{run}/", s3)
    return written


def config_path() -> Path:
    """The image's config (``SLIPWAY_CONFIG``), else the project's."""
    return Path(os.environ.get("SLIPWAY_CONFIG") or "config/pipeline.yaml")
