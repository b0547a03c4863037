"""Run a job's container to completion the way its engine would: a SageMaker training or
processing job, a Kubernetes Job's container.

``JobContainer`` is what the engine starts: the argv (image ENTRYPOINT + the job's
arguments), the environment (image ``ENV``, then the job's), and the directories the
container sees at its own paths: ``/opt/ml`` (what SageMaker lays out before the start and
collects after the exit; a Kubernetes Job's shared ``emptyDir``) and the image's
``WORKDIR`` (what the Dockerfile copied there, e.g. ``config/``). With ``unshare`` these
appear at their container paths in a private mount namespace, read-write; the network stays
the machine's (the job calls moto and the rehearsal's ``mlflow server`` on loopback).
Without namespaces the container paths are handed over by the project's documented
overrides (``SLIPWAY_ML_ROOT``, ``SLIPWAY_CONFIG``) and the run lists them as deviations.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from slipway.envvars import ML_ROOT_ENV
from slipway.rehearsal.process import namespaced, namespaces_available

ML = "/opt/ml"
OUTPUT_TAIL = 4000


@dataclass(frozen=True)
class JobContainer:
    name: str
    command: tuple[str, ...]
    env: dict[str, str]
    ml_dir: Path
    """Host directory seen as ``/opt/ml``."""
    workdir: str = ""
    """The container's working directory (the image's ``WORKDIR`` unless the job sets one)."""
    mounts: dict[str, Path] = field(default_factory=dict)
    """Other container paths -> host directories: what the image holds there (``/home/app``
    with its ``config/``), a pod's other volumes (``/tmp``)."""
    deviations: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobRun:
    code: int
    output: str
    deviations: tuple[str, ...] = field(default_factory=tuple)


def run_job(job: JobContainer, run_dir: Path, timeout: float = 900.0) -> JobRun:
    """Start ``job``, wait for it to exit, return its exit code and output."""
    run_dir = run_dir.resolve()  # the mounts are laid before the working directory is set
    run_dir.mkdir(parents=True, exist_ok=True)
    job.ml_dir.mkdir(parents=True, exist_ok=True)
    scratch = run_dir / "workdir"
    scratch.mkdir(exist_ok=True)
    deviations = list(job.deviations)
    env = dict(job.env)
    mounts = {k: v.resolve() for k, v in {ML: job.ml_dir, **job.mounts}.items()}
    if namespaces_available():
        workdir = job.workdir or str(scratch)
        argv = namespaced(
            job.name,
            job.command,
            mounts,
            run_dir,
            workdir,
            own_network=False,
            read_only=False,
            # absolute paths in the environment (PYTHONPATH, the access log, ...) and the
            # image's Python (this environment: its prefix and import path, an editable
            # slipway included) stay reachable under a pod volume laid over the host
            # directory holding them (a checkout under the host's /tmp, as CI's may be)
            keep=[
                *(p for value in env.values() for p in value.split(os.pathsep)),
                sys.prefix,
                *sys.path,
            ],
        )
        cwd = scratch
    else:
        argv = list(job.command)
        cwd = job.mounts.get(job.workdir, scratch)
        env[ML_ROOT_ENV] = str(job.ml_dir)
        deviations.append(f"no mount namespace here: {ML_ROOT_ENV}={job.ml_dir} stands for {ML}")
        if job.workdir:
            deviations.append(f"working directory {cwd} instead of {job.workdir}")
        for target, host in job.mounts.items():  # e.g. SLIPWAY_CONFIG under the WORKDIR
            for key, value in env.items():
                if value.startswith(target.rstrip("/") + "/"):
                    env[key] = str(host) + value[len(target.rstrip("/")) :]
                    deviations.append(f"{key}={env[key]} (host path of {value})")
    log = run_dir / "output.log"
    with log.open("wb") as out:
        completed = subprocess.run(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    output = log.read_text(errors="replace")
    return JobRun(completed.returncode, output[-OUTPUT_TAIL:], tuple(deviations))
