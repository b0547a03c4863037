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
from typing import Literal

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
FAILURE_FILES = {
    "sagemaker-training": f"{ML}/output/failure",
    "sagemaker-processing": f"{ML}/output/message",
    "kubernetes": "/dev/termination-log",
}
# Overrides of the /opt/ml root, for a start without mount namespaces (the rehearsal's
# fallback lists it as a deviation) and for tests of the step code.
ROOT_ENV = "SLIPWAY_ML_ROOT"


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
        return cls(engine, Path(os.environ.get(ROOT_ENV) or "/"))

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
        failure = self._at(FAILURE_FILES[self.engine])
        try:
            failure.parent.mkdir(parents=True, exist_ok=True)
            failure.write_text(failure_message(code, reason))
        except OSError:
            pass  # e.g. no termination-log outside a pod: the exit code still says it


def failure_message(code: int, reason: str) -> str:
    return f"exit {code}: {reason}"[:1024]


def failure_code(message: str) -> int | None:
    """The step's exit code from its ``exit <code>: ...`` message (None: not a step's)."""
    head, _, _ = message.partition(":")
    word, _, number = head.strip().partition(" ")
    return int(number) if word == "exit" and number.isdigit() else None


def read_json(path: Path) -> dict[str, object]:
    loaded = json.loads(path.read_text())
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: not a JSON object")
    return loaded
