"""SageMaker-compatible model server: ``GET /ping``, ``POST /invocations``, ``GET /metrics``.

``create_app(model_uri)`` builds the ASGI app (the model is loaded once, now);
``serve(model_uri, host, port, workers, on_ready)`` runs it under uvicorn. See docs/serving.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from slipway.serving.errors import BadRequest, ModelLoadError

if TYPE_CHECKING:
    from slipway.serving.app import ServingApp

__all__ = ["BadRequest", "ModelLoadError", "create_app", "serve"]


def create_app(model_uri: str) -> ServingApp:
    """Load ``model_uri`` once and return the ASGI app serving it."""
    from slipway.serving.app import create_app as _create_app

    return _create_app(model_uri)


def serve(
    model_uri: str,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``model_uri`` on ``host:port`` with ``workers`` processes (blocks); ``on_ready(url)``
    is called once, when ``/ping`` first answers 200."""
    from slipway.serving.launcher import serve as _serve

    _serve(model_uri, host=host, port=port, workers=workers, on_ready=on_ready)
