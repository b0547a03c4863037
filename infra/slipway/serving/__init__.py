"""SageMaker-compatible model server: ``GET /ping``, ``POST /invocations``, ``GET /metrics``.

``create_app(model_uri)`` builds the ASGI app (the model is loaded once, now);
``serve(model_uri, host, port, workers, on_ready)`` runs it under uvicorn. See docs/serving.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slipway.serving.errors import BadRequest, ModelLoadError

if TYPE_CHECKING:
    from slipway.serving.app import ServingApp
    from slipway.serving.launcher import serve

__all__ = ["BadRequest", "ModelLoadError", "create_app", "serve"]


def create_app(model_uri: str) -> ServingApp:
    """Load ``model_uri`` once and return the ASGI app serving it."""
    from slipway.serving.app import create_app as _create_app

    return _create_app(model_uri)


def __getattr__(name: str) -> Any:
    """``serve`` is ``slipway.serving.launcher.serve``, imported on first use (uvicorn)."""
    if name != "serve":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from slipway.serving.launcher import serve

    return serve
