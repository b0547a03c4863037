"""SageMaker Pipelines behind the emulator's API: while ``running_pipelines`` is open,
``StartPipelineExecution`` on the in-process moto server runs the execution
(``slipway.rehearsal.pipelines``, in a thread), and the calls that follow an execution
answer from it: ``DescribePipelineExecution`` (status, failure reason),
``ListPipelineExecutionSteps`` (moto has none) and ``ListPipelineExecutions`` (newest
first when asked: moto ignores ``SortOrder``). moto accepts the start and says Succeeded at
once; this is what makes ``pipeline run --on aws`` against the sandbox follow real steps.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slipway.rehearsal.pipelines import PipelineExecution, Rehearsal


class Executions:
    """The executions started while the service runs, by ARN."""

    def __init__(self, rehearsal: Rehearsal) -> None:
        self.rehearsal = rehearsal
        self.by_arn: dict[str, PipelineExecution] = {}
        self.threads: list[threading.Thread] = []

    def start(self, fake: Any, definition: str, parameters: list[dict[str, str]]) -> None:
        def changed(execution: PipelineExecution) -> None:
            fake.pipeline_execution_status = execution.status
            fake.pipeline_execution_failure_reason = execution.failure_reason or None

        execution = PipelineExecution(
            json.loads(definition),
            fake.arn,
            {p["Name"]: p["Value"] for p in parameters or []},
            self.rehearsal,
            on_change=changed,
        )
        fake.pipeline_execution_status = "Executing"
        self.by_arn[fake.arn] = execution
        thread = threading.Thread(target=execution.run, name=f"pipeline {fake.arn}", daemon=True)
        self.threads.append(thread)
        thread.start()

    def wait(self, timeout: float = 900.0) -> None:
        for thread in self.threads:
            thread.join(timeout)


@contextmanager
def running_pipelines(rehearsal: Rehearsal) -> Iterator[Executions]:
    from moto.core.responses import ActionResult
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    executions = Executions(rehearsal)
    original_start = SageMakerModelBackend.start_pipeline_execution
    original_describe = SageMakerModelBackend.describe_pipeline_execution
    original_list = SageMakerResponse.list_pipeline_executions

    def start(self: Any, pipeline_name: str, *args: Any, **kwargs: Any) -> dict[str, str]:
        response: dict[str, str] = original_start(self, pipeline_name, *args, **kwargs)
        pipeline = self.pipelines[pipeline_name]
        fake = pipeline.pipeline_executions[response["PipelineExecutionArn"]]
        executions.start(fake, pipeline.pipeline_definition, fake.pipeline_parameters)
        return response

    def describe(self: Any, arn: str) -> dict[str, Any]:
        response: dict[str, Any] = original_describe(self, arn)
        found = executions.by_arn.get(arn)
        if found is not None and found.failure_reason:
            response["FailureReason"] = found.failure_reason
        return response

    def steps(self: Any) -> ActionResult:
        found = executions.by_arn.get(self._get_param("PipelineExecutionArn"))
        records = [] if found is None else list(found.steps)
        items = [r.to_api() for r in records]
        descending = self._get_param("SortOrder", "Descending") == "Descending"
        items.sort(key=lambda i: i["StartTime"], reverse=descending)
        return ActionResult({"PipelineExecutionSteps": items})

    def list_executions(self: Any) -> ActionResult:
        result = original_list(self)
        summaries = list(result.result["PipelineExecutionSummaries"])  # type: ignore[index]
        descending = self._get_param("SortOrder", "Descending") == "Descending"
        summaries.sort(key=lambda s: s["StartTime"], reverse=descending)
        limit = self._get_param("MaxResults")
        return ActionResult({"PipelineExecutionSummaries": summaries[: limit or None]})

    patches: list[tuple[Any, str, Callable[..., Any]]] = [
        (SageMakerModelBackend, "start_pipeline_execution", start),
        (SageMakerModelBackend, "describe_pipeline_execution", describe),
        (SageMakerResponse, "list_pipeline_execution_steps", steps),
        (SageMakerResponse, "list_pipeline_executions", list_executions),
    ]
    saved = [(owner, name, owner.__dict__.get(name)) for owner, name, _ in patches]
    for owner, name, replacement in patches:
        setattr(owner, name, replacement)
    try:
        yield executions
    finally:
        executions.wait()
        for owner, name, previous in saved:
            if previous is None:
                delattr(owner, name)
            else:
                setattr(owner, name, previous)
