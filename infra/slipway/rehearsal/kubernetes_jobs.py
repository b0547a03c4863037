"""A Kubernetes Job's pod, rehearsed: the containers of a CronJob's ``jobTemplate`` started
as the kubelet starts them, against emulated S3 and the rehearsal's ``mlflow server``.

Read from the declared CronJob (never re-typed): the init containers in order, then the
container ("Init Containers": each must exit 0 before the next starts; with
``restartPolicy: Never`` a failed init container fails the pod); each container's
``command``/``args`` (no ``command``: the image ``ENTRYPOINT`` with ``args``, Kubernetes
"Define a Command and Arguments for a Container"), ``env``, ``workingDir`` and the pod's
``emptyDir`` volumes at their ``mountPath`` (``/opt/ml`` shared by the steps). The pod's
result is the first non-zero exit code, which ``slipway.jobs.kubernetes`` reports as the
local run's.

Deviations (listed per container): the IRSA credentials (``AWS_ROLE_ARN`` and the web
identity token the EKS pod identity webhook injects) are fake ones with
``AWS_ENDPOINT_URL`` (moto); the in-cluster ``MLFLOW_TRACKING_URI`` is the rehearsal's
server; resources, security context and the deadline are not enforced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slipway.rehearsal.jobs import ML, JobContainer, JobRun, run_job
from slipway.rehearsal.paths import slug
from slipway.rehearsal.pipelines import ProjectImage


class PodSpecError(ValueError):
    """The pod uses something the rehearsal cannot start (it says what)."""


@dataclass(frozen=True)
class ContainerRun:
    name: str
    code: int
    output: str
    deviations: tuple[str, ...]


def pod_labels(job: Mapping[str, Any]) -> dict[str, str]:
    """The labels of a Job's pod: its template's and those the Job controller adds
    (Kubernetes docs, "Jobs": ``batch.kubernetes.io/job-name``, ``job-name``)."""
    name = str(job["metadata"]["name"])
    template = job["spec"]["template"].get("metadata") or {}
    return {
        **(template.get("labels") or {}),
        "batch.kubernetes.io/job-name": name,
        "job-name": name,
    }


def run_job_pod(
    job: Mapping[str, Any],
    image: ProjectImage,
    aws_endpoint: str,
    tracking_uri: str,
    work_dir: Path,
) -> list[ContainerRun]:
    """Run a Job's pod: its init containers, then its container; stop at the first that
    fails (``job``: the body ``slipway.jobs.kubernetes.start`` creates)."""
    pod = job["spec"]["template"]["spec"]
    job_name = str(job["metadata"]["name"])
    labels = pod_labels(job)
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    hosts = {}
    for name, volume in volumes.items():
        if "emptyDir" not in volume:
            raise PodSpecError(f"volume {name}: only emptyDir volumes are rehearsed")
        hosts[name] = work_dir / job_name / "volumes" / name
        hosts[name].mkdir(parents=True, exist_ok=True)
    runs = []
    for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        run = _run(container, hosts, labels, image, aws_endpoint, tracking_uri, work_dir, job_name)
        runs.append(ContainerRun(container["name"], run.code, run.output, run.deviations))
        if run.code != 0:
            break
    return runs


FIELD_LABEL = re.compile(r"^metadata\.labels\['(?P<key>[^']+)'\]$")


def _value(container: Mapping[str, Any], item: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """An env var's value: a literal, or the downward API's ``metadata.labels['<key>']``
    (a label the pod lacks gives an empty value)."""
    if "value" in item:
        return str(item["value"])
    path = ((item.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath", "")
    found = FIELD_LABEL.match(path)
    if found is None:
        raise PodSpecError(
            f"container {container['name']}: env {item['name']}: only values and "
            "fieldRef metadata.labels['<key>'] are rehearsed"
        )
    return str(labels.get(found["key"], ""))


def _run(
    container: Mapping[str, Any],
    hosts: dict[str, Path],
    labels: Mapping[str, str],
    image: ProjectImage,
    aws_endpoint: str,
    tracking_uri: str,
    work_dir: Path,
    job_name: str,
) -> JobRun:
    declared = {item["name"]: _value(container, item, labels) for item in container.get("env", [])}
    rehearsal_env = {
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ACCESS_KEY_ID": "sandbox",
        "AWS_SECRET_ACCESS_KEY": "sandbox",
        "MLFLOW_TRACKING_URI": tracking_uri,
    }
    env, deviations = image.environment({**declared, **rehearsal_env})
    deviations += [
        f"AWS_ENDPOINT_URL={aws_endpoint} with fake credentials instead of the IRSA role's "
        "web identity (no EKS pod identity webhook here)",
        f"MLFLOW_TRACKING_URI={tracking_uri} instead of {declared.get('MLFLOW_TRACKING_URI')}",
    ]
    mounts = {}
    ml = None
    for mount in container.get("volumeMounts", []):
        if mount["mountPath"] == ML:
            ml = hosts[mount["name"]]
        else:
            mounts[mount["mountPath"]] = hosts[mount["name"]]
    if ml is None:
        raise PodSpecError(f"container {container['name']}: no volume at {ML}")
    files = work_dir / job_name / "image"
    config = image.project_dir / "config"
    if image.spec.workdir and config.is_dir() and not (files / "config").exists():
        import shutil

        shutil.copytree(config, files / "config")  # COPY config ./config (WORKDIR)
    if image.spec.workdir:
        mounts.setdefault(image.spec.workdir, files)
    command = tuple(container.get("command") or image.spec.entrypoint)
    argv = command + tuple(
        container.get("args") or (() if container.get("command") else image.spec.cmd)
    )
    job = JobContainer(
        name=container["name"],
        command=argv,
        env=env,
        ml_dir=ml,
        workdir=str(container.get("workingDir") or image.spec.workdir),
        mounts=mounts,
        deviations=tuple(deviations),
    )
    return run_job(job, work_dir / job_name / slug(container["name"]))
