"""Start the stack's SageMaker Pipelines and follow them: what ``pipeline run --on aws``,
``pipeline status`` and ``batch --on aws`` do on a SageMaker stack.

An execution ends Succeeded, Failed or Stopped. The exit code is the local run's: a failed
``GateRefused`` step is the gate refusing the candidate (1); a step whose job says
``exit <code>: ...`` (a training job's FailureReason, a processing job's ExitMessage:
``slipway.jobs.contract``) exits with that code (2: bad input); anything else is a
failure of AWS (4).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slipway.jobs.contract import (
    IMAGE_PARAMETER,
    REFUSED,
    REGISTER,
    SAGEMAKER_STEPS,
    TRIGGER_PARAMETER,
    failure_code,
    read_outcome,
)

EXIT_OK, EXIT_GATE, EXIT_REMOTE = 0, 1, 4
TERMINAL = {"Succeeded", "Failed", "Stopped"}
POLL_SECONDS = 15.0


@dataclass(frozen=True)
class Step:
    name: str
    status: str
    reason: str = ""
    """Why it failed: the job's own message when it left one, else SageMaker's reason."""


@dataclass(frozen=True)
class Execution:
    arn: str
    status: str
    reason: str = ""
    steps: tuple[Step, ...] = field(default_factory=tuple)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def exit_code(self) -> int:
        """The local run's code for this (finished) execution."""
        if self.status == "Succeeded":
            return EXIT_OK
        for step in self.steps:
            if step.status != "Failed":
                continue
            if step.name == REFUSED:
                return EXIT_GATE
            code = failure_code(step.reason)
            if code is not None:
                return code
        return EXIT_REMOTE

    def outcome(self) -> dict[str, str] | None:
        """The Register step's outcome (status, version, evaluation), when it ran."""
        register = SAGEMAKER_STEPS[REGISTER]
        return next((read_outcome(s.reason) for s in self.steps if s.name == register), None)

    def message(self) -> str:
        failed = [s for s in self.steps if s.status == "Failed"]
        if failed:
            return f"{failed[0].name}: {failed[0].reason or self.reason}"
        return self.reason or self.status


def start(client: Any, pipeline: str, trigger: str = "cli", image_uri: str | None = None) -> str:
    """Start ``pipeline``; ``image_uri`` overrides the image of this run only."""
    parameters = [{"Name": TRIGGER_PARAMETER, "Value": trigger}]
    if image_uri:
        parameters.append({"Name": IMAGE_PARAMETER, "Value": image_uri})
    response = client.start_pipeline_execution(
        PipelineName=pipeline,
        PipelineExecutionDisplayName=f"{trigger}-{int(time.time())}",
        PipelineParameters=parameters,
    )
    return str(response["PipelineExecutionArn"])


def describe(client: Any, arn: str) -> Execution:
    """The execution and its steps (each failed job's own message when it left one)."""
    found = client.describe_pipeline_execution(PipelineExecutionArn=arn)
    pages = client.get_paginator("list_pipeline_execution_steps").paginate(
        PipelineExecutionArn=arn, SortOrder="Ascending"
    )
    steps = tuple(
        _step(client, item) for page in pages for item in page.get("PipelineExecutionSteps", [])
    )
    return Execution(
        arn, found["PipelineExecutionStatus"], str(found.get("FailureReason") or ""), steps
    )


def _step(client: Any, item: Mapping[str, Any]) -> Step:
    status = str(item.get("StepStatus", ""))
    reason = str(item.get("FailureReason") or "")
    if status == "Failed" or (
        status == "Succeeded" and item["StepName"] == SAGEMAKER_STEPS[REGISTER]
    ):  # a failure's reason, or the outcome Register leaves
        reason = _job_message(client, item.get("Metadata") or {}) or reason
    return Step(str(item["StepName"]), status, reason)


def _job_message(client: Any, metadata: Mapping[str, Any]) -> str:
    if "ProcessingJob" in metadata:
        name = metadata["ProcessingJob"]["Arn"].rsplit("/", 1)[-1]
        return str(client.describe_processing_job(ProcessingJobName=name).get("ExitMessage") or "")
    if "TrainingJob" in metadata:
        name = metadata["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
        return str(client.describe_training_job(TrainingJobName=name).get("FailureReason") or "")
    if "Fail" in metadata:
        return str(metadata["Fail"].get("ErrorMessage") or "")
    return ""


def follow(
    client: Any,
    arn: str,
    report: Callable[[Step], None],
    poll_seconds: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Execution:
    """Poll until the execution ends, reporting each step once when it finishes."""
    seen: set[tuple[str, str]] = set()
    while True:
        execution = describe(client, arn)
        for step in execution.steps:
            if (
                step.status in ("Succeeded", "Failed", "Stopped")
                and (step.name, step.status) not in seen
            ):
                seen.add((step.name, step.status))
                report(step)
        if execution.done:
            return execution
        sleep(poll_seconds)


def latest(client: Any, pipeline: str) -> Execution | None:
    """The newest execution of ``pipeline`` (``pipeline status``), or None."""
    summaries = client.list_pipeline_executions(
        PipelineName=pipeline, SortBy="CreationTime", SortOrder="Descending", MaxResults=1
    ).get("PipelineExecutionSummaries", [])
    return describe(client, summaries[0]["PipelineExecutionArn"]) if summaries else None
