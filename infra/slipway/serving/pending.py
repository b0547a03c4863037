"""A model server with no model yet: the first start of a stack, before any champion exists.

On EKS the first ``pulumi up`` creates MLflow and the model server together, before any
model is registered; a server that exits when ``models:/<name>@champion`` does not exist
never becomes ready, Pulumi's wait on the Deployment fails, and so does every ``up`` until
a champion exists (docs/eks.md#bootstrap). With ``SLIPWAY_ALLOW_NO_MODEL=true`` (the EKS
Deployment sets it) a ``models:/`` URI whose registered model, alias, version or stage does
not exist *yet* starts this app instead: ``GET /ping`` answers 200 with ``"status": "no
model"`` and what is missing, ``POST /invocations`` 503 (MLflow's
``TEMPORARILY_UNAVAILABLE``), ``/metrics`` counts both. Any other failure to load (MLflow
unreachable, a corrupt model, a local path) still stops the server. The release rolls the
Deployment once a champion exists (release.yml: ``kubectl rollout restart``).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from slipway.envvars import ALLOW_NO_MODEL_ENV, MODEL_URI_ENV
from slipway.serving.errors import error_body
from slipway.serving.metrics import Metrics

REASON_ENV = "SLIPWAY_NO_MODEL_REASON"
UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"  # MLflow's code for HTTP 503
JSON = [(b"content-type", b"application/json")]


def allowed() -> bool:
    return os.environ.get(ALLOW_NO_MODEL_ENV, "").strip().lower() in ("1", "true", "yes")


def missing_registration(uri: str) -> str | None:
    """What the MLflow registry does not have yet for ``uri`` (``None``: it has it, or
    ``uri`` is not a ``models:/`` URI, or the registry gave another error)."""
    if not uri.startswith("models:/"):
        return None
    from mlflow.exceptions import MlflowException
    from mlflow.store.artifact.utils.models import _parse_model_uri
    from mlflow.tracking import MlflowClient

    try:
        parsed = _parse_model_uri(uri)
    except MlflowException:
        return None
    client, name = MlflowClient(), str(parsed.name)
    try:
        client.get_registered_model(name)
        if parsed.alias:
            client.get_model_version_by_alias(name, parsed.alias)
        elif parsed.version:
            client.get_model_version(name, parsed.version)
        elif not client.get_latest_versions(name, [parsed.stage] if parsed.stage else None):
            return f"registered model {name!r} has no version yet"
    except MlflowException as exc:
        text = str(exc)
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST" and "Registered Model" in text:
            return f"registered model {name!r} does not exist yet"
        if parsed.alias and "alias" in text and "not found" in text:
            return f"alias {parsed.alias!r} of registered model {name!r} is not set yet"
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST" and "Model Version" in text:
            return f"version {parsed.version} of registered model {name!r} does not exist yet"
        return None
    return None


class PendingApp:
    """ASGI app of a server whose model does not exist yet."""

    def __init__(self, model_uri: str, reason: str) -> None:
        self.model_uri, self.reason = model_uri, reason
        self.metrics = Metrics(model_uri, "none", "none")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        start, path = time.perf_counter(), scope["path"]
        status, headers, body = self._answer(path)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        endpoint = path if path in ("/ping", "/invocations", "/metrics") else "other"
        self.metrics.observe(endpoint, status, time.perf_counter() - start)

    def _answer(self, path: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if path in ("/ping", "/health"):
            doc = {"status": "no model", "model_uri": self.model_uri, "reason": self.reason}
            return 200, JSON, json.dumps(doc).encode()
        if path == "/metrics":
            return 200, [(b"content-type", Metrics.content_type.encode())], self.metrics.render()
        if path == "/invocations":
            message = f"no model to serve yet: {self.reason}; roll the Deployment once it exists"
            return 503, JSON, error_body(message, UNAVAILABLE)
        return 404, JSON, error_body(f"no route {path!r}", "ENDPOINT_NOT_FOUND")


def app_from_env() -> PendingApp:
    """uvicorn factory for worker processes (the launcher sets both variables)."""
    return PendingApp(os.environ[MODEL_URI_ENV], os.environ[REASON_ENV])
