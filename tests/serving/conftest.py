"""A tiny sklearn model saved with MLflow in a temporary directory, and server helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from serving_support import save_iris_model, save_mixed_model
from slipway.serving.probe import free_port, serving


@pytest.fixture(scope="session")
def model_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(save_iris_model(tmp_path_factory.mktemp("model") / "iris"))


@pytest.fixture(scope="module")
def two_worker_server(model_uri: str) -> Iterator[int]:
    """The real launcher, two workers, on 127.0.0.1; yields the port.

    The asyncio loop is the one uvicorn issue 3149 hits (uvloop sets TCP_NODELAY itself):
    plain ``uvicorn --workers 2 --loop asyncio`` answers keep-alive requests in ~44 ms here.
    """
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "slipway.serving",
            "serve",
            "--model-uri",
            model_uri,
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env={**os.environ, "SLIPWAY_EVENT_LOOP": "asyncio"},
    )
    with serving(port, proc):
        yield port


@pytest.fixture(scope="session")
def app(model_uri: str) -> object:
    from slipway.serving import create_app

    return create_app(model_uri)


@pytest.fixture(scope="session")
def mixed_model_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(save_mixed_model(tmp_path_factory.mktemp("model") / "mixed"))


@pytest.fixture(scope="session")
def mixed_app(mixed_model_uri: str) -> object:
    from slipway.serving import create_app

    return create_app(mixed_model_uri)
