"""The EKS workloads rehearsed as Kubernetes starts them (slipway.rehearsal.eks), once per
session, along the generated README's first deploy: a baked eks project applied to emulated
AWS with no image and no model, applied again once its image tag is set, then rehearsed as
`make sandbox` does (the chart's MLflow server, the model server before and after the first
champion, the release, a run of the drift CronJob), then applied once more (no change).

The release is a stand-in that registers the champion with the project's own training step
(``train.train``: the same model and drift-profile artifacts, without evaluate, gate, batch
and monitor), about 40 s faster than the project's whole ``pipeline run`` that
``make sandbox`` uses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter
from eks_support import PROJECT, ROOT, with_config
from program_runs import EKS_PUBLIC_API
from slipway.access.request import read_jsonl
from slipway.rehearsal import eks
from slipway.rehearsal.eks import NOT_REHEARSED, Declared, Release, not_rehearsed
from slipway.rehearsal.stack import REPORT
from slipway.rehearsal.workload import CheckResult, NotRehearsedHere, Outcome
from slipway.sandbox import apply
from slipway.sandbox.engine import ApplyReport, rehearse
from slipway.testing import run_program
from stack_config import configure_eks

REGISTER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import mlflow
    from {package} import config, data, registry, train

    settings = config.load(Path("config/pipeline.yaml"))
    root = Path(sys.argv[1])
    _, client = registry.open_registry(root, settings)
    sensitive = settings.fairness.sensitive_columns
    dataset = data.ingest(settings.data, sensitive, root, settings.batch.input)
    trained = train.train(dataset, settings.model, registry.model_inputs(dataset, settings), {{}})
    version = mlflow.register_model(trained.model_uri, settings.model.name).version
    client.set_registered_model_alias(settings.model.name, "champion", version)
    """
)


