"""The lifecycle steps as the stack's engine runs them: one container per step.

validate -> train -> evaluate (+ gate) -> register makes the training pipeline (SageMaker
Pipeline steps, or the containers of the training Job on EKS); batch scores on its own. The
functions are the local run's (``pipeline.py``: ``ingest``, ``train``, ``evaluate``,
``register``, ``approve``) fed differently: the training and evaluation sets of the data
config from the stack's bucket with the S3 versions read, inputs and outputs where the
engine puts them (``slipway.jobs.contract``), runs and models in the stack's MLflow.
``container.py`` is the image's entry point that calls them. Only the steps that fit or
score a model import scikit-learn (train and evaluate, when the data changed): each step
starts in a fresh container.
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
from slipway.envvars import (
    BATCH_URI_ENV,
    DATA_URI_ENV,
    ENGINE_ENV,
    JOB_ENV,
    MODEL_PACKAGE_GROUP_ENV,
    PIPELINES_URI_ENV,
    STACK_ENV,
    TRIGGER_ENV,
)
from slipway.jobs import contract
from slipway.lifecycle import (
    Approval,
    GateRejected,
    Inputs,
    LifecycleError,
    load_report,
    unchanged_version,
)
from slipway.lifecycle.lineage import DataVersion

from {{ cookiecutter.package_name }}.config import PipelineConfig
from {{ cookiecutter.package_name }}.data import Dataset, Datasets, load_labelled, read_labelled
from {{ cookiecutter.package_name }}.predict import batch_predict
from {{ cookiecutter.package_name }}.register import approve
from {{ cookiecutter.package_name }}.register import register as register_version
from {{ cookiecutter.package_name }}.registry import model_inputs, open_registry, settle_unchanged

TRAINING_DATA, EVALUATION_DATA = "train.csv", "evaluation.csv"
VERSIONS = "versions.json"
TRAINED = "trained.json"  # beside the model: the MLflow run and model it was logged as
UNKNOWN = "unknown"


def _s3() -> Any:
    import boto3

    return boto3.client("s3")


def _env(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise LifecycleError(name, "not set: the step runs in the stack's engine (docs/engines.md)")
    return value


def locations(config: PipelineConfig, env: Mapping[str, str]) -> tuple[str, str]:
    """Where the engine reads the data config's training and evaluation sets: their own
    ``s3://`` URIs, or (local paths, as in the embedded default) every CSV under the stack's
    data prefix named after the file: ``data/train.csv`` -> ``s3://<bucket>/data/train/``."""

    def where(location: Path | str) -> str:
        text = str(location)
        if text.startswith("s3://"):
            return text
        return f"{_env(env, DATA_URI_ENV)}{Path(text).stem}/"

    return where(config.data.path), where(config.data.evaluation)


def lineage(data: Datasets, inputs: Inputs, env: Mapping[str, str]) -> dict[str, str]:
    """What a model version records of where it came from (the local run's keys, plus every
    S3 object version read: ``data.<n>`` training, ``evaluation.<n>`` evaluation)."""
    tags = {
        "git_commit": env.get("SLIPWAY_GIT_COMMIT") or UNKNOWN,
        "trained_by": f"engine:{env.get(ENGINE_ENV) or 'sagemaker'}",
        "stack": env.get(STACK_ENV, ""),
        "trigger": env.get(TRIGGER_ENV, ""),
        "code_sha256": inputs.code,
        "config_sha256": inputs.config,
        "data.source": data.training.version.uri,
        "evaluation.source": data.evaluation.version.uri,
    }
    for prefix, dataset in (("data", data.training), ("evaluation", data.evaluation)):
        objects = dataset.objects or (dataset.version,)
        for index, version in enumerate(objects):
            tags[f"{prefix}.{index}"] = f"{version.uri}@{version.version_id}"
    return tags


def _record(dataset: Dataset) -> dict[str, Any]:
    return {
        "version": dataset.version.model_dump(),
        "objects": [v.model_dump() for v in dataset.objects],
    }


def _snapshot_sha256(data: Datasets) -> str:
    joined = f"{data.training.version.sha256}\n{data.evaluation.version.sha256}"
    return hashlib.sha256(joined.encode()).hexdigest()


