"""The local lifecycle end to end on a baked project, through its Makefile.

How it runs: ``make -o <venv>/.installed VENV=<this venv> PYTHONPATH=src ...`` -- the
project's own Makefile targets in the shared environment (``-o`` skips ``setup``, so
nothing is installed) against the project's embedded MLflow (``mlflow.db`` + ``mlruns/``).

Sequence: a good run crowns version 1; ``make serve`` prints its URL once, when the server
answers ``/ping``, and nothing else but make's echo of the command; the identical rerun
trains and registers nothing; a deliberately worse configuration is refused by the gate on
the same evaluation data as the champion (exit 1, both scores shown, nothing registered); a
changed but equally good configuration crowns version 2; ``make rollback`` restores
version 1.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest
import yaml
from mlflow.tracking import MlflowClient
from slipway.serving.probe import answers_ping, free_port

VENV = Path(sys.prefix)
READY_GRACE = 10.0  # seconds the URL may trail the first /ping 200 (a thread polls for it)


def make_command(*args: str) -> list[str]:
    return ["make", "--no-print-directory", "-o", f"{VENV}/.installed", f"VENV={VENV}", *args]


def make_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return {**env, "PYTHONPATH": "src"}


def make(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        make_command(*args),
        cwd=project,
        env={**make_env(), **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def pump(stream: IO[str] | None, sink: queue.Queue[str]) -> threading.Thread:
    """A thread that moves each line of ``stream`` to ``sink`` as it comes."""
    assert stream is not None

    def move() -> None:
        for line in stream:
            sink.put(line)

    thread = threading.Thread(target=move, daemon=True)
    thread.start()
    return thread


def drain(lines: queue.Queue[str]) -> list[str]:
    return [lines.get() for _ in range(lines.qsize())]


def serve_until_announced(project: Path, port: int) -> tuple[str, str, str]:
    """``make serve`` until it prints a ``serving`` line, which must come when ``/ping`` answers
    200 and not long after; then Ctrl-C. Returns that line, all of stdout and all of stderr."""
    proc = subprocess.Popen(
        make_command("serve", f"SERVE_PORT={port}"),
        cwd=project,
        env=make_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # Ctrl-C reaches make and the server, as in a terminal
    )
    out: queue.Queue[str] = queue.Queue()
    err: queue.Queue[str] = queue.Queue()
    readers = [pump(proc.stdout, out), pump(proc.stderr, err)]
    seen: list[str] = []
    ready_at, deadline = None, time.monotonic() + 300
    try:
        while not any(line.startswith("serving ") for line in seen):
            assert time.monotonic() < deadline, f"no serving line in 300 s: {seen}"
            assert proc.poll() is None, f"make serve exited {proc.returncode}: {seen}"
            try:
                seen.append(out.get(timeout=0.2))
                continue
            except queue.Empty:
                pass
            if ready_at is None and answers_ping("127.0.0.1", port):
                ready_at = time.monotonic()
            late = ready_at is not None and time.monotonic() - ready_at > READY_GRACE
            assert not late, f"/ping answers 200 but no URL after {READY_GRACE} s: {seen}"
        announced = seen[-1]
        assert answers_ping("127.0.0.1", port), "URL printed before /ping answers 200"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        for reader in readers:
            reader.join(timeout=10)
    return announced, "".join(seen + drain(out)), "".join(drain(err))


def champion(project: Path, name: str) -> str:
    uri = f"sqlite:///{project / 'mlflow.db'}"
    return str(MlflowClient(uri, uri).get_model_version_by_alias(name, "champion").version)


def versions(project: Path, name: str) -> int:
    uri = f"sqlite:///{project / 'mlflow.db'}"
    return len(MlflowClient(uri, uri).search_model_versions(f"name='{name}'"))


@pytest.mark.slow
def test_pipeline_refuses_a_worse_model_and_rollback_restores_the_champion(cookies) -> None:
    baked = cookies.bake(extra_context={"project_name": "Lifecycle Demo"})
    assert baked.exit_code == 0, baked.exception
    project: Path = baked.project_path
    name = "lifecycle-demo"

    first = make(project, "pipeline")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert f"model: models:/{name}@champion (version 1)" in first.stdout
    for noise in ("Warning:", "Downloading artifacts"):  # each filtered at its source
        assert noise not in first.stderr, first.stderr[-3000:]
    for produced in (
        "mlflow.db",
        "mlruns",
        "outputs/predictions.csv",
        "outputs/drift/drift_report.html",
        "outputs/drift/drift_summary.json",
    ):
        assert (project / produced).exists(), produced

    port = free_port()
    announced, out, err = serve_until_announced(project, port)
    url = f"http://127.0.0.1:{port}"
    assert announced == (
        f"serving models:/{name}@champion at {url} (POST /invocations, GET /ping; Ctrl-C stops)\n"
    )
    assert out.count(url) == 1 and len(out.splitlines()) == 2, out  # make's echo, the URL
    assert err == "", err

    again = make(project, "pipeline")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "unchanged: training data, code and config are those of champion version 1" in (
        again.stdout
    )
    assert (champion(project, name), versions(project, name)) == ("1", 1)

    config = yaml.safe_load((project / "config" / "pipeline.yaml").read_text())
    config["model"].update(estimator="random_forest", params={"n_estimators": 1, "max_depth": 1})
    (project / "config" / "worse.yaml").write_text(yaml.safe_dump(config))
    worse = make(project, "pipeline", "CONFIG=config/worse.yaml")
    assert worse.returncode != 0, worse.stderr[-3000:]  # make says 2 when the CLI exits 1
    assert "error: gate: champion v1 wins on data/evaluation.csv" in worse.stderr
    assert "(champion v1)" in worse.stderr and "short by" in worse.stderr, worse.stderr[-3000:]
    assert (champion(project, name), versions(project, name)) == ("1", 1)

    config["model"].update(estimator="logistic_regression", params={"C": 1.0, "max_iter": 1000})
    (project / "config" / "longer.yaml").write_text(yaml.safe_dump(config))
    second = make(project, "pipeline", "CONFIG=config/longer.yaml")
    assert second.returncode == 0, second.stderr[-3000:]
    assert champion(project, name) == "2"

    back = make(project, "rollback", PYTHONPROFILEIMPORTTIME="1")  # imports on stderr
    assert back.returncode == 0, back.stderr[-3000:]
    assert "champion: version 2 -> 1" in back.stdout
    imported = {line.rpartition("|")[2].strip() for line in back.stderr.splitlines()}
    pipeline = f"{name.replace('-', '_')}.pipeline"  # not needed to move an alias
    assert "mlflow" in imported and not {"sklearn", pipeline} & imported, imported
    assert champion(project, name) == "1"
