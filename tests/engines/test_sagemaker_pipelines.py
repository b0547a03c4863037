"""The SageMaker flavor's lifecycle on its engine, rehearsed end to end (issue 14).

A baked SageMaker project is applied to the sandbox (moto); its training and batch
pipelines are the definitions the ``sagemaker`` SDK built in the program. With the
rehearsal's pipeline engine behind the emulator (``slipway.rehearsal.pipeline_service``),
the project's own CLI starts them: ``pipeline run --on aws`` runs Validate -> Train ->
Evaluate -> Gate -> Register, each step's container started as SageMaker starts it (image
ENTRYPOINT + the step's arguments, its environment and ``/opt/ml`` layout, all read from
the declared definition) against moto S3 and a real ``mlflow server``; ``batch --on aws``
writes predictions to the stack's bucket; a run after only the evaluation data changed
trains nothing and scores the champion again on it (as the local run does); the drift
alarm's EventBridge rule starts a retrain that reads newer data, and the worse model it
trains is refused.
One bake, one apply, one MLflow server for the module.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from cookiecutter.main import cookiecutter
from engine_data import (
    BATCH_KEY,
    EVALUATION_KEY,
    TRAIN_KEY,
    held_out,
    newer_held_out,
    put_csv,
    sample,
    shuffled_labels,
)
from matrix import ROOT
from slipway.jobs import sagemaker as engine
from slipway.rehearsal.image import read_dockerfile
from slipway.rehearsal.pipeline_service import Executions, running_pipelines
from slipway.rehearsal.pipelines import ProjectImage, Rehearsal
from slipway.sandbox import apply
from slipway.sandbox.engine import opened
from slipway.sandbox.state import state_dir
from slipway.testing.mlflow_server import mlflow_server
from slipway.testing.moto_stack import push_image
from stack_config import configure_image

COMBO = {"compute": "sagemaker", "endpoint": "realtime", "monitoring": "yes", "ci": "github"}


@dataclass
class Stack:
    project: Path
    package: str
    outputs: dict[str, Any]
    outputs_file: Path
    aws: Any
    tracking_uri: str
    executions: Executions
    bucket: str

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The project's CLI as a user runs it, pointed at the sandbox."""
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "PYTHONPATH": str(self.project / "src"),
            "AWS_ENDPOINT_URL": self.aws.endpoint_url,
            "AWS_ACCESS_KEY_ID": "sandbox",
            "AWS_SECRET_ACCESS_KEY": "sandbox",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "SLIPWAY_POLL_SECONDS": "1",
        }
        return subprocess.run(
            [sys.executable, "-m", self.package, *args, "--outputs", str(self.outputs_file)],
            cwd=self.project,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def put_csv(self, key: str, frame: pd.DataFrame) -> str:
        return put_csv(self.aws("s3"), self.bucket, key, frame)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("engines-sagemaker")
    project = Path(cookiecutter(str(ROOT), no_input=True, extra_context=COMBO, output_dir=str(tmp)))
    infra = configure_image(project / "infra")  # the first image pushed: pipelines declared
    applied = apply(infra, "dev")
    outputs = applied.run.outputs
    (package,) = [p.parent.name for p in (project / "src").glob("*/container.py")]
    image = ProjectImage(
        read_dockerfile(project / "Dockerfile"),
        str(outputs["modelRepositoryUrl"]),
        project,
        Path(sys.executable).parent,
    )
    with pytest.MonkeyPatch.context() as env:
        for variable in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_TRACKING_URI"):
            env.setenv(variable, "")
            env.delenv(variable)
        with (
            opened(infra, "dev") as aws,
            mlflow_server(tmp / "mlflow") as tracking_uri,
        ):
            rehearsal = Rehearsal(aws, image, tracking_uri, tmp / "rehearsal")
            with running_pipelines(rehearsal) as executions:
                tag = json.loads(
                    aws("sagemaker").describe_pipeline(
                        PipelineName=outputs["trainingPipelineName"]
                    )["PipelineDefinition"]
                )["Parameters"][0]["DefaultValue"].rsplit(":", 1)[1]
                push_image(aws("ecr"), str(outputs["modelRepositoryUrl"]), tag)
                yield Stack(
                    project,
                    package,
                    outputs,
                    state_dir(infra.resolve(), "dev") / "outputs.json",
                    aws,
                    tracking_uri,
                    executions,
                    str(outputs["bucketName"]),
                )


@dataclass(frozen=True)
class Lifecycle:
    first: subprocess.CompletedProcess[str]
    first_version: str
    first_candidate: dict[str, str]
    """outputs/evaluation/candidate.json after the first run (release.yml reads it)."""
    batch: subprocess.CompletedProcess[str]
    rescore: subprocess.CompletedProcess[str]
    first_champion: dict[str, str]
    status: subprocess.CompletedProcess[str]
    retrain: engine.Execution
    retrain_version: str
    retrain_parameters: dict[str, str]


@pytest.fixture(scope="module")
def lifecycle(stack: Stack) -> Lifecycle:
    train, batch_rows = sample()
    first_version = stack.put_csv(TRAIN_KEY, train)
    stack.put_csv(EVALUATION_KEY, held_out())
    stack.put_csv(BATCH_KEY, batch_rows)
    first = stack.cli("pipeline", "run", "--on", "aws", "--stack", "dev")
    candidate = stack.project / "outputs" / "evaluation" / "candidate.json"
    first_candidate = json.loads(candidate.read_text()) if candidate.is_file() else {}
    batch = stack.cli("batch", "--on", "aws", "--stack", "dev")
    client = _registry(stack)
    first_champion = {
        m.name: dict(client.get_model_version_by_alias(m.name, "champion").tags)
        for m in client.search_registered_models()
    }
    stack.put_csv(EVALUATION_KEY, newer_held_out())  # new labels to score on, same training set
    rescore = stack.cli("pipeline", "run", "--on", "aws", "--stack", "dev")
    # new labels arrive (here: shuffled, so the retrained model is worse); the drift alarm fires
    retrain_version = stack.put_csv(TRAIN_KEY, shuffled_labels(train))
    arn, parameters = _alarm_starts_retrain(stack)
    stack.executions.wait()
    retrain = engine.describe(stack.aws("sagemaker"), arn)
    status = stack.cli("pipeline", "status", "--on", "aws", "--stack", "dev")
    (champion,) = first_champion.values()
    return Lifecycle(
        first,
        first_version,
        first_candidate,
        batch,
        rescore,
        champion,
        status,
        retrain,
        retrain_version,
        parameters,
    )


def _alarm_starts_retrain(stack: Stack) -> tuple[str, dict[str, str]]:
    """What EventBridge does when the drift alarm goes to ALARM: each rule's pattern is
    matched against CloudWatch's event (moto's pattern matcher, which routes PutEvents; its
    TestEventPattern is not implemented) and the matching rule's SageMaker pipeline target
    is started with the target's parameters, as the target's role would."""
    from moto.events.models import EventPattern

    events, sagemaker = stack.aws("events"), stack.aws("sagemaker")
    alarms = stack.aws("cloudwatch").describe_alarms()["MetricAlarms"]
    drift = next(a for a in alarms if "drift" in a["AlarmName"])
    event = {
        "id": "1",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": drift["AlarmArn"].split(":")[4],
        "time": "2026-11-29T12:00:00Z",
        "region": stack.aws.region,
        "resources": [drift["AlarmArn"]],
        "detail": {"alarmName": drift["AlarmName"], "state": {"value": "ALARM"}},
    }
    started = []
    for rule in events.list_rules()["Rules"]:
        if not rule.get("EventPattern"):
            continue
        if not EventPattern.load(rule["EventPattern"]).matches_event(event):  # type: ignore[arg-type]
            continue
        for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]:
            parameters = target["SageMakerPipelineParameters"]["PipelineParameterList"]
            response = sagemaker.start_pipeline_execution(
                PipelineName=target["Arn"].rsplit("/", 1)[1],
                PipelineParameters=parameters,
            )
            started.append(
                (response["PipelineExecutionArn"], {p["Name"]: p["Value"] for p in parameters})
            )
    assert len(started) == 1, started
    return started[0]


