"""Command-line entry shared by ``python -m slipway.serving`` and ``slipway serve``.

Settings come from arguments, else the environment, else defaults that fit SageMaker
(model in ``/opt/ml/model``, port 8080, one worker per CPU).
"""

from __future__ import annotations

import argparse
import os
import sys

from slipway.envvars import HOST_ENV, MODEL_URI_ENV, PORT_ENV, WORKERS_ENV
from slipway.serving.errors import ModelLoadError

SAGEMAKER_MODEL_DIR = "/opt/ml/model"


def default_model_uri() -> str:
    return os.environ.get(MODEL_URI_ENV) or SAGEMAKER_MODEL_DIR


def default_host() -> str:
    return os.environ.get(HOST_ENV) or "127.0.0.1"


def default_port() -> int:
    raw = os.environ.get("SAGEMAKER_BIND_TO_PORT") or os.environ.get(PORT_ENV) or "8080"
    return _positive("port", raw)


def default_workers() -> int:
    raw = os.environ.get(WORKERS_ENV) or os.environ.get("SAGEMAKER_MODEL_SERVER_WORKERS")
    return _positive("workers", raw) if raw else max(1, os.cpu_count() or 1)


def run(model_uri: str, host: str, port: int, workers: int) -> int:
    """Serve until stopped; print a one-line error and return 1 when the server cannot start."""
    from slipway.serving.launcher import serve

    try:
        serve(model_uri, host=host, port=port, workers=workers)
    except ModelLoadError as exc:
        print(f"error: model: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"error: server: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["serve"]:  # SageMaker starts the image with the argument "serve"
        args = args[1:]
    parser = argparse.ArgumentParser(prog="python -m slipway.serving", description=__doc__)
    parser.add_argument("--model-uri", default=None, help="MLflow model URI or local path")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)
    ns = parser.parse_args(args)
    try:
        port = ns.port if ns.port is not None else default_port()
        workers = ns.workers if ns.workers is not None else default_workers()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return run(ns.model_uri or default_model_uri(), ns.host or default_host(), port, workers)


def _positive(name: str, raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name}: must be a positive integer (got {raw!r})")
    return int(raw)
