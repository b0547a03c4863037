"""``--on aws``: the stack's engine runs the steps ({{ "SageMaker Pipelines" if cookiecutter.compute == "sagemaker" else "Kubernetes Jobs on EKS" }}), the CLI starts
them and follows them, printing each step as it ends, and exits with the local run's code.

The stack is read from its outputs (``pulumi stack output --json > build/outputs.json``)
and ``infra/Pulumi.<stack>.yaml``; credentials from boto3's chain{{ "." if cookiecutter.compute == "sagemaker" else "\nand the kubeconfig (`aws eks update-kubeconfig`)." }}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer
from slipway.lifecycle import LifecycleError

if TYPE_CHECKING:
    from slipway.jobs.remote import EngineStack, Finished

EXIT_BAD_INPUT, EXIT_REMOTE = 2, 4
SUMMARY_DIR = Path("outputs/evaluation")  # candidate.json + summary.md, for CI and people
PLACES = ("local", "aws")


def where(on: str) -> str:
    if on not in PLACES:
        raise LifecycleError("--on", f"must be local or aws (got {on!r})")
    return on


def _stack(stack: str, outputs: Path) -> EngineStack:
    from slipway.jobs.remote import EngineStack

    try:
        return EngineStack.read(stack, outputs)
    except LifecycleError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from exc


def _remote_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    errors: tuple[type[BaseException], ...] = (BotoCoreError, ClientError)
    try:
        from kubernetes.client.exceptions import ApiException
        from kubernetes.config.config_exception import ConfigException
    except ImportError:
        return errors
    return (*errors, ApiException, ConfigException)


def run_on_aws(
    stack: str, outputs: Path, kind: Literal["training", "batch"], image_tag: str | None
) -> None:
    """Start the stack's ``training`` or ``batch`` run, follow it, exit with its code."""
    from rich.console import Console
    from slipway.jobs import remote

    target = _stack(stack, outputs)
    console = Console(stderr=True)
    try:
        with console.status(f"{kind} on the {target.compute} engine of stack {stack}"):
            finished = remote.run(target, kind, console.print, image_tag=image_tag)
    except _remote_errors() as exc:
        typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(EXIT_REMOTE) from exc
    except LifecycleError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    if kind == "training":
        write_candidate(finished)
    if finished.code:
        typer.echo(f"error: {finished.name}: {finished.message}", err=True)
        raise typer.Exit(finished.code)
    typer.echo(f"{finished.name}: {finished.message}")


def write_candidate(finished: Finished) -> None:
    """``outputs/evaluation/candidate.json`` and ``summary.md`` as the local run writes them
    (release.yml's job ``candidate`` reads them): the register step's outcome; refused
    (exit 1) or unchanged (ended before Register) when it did not run; none after a
    failure."""
    outcome = finished.outcome
    if outcome is None:
        if finished.code not in (0, 1):
            return  # bad input or a failure: nothing evaluated (the local run writes none)
        status = "unchanged" if finished.code == 0 else "refused"
        outcome = {"status": status, "version": "", "evaluation": "", "message": finished.message}
    facts = {**outcome, "run": finished.name}
    SUMMARY_DIR.mkdir(parents=True, exist_ok=True)
    (SUMMARY_DIR / "candidate.json").write_text(json.dumps(facts, indent=2) + "\n")
    (SUMMARY_DIR / "summary.md").write_text(
        f"{facts['message']}\n\nEngine run `{finished.name}`; the evaluation (both models' "
        f"scores) is MLflow run `{facts['evaluation'] or '-'}`.\n"
    )


def status_on_aws(stack: str, outputs: Path, kind: Literal["training", "batch"]) -> None:
    from slipway.jobs import remote

    target = _stack(stack, outputs)
    try:
        lines = remote.status(target, kind)
    except _remote_errors() as exc:
        typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(EXIT_REMOTE) from exc
    for line in lines:
        typer.echo(line)


def retrain_target(job: str) -> tuple[str, str]:
    """``--retrain-job <namespace>/<cronjob>``, checked before the drift check runs."""
    namespace, _, cronjob = job.partition("/")
    if not namespace or not cronjob or "/" in cronjob:
        typer.echo(f"error: --retrain-job: must be <namespace>/<cronjob> (got {job!r})", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    return namespace, cronjob


def start_retrain(namespace: str, cronjob: str) -> str:
    """The drift check's retrain on EKS: create the CronJob's Job from inside the cluster (the
    drift check's service account may create exactly that Job: slipway.eks.training)."""
    from slipway.jobs import kubernetes

    try:
        _, batch = kubernetes.clients(in_cluster=True)
        return kubernetes.start(batch, namespace, cronjob, "drift")
    except _remote_errors() as exc:
        typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(EXIT_REMOTE) from exc
