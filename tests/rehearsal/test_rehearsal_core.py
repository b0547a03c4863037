"""slipway.rehearsal's core: the Dockerfile's entry point, the namespaced process runner,
and the report's NOT-rehearsed rows. Cheap workloads (the standard library's http.server)
stand in for real ones; tests/sandbox/test_first_up.py rehearses the SageMaker container."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from rich.console import Console
from slipway.access.recorder import LOG_ENV
from slipway.rehearsal import HttpCheck, NotRehearsed, Workload, cluster_dns
from slipway.rehearsal.image import ImageError, read_dockerfile
from slipway.rehearsal.process import namespaces_available
from slipway.rehearsal.report import print_outcomes, summary
from slipway.rehearsal.runner import rehearse

ROOT = Path(__file__).resolve().parents[2]


def test_the_start_hook_turns_on_each_module_by_the_variable_that_module_reads() -> None:
    # sitecustomize spells the names out (importing slipway at every start is not free)
    source = (ROOT / "infra/slipway/rehearsal/hook/sitecustomize.py").read_text()
    assigned = next(
        node.value
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "HOOKS"
    )
    assert ast.literal_eval(assigned) == {
        LOG_ENV: "slipway.access.recorder",
        cluster_dns.ENV: "slipway.rehearsal.cluster_dns",
    }


def test_the_projects_dockerfile_runs_its_entry_point_with_sagemakers_argument(
    tmp_path: Path,
) -> None:
    text = (ROOT / "template" / "Dockerfile").read_text()
    dockerfile = tmp_path / "Dockerfile"
    rendered = text.replace("{{ cookiecutter.python_version }}", "3.11")
    dockerfile.write_text(rendered.replace("{{ cookiecutter.package_name }}", "churn_model"))
    image = read_dockerfile(dockerfile)
    # `docker run IMAGE serve`: serve replaces CMD after the ENTRYPOINT (the project's entry
    # point: serve, train and the processing steps)
    assert image.argv(("serve",)) == ("python", "-m", "churn_model.container", "serve")
    assert image.argv(("train",)) == ("python", "-m", "churn_model.container", "train")
    assert image.env["SLIPWAY_PORT"] == "8080" and image.env["SLIPWAY_HOST"] == "0.0.0.0"
    assert image.env["PATH"].startswith("/opt/venv/bin")  # the final stage's ENV, not build's
    assert (image.user, image.workdir, image.exposed) == ("10001:10001", "/home/app", (8080,))


def test_a_shell_form_entry_point_is_refused(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:3.11-slim\nENTRYPOINT python -m slipway.serving\n")
    with pytest.raises(ImageError, match="ENTRYPOINT must use the exec \\(JSON\\) form"):
        read_dockerfile(dockerfile)


def _server(tmp_path: Path, name: str, **extra: object) -> Workload:
    """http.server on the declared port, serving the mounted /opt/ml/model read-only."""
    model = tmp_path / "model"
    model.mkdir(exist_ok=True)
    (model / "MLmodel").write_text("flavors: {}\n")
    return Workload(
        name=name,
        engine="test",
        source="test",
        command=(sys.executable, "-m", "http.server", "8080", "--directory", "/opt/ml/model"),
        env={"PATH": "/usr/bin:/bin"},
        port=8080,
        readiness=HttpCheck("GET /MLmodel", "GET", "/MLmodel"),
        checks=(
            HttpCheck(
                "mounted file",
                "GET",
                "/MLmodel",
                expect=lambda body: "" if body == b"flavors: {}\n" else f"got {body!r}",
            ),
        ),
        mounts={"/opt/ml/model": model},
        startup_seconds=30,
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.skipif(not namespaces_available(), reason="needs user, mount and net namespaces")
def test_a_workload_gets_its_port_and_mounts_as_in_a_container(tmp_path: Path) -> None:
    # two workloads on the same port 8080, one after the other, each in its own namespace,
    # the declared mount at its container path (which does not exist on this machine)
    assert not Path("/opt/ml/model").exists()
    first, second = rehearse([_server(tmp_path, "a"), _server(tmp_path, "b")], tmp_path / "r")
    for outcome in (first, second):
        assert outcome.ok, (outcome.checks, outcome.output)
        assert not any("no namespaces" in d for d in outcome.deviations)
    assert not Path("/opt/ml/model").exists()  # nothing leaked onto this machine


@pytest.mark.skipif(not namespaces_available(), reason="needs user and mount namespaces")
def test_a_workload_may_keep_the_hosts_loopback(tmp_path: Path) -> None:
    """For workloads that call moto or an MLflow server on this machine's loopback."""
    from slipway.rehearsal.process import free_port

    port = free_port()
    workload = _server(tmp_path, "host", own_network=False)
    command = (*workload.command[:3], str(port), *workload.command[4:])
    (outcome,) = rehearse(
        [Workload(**{**workload.__dict__, "command": command, "port": port})], tmp_path / "r"
    )
    assert outcome.ok, (outcome.checks, outcome.output)


def test_a_workload_that_exits_fails_its_readiness_probe(tmp_path: Path) -> None:
    broken = Workload(
        name="exits",
        engine="test",
        source="test",
        command=(sys.executable, "-c", "print('model: cannot load'); raise SystemExit(1)"),
        env={},
        port=8080,
        readiness=HttpCheck("GET /ping", "GET", "/ping"),
        startup_seconds=30,
    )
    (outcome,) = rehearse([broken], tmp_path)
    assert outcome.rehearsed and not outcome.ok
    assert outcome.checks[0].detail == "the process exited"
    assert "model: cannot load" in outcome.output


def test_what_cannot_be_rehearsed_is_listed_with_its_reason(tmp_path: Path) -> None:
    skipped = NotRehearsed("job", "sagemaker-training", "pipeline step", "no training job yet")
    outcomes = rehearse([skipped], tmp_path)
    console = Console(record=True, width=200)
    print_outcomes(outcomes, console)
    text = console.export_text()
    assert "NOT" in text and "no training job yet" in text
    assert summary(outcomes) == "0 of 1 workloads rehearsed, 0 failed"
