"""Steps, their inputs and outputs, and where a container finds them on each engine.

SageMaker (Developer Guide, "How Amazon SageMaker AI Provides Training Information" and
"How Amazon SageMaker Processing Runs Your Processing Container Image"):

* a training job runs ``docker run IMAGE train``; channel ``<c>`` is under
  ``/opt/ml/input/data/<c>``, the request's settings in ``/opt/ml/input/config/*.json``,
  the environment holds ``TRAINING_JOB_NAME``, ``TRAINING_JOB_ARN`` and the request's
  ``Environment`` (the ``SM_*`` variables belong to the sagemaker-training toolkit, not to
  SageMaker: this contract does not rely on them); what the job leaves in ``/opt/ml/model``
  is uploaded as ``model.tar.gz``, a failure reason goes to ``/opt/ml/output/failure``;
* a processing job runs ENTRYPOINT + ``ContainerArguments``; each input is downloaded to
  its ``LocalPath`` under ``/opt/ml/processing/`` before the container starts, each output
  uploaded from its ``LocalPath`` after it exits 0.

Kubernetes: the Job's containers run one after another (init containers) in one pod and
share an ``emptyDir`` mounted at ``/opt/ml``; each step's output directory is the next
one's input. The step code asks a ``Layout`` where things are and never branches on the
engine.
"""

from __future__ import annotations

import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from slipway.envvars import ML_ROOT_ENV

Engine = Literal["sagemaker-training", "sagemaker-processing", "kubernetes"]

# Training pipeline: validate -> train -> evaluate (+ gate) -> register. Batch: batch.
VALIDATE, TRAIN, EVALUATE, REGISTER, BATCH = "validate", "train", "evaluate", "register", "batch"
STEPS = (VALIDATE, TRAIN, EVALUATE, REGISTER)
# The SageMaker pipelines' parameters and step names (SageMaker names a step's job after it).
IMAGE_PARAMETER, TRIGGER_PARAMETER = "ImageUri", "Trigger"
SAGEMAKER_STEPS = {
    VALIDATE: "Validate",
    TRAIN: "Train",
    EVALUATE: "Evaluate",
    REGISTER: "Register",
    BATCH: "Score",
}
CHANGED, GATE, REFUSED = "Changed", "Gate", "GateRefused"
# Inputs and outputs between steps (a processing input/output name, a training channel).
DATASET, MODEL, EVALUATION, PREDICTIONS, BATCH_INPUT = (
    "dataset",
    "model",
    "evaluation",
    "predictions",
    "batch",
)
# Property files the SageMaker pipeline's conditions read (in the step's output directory).
DATASET_FILE, VERDICT_FILE = "dataset.json", "verdict.json"
MODEL_ARCHIVE = "model.tar.gz"

ML = "/opt/ml"
PROCESSING = f"{ML}/processing"
TRAINING_CHANNELS = f"{ML}/input/data"
TRAINING_CONFIG = f"{ML}/input/config"
MODEL_DIR = f"{ML}/model"
# Why a step failed: a training job's FailureReason is this file ("How Amazon SageMaker AI
# Signals Algorithm Success and Failure"), a processing job's ExitMessage that one ("Save and
# Access Metadata Information About Your Processing Job"), a Kubernetes container's
# termination message the default terminationMessagePath. Each holds "exit <code>: <line>".
# The register step leaves its outcome in the same place on success ("outcome: <json>"):
# ExitMessage is the processing container's metadata when it exits, and a termination
# message is read whatever the exit code; the CLI that started the run reads it.
FAILURE_FILES = {
    "sagemaker-training": f"{ML}/output/failure",
    "sagemaker-processing": f"{ML}/output/message",
    "kubernetes": "/dev/termination-log",
}
OUTCOME = "outcome: "


def processing_input(name: str) -> str:
    return f"{PROCESSING}/input/{name}"


def processing_output(name: str) -> str:
    return f"{PROCESSING}/output/{name}"


def training_channel(name: str) -> str:
    return f"{TRAINING_CHANNELS}/{name}"