def _register_champion(project: Path, package: str) -> Release:
    def release(url: str, work: Path) -> list[CheckResult]:
        (work / "config").mkdir()
        (work / "config" / "pipeline.yaml").write_text(
            (project / "config" / "pipeline.yaml").read_text()
        )
        env = {**os.environ, "MLFLOW_TRACKING_URI": url, "PYTHONPATH": str(project / "src")}
        done = subprocess.run(
            [sys.executable, "-c", REGISTER.format(package=package), str(work)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        detail = f"exit {done.returncode}" + (f": {done.stderr[-400:]}" if done.returncode else "")
        return [CheckResult("train and register the champion", done.returncode == 0, detail)]

    return release


WORKLOADS = {
    "kubernetes:apps/v1:Deployment",
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "kubernetes:policy/v1:PodDisruptionBudget",
    "kubernetes:batch/v1:CronJob",
}


@dataclass
class FirstUp:
    """The generated README's first deploy, in order, on an empty emulated account."""

    first: ApplyReport
    """`make up` with no image and no champion."""
    with_image: ApplyReport
    """`make up` after the first image push (slipway:modelImageTag set)."""
    outcomes: dict[str, Outcome]
    """`make sandbox`'s rehearsal (the model server's first start, the release, ...)."""
    again: ApplyReport
    """`make up` once more, after the release."""
    report: Path
    readme: Path


@pytest.fixture(scope="module")
def first_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstUp]:
    out = tmp_path_factory.mktemp("eks-rehearsal")
    project = Path(
        cookiecutter(str(ROOT), no_input=True, extra_context=PROJECT, output_dir=str(out))
    )
    infra = configure_eks(project / "infra", modelImageTag=None)  # as generated + API access
    state = out / "sandbox"
    first = apply(infra, "dev", directory=state)
    configure_eks(infra)  # the first image is pushed: its tag is set
    with_image = apply(infra, "dev", directory=state)
    # the path `make sandbox` takes (slipway.sandbox.engine.rehearse), with a faster release
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(eks, "project_release", lambda ctx: _register_champion(project, "churn"))
        outcomes = rehearse(infra, "dev", with_image.run, directory=state)
    again = apply(infra, "dev", directory=state)
    yield FirstUp(
        first,
        with_image,
        {o.name: o for o in outcomes},
        again,
        state / "rehearsal" / REPORT,
        project / "README.md",
    )


@pytest.fixture(scope="module")
def rehearsed(first_up: FirstUp) -> dict[str, Outcome]:
    return first_up.outcomes


def test_the_first_up_in_order_needs_no_image_and_no_model(first_up: FirstUp) -> None:
    assert WORKLOADS.isdisjoint(e.type for e in first_up.first.entries)
    assert first_up.first.failed_checks == []
    # the image push adds the model server, the drift job and the training and batch Jobs'
    # CronJobs with their namespace, IRSA role and retrain RBAC (slipway.eks.training, issue
    # 14), and nothing else changes
    changed = {(e.type, e.action) for e in first_up.with_image.entries if e.action != "unchanged"}
    training = {
        (r.type, "created")
        for r in first_up.with_image.run.cloud_resources
        if "slipway:eks:ModelTraining$" in r.urn
    }
    assert ("kubernetes:batch/v1:CronJob", "created") in training
    assert changed == {(t, "created") for t in WORKLOADS} | training
    assert first_up.with_image.removed == []
    # the release rolls nothing through Pulumi: the next `up` changes nothing
    assert not first_up.again.changed


def test_the_readme_first_deploy_follows_the_rehearsed_order(first_up: FirstUp) -> None:
    readme = first_up.readme.read_text()
    steps = [
        "slipway:apiAccessCidrs[0]",  # before the first up: its Kubernetes objects need the API
        "make up STACK=dev",  # no image, no model
        "docker push",
        "slipway:modelImageTag",
        "make up STACK=dev",  # the model server starts, no champion yet
        "the first release",
    ]
    at = 0
    for step in steps:
        found = readme.find(step, at)
        assert found >= 0, f"{step!r} not found after offset {at}"
        at = found + len(step)


def test_make_sandbox_reports_every_eks_workload(first_up: FirstUp) -> None:
    report = json.loads(first_up.report.read_text())
    names = {row["name"] for row in report}
    assert set(first_up.outcomes) <= names
    assert {"mlflow", "model-server (first start, no champion yet)"} <= names


def _failed(outcome: Outcome) -> str:
    checks = "; ".join(f"{c.name}: {c.detail}" for c in outcome.checks if not c.ok)
    return f"{outcome.name}: {outcome.reason} [{checks}]\n{outcome.output[-1500:]}"


def test_mlflow_serves_in_cluster_callers_and_refuses_foreign_hosts(
    rehearsed: dict[str, Outcome],
) -> None:
    mlflow = rehearsed["mlflow"]
    assert mlflow.ok, _failed(mlflow)
    assert [c.name for c in mlflow.checks] == [
        "readiness GET /health",
        "API with Host mlflow.mlflow.svc.cluster.local:5000",
        "API with a foreign Host is refused",
    ]


def test_the_model_server_is_ready_before_the_first_champion(
    rehearsed: dict[str, Outcome],
) -> None:
    first = rehearsed["model-server (first start, no champion yet)"]
    assert first.ok, _failed(first)


def test_the_model_server_serves_the_champion_through_mlflow(
    rehearsed: dict[str, Outcome],
) -> None:
    assert rehearsed["release (champion registered through kubectl port-forward)"].ok
    second = rehearsed["model-server (serves the champion)"]
    assert second.ok, _failed(second)
    assert [c.name for c in second.checks][-1] == "POST /invocations: the champion's answer"
    # it read nothing from S3 itself: the model came through MLflow's artifact proxy
    assert second.access_log is not None
    reads = [r for r in read_jsonl(second.access_log) if r.action == "s3:GetObject"]
    assert reads == []


def test_the_drift_check_reads_the_captures_and_publishes(rehearsed: dict[str, Outcome]) -> None:
    job = rehearsed["drift-check (CronJob run)"]
    assert job.ok, _failed(job)


def test_what_is_not_rehearsed_says_why(rehearsed: dict[str, Outcome]) -> None:
    skipped = {name: o.reason for name, o in rehearsed.items() if not o.rehearsed}
    assert set(NOT_REHEARSED) <= set(skipped)
    assert all(skipped.values())
    for name, reason in skipped.items():  # in the test output too (pytest's warnings summary)
        warnings.warn(NotRehearsedHere(f"{name}: {reason}"), stacklevel=1)


def test_a_declared_chart_that_cannot_run_here_is_listed(eks_infra: Path, tmp_path: Path) -> None:
    """With the public API on, the load balancer controller is declared: a NOT row, not
    silence (and the model server is still the one found, by name)."""
    infra = with_config(eks_infra, tmp_path / "infra", "prod", publicApi=EKS_PUBLIC_API)
    declared = Declared.read(run_program(infra, "prod"))
    assert declared.deployment is not None
    assert declared.deployment["metadata"]["name"] == "model-server"
    rows = {o.name: o for o in not_rehearsed(declared)}
    assert not rows["aws-load-balancer-controller"].rehearsed
    assert "tests/publicapi" in rows["aws-load-balancer-controller"].reason


def test_every_rehearsed_workload_kept_its_aws_requests(rehearsed: dict[str, Outcome]) -> None:
    """The IAM matrix reads these logs: principal (the ServiceAccount's role), action,
    resource, context per request."""
    logs = {name: list(read_jsonl(o.access_log)) for name, o in rehearsed.items() if o.access_log}
    mlflow = logs["mlflow"]
    assert any(r.action == "s3:PutObject" and "/mlflow/" in r.resource for r in mlflow)
    assert {r.principal.split("/")[-1].rsplit("-", 1)[0] for r in mlflow} == {"churn-dev-mlflow"}
    captures = [r for r in logs["model-server (serves the champion)"] if r.action == "s3:PutObject"]
    assert captures and all("/data-capture/" in r.resource for r in captures)
    drift = logs["drift-check (CronJob run)"]
    assert {r.principal.split("/")[-1].rsplit("-", 1)[0] for r in drift} == {"churn-dev-drift"}
    assert not any("/mlflow/" in r.resource for r in drift)  # profile through MLflow's proxy
