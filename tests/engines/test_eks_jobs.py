"""The EKS flavor's lifecycle on its engine, rehearsed (issue 14): the training and batch
CronJobs the stack declares (shared program run), their Job's pod started as the kubelet
starts it (``slipway.rehearsal.kubernetes_jobs``: init containers in order, the image's
entry point with each container's args, env and ``emptyDir`` volumes) against moto S3 and a
real ``mlflow server``. A run on data in S3 registers a champion with the object versions
read; the batch Job writes predictions naming the model version; a retrain on newer, worse
data is refused by the evaluate container's exit 1, and register never runs.
A run after only the evaluation data changed (trains nothing, scores the champion again) is
not a Job here: its validate is the SageMaker rehearsal's Validate step (the same
``steps.validate`` in the same entry point, tests/engines/test_sagemaker_pipelines.py), and
the Job's train, evaluate and register after an unchanged validate are the project's own
``test_unchanged_data_skips_train_evaluate_and_register`` (a Kubernetes ``/opt/ml``).
No Kubernetes API here: creating and following the Job (``pipeline run --on aws`` on EKS)
is not rehearsed (docs/engines.md).
"""

from __future__ import annotations

import ast
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from engine_data import (
    BATCH_KEY,
    EVALUATION_KEY,
    TRAIN_KEY,
    held_out,
    put_csv,
    sample,
    shuffled_labels,
)
from matrix import STRUCTURAL_COMBOS
from program_runs import StackRun, single_run
from slipway.jobs import kubernetes as jobs_kubernetes
from slipway.jobs.kubernetes import job_from_cronjob
from slipway.names import TRAINING_STARTER_GROUP
from slipway.rehearsal.image import read_dockerfile
from slipway.rehearsal.kubernetes_jobs import ContainerRun, run_job_pod
from slipway.rehearsal.pipelines import ProjectImage
from slipway.rehearsal.workload import NotRehearsedHere
from slipway.sandbox.server import EmulatedAws
from slipway.testing.mlflow_server import mlflow_server


@dataclass(frozen=True)
class Rehearsed:
    bucket: str
    first: list[ContainerRun]
    first_version: str
    batch: list[ContainerRun]
    retrain: list[ContainerRun]
    retrain_version: str
    runs: list[dict[str, str]]
    """Tags of the MLflow runs, oldest first."""
    champion: dict[str, str]
    champion_version: str
    predictions: pd.DataFrame
    prediction_keys: list[str]


