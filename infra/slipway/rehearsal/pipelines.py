"""SageMaker Pipelines, rehearsed: one execution of a stack's pipeline definition, each
step's job started as SageMaker starts it, its inputs and outputs in (emulated) S3.

Read from the definition the stack declared (never re-typed): the steps, their order
(condition branches), the parameters and execution variables, each job's request. Per step:

* **Processing** (Developer Guide, "How Amazon SageMaker Processing Runs Your Processing
  Container Image"): the request goes to CreateProcessingJob (botocore checks its shape);
  each ``ProcessingInputs[].S3Input`` is downloaded to its ``LocalPath`` under
  ``/opt/ml/processing/`` before the start; the container runs the image ENTRYPOINT with
  ``AppSpecification.ContainerArguments`` and the request's ``Environment``; after exit 0
  each output's ``LocalPath`` is uploaded to its ``S3Uri``; otherwise the job fails;
  either way ``/opt/ml/output/message`` is its ``ExitMessage``.
* **Training** ("How Amazon SageMaker AI Provides Training Information", "Run your own
  training image"): CreateTrainingJob; each channel downloaded to
  ``/opt/ml/input/data/<channel>``, ``/opt/ml/input/config/*.json`` written; the image runs
  as ``docker run IMAGE train`` with ``TRAINING_JOB_NAME``/``TRAINING_JOB_ARN`` and the
  request's ``Environment``; after exit 0 ``/opt/ml/model`` is uploaded as
  ``<S3OutputPath>/<job>/output/model.tar.gz`` (the step's ``ModelArtifacts``); otherwise
  ``/opt/ml/output/failure`` is the job's ``FailureReason``.
* **Condition** (``Equals``): the if or else branch runs; **Fail**: the execution fails
  with the step's ``ErrorMessage``.

Property files are read from the uploaded outputs, as SageMaker reads them. Not rehearsed
(docs/engines.md): step caching (every step runs), retries, parallel branches, instance
types and spot capacity, KMS encryption of volumes (moto S3 records the key of outputs).
"""

from __future__ import annotations

import json
import secrets
import tarfile
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slipway.access.recorder import LOG_ENV, PRINCIPAL_ENV
from slipway.jobs import graph
from slipway.rehearsal.image import ImageSpec, resolve_path
from slipway.rehearsal.jobs import ML, JobContainer, run_job
from slipway.rehearsal.paths import access_log, slug

HOOK_DIR = Path(__file__).with_name("hook")
PROCESSING_ROOT = f"{ML}/processing/"


class PipelineDefinitionError(ValueError):
    """The definition uses something SageMaker would refuse or the rehearsal cannot run."""


