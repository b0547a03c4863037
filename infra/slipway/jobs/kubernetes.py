"""Start a Job from one of the stack's CronJobs and follow it: ``pipeline run --on aws``,
``batch --on aws`` and the drift check's retrain on an EKS stack.

The Job is what ``kubectl create job --from=cronjob/<name>`` makes: the CronJob's
``jobTemplate`` (its spec unchanged, which the ValidatingAdmissionPolicy of
``slipway.eks.training`` requires of the drift check), the annotation
``cronjob.kubernetes.io/instantiate: manual`` and the CronJob as its owner (the official
clients' example, kubernetes-client/javascript ``in-cluster-create-job-from-cronjob``).

The pod's init containers are the steps in order: the first container that terminates
with a non-zero code ends the run, and that code is the local run's (1 gate refused,
2 bad input); its termination message says why (``slipway.jobs.contract``).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slipway.jobs.contract import REGISTER, read_outcome

EXIT_OK, EXIT_REMOTE = 0, 4
POLL_SECONDS = 10.0
INSTANTIATE = "cronjob.kubernetes.io/instantiate"
TRIGGER = "slipway/trigger"


@dataclass(frozen=True)
class StepState:
    name: str
    state: str
    """waiting, running, succeeded or failed."""
    exit_code: int | None = None
    message: str = ""


@dataclass(frozen=True)
class JobRun:
    name: str
    finished: bool
    steps: tuple[StepState, ...]
    reason: str = ""

    def exit_code(self) -> int:
        for step in self.steps:
            if step.state == "failed":
                return step.exit_code or EXIT_REMOTE
        if self.finished and self.reason:
            return EXIT_REMOTE  # e.g. DeadlineExceeded, or the pod never started
        return EXIT_OK

    def outcome(self) -> dict[str, str] | None:
        """The register container's outcome (status, version, evaluation), when it ran."""
        return next((read_outcome(s.message) for s in self.steps if s.name == REGISTER), None)

    def message(self) -> str:
        failed = [s for s in self.steps if s.state == "failed"]
        if failed:
            return f"{failed[0].name}: {failed[0].message or f'exit {failed[0].exit_code}'}"
        return self.reason or ("succeeded" if self.finished else "running")


def job_from_cronjob(cronjob: Mapping[str, Any], name: str, trigger: str) -> dict[str, Any]:
    """The Job ``kubectl create job --from=cronjob/...`` would create, named ``name``."""
    template = cronjob["spec"]["jobTemplate"]
    meta = cronjob["metadata"]
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    spec = copy.deepcopy(template["spec"])
    # the pod says what started it (SLIPWAY_TRIGGER); the admission policy compares the pod
    # spec only, so the label keeps the drift check's Job acceptable
    spec["template"].setdefault("metadata", {}).setdefault("labels", {})[TRIGGER] = trigger
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": meta["namespace"],
            "labels": {**labels, TRIGGER: trigger},
            "annotations": {INSTANTIATE: "manual"},
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": meta["name"],
                    "uid": meta.get("uid", ""),
                    "controller": True,
                }
            ],
        },
        "spec": spec,
    }


def job_name(cronjob: str, trigger: str, now: float | None = None) -> str:
    """``<cronjob>-<trigger>-<unix time>`` (at most 63 characters, a DNS label)."""
    stamp = str(int(time.time() if now is None else now))
    return f"{cronjob}-{trigger}"[: 62 - len(stamp)].rstrip("-") + "-" + stamp


def start(batch: Any, namespace: str, cronjob: str, trigger: str, image: str | None = None) -> str:
    """Create the Job of ``cronjob`` (``batch``: a ``kubernetes.client.BatchV1Api``);
    ``image`` replaces every container's image (one run on another image)."""
    found = batch.read_namespaced_cron_job(cronjob, namespace)
    body = job_from_cronjob(
        batch.api_client.sanitize_for_serialization(found), job_name(cronjob, trigger), trigger
    )
    if image:
        pod = body["spec"]["template"]["spec"]
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            container["image"] = image
    created = batch.create_namespaced_job(namespace, body)
    return str(created.metadata.name)


def latest(batch: Any, namespace: str, cronjob: str) -> str | None:
    """The newest Job made from ``cronjob`` (by its schedule or by hand), or None."""
    jobs = [
        job
        for job in batch.list_namespaced_job(namespace).items
        if any(
            o.kind == "CronJob" and o.name == cronjob for o in job.metadata.owner_references or []
        )
    ]
    if not jobs:
        return None
    return str(max(jobs, key=lambda job: job.metadata.creation_timestamp).metadata.name)


def describe(core: Any, batch: Any, namespace: str, job: str) -> JobRun:
    """The Job's state and its pod's steps (init containers, then the container)."""
    status = batch.read_namespaced_job_status(job, namespace).status
    pods = core.list_namespaced_pod(namespace, label_selector=f"job-name={job}").items
    steps: tuple[StepState, ...] = ()
    if pods:
        pod = pods[-1].status
        statuses = [*(pod.init_container_statuses or []), *(pod.container_statuses or [])]
        steps = tuple(_state(s) for s in statuses)
    failed = next(
        (c for c in status.conditions or [] if c.type == "Failed" and c.status == "True"), None
    )
    done = bool(status.succeeded) or failed is not None
    return JobRun(job, done, steps, f"{failed.reason}: {failed.message}" if failed else "")


def _state(status: Any) -> StepState:
    terminated = status.state.terminated if status.state else None
    if terminated is not None:
        code = int(terminated.exit_code)
        state = "succeeded" if code == 0 else "failed"
        return StepState(status.name, state, code, (terminated.message or "").strip())
    running = status.state is not None and status.state.running is not None
    return StepState(status.name, "running" if running else "waiting")


def follow(
    core: Any,
    batch: Any,
    namespace: str,
    job: str,
    report: Callable[[StepState], None],
    poll_seconds: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> JobRun:
    """Poll until the Job ends, reporting each step once when it finishes."""
    seen: set[str] = set()
    while True:
        run = describe(core, batch, namespace, job)
        for step in run.steps:
            if step.state in ("succeeded", "failed") and step.name not in seen:
                seen.add(step.name)
                report(step)
        if run.finished:
            return run
        sleep(poll_seconds)


def clients(in_cluster: bool = False) -> tuple[Any, Any]:
    """CoreV1Api and BatchV1Api from the pod's service account or the kubeconfig
    (``aws eks update-kubeconfig --name <clusterName>``)."""
    from kubernetes import client, config

    if in_cluster:
        config.load_incluster_config()
    else:
        config.load_kube_config()
    return client.CoreV1Api(), client.BatchV1Api()
