"""Step 6, serve locally: answer JSON requests with ``models:/<name>@champion``."""

from __future__ import annotations

from collections.abc import Callable

from mlflow.tracking import MlflowClient
from slipway.lifecycle import CHAMPION, model_uri, require_alias


def champion_uri(client: MlflowClient, model_name: str) -> str:
    """The champion's alias URI, after checking the alias exists."""
    require_alias(client, model_name, CHAMPION)
    return model_uri(model_name, CHAMPION)


def serve(
    client: MlflowClient,
    model_name: str,
    host: str,
    port: int,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the champion until stopped; ``on_ready(url)`` once ``/ping`` answers 200."""
    from slipway.serving import serve as serve_model  # platform server (issue 7)

    serve_model(champion_uri(client, model_name), host=host, port=port, on_ready=on_ready)