def validate(
    layout: contract.Layout, config: PipelineConfig, env: Mapping[str, str]
) -> dict[str, Any]:
    """Read the training and evaluation sets (each S3 object's current version), check them
    as the local run does, keep the snapshot content-addressed under
    ``pipelines/datasets/<sha256>/`` and say whether anything changed since the champion
    (unchanged: the champion is scored again when the evaluation data changed, as locally)."""
    root, out = Path.cwd(), layout.output(contract.DATASET)
    sensitive = config.fairness.sensitive_columns
    train_uri, evaluation_uri = locations(config, env)
    data = Datasets(
        read_labelled(train_uri, "data.path", sensitive, root, out / TRAINING_DATA),
        read_labelled(evaluation_uri, "data.evaluation", sensitive, root, out / EVALUATION_DATA),
    )
    records = {"training": _record(data.training), "evaluation": _record(data.evaluation)}
    (out / VERSIONS).write_text(json.dumps(records, indent=1))
    inputs = model_inputs(data, config)
    _, client = open_registry(root, config)
    same = unchanged_version(client, config.model.name, inputs)
    why = settle_unchanged(client, config, data, same) if same is not None else ""
    sha256 = _snapshot_sha256(data)
    uri = f"{_env(env, PIPELINES_URI_ENV)}datasets/{sha256}/"
    s3 = _s3()
    contract.upload_prefix(s3, out, uri)  # the data trained on, kept whatever lands later
    objects = [*data.training.objects, *data.evaluation.objects]
    facts = {
        "changed": not why,
        "message": why
        or (
            f"{len(data.training.frame)} training rows, {len(data.evaluation.frame)} evaluation"
            f" rows from {len(objects)} objects"
        ),
        "uri": uri,
        "sha256": sha256,
        "versions": [v.model_dump() for v in objects],
    }
    (out / contract.DATASET_FILE).write_text(json.dumps(facts, indent=1))
    return facts


def _datasets(layout: contract.Layout, config: PipelineConfig) -> Datasets:
    """The snapshot validate kept, with the versions it was read from."""
    directory, root = layout.input(contract.DATASET), Path.cwd()
    records = contract.read_json(directory / VERSIONS)
    sensitive = config.fairness.sensitive_columns

    def load(name: str, field: str, record: Mapping[str, Any]) -> Dataset:
        read = DataVersion(**record["version"])
        objects = tuple(DataVersion(**v) for v in record["objects"])
        return load_labelled(directory / name, field, sensitive, root, read, objects)

    return Datasets(
        load(TRAINING_DATA, "data.path", records["training"]),
        load(EVALUATION_DATA, "data.evaluation", records["evaluation"]),
    )


def train(layout: contract.Layout, config: PipelineConfig, env: Mapping[str, str]) -> Path:
    """The local run's ``train`` on the snapshot, logged to the stack's MLflow; the MLflow
    model is also left where the engine keeps it (SageMaker uploads ``/opt/ml/model`` as
    model.tar.gz, the model package's data) with ``trained.json`` naming the run."""
    facts = layout.validated()
    model_dir = layout.output(contract.MODEL)
    if not facts["changed"]:
        return model_dir  # Kubernetes: nothing to train (SageMaker skips the step)
    from {{ cookiecutter.package_name }}.train import train as fit_and_log

    data = _datasets(layout, config)
    inputs = model_inputs(data, config)
    open_registry(Path.cwd(), config)
    trained = fit_and_log(data, config.model, inputs, lineage(data, inputs, env))
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(
            mlflow.artifacts.download_artifacts(artifact_uri=trained.model_uri, dst_path=scratch)
        )
        if not (local / "MLmodel").is_file():
            local = next(p.parent for p in local.rglob("MLmodel"))
        for item in local.iterdir():  # the model directory itself is the MLflow model
            shutil.move(str(item), model_dir / item.name)
    facts = {"run_id": trained.run_id, "model_uri": trained.model_uri}
    (model_dir / TRAINED).write_text(json.dumps(facts))
    return model_dir


