"""The ASGI app: a raw ASGI callable (three routes do not need a framework; it is faster)."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

from slipway.envvars import MODEL_URI_ENV
from slipway.serving.batching import Batcher
from slipway.serving.capture import CaptureWriter, writer_from_env
from slipway.serving.errors import INTERNAL_ERROR, BadRequest, error_body, first_line
from slipway.serving.metrics import Metrics
from slipway.serving.model import LoadedModel, load
from slipway.serving.payload import PayloadParser, Rows

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

MAX_BODY_ENV = "SLIPWAY_MAX_BODY_BYTES"
MAX_ROWS_ENV = "SLIPWAY_MAX_ROWS"
DEFAULT_MAX_BODY = 6 * 1024 * 1024  # SageMaker's real-time payload limit
DEFAULT_MAX_ROWS = 100_000
JSON_HEADERS = [(b"content-type", b"application/json")]
# MLflow's scoring-server routes (/health is /ping, /version the MLflow version) and /metrics.
ROUTES = {
    "/invocations": "POST",
    "/ping": "GET",
    "/health": "GET",
    "/version": "GET",
    "/metrics": "GET",
}


class ServingApp:
    """``GET /ping``, ``POST /invocations``, ``GET /metrics`` for one loaded model."""

    def __init__(self, model: LoadedModel, max_body: int, max_rows: int) -> None:
        self.model = model
        self.max_body = max_body
        self.parser = PayloadParser(model.schema, max_rows, max_body)
        self.metrics = Metrics(model.uri, model.version, model.flavor)
        self.batcher = Batcher(model.predict) if model.batchable else None
        self.capture: CaptureWriter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        start = time.perf_counter()
        path, method = scope["path"], scope["method"]
        endpoint = path if path in ROUTES else "other"
        try:
            status, headers, body = await self._route(path, method, scope, receive)
        except BadRequest as exc:
            status, headers = exc.status, JSON_HEADERS
            body = error_body(str(exc), exc.code, exc.error_class)
        except Exception as exc:  # the model failed on its own examples too: answer 500
            log.exception("prediction failed")
            status, headers = 500, JSON_HEADERS
            body = error_body(f"prediction failed: {first_line(exc)}", INTERNAL_ERROR)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self.metrics.observe(endpoint, status, time.perf_counter() - start)

    async def _route(
        self, path: str, method: str, scope: Scope, receive: Receive
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        expected = ROUTES.get(path)
        if expected is None:
            raise BadRequest(f"no route {path!r}; use {', '.join(ROUTES)}", 404)
        if method != expected and not (method == "HEAD" and expected == "GET"):
            raise BadRequest(f"{path} accepts {expected}, not {method}", 405)
        if path == "/invocations":
            return await self._invocations(scope, receive)
        if path == "/metrics":
            return (
                200,
                [(b"content-type", self.metrics.content_type.encode())],
                self.metrics.render(),
            )
        if path == "/version":
            return 200, JSON_HEADERS, _mlflow_version()
        return 200, JSON_HEADERS, b'{"status":"ok"}'  # /ping, /health

    async def _invocations(
        self, scope: Scope, receive: Receive
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        body = await self._read_body(scope, receive)
        content_type = _header(scope, b"content-type")
        try:
            rows, params = self.parser.parse(body, content_type)
            params = self.model.check_params(params)
        except BadRequest:
            raise
        except Exception as exc:  # parsing reads nothing but the request: its fault
            log.warning("unparseable request: %r", exc, exc_info=True)
            raise BadRequest(f"invalid request: {first_line(exc)}") from None
        try:
            answer = await self._predict(rows, params)
        except Exception as exc:
            if not self.model.predicts_its_examples():
                raise
            log.warning("the model cannot predict a request's rows: %s", first_line(exc))
            raise BadRequest(f"the model cannot predict these rows: {first_line(exc)}") from None
        self.metrics.rows.inc(len(rows))
        if self.capture is not None:
            self.capture.add(body, content_type, answer)
        return 200, JSON_HEADERS, answer

    async def _predict(self, rows: Rows, params: dict[str, Any] | None) -> bytes:
        if params is not None and self.model.predict_with_params is not None:
            predictions = self.model.predict_with_params(rows, params)
        elif self.batcher is not None:
            predictions = await self.batcher(rows)
        else:
            predictions = self.model.predict(rows)
        return _dump({"predictions": _jsonable(predictions)})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """Startup: nothing to do (the model is loaded); shutdown: write buffered captures."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.capture is not None:
                    await asyncio.to_thread(self.capture.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_body:
            raise BadRequest(f"body too large: {declared} bytes > {self.max_body}", 413)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise BadRequest("client disconnected before sending the whole body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise BadRequest(f"body too large: more than {self.max_body} bytes", 413)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def create_app(model_uri: str, model: LoadedModel | None = None) -> ServingApp:
    """Load the model now unless given (``ModelLoadError`` when it cannot be served) and build
    the app; request capture as the environment says (``ValueError`` naming a bad variable)."""
    max_body = _int_env(MAX_BODY_ENV, DEFAULT_MAX_BODY)
    max_rows = _int_env(MAX_ROWS_ENV, DEFAULT_MAX_ROWS)
    app = ServingApp(model or load(model_uri), max_body=max_body, max_rows=max_rows)
    app.capture = writer_from_env(app.metrics)
    return app


_preloaded: dict[str, LoadedModel] = {}


def preload(model_uri: str) -> LoadedModel:
    """Load the model in the launcher, before workers are forked: each worker's app then
    serves this copy (``app_from_env``) instead of importing and loading it again."""
    _preloaded[model_uri] = model = load(model_uri)
    return model


def app_from_env() -> ServingApp:
    """uvicorn factory for worker processes: the model URI comes from ``SLIPWAY_MODEL_URI``;
    the model is the launcher's (``preload``) when the worker was forked from it. The app
    itself (metrics, capture thread, batcher) is each worker's own."""
    uri = os.environ[MODEL_URI_ENV]
    return create_app(uri, _preloaded.get(uri))


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise ValueError(f"{name}: must be a positive integer (got {raw!r})")
    return int(raw)


def _jsonable(predictions: Any) -> Any:
    if isinstance(predictions, np.ndarray):
        return predictions.tolist()
    if hasattr(predictions, "to_dict") and hasattr(predictions, "columns"):  # DataFrame
        return predictions.to_dict(orient="records")
    if hasattr(predictions, "tolist"):  # Series
        return predictions.tolist()
    return predictions


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), allow_nan=False, default=_default).encode()


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


@functools.cache
def _mlflow_version() -> bytes:
    """What ``GET /version`` of ``mlflow models serve`` answers: the MLflow version (from the
    installed distribution's metadata: importing ``mlflow.version`` imports all of MLflow)."""
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("mlflow", "mlflow-skinny"):
        try:
            return version(dist).encode()
        except PackageNotFoundError:
            continue
    from mlflow.version import VERSION

    return VERSION.encode()