def _registry(stack: Stack) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(stack.tracking_uri, stack.tracking_uri)


def test_pipeline_run_on_aws_registers_a_champion_with_its_data_versions(
    stack: Stack, lifecycle: Lifecycle
) -> None:
    first = lifecycle.first
    assert first.returncode == 0, first.stderr[-3000:]
    for step in ("Validate", "Changed", "Train", "Evaluate", "Gate", "Register"):
        assert f"{step}: Succeeded" in first.stderr, first.stderr[-3000:]
    client = _registry(stack)
    (model,) = client.search_registered_models()
    champion = client.get_model_version_by_alias(model.name, "champion")
    assert champion.tags["data.0"] == (f"s3://{stack.bucket}/{TRAIN_KEY}@{lifecycle.first_version}")
    assert champion.tags["trigger"] == "cli"
    # what release.yml's job `candidate` hands to its release job: the Register step's outcome
    candidate = dict(lifecycle.first_candidate)
    pipeline = stack.outputs["trainingPipelineName"]
    assert candidate.pop("run").split(":pipeline/")[1].startswith(f"{pipeline}/execution/")
    assert candidate == {
        "status": "promoted",
        "version": champion.version,
        "evaluation": champion.run_id,
        "message": f"version {champion.version} is the champion",
    }
    packages = stack.aws("sagemaker").list_model_packages(
        ModelPackageGroupName=stack.outputs["modelPackageGroupName"]
    )["ModelPackageSummaryList"]
    assert len(packages) == 1  # the same version in SageMaker's registry


