"""The public API's rehearsal: the model server started as both flavors start it, the declared
pod it stands for, and a client (shared helpers; fixtures in conftest). The programs are the
shared runs' ``public`` stacks (tests/program_runs.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slipway.eks.manifests import manifests
from slipway.eks.serving import APP
from slipway.testing import ProgramRun

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
ROW = [5.1, 3.5, 1.4, 0.2]
# What the rehearsal changes in the model server's declared container, and why.
SUBSTITUTED = {
    "SLIPWAY_HOST": "127.0.0.1 (the rehearsal never listens on a non-loopback address)",
    "SLIPWAY_PORT": "a free port",
    "SLIPWAY_MODEL_URI": "a local MLflow model directory (no registry here)",
    "SLIPWAY_WORKERS": "1 (added: one CPU-light worker)",
    "TMPDIR": "a temporary directory (the pod's /tmp emptyDir)",
}
# no tracking server, no S3 here; a local model directory never waits for a registry
# (SLIPWAY_ALLOW_NO_MODEL: slipway.serving.pending, docs/eks.md#bootstrap)
DROPPED_PREFIXES = ("MLFLOW_", "SLIPWAY_CAPTURE_", "SLIPWAY_ALLOW_NO_MODEL")


# The model server as both flavors start it: SageMaker runs the image with the argument
# ``serve``; the EKS Deployment declares this command (checked against the declaration in
# test_public_api_eks.py). The rehearsal's substitutions are SUBSTITUTED.
SERVER_COMMAND = ["python", "-m", "slipway.serving", "serve"]


def start_server(model: Path, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    env = {
        "SLIPWAY_HOST": "127.0.0.1",
        "SLIPWAY_PORT": str(port),
        "SLIPWAY_MODEL_URI": str(model),
        "SLIPWAY_WORKERS": "1",
        "TMPDIR": str(tmp),
        "HOME": str(tmp),
        "PATH": str(Path(sys.executable).parent),
    }
    return subprocess.Popen([sys.executable, *SERVER_COMMAND[1:]], env=env)


@dataclass(frozen=True)
class DeclaredPod:
    """The model server's container as the EKS Deployment declares it."""

    command: list[str]
    env: dict[str, str]
    port: int
    readiness_path: str

    @classmethod
    def from_run(cls, run: ProgramRun) -> DeclaredPod:
        deployment = next(
            m for m in manifests(run) if m["kind"] == "Deployment" and m["metadata"]["name"] == APP
        )
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        [port] = container["ports"]
        return cls(
            command=list(container["command"]),
            env={e["name"]: str(e["value"]) for e in container["env"] if "value" in e},
            port=int(port["containerPort"]),
            readiness_path=container["readinessProbe"]["httpGet"]["path"],
        )

    def dropped(self) -> list[str]:
        """Declared variables the rehearsal does not pass (no tracking server, no S3)."""
        return sorted(k for k in self.env if k.startswith(DROPPED_PREFIXES))


def invocation() -> bytes:
    return json.dumps({"dataframe_split": {"columns": FEATURES, "data": [ROW]}}).encode()


def call(
    url: str, token: str | None, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    """POST ``body`` (default: one iris row) with ``Authorization: Bearer <token>``."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        url, data=invocation() if body is None else body, headers=sent, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read(), {k.lower(): v for k, v in answer.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, error.read(), {k.lower(): v for k, v in error.headers.items()}


def fetch_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return dict(json.load(answer))
