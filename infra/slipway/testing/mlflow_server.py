"""A real ``mlflow server`` on loopback for rehearsals and tests: the stack's MLflow stand-in.

Started with a SQLite backend (a copy of the empty store MLflow migrated once, as a new
project's) and proxied artifacts (``--serve-artifacts``: clients upload
and download models through the server, as they do through a remote tracking server), on
a free port of 127.0.0.1, stopped when the block ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from slipway.lifecycle.store_seed import seed_store
from slipway.rehearsal.process import free_port

START_SECONDS = 120.0


@contextmanager
def mlflow_server(directory: Path) -> Iterator[str]:
    """Run ``mlflow server`` with its store under ``directory``; yields its URI."""
    directory.mkdir(parents=True, exist_ok=True)
    seed_store(directory / "mlflow.db")  # the empty store MLflow migrated once (store_seed.py)
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    log = (directory / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{directory / 'mlflow.db'}",
            "--serve-artifacts",
            "--artifacts-destination",
            str(directory / "artifacts"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        # no job runner (its queue consumers are five more processes): nothing here uses jobs
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )
    try:
        _wait(uri, process, directory / "server.log")
        yield uri
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait(uri: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"mlflow server not healthy within {START_SECONDS} s")