@dataclass(frozen=True)
class ProjectImage:
    """How the rehearsal starts the project's image (no container engine here)."""

    spec: ImageSpec
    """The Dockerfile's final stage."""
    repository: str
    """The stack's repository (``modelRepositoryUrl``): only its images are the project's."""
    project_dir: Path
    python_bin: Path
    """This checkout's virtualenv ``bin`` (the image's ``/opt/venv/bin``)."""

    def environment(self, declared: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
        path, replaced = resolve_path(self.spec.env.get("PATH", ""), self.python_bin)
        env = {**self.spec.env, "PATH": path, **declared}
        src = self.project_dir / "src"
        env["PYTHONPATH"] = f"{HOOK_DIR}:{src}"
        deviations = [
            "image not pulled: its Dockerfile's entry point runs from this checkout "
            "(no container engine)",
            f"the project's package from {src} (PYTHONPATH) instead of the image's virtualenv",
            *(f"PATH entry {p} (the image's) is {self.python_bin} here" for p in replaced),
        ]
        if self.spec.user:
            deviations.append(f"USER {self.spec.user} not applied: runs as the rehearsal's user")
        return env, deviations


@dataclass(frozen=True)
class Rehearsal:
    """What stands in for AWS around the containers: emulated AWS and the stack's MLflow."""

    aws: Any
    """``slipway.sandbox.server.AwsClients`` of the emulator holding the applied stack."""
    image: ProjectImage
    tracking_uri: str
    """The rehearsal's ``mlflow server`` (the definition names the stack's)."""
    work_dir: Path

    def container_env(self, role_arn: str, log: Path) -> tuple[dict[str, str], list[str]]:
        """What a job gets from SageMaker that the rehearsal must supply differently."""
        env = {
            "AWS_ENDPOINT_URL": self.aws.endpoint_url,
            "AWS_ACCESS_KEY_ID": "sandbox",
            "AWS_SECRET_ACCESS_KEY": "sandbox",
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            LOG_ENV: str(log),
            PRINCIPAL_ENV: role_arn,
        }
        return env, [
            f"AWS_ENDPOINT_URL={self.aws.endpoint_url}: S3 and SageMaker are moto; the role's "
            "credentials are fake ones (the requests are recorded for the IAM matrix)",
            f"MLFLOW_TRACKING_URI={self.tracking_uri}: a local `mlflow server` stands for the "
            "stack's (the sagemaker-mlflow request signing is not rehearsed)",
        ]


@dataclass
class StepRecord:
    """One step as ListPipelineExecutionSteps reports it, and what the rehearsal saw."""

    name: str
    type: str
    status: str = "Executing"
    failure_reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    ended: datetime | None = None
    output: str = ""
    deviations: tuple[str, ...] = ()

    def to_api(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "StepName": self.name,
            "StepDisplayName": self.name,
            "StepStatus": self.status,
            "StartTime": self.started,
            "Metadata": self.metadata,
        }
        if self.ended:
            item["EndTime"] = self.ended
        if self.failure_reason:
            item["FailureReason"] = self.failure_reason
        return item


class StepFailed(Exception):
    pass


@dataclass
class PipelineExecution:
    """One execution: ``run()`` runs the steps in order until one fails."""

    definition: dict[str, Any]
    arn: str
    parameters: dict[str, str]
    rehearsal: Rehearsal
    on_change: Callable[[PipelineExecution], None] = lambda _: None
    status: str = "Executing"
    failure_reason: str = ""
    steps: list[StepRecord] = field(default_factory=list)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    error: str = ""
    """The rehearsal's own traceback, when it failed (not a step's failure)."""

    @property
    def execution_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    def run(self) -> PipelineExecution:
        try:
            self._run_steps(self.definition["Steps"])
            self.status = "Succeeded"
        except StepFailed as failed:
            self.status, self.failure_reason = "Failed", str(failed)
        except Exception as exc:  # the rehearsal's own fault: say so, never hang the caller
            self.status = "Failed"
            self.failure_reason = f"rehearsal error: {type(exc).__name__}: {exc}"
            self.error = traceback.format_exc()
        self.on_change(self)
        return self

    def _run_steps(self, steps: list[dict[str, Any]]) -> None:
        for step in steps:
            record = StepRecord(step["Name"], step["Type"])
            with self.lock:
                self.steps.append(record)
            self.on_change(self)
            run = {
                "Processing": self._processing,
                "Training": self._training,
                "Condition": self._condition,
                "Fail": self._fail,
            }.get(step["Type"])
            if run is None:
                raise PipelineDefinitionError(
                    f"step {step['Name']}: type {step['Type']} is not rehearsed"
                )
            try:
                branch = run(step, record)
            except StepFailed as failed:
                record.status, record.failure_reason, branch = "Failed", str(failed), None
            record.ended = datetime.now(UTC)
            self.on_change(self)
            if record.status == "Failed":
                raise StepFailed(f"Step failure: {record.name}: {record.failure_reason}")
            if branch is not None:
                self._run_steps(branch)

    # --- expressions -----------------------------------------------------------------

    def _get(self, reference: str) -> Any:
        head, _, rest = reference.partition(".")
        if head == "Parameters":
            if rest in self.parameters:
                return self.parameters[rest]
            for declared in self.definition.get("Parameters", []):
                if declared["Name"] == rest:
                    return declared.get("DefaultValue")
        elif head == "Execution":
            found = {"PipelineExecutionId": self.execution_id, "PipelineExecutionArn": self.arn}
            if rest in found:
                return found[rest]
        elif head == "Steps":
            step, _, path = rest.partition(".")
            if path in self.properties.get(step, {}):
                return self.properties[step][path]
            raise PipelineDefinitionError(
                f"{reference}: step {step} has not run or has no such property (the steps "
                "must run in dependency order)"
            )
        raise PipelineDefinitionError(f"{reference}: not a parameter or execution variable")

    def _property_file(self, step: str, name: str) -> Mapping[str, Any]:
        found = self.properties.get(step, {}).get(f"PropertyFiles.{name}")
        if found is None:
            raise PipelineDefinitionError(f"Steps.{step}.PropertyFiles.{name}: not produced")
        loaded: Mapping[str, Any] = found
        return loaded

    def resolve(self, value: Any) -> Any:
        return graph.resolve(value, self._get, self._property_file)

    # --- steps -----------------------------------------------------------------------

    def _job_name(self, step: str) -> str:
        # SageMaker: pipelines-<execution id>-<step>-<random> (at most 63 characters)
        return f"pipelines-{self.execution_id}-{step}-{secrets.token_hex(5)}"[:63]

    def _processing(self, step: dict[str, Any], record: StepRecord) -> None:
        args = self.resolve(step["Arguments"])
        name = self._job_name(step["Name"])
        sagemaker, s3 = self.rehearsal.aws("sagemaker"), self.rehearsal.aws("s3")
        request = {k: v for k, v in args.items() if k != "Environment"}
        arn = sagemaker.create_processing_job(ProcessingJobName=name, **request)["ProcessingJobArn"]
        record.metadata = {"ProcessingJob": {"Arn": arn}}
        ml_dir = self._ml_dir(step["Name"])
        for item in args.get("ProcessingInputs", []):
            source = item["S3Input"]
            _download(s3, source["S3Uri"], ml_dir / _under_ml(source["LocalPath"]))
        app = args["AppSpecification"]
        image = self._image(app["ImageUri"], record)
        if image is None:
            return _mark_job(sagemaker, "processing", name, record)
        argv = (
            tuple(app["ContainerEntrypoint"]) + tuple(app.get("ContainerArguments", []))
            if app.get("ContainerEntrypoint")
            else image.spec.argv(tuple(app.get("ContainerArguments", [])))
        )
        ran = self._start(step["Name"], argv, args.get("Environment", {}), args["RoleArn"], ml_dir)
        record.output, record.deviations = ran.output, ran.deviations
        if ran.code != 0:
            record.status = "Failed"
            message = _read(ml_dir / "output" / "message")
            record.failure_reason = message or f"AlgorithmError: exit code {ran.code}"
            return _mark_job(sagemaker, "processing", name, record, exit_message=message)
        outputs = {}
        for item in (args.get("ProcessingOutputConfig") or {}).get("Outputs", []):
            target = item["S3Output"]
            _upload(s3, ml_dir / _under_ml(target["LocalPath"]), target["S3Uri"])
            outputs[item["OutputName"]] = target["S3Uri"]
            self._set(
                step["Name"],
                f"ProcessingOutputConfig.Outputs['{item['OutputName']}'].S3Output.S3Uri",
                target["S3Uri"],
            )
        for declared in step.get("PropertyFiles", []):
            uri = outputs[declared["OutputName"]].rstrip("/") + "/" + declared["FilePath"]
            self._set(step["Name"], f"PropertyFiles.{declared['PropertyFileName']}", _json(s3, uri))
        record.status = "Succeeded"
        message = _read(ml_dir / "output" / "message")  # ExitMessage on success too
        _mark_job(sagemaker, "processing", name, record, exit_message=message)

    def _training(self, step: dict[str, Any], record: StepRecord) -> None:
        args = self.resolve(step["Arguments"])
        name = self._job_name(step["Name"])
        sagemaker, s3 = self.rehearsal.aws("sagemaker"), self.rehearsal.aws("s3")
        arn = sagemaker.create_training_job(TrainingJobName=name, **args)["TrainingJobArn"]
        record.metadata = {"TrainingJob": {"Arn": arn}}
        ml_dir = self._ml_dir(step["Name"])
        config = ml_dir / "input" / "config"
        config.mkdir(parents=True, exist_ok=True)
        channels = {}
        for channel in args.get("InputDataConfig", []):
            source = channel["DataSource"]["S3DataSource"]
            _download(s3, source["S3Uri"], ml_dir / "input" / "data" / channel["ChannelName"])
            channels[channel["ChannelName"]] = {
                "TrainingInputMode": channel.get("InputMode", "File"),
                "S3DistributionType": source.get("S3DataDistributionType", "FullyReplicated"),
                "RecordWrapperType": "None",
            }
        (config / "inputdataconfig.json").write_text(json.dumps(channels))
        (config / "hyperparameters.json").write_text(json.dumps(args.get("HyperParameters", {})))
        (config / "resourceconfig.json").write_text(
            json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]})
        )
        image = self._image(args["AlgorithmSpecification"]["TrainingImage"], record)
        if image is None:
            return _mark_job(sagemaker, "training", name, record)
        env = {**args.get("Environment", {}), "TRAINING_JOB_NAME": name, "TRAINING_JOB_ARN": arn}
        ran = self._start(step["Name"], image.spec.argv(("train",)), env, args["RoleArn"], ml_dir)
        record.output, record.deviations = ran.output, ran.deviations
        if ran.code != 0:
            record.status = "Failed"
            message = _read(ml_dir / "output" / "failure")
            record.failure_reason = message or f"AlgorithmError: exit code {ran.code}"
            return _mark_job(sagemaker, "training", name, record)
        archive = ml_dir / "output" / "model.tar.gz"
        archive.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "w:gz") as tar:
            for path in sorted((ml_dir / "model").iterdir()):
                tar.add(path, arcname=path.name)
        uri = f"{args['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{name}/output/model.tar.gz"
        bucket, key = _split(uri)
        s3.upload_file(str(archive), bucket, key)
        self._set(step["Name"], "ModelArtifacts.S3ModelArtifacts", uri)
        record.status = "Succeeded"
        _mark_job(sagemaker, "training", name, record, model=uri)

    def _condition(self, step: dict[str, Any], record: StepRecord) -> list[dict[str, Any]]:
        outcome = True
        for condition in step["Arguments"]["Conditions"]:
            if condition["Type"] != "Equals":
                raise PipelineDefinitionError(
                    f"step {step['Name']}: condition {condition['Type']} is not rehearsed"
                )
            left = self.resolve(condition["LeftValue"])
            right = self.resolve(condition["RightValue"])
            outcome = outcome and left == right
        record.status = "Succeeded"
        record.metadata = {"Condition": {"Outcome": str(outcome)}}
        branch: list[dict[str, Any]] = step["Arguments"]["IfSteps" if outcome else "ElseSteps"]
        return branch

    def _fail(self, step: dict[str, Any], record: StepRecord) -> None:
        message = str(self.resolve(step["Arguments"].get("ErrorMessage", "")))
        record.status, record.failure_reason = "Failed", message
        record.metadata = {"Fail": {"ErrorMessage": message}}

    # --- containers ------------------------------------------------------------------

    def _image(self, uri: str, record: StepRecord) -> ProjectImage | None:
        """The project's image when ``uri`` is one of its pushed tags; else the step fails
        as SageMaker fails a job whose image it cannot pull."""
        image = self.rehearsal.image
        repository, _, tag = uri.rpartition(":")
        if repository != image.repository:
            record.status = "Failed"
            record.failure_reason = (
                f"image {uri} is not in the stack's repository {image.repository}: "
                "only the project's own image can be run here"
            )
            return None
        ecr = self.rehearsal.aws("ecr")
        name = repository.split("/", 1)[1]
        found = ecr.batch_get_image(repositoryName=name, imageIds=[{"imageTag": tag}])
        if not found.get("images"):
            record.status = "Failed"
            record.failure_reason = (
                f"ClientError: image {uri} does not exist (push the image before the run)"
            )
            return None
        return image

    def _start(
        self,
        step: str,
        argv: tuple[str, ...],
        declared: Mapping[str, str],
        role_arn: str,
        ml_dir: Path,
    ) -> Any:
        rehearsal = self.rehearsal
        work = rehearsal.work_dir / slug(f"{self.execution_id}-{step}")
        log = access_log(rehearsal.work_dir, f"pipeline-{step}")
        log.touch()
        extra, deviations = rehearsal.container_env(role_arn, log)
        env, image_deviations = rehearsal.image.environment({**declared, **extra})
        files = work / "image"
        config = rehearsal.image.project_dir / "config"
        if config.is_dir():  # COPY config ./config (the Dockerfile's WORKDIR)
            _copy_tree(config, files / "config")
        job = JobContainer(
            name=step,
            command=argv,
            env=env,
            ml_dir=ml_dir,
            workdir=rehearsal.image.spec.workdir,
            mounts={rehearsal.image.spec.workdir: files} if rehearsal.image.spec.workdir else {},
            deviations=(*image_deviations, *deviations),
        )
        return run_job(job, work)

    def _ml_dir(self, step: str) -> Path:
        path = self.rehearsal.work_dir / slug(f"{self.execution_id}-{step}") / "opt-ml"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _set(self, step: str, path: str, value: Any) -> None:
        self.properties.setdefault(step, {})[path] = value


