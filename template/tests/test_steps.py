"""The lifecycle steps as the stack's engine runs them (``steps.py``), each in a temporary
``/opt/ml`` laid out by ``slipway.jobs.contract`` (the layout the rehearsal and the engines
give the container), S3 emulated in-process by moto. No server; the MLflow store is a
throw-away one in the test's directory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import mlflow
import pytest
from moto import mock_aws
from slipway.jobs import contract
from slipway.lifecycle import LifecycleError

from {{ cookiecutter.package_name }} import steps
from {{ cookiecutter.package_name }}.config import PipelineConfig
from {{ cookiecutter.package_name }}.data import write_sample

BUCKET = "stack-data"
DATA_URI, PIPELINES_URI = f"s3://{BUCKET}/data/", f"s3://{BUCKET}/pipelines/"
ENV = {
    "SLIPWAY_DATA_URI": DATA_URI,
    "SLIPWAY_PIPELINES_URI": PIPELINES_URI,
    "SLIPWAY_GIT_COMMIT": "c0ffee",
    "SLIPWAY_ENGINE": "kubernetes",
    "SLIPWAY_STACK": "dev",
}


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[contract.Layout]:
    """A Kubernetes Job's ``/opt/ml`` under ``tmp_path``; the step's working directory
    (where its own embedded MLflow store goes) beside it. The session's MLflow, in the
    environment or set in-process by other modules' runs, is put back afterwards."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tracking, registry = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    yield contract.Layout("kubernetes", tmp_path / "root")
    mlflow.set_tracking_uri(tracking)
    mlflow.set_registry_uri(registry)


@pytest.fixture
def s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The stack's bucket (versioned) with the sample's training and evaluation sets under
    the data prefix, as ``data/train/`` and ``data/evaluation/`` (one object each)."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    sample = tmp_path / "sample"
    write_sample(sample / "train.csv", sample / "evaluation.csv", sample / "batch.csv")
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        status = {"Status": "Enabled"}
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration=status)
        for name in ("train", "evaluation"):
            client.upload_file(str(sample / f"{name}.csv"), BUCKET, f"data/{name}/part-0.csv")
        yield client


def test_local_paths_are_read_under_the_stacks_data_prefix(settings: PipelineConfig) -> None:
    assert steps.locations(settings, ENV) == (f"{DATA_URI}train/", f"{DATA_URI}evaluation/")
    remote_data = settings.data.model_copy(update={"path": "s3://other/train.csv"})
    config = settings.model_copy(update={"data": remote_data})
    assert steps.locations(config, ENV)[0] == "s3://other/train.csv"
    with pytest.raises(LifecycleError, match="SLIPWAY_DATA_URI"):
        steps.locations(settings, {})


def test_validate_snapshots_the_versions_read(
    layout: contract.Layout, settings: PipelineConfig, s3: object
) -> None:
    facts = steps.validate(layout, settings, ENV)
    assert facts["changed"] is True, facts["message"]
    assert facts["uri"] == f"{PIPELINES_URI}datasets/{facts['sha256']}/"
    assert {v["uri"] for v in facts["versions"]} == {
        f"{DATA_URI}train/part-0.csv",
        f"{DATA_URI}evaluation/part-0.csv",
    }
    assert all(v["version_id"] for v in facts["versions"])
    out = layout.output(contract.DATASET)
    assert json.loads((out / contract.DATASET_FILE).read_text()) == facts
    kept = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="pipelines/datasets/")
    names = {Path(item["Key"]).name for item in kept["Contents"]}
    assert {steps.TRAINING_DATA, steps.EVALUATION_DATA, steps.VERSIONS} <= names

    # the next step reads the same snapshot, with its lineage
    data = steps._datasets(layout, settings)
    tags = steps.lineage(data, steps.model_inputs(data, settings), ENV)
    assert tags["git_commit"] == "c0ffee" and tags["trained_by"] == "engine:kubernetes"
    assert tags["data.0"].startswith(f"{DATA_URI}train/part-0.csv@")


def test_validate_refuses_an_empty_prefix(
    layout: contract.Layout, settings: PipelineConfig, s3: object
) -> None:
    env = {**ENV, "SLIPWAY_DATA_URI": f"s3://{BUCKET}/nothing/"}
    with pytest.raises(LifecycleError, match="no .csv"):
        steps.validate(layout, settings, env)


def test_unchanged_data_skips_train_evaluate_and_register(
    layout: contract.Layout, settings: PipelineConfig
) -> None:
    """A Kubernetes Job's steps all run: after validate found nothing new, train leaves no
    model, evaluate a verdict that is not a pass, register the outcome ``unchanged``."""
    facts = {"changed": False, "message": "same data, code and config as version 3"}
    dataset = layout.output(contract.DATASET) / contract.DATASET_FILE
    dataset.write_text(json.dumps(facts))
    model = steps.train(layout, settings, ENV)
    assert not any(model.iterdir())
    verdict = steps.evaluate(layout, settings, ENV)
    assert verdict == {"passed": False, "changed": False, "summary": facts["message"]}
    outcome = steps.register(layout, settings, ENV)
    assert outcome["status"] == "unchanged" and outcome["message"] == facts["message"]


def test_batch_without_input_is_bad_input(
    layout: contract.Layout, settings: PipelineConfig, s3: object
) -> None:
    env = {**ENV, "SLIPWAY_BATCH_URI": f"s3://{BUCKET}/batch/"}
    with pytest.raises(LifecycleError, match="no .csv"):
        steps.batch(layout, settings, env)


def test_config_path_is_the_images_or_the_projects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLIPWAY_CONFIG", raising=False)
    assert steps.config_path() == Path("config/pipeline.yaml")
    monkeypatch.setenv("SLIPWAY_CONFIG", "/home/app/pipeline.yaml")
    assert steps.config_path() == Path("/home/app/pipeline.yaml")
