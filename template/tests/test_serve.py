"""Step 6: the champion answers JSON requests on localhost through the platform's server."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import uvicorn
from mlflow.tracking import MlflowClient
from slipway.serving import create_app

from {{ cookiecutter.package_name }}.pipeline import Outcome
from {{ cookiecutter.package_name }}.serve import champion_uri


@pytest.fixture
def base_url(client: MlflowClient, outcome: Outcome) -> Iterator[str]:
    """``create_app(models:/<name>@champion)`` under uvicorn on a free localhost port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(champion_uri(client, outcome.model_name))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_champion_uri_names_the_alias(client: MlflowClient, outcome: Outcome) -> None:
    assert champion_uri(client, outcome.model_name) == f"models:/{outcome.model_name}@champion"


def test_champion_answers_json_rows(base_url: str, project: Path, outcome: Outcome) -> None:
    rows = pd.read_csv(project / "data" / "batch.csv").head(3)
    expected = pd.read_csv(outcome.predictions.path)["prediction"].head(3).tolist()
    with urllib.request.urlopen(f"{base_url}/ping", timeout=10) as ping:
        assert ping.status == 200
    request = urllib.request.Request(
        f"{base_url}/invocations",
        data=json.dumps({"dataframe_records": rows.to_dict("records")}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["predictions"] == expected
