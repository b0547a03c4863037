"""``pipeline run --on aws``, ``pipeline status --on aws`` and ``batch --on aws``: the stack's
engine runs the steps; this starts them and follows them to the local run's exit code.

The stack is named by its outputs (``pulumi stack output --json``: ``trainingPipelineName``
and ``batchPipelineName`` on SageMaker, ``trainingNamespace``, ``trainingCronJob`` and
``batchCronJob`` on EKS) and its region (``infra/Pulumi.<stack>.yaml``). AWS credentials
come from boto3's default chain; Kubernetes from the kubeconfig (``aws eks
update-kubeconfig``). ``SLIPWAY_POLL_SECONDS`` sets how often a run is polled.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from slipway.lifecycle.errors import LifecycleError

Compute = Literal["sagemaker", "eks"]
Kind = Literal["training", "batch"]
STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
EXIT_REMOTE = 4
POLL_ENV = "SLIPWAY_POLL_SECONDS"


@dataclass(frozen=True)
class EngineStack:
    """Where a stack's steps run."""

    compute: Compute
    region: str
    training: str
    """The training pipeline's name (SageMaker) or CronJob's (EKS)."""
    batch: str
    namespace: str = ""
    """EKS: the namespace of the CronJobs."""
    repository: str = ""
    """``modelRepositoryUrl``: ``--image-tag`` names an image there."""

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any], region: str) -> EngineStack:
        repository = str(outputs.get("modelRepositoryUrl") or "")
        if outputs.get("trainingPipelineName"):
            return cls(
                "sagemaker",
                region,
                str(outputs["trainingPipelineName"]),
                str(outputs.get("batchPipelineName") or ""),
                repository=repository,
            )
        if outputs.get("trainingCronJob"):
            return cls(
                "eks",
                region,
                str(outputs["trainingCronJob"]),
                str(outputs.get("batchCronJob") or ""),
                str(outputs.get("trainingNamespace") or ""),
                repository,
            )
        raise LifecycleError(
            "--outputs",
            "the stack exports no training pipeline or CronJob (they are declared once "
            "slipway:modelImageTag names a pushed image: set it and run `pulumi up` with this "
            "slipway version)",
        )

    @classmethod
    def read(cls, stack: str, outputs_file: Path, infra: Path = Path("infra")) -> EngineStack:
        """The stack's outputs file and region (no AWS call)."""
        try:
            outputs = json.loads(Path(outputs_file).read_text())
        except (OSError, ValueError) as exc:
            raise LifecycleError(
                "--outputs", f"{outputs_file}: not a readable JSON file ({exc})"
            ) from None
        return cls.from_outputs(outputs, stack_region(stack, infra))

    def name(self, kind: Kind) -> str:
        return self.training if kind == "training" else self.batch

    def image(self, tag: str | None) -> str | None:
        if not tag:
            return None
        if not self.repository:
            raise LifecycleError("--image-tag", "the stack exports no modelRepositoryUrl")
        return f"{self.repository}:{tag}"


def stack_region(stack: str, infra: Path = Path("infra")) -> str:
    """``aws:region`` of ``infra/Pulumi.<stack>.yaml``."""
    if not STACK_NAME.match(stack):
        raise LifecycleError("--stack", f"not a stack name (got {stack!r})")
    path = infra / f"Pulumi.{stack}.yaml"
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError:
        raise LifecycleError("--stack", f"no stack config {path}") from None
    region = (raw.get("config") or {}).get("aws:region")
    if not region:
        raise LifecycleError("--stack", f"{path} sets no aws:region")
    return str(region)


@dataclass(frozen=True)
class Finished:
    """How a remote run ended: the local run's exit code and one line saying why."""

    name: str
    code: int
    message: str
    outcome: dict[str, str] | None = None
    """What the register step said it did (training runs that reached it)."""


Report = Callable[[str], None]


def run(
    stack: EngineStack,
    kind: Kind,
    report: Report,
    image_tag: str | None = None,
    trigger: str = "cli",
    clients: Any = None,
    poll_seconds: float | None = None,
) -> Finished:
    """Start the stack's ``kind`` run and follow it to the end."""
    if stack.compute == "sagemaker":
        from slipway.jobs import sagemaker

        client = clients or _sagemaker(stack.region)
        arn = sagemaker.start(client, stack.name(kind), trigger, stack.image(image_tag))
        report(f"started {arn}")
        finished = sagemaker.follow(
            client,
            arn,
            lambda step: report(f"{step.name}: {step.status}{_why(step.reason)}"),
            _poll(poll_seconds, sagemaker.POLL_SECONDS),
        )
        return Finished(arn, finished.exit_code(), finished.message(), finished.outcome())
    from slipway.jobs import kubernetes

    core, batch = clients or kubernetes.clients()
    job = kubernetes.start(
        batch, stack.namespace, stack.name(kind), trigger, stack.image(image_tag)
    )
    report(f"started job {stack.namespace}/{job}")
    done = kubernetes.follow(
        core,
        batch,
        stack.namespace,
        job,
        lambda step: report(f"{step.name}: {step.state}{_why(step.message)}"),
        _poll(poll_seconds, kubernetes.POLL_SECONDS),
    )
    return Finished(job, done.exit_code(), done.message(), done.outcome())


def status(stack: EngineStack, kind: Kind, clients: Any = None) -> list[str]:
    """Lines describing the newest run of the stack's ``kind`` (none: never run)."""
    if stack.compute == "sagemaker":
        from slipway.jobs import sagemaker

        found = sagemaker.latest(clients or _sagemaker(stack.region), stack.name(kind))
        if found is None:
            return [f"{stack.name(kind)}: never run"]
        return [f"{found.arn}: {found.status}{_why(found.reason)}"] + [
            f"  {s.name}: {s.status}{_why(s.reason)}" for s in found.steps
        ]
    from slipway.jobs import kubernetes

    core, batch = clients or kubernetes.clients()
    newest = kubernetes.latest(batch, stack.namespace, stack.name(kind))
    if newest is None:
        return [f"{stack.namespace}/{stack.name(kind)}: never run"]
    job = kubernetes.describe(core, batch, stack.namespace, newest)
    state = "finished" if job.finished else "running"
    return [f"{stack.namespace}/{job.name}: {state}: {job.message()}"] + [
        f"  {s.name}: {s.state}{_why(s.message)}" for s in job.steps
    ]


def _poll(given: float | None, default: float) -> float:
    """Seconds between two polls: ``given``, else ``SLIPWAY_POLL_SECONDS``, else ``default``."""
    if given is not None:
        return given
    return float(os.environ.get(POLL_ENV) or default)


def _why(reason: str) -> str:
    return f" ({reason})" if reason else ""


def _sagemaker(region: str) -> Any:
    import boto3

    return boto3.client("sagemaker", region_name=region)
