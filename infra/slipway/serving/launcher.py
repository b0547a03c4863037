"""Run the app under uvicorn, with TCP_NODELAY on every accepted connection.

uvicorn with ``--workers > 1`` binds the listening socket itself with ``proto=0``; accepted
sockets inherit it and asyncio only sets TCP_NODELAY when ``proto == IPPROTO_TCP``
(uvicorn issue 3149). Nagle then holds each keep-alive response for the client's delayed
ACK: ~40 ms per request. We bind the socket ourselves with ``IPPROTO_TCP`` and, belt and
braces, set TCP_NODELAY again in the HTTP protocol's ``connection_made``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sys
import tempfile
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from slipway.serving import pending
from slipway.serving.app import MODEL_URI_ENV
from slipway.serving.capture import CaptureConfig
from slipway.serving.errors import ModelLoadError
from slipway.serving.metrics import MULTIPROC_ENV


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, forcing TCP_NODELAY on the accepted socket."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)


def set_nodelay(transport: Any) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket whose accepted connections asyncio will mark TCP_NODELAY."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(model_uri: str, host: str = "127.0.0.1", port: int = 8080, workers: int = 1) -> None:
    """Check the model loads, then serve it; raises ``ModelLoadError`` before binding if not."""
    from slipway.serving.model import load

    if workers < 1:
        raise ValueError(f"workers: must be at least 1 (got {workers})")
    loop = _loop()
    CaptureConfig.from_env()  # a bad SLIPWAY_CAPTURE_* value stops the server, naming it
    factory = "slipway.serving.app:app_from_env"
    try:
        load(model_uri)  # refuse to start, with the reason, before any worker is spawned
    except ModelLoadError:
        reason = pending.missing_registration(model_uri) if pending.allowed() else None
        if reason is None:
            raise
        print(f"warning: model: {reason}: serving without a model", file=sys.stderr)
        os.environ[pending.REASON_ENV] = reason
        factory = "slipway.serving.pending:app_from_env"
    os.environ[MODEL_URI_ENV] = model_uri
    metrics_dir = None
    if workers > 1 and not os.environ.get(MULTIPROC_ENV):
        metrics_dir = tempfile.mkdtemp(prefix="slipway-metrics-")
        os.environ[MULTIPROC_ENV] = metrics_dir
    config = uvicorn.Config(
        factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=NoDelayHttpToolsProtocol,
        loop=loop,
        lifespan="on",  # the shutdown event writes the buffered request captures
        access_log=False,
        log_level="warning",
        timeout_keep_alive=75,  # above the 60 s idle timeout of AWS load balancers
    )
    try:
        if workers == 1:
            uvicorn.Server(config).run(sockets=[bind_socket(host, port)])
        else:
            Multiprocess(config, sockets=[bind_socket(host, port)]).run()
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _loop() -> str:
    """``SLIPWAY_EVENT_LOOP`` (asyncio or uvloop), else uvloop when installed."""
    chosen = os.environ.get("SLIPWAY_EVENT_LOOP", "")
    if chosen:
        if chosen not in ("asyncio", "uvloop"):
            raise ValueError(f"SLIPWAY_EVENT_LOOP: must be asyncio or uvloop (got {chosen!r})")
        return chosen
    try:
        import uvloop  # noqa: F401
    except ImportError:  # pragma: no cover - uvloop is in the serve extra
        return "asyncio"
    return "uvloop"