def _mark_job(
    sagemaker: Any,
    kind: str,
    name: str,
    record: StepRecord,
    exit_message: str = "",
    model: str = "",
) -> None:
    """Leave the job in the emulator as it ended (moto completes jobs on creation)."""
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    backend: Any = get_backend("sagemaker")[DEFAULT_ACCOUNT_ID][sagemaker.meta.region_name]
    ok = record.status == "Succeeded"
    job: Any
    if kind == "processing":
        job = backend.processing_jobs[name]
        job.processing_job_status = "Completed" if ok else "Failed"
        if exit_message:
            job.exit_message = exit_message
    else:
        job = backend.training_jobs[name]
        job.training_job_status = "Completed" if ok else "Failed"
        if model:
            job.model_artifacts = {"S3ModelArtifacts": model}
    if not ok:
        job.failure_reason = record.failure_reason


def _under_ml(container_path: str) -> str:
    if not container_path.startswith(PROCESSING_ROOT):
        raise PipelineDefinitionError(
            f"LocalPath {container_path}: SageMaker requires a path under {PROCESSING_ROOT}"
        )
    return container_path.removeprefix(ML + "/")


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _download(s3: Any, uri: str, directory: Path) -> None:
    """S3Prefix: every object whose key starts with the prefix (one object: its name)."""
    bucket, prefix = _split(uri)
    directory.mkdir(parents=True, exist_ok=True)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    found = 0
    for item in (i for page in pages for i in page.get("Contents", [])):
        relative = item["Key"][len(prefix) :].lstrip("/") or item["Key"].rsplit("/", 1)[-1]
        if item["Key"].endswith("/"):
            continue
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, item["Key"], str(target))
        found += 1
    if not found:
        raise StepFailed(f"ClientError: no objects under the input {uri}")


def _upload(s3: Any, directory: Path, uri: str) -> None:
    bucket, prefix = _split(uri)
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        s3.upload_file(str(path), bucket, f"{prefix.rstrip('/')}/{path.relative_to(directory)}")


def _json(s3: Any, uri: str) -> Any:
    bucket, key = _split(uri)
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def _read(path: Path) -> str:
    return path.read_text(errors="replace").strip() if path.is_file() else ""


def _copy_tree(source: Path, target: Path) -> None:
    import shutil

    if not target.exists():
        shutil.copytree(source, target)