def test_batch_on_aws_writes_predictions_that_name_the_model_version(
    stack: Stack, lifecycle: Lifecycle
) -> None:
    assert lifecycle.batch.returncode == 0, lifecycle.batch.stderr[-3000:]
    s3 = stack.aws("s3")
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=stack.bucket, Prefix="batch/predictions/")["Contents"]
    ]
    (key,) = keys
    frame = pd.read_csv(io.BytesIO(s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read()))
    assert len(frame) == len(sample()[1])
    assert set(frame["model_version"].astype(str)) == {"1"}


def test_new_evaluation_data_alone_scores_the_champion_again_and_trains_nothing(
    stack: Stack, lifecycle: Lifecycle
) -> None:
    """The local run's no-op rerun (``registry.settle_unchanged``) in the Validate step:
    the pipeline ends at Changed, and the champion's tags name the new evaluation set and
    the run that scored it."""
    rescore = lifecycle.rescore
    assert rescore.returncode == 0, rescore.stderr[-3000:]
    candidate = json.loads((stack.project / "outputs/evaluation/candidate.json").read_text())
    assert candidate["status"] == "unchanged"  # release.yml releases nothing
    assert "Changed: Succeeded" in rescore.stderr and "Train:" not in rescore.stderr
    client = _registry(stack)
    (model,) = client.search_registered_models()
    champion = client.get_model_version_by_alias(model.name, "champion")
    before = lifecycle.first_champion
    assert champion.tags["evaluation_data_sha256"] != before["evaluation_data_sha256"]
    assert champion.tags["evaluation_data_rows"] == str(len(newer_held_out()))
    rescored = client.get_run(champion.tags["rescored_run"])
    assert rescored.data.tags["rescored_version"] == champion.version
    assert set(rescored.data.metrics) >= {"roc_auc", "accuracy"}


def test_a_drift_alarm_retrains_on_newer_data_and_the_worse_model_is_refused(
    stack: Stack, lifecycle: Lifecycle
) -> None:
    retrain = lifecycle.retrain
    assert lifecycle.retrain_parameters == {"Trigger": "retrain"}
    assert retrain.status == "Failed"
    assert [(s.name, s.status) for s in retrain.steps][-1] == ("GateRefused", "Failed")
    assert retrain.exit_code() == 1  # the local run's code: the gate refused the candidate
    client = _registry(stack)
    runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()], order_by=["start_time ASC"]
    )
    versions_read = [
        r.data.tags.get("data.0") for r in runs if "rescored_version" not in r.data.tags
    ]
    assert versions_read == [
        f"s3://{stack.bucket}/{TRAIN_KEY}@{lifecycle.first_version}",
        f"s3://{stack.bucket}/{TRAIN_KEY}@{lifecycle.retrain_version}",
    ]
    (model,) = client.search_registered_models()
    assert client.get_model_version_by_alias(model.name, "champion").version == "1"


def test_pipeline_status_shows_the_newest_run_and_why_it_stopped(lifecycle: Lifecycle) -> None:
    status = lifecycle.status
    assert status.returncode == 0, status.stderr
    first, *steps = status.stdout.splitlines()
    assert first.endswith("Failed") or ": Failed" in first, status.stdout
    assert any(line.strip().startswith("GateRefused: Failed") for line in steps), status.stdout