@dataclass(frozen=True)
class Layout:
    """Where one step's container finds its inputs and leaves its outputs."""

    engine: Engine
    root: Path = Path("/")

    @classmethod
    def from_environment(cls, engine: Engine) -> Layout:
        # ML_ROOT_ENV overrides the /opt/ml root: a start without mount namespaces (the
        # rehearsal lists it as a deviation) and tests of the step code
        return cls(engine, Path(os.environ.get(ML_ROOT_ENV) or "/"))

    def _at(self, container_path: str) -> Path:
        return self.root / container_path.lstrip("/")

    def input(self, name: str) -> Path:
        """Directory holding input ``name`` (a processing input, a training channel)."""
        if self.engine == "sagemaker-processing":
            return self._at(processing_input(name))
        if self.engine == "sagemaker-training":
            return self._at(training_channel(name))
        return self._at(f"{ML}/{name}")

    def output(self, name: str) -> Path:
        """Directory for output ``name`` (created); on Kubernetes the next step's input."""
        if self.engine == "sagemaker-processing":
            path = self._at(processing_output(name))
        elif self.engine == "sagemaker-training" and name == MODEL:
            path = self._at(MODEL_DIR)
        else:
            path = self._at(f"{ML}/{name}")
        path.mkdir(parents=True, exist_ok=True)
        return path

    def validated(self) -> dict[str, Any]:
        """Validate's facts (``dataset.json``) when the step got them: a Kubernetes Job's
        steps share them; a SageMaker step gets the content-addressed snapshot only, and runs
        at all because the pipeline's Changed condition read them."""
        path = self.input(DATASET) / DATASET_FILE
        return read_json(path) if path.is_file() else {"changed": True}

    @property
    def gate_exits(self) -> bool:
        """Whether a refused candidate ends the step with exit 1. A SageMaker pipeline
        decides on the evaluation's verdict file in its own condition step; a Kubernetes
        pod has only the containers' exit codes."""
        return self.engine == "kubernetes"

    def fetch(self, name: str, uri: str, s3: Any) -> Path:
        """Input ``name`` from ``s3://`` ``uri``: SageMaker downloaded it before the container
        started; in a Kubernetes Job the step downloads it itself."""
        directory = self.input(name)
        if self.engine == "kubernetes":
            download_prefix(s3, uri, directory)
        return directory

    def publish(self, name: str, uri: str, s3: Any) -> str:
        """Output ``name`` to ``uri``: SageMaker uploads it after the container exits; in a
        Kubernetes Job the step uploads it itself (SSE-KMS: the bucket's default)."""
        if self.engine == "kubernetes":
            upload_prefix(s3, self.output(name), uri)
        return uri

    def model(self, scratch: Path) -> Path:
        """The trained model's directory: SageMaker hands a step ``model.tar.gz`` (unpacked
        into ``scratch``), Kubernetes the training container's directory itself."""
        found = self.input(MODEL)
        archive = found / MODEL_ARCHIVE
        if not archive.is_file():
            return found
        scratch.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(scratch, filter="data")
        return scratch

    def fail(self, code: int, reason: str) -> None:
        """Leave ``exit <code>: <reason>`` where the engine reports why a step failed."""
        self._leave(failure_message(code, reason))

    def report(self, outcome: dict[str, str]) -> None:
        """Leave a successful step's ``outcome: <json>`` where the engine reports it."""
        self._leave(outcome_message(outcome))

    def _leave(self, message: str) -> None:
        path = self._at(FAILURE_FILES[self.engine])
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(message)
        except OSError:
            pass  # e.g. no termination-log outside a pod: the exit code still says it


def failure_message(code: int, reason: str) -> str:
    return f"exit {code}: {reason}"[:1024]


def outcome_message(outcome: dict[str, str]) -> str:
    return (OUTCOME + json.dumps(outcome, sort_keys=True))[:1024]


def read_outcome(message: str) -> dict[str, str] | None:
    """A step's outcome from its message (None: the message is not an outcome)."""
    if not message.startswith(OUTCOME):
        return None
    try:
        loaded: Any = json.loads(message[len(OUTCOME) :])
    except ValueError:
        return None
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else None


def failure_code(message: str) -> int | None:
    """The step's exit code from its ``exit <code>: ...`` message (None: not a step's)."""
    head, _, _ = message.partition(":")
    word, _, number = head.strip().partition(" ")
    return int(number) if word == "exit" and number.isdigit() else None


def download_prefix(s3: Any, uri: str, directory: Path) -> list[Path]:
    """Every object under ``s3://bucket/prefix`` into ``directory`` (relative keys kept)."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    directory.mkdir(parents=True, exist_ok=True)
    found = []
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for item in (i for page in pages for i in page.get("Contents", [])):
        relative = item["Key"][len(prefix) :].lstrip("/")
        if not relative or relative.endswith("/"):
            continue
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, item["Key"], str(target))
        found.append(target)
    return found


def upload_prefix(s3: Any, directory: Path, uri: str) -> list[str]:
    """Every file under ``directory`` to ``s3://bucket/prefix/<relative path>``."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    keys = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        key = f"{prefix.rstrip('/')}/{path.relative_to(directory).as_posix()}"
        s3.upload_file(str(path), bucket, key)
        keys.append(key)
    return keys


def read_json(path: Path) -> dict[str, Any]:
    loaded: Any = json.loads(path.read_text())
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: not a JSON object")
    return loaded