def _cronjobs(run: StackRun) -> dict[str, dict[str, Any]]:
    return {
        r.inputs["metadata"]["name"]: r.inputs
        for r in run.run.of_type("kubernetes:batch/v1:CronJob")
        if r.inputs["metadata"].get("namespace") == run.run.outputs["trainingNamespace"]
    }


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory: pytest.TempPathFactory) -> Rehearsed:
    from mlflow.tracking import MlflowClient

    combo = next(c for c in STRUCTURAL_COMBOS if c["compute"] == "eks")
    stack = single_run(tmp_path_factory, combo, "dev")
    cronjobs = _cronjobs(stack)
    training = cronjobs[stack.run.outputs["trainingCronJob"]]
    batch = cronjobs[stack.run.outputs["batchCronJob"]]
    container = training["spec"]["jobTemplate"]["spec"]["template"]["spec"]["initContainers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    bucket = env["SLIPWAY_DATA_URI"].removeprefix("s3://").split("/", 1)[0]
    project = stack.infra.parent
    image = ProjectImage(
        read_dockerfile(project / "Dockerfile"),
        container["image"].rsplit(":", 1)[0],
        project,
        Path(__import__("sys").executable).parent,
    )
    tmp = tmp_path_factory.mktemp("engines-eks")
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_TRACKING_URI"):
            patch.setenv(variable, "")
            patch.delenv(variable)
        with EmulatedAws("us-east-1") as emulator, mlflow_server(tmp / "mlflow") as uri:
            aws = emulator.aws
            s3 = aws("s3")
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            train, rows = sample()
            first_version = put_csv(s3, bucket, TRAIN_KEY, train)
            put_csv(s3, bucket, EVALUATION_KEY, held_out())
            put_csv(s3, bucket, BATCH_KEY, rows)
            # the Jobs `pipeline run --on aws`, `batch --on aws` and the drift check create
            jobs = [
                job_from_cronjob(training, "training-cli-1", "cli"),
                job_from_cronjob(batch, "batch-cli-1", "cli"),
                job_from_cronjob(training, "training-drift-2", "drift"),
            ]
            first = run_job_pod(jobs[0], image, aws.endpoint_url, uri, tmp)
            scored = run_job_pod(jobs[1], image, aws.endpoint_url, uri, tmp)
            retrain_version = put_csv(s3, bucket, TRAIN_KEY, shuffled_labels(train))
            retrain = run_job_pod(jobs[2], image, aws.endpoint_url, uri, tmp)
            client = MlflowClient(uri, uri)
            runs = client.search_runs(
                [e.experiment_id for e in client.search_experiments()],
                order_by=["start_time ASC"],
            )
            models = client.search_registered_models()
            assert len(models) == 1, [(r.name, r.code, r.output[-3000:]) for r in first]
            (model,) = models
            champion = client.get_model_version_by_alias(model.name, "champion")
            keys = [
                o["Key"]
                for o in s3.list_objects_v2(Bucket=bucket, Prefix="batch/predictions/").get(
                    "Contents", []
                )
            ]
            predictions = pd.concat(
                pd.read_csv(io.BytesIO(s3.get_object(Bucket=bucket, Key=k)["Body"].read()))
                for k in keys
            )
    return Rehearsed(
        bucket,
        first,
        first_version,
        scored,
        retrain,
        retrain_version,
        [dict(r.data.tags) for r in runs],
        dict(champion.tags),
        str(champion.version),
        predictions,
        keys,
    )


def _codes(runs: list[ContainerRun]) -> list[tuple[str, int]]:
    return [(r.name, r.code) for r in runs]


def test_the_training_job_registers_a_champion_with_the_s3_versions_it_read(
    rehearsed: Rehearsed,
) -> None:
    warnings.warn(
        NotRehearsedHere(
            "pipeline run --on aws (EKS): no Kubernetes API server here; the Job it creates "
            "(slipway.jobs.kubernetes.start -> job_from_cronjob) is built and its pod run, but "
            "creating and following it through the API, the register container's termination "
            "message (candidate.json) and the admission policy are not (docs/engines.md)"
        ),
        stacklevel=1,
    )
    assert _codes(rehearsed.first) == [
        ("validate", 0),
        ("train", 0),
        ("evaluate", 0),
        ("register", 0),
    ], rehearsed.first[-1].output
    assert rehearsed.champion_version == "1"
    assert rehearsed.champion["data.0"] == (
        f"s3://{rehearsed.bucket}/{TRAIN_KEY}@{rehearsed.first_version}"
    )
    assert rehearsed.champion["trigger"] == "cli"  # the Job's pod label, by the downward API
    assert any("IRSA" in d for d in rehearsed.first[0].deviations)


def test_the_batch_job_writes_predictions_that_name_the_model_version(
    rehearsed: Rehearsed,
) -> None:
    assert _codes(rehearsed.batch) == [("batch", 0)], rehearsed.batch[-1].output
    assert len(rehearsed.predictions) == len(sample()[1])
    assert rehearsed.prediction_keys == [
        f"batch/predictions/batch-cli-1/{BATCH_KEY.rsplit('/')[-1]}"
    ]
    assert set(rehearsed.predictions["model_version"].astype(str)) == {"1"}


def test_a_retrain_on_newer_worse_data_is_refused_by_the_gate(rehearsed: Rehearsed) -> None:
    # the evaluate container exits 1 (the local run's code): the pod fails, register never runs
    assert _codes(rehearsed.retrain) == [("validate", 0), ("train", 0), ("evaluate", 1)]
    assert rehearsed.runs[-1]["trigger"] == "drift"
    assert [r.get("data.0") for r in rehearsed.runs] == [
        f"s3://{rehearsed.bucket}/{TRAIN_KEY}@{rehearsed.first_version}",
        f"s3://{rehearsed.bucket}/{TRAIN_KEY}@{rehearsed.retrain_version}",
    ]
    assert rehearsed.champion_version == "1"


API_CALL = re.compile(r"(read|list|create)_namespaced_(cron_job|job|pod)(_status)?")
VERBS = {"read": "get", "list": "list", "create": "create"}
GROUPS = {"cron_job": "batch", "job": "batch", "pod": ""}


def _api_calls() -> set[tuple[str, str, str]]:
    """(API group, resource, verb) of every Kubernetes call ``pipeline run --on aws`` and
    ``pipeline status`` make (``slipway.jobs.kubernetes``), read from its source."""
    tree = ast.parse(Path(jobs_kubernetes.__file__).read_text())
    calls = set()
    for node in ast.walk(tree):
        found = isinstance(node, ast.Attribute) and API_CALL.fullmatch(node.attr)
        if found:
            verb, kind, status = found.groups()
            resource = kind.replace("_", "") + "s" + ("/status" if status else "")
            calls.add((GROUPS[kind], resource, VERBS[verb]))
    return calls


def test_the_candidate_role_may_start_and_follow_exactly_the_training_job(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """release.yml's job `candidate` runs ``pipeline run --on aws``: its access entry's
    group is bound to a Role granting every call the CLI makes, and the admission policy
    holds the group's Jobs to the training CronJob's pod spec."""
    combo = next(c for c in STRUCTURAL_COMBOS if c["compute"] == "eks" and c["ci"] == "github")
    run = single_run(tmp_path_factory, combo, "dev").run
    entries = run.one("eks:index:Cluster").inputs["accessEntries"]
    assert TRAINING_STARTER_GROUP in entries["candidate"]["kubernetesGroups"]
    namespace = run.outputs["trainingNamespace"]
    [role] = [
        r.inputs
        for r in run.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
        if r.inputs["metadata"]["namespace"] == namespace
    ]
    [binding] = [
        r.inputs
        for r in run.of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
        if r.inputs["metadata"]["namespace"] == namespace
    ]
    group = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group"}
    assert {**group, "name": TRAINING_STARTER_GROUP} in binding["subjects"]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    missing = [
        call
        for call in sorted(_api_calls())
        if not any(
            call[0] in rule["apiGroups"]
            and call[1] in rule["resources"]
            and call[2] in rule["verbs"]
            and run.outputs["trainingCronJob"]
            in rule.get("resourceNames", [run.outputs["trainingCronJob"]])
            for rule in role["rules"]
        )
    ]
    assert len(_api_calls()) >= 5 and missing == []
    [policy] = run.of_type("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy")
    [condition] = policy.inputs["spec"]["matchConditions"]
    assert f"'{TRAINING_STARTER_GROUP}' in request.userInfo.groups" in condition["expression"]