def evaluate(
    layout: contract.Layout, config: PipelineConfig, env: Mapping[str, str]
) -> dict[str, Any]:
    """The local run's ``evaluate``: both models scored on the evaluation set and the gate,
    logged to the trained model's run; the verdict goes to ``verdict.json`` (the pipeline's
    Gate reads it)."""
    out = layout.output(contract.EVALUATION)
    facts = layout.validated()
    if not facts["changed"]:
        verdict = {"passed": False, "changed": False, "summary": facts["message"]}
        (out / contract.VERDICT_FILE).write_text(json.dumps(verdict))
        return verdict
    from {{ cookiecutter.package_name }}.evaluate import evaluate as score_and_gate
    from {{ cookiecutter.package_name }}.train import TrainedModel

    data = _datasets(layout, config)
    inputs = model_inputs(data, config)
    tags = lineage(data, inputs, env)
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = layout.model(Path(scratch) / "model")
        logged = contract.read_json(model_dir / TRAINED)
        pipeline = mlflow.sklearn.load_model(str(model_dir))
    trained = TrainedModel(logged["run_id"], logged["model_uri"], pipeline)
    _, client = open_registry(Path.cwd(), config)
    stack = env.get(STACK_ENV) or "local"
    result = score_and_gate(trained, data, config, client, stack, tags)
    report, gate = result.report, result.verdict
    verdict = {
        "passed": gate.passed,
        "changed": True,
        "summary": gate.summary(),
        "run_id": trained.run_id,
        "model_uri": trained.model_uri,
        "metrics": report.challenger,
        "sha256": data.training.version.sha256,
        "inputs": {
            "training_data": inputs.training_data,
            "code": inputs.code,
            "config": inputs.config,
        },
        "tags": tags,
    }
    (out / contract.VERDICT_FILE).write_text(json.dumps(verdict, indent=1))
    if not gate.passed and layout.gate_exits:
        raise GateRejected("gate", gate.summary(), details=report.markdown())
    return verdict


def register(
    layout: contract.Layout,
    config: PipelineConfig,
    env: Mapping[str, str],
    model_data: str | None = None,
    image: str | None = None,
) -> dict[str, str]:
    """The local run's ``register`` and, where the gate may promote (``approval.automated``),
    ``approve``; on SageMaker the same version also goes to the stack's model package group
    with its lineage. Returns the outcome the local run writes to ``candidate.json``
    (status, version, evaluation run), which the CLI that started the run reads."""
    verdict = contract.read_json(layout.input(contract.EVALUATION) / contract.VERDICT_FILE)
    if not verdict.get("changed", True):
        message = str(verdict["summary"])
        return {"status": "unchanged", "version": "", "evaluation": "", "message": message}
    _, client = open_registry(Path.cwd(), config)
    report = load_report(client, verdict["run_id"])
    if report is None:
        raise LifecycleError("evaluate", f"run {verdict['run_id']} has no evaluation record")
    inputs = Inputs(**verdict["inputs"])
    model_uri = verdict["model_uri"]
    version = str(register_version(client, model_uri, report, inputs, verdict["tags"]).version)
    stack = env.get(STACK_ENV) or "local"
    status, message = "awaiting-approval", f"version {version} awaits a person's approval"
    if not config.approval.needs_human(stack):
        approve(client, config, Approval.automated(report.run_id), version, False)
        status, message = "promoted", f"version {version} is the champion"
    group = env.get(MODEL_PACKAGE_GROUP_ENV)
    if group and model_data and image:
        model_package(group, config.model.name, version, verdict, model_data, image)
    return {"status": status, "version": version, "evaluation": report.run_id, "message": message}


def model_package(
    group: str, name: str, version: str, verdict: Mapping[str, Any], model_data: str, image: str
) -> str:
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
        **{
            k.replace(".", "-"): v
            for k, v in tags.items()
            if k.startswith(("data.", "evaluation.")) and not k.endswith(".source")
        },
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
    batch_uri = env.get(BATCH_URI_ENV) or ""
    inputs = layout.fetch(contract.BATCH_INPUT, batch_uri + "input/", s3)
    out = layout.output(contract.PREDICTIONS)
    _, client = open_registry(Path.cwd(), config)
    written = []
    for source in sorted(inputs.rglob("*.csv")):
        result = batch_predict(client, config.model.name, source, out / source.name)
        written.append(result.path)
    if not written:
        raise LifecycleError("batch input", f"no .csv under {inputs}")
    run = env.get(JOB_ENV) or "run"
    layout.publish(contract.PREDICTIONS, f"{batch_uri}predictions/{run}/", s3)
    return written


def config_path() -> Path:
    """The image's config (``SLIPWAY_CONFIG``), else the project's."""
    return Path(os.environ.get("SLIPWAY_CONFIG") or "config/pipeline.yaml")
