"""Run the app under uvicorn, with TCP_NODELAY on every accepted connection.

The model is loaded once, here, before any worker starts: one worker serves it in this
process, several are forked from this process (``prefork.py``), so none imports or loads
it again (issue 17: cold start).

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
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from slipway.envvars import MODEL_URI_ENV
from slipway.serving.prefork import Preforked
from slipway.serving.probe import announce_when_ready
from slipway.serving.variables import MULTIPROC_ENV

# prometheus-client picks its value class (one process, or files shared by workers) when it is
# first imported: this module imports it (through ``slipway.serving.app``) only after ``serve``
# has set PROMETHEUS_MULTIPROC_DIR.


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


def serve(
    model_uri: str,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Load the model, then serve it; raises ``ModelLoadError`` before binding if it cannot.

    ``on_ready(url)`` is called once, from a thread of this process, when the server's
    ``/ping`` first answers 200 (uvicorn logs warnings only: this is the one line a person
    starting a server locally needs). Port 0 binds a free port; the URL names it."""
    if workers < 1:
        raise ValueError(f"workers: must be at least 1 (got {workers})")
    loop = _loop()
    metrics_dir = None
    if workers > 1 and not os.environ.get(MULTIPROC_ENV):
        metrics_dir = tempfile.mkdtemp(prefix="slipway-metrics-")
        os.environ[MULTIPROC_ENV] = metrics_dir
    try:
        _share_metrics(workers)
        from slipway.serving.capture import CaptureConfig

        CaptureConfig.from_env()  # a bad SLIPWAY_CAPTURE_* value stops the server, naming it
        factory = _load_or_pending(model_uri)
        os.environ[MODEL_URI_ENV] = model_uri
        config = uvicorn.Config(
            factory,
            factory=True,
            host=host,
            port=port,
            http=NoDelayHttpToolsProtocol,
            loop=loop,
            lifespan="on",  # the shutdown event writes the buffered request captures
            access_log=False,
            log_level="warning",
            timeout_keep_alive=75,  # above the 60 s idle timeout of AWS load balancers
        )
        sock = bind_socket(host, port)
        announce = _announcer(host, sock.getsockname()[1], on_ready)
        if workers == 1:
            announce()
            uvicorn.Server(config).run(sockets=[sock])
        else:
            # the thread starts once the workers are forked: a fork copies only its own thread
            Preforked(
                lambda sockets: uvicorn.Server(config).run(sockets=sockets), sock, workers
            ).run(on_forked=announce)
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _announcer(host: str, port: int, on_ready: Callable[[str], None] | None) -> Callable[[], None]:
    """What starts the ready announcement (nothing without ``on_ready``)."""

    def start() -> None:
        if on_ready is not None:
            announce_when_ready(host, port, on_ready)

    return start


def _load_or_pending(model_uri: str) -> str:
    """Load the model (refusing to start, with the reason, before any worker exists); the
    uvicorn app factory. With ``SLIPWAY_ALLOW_NO_MODEL`` a model the registry does not have
    *yet* starts the no-model app instead (slipway.serving.pending, docs/eks.md#bootstrap)."""
    from slipway.serving import pending
    from slipway.serving.app import preload
    from slipway.serving.errors import ModelLoadError

    try:
        preload(model_uri)
    except ModelLoadError:
        reason = pending.missing_registration(model_uri) if pending.allowed() else None
        if reason is None:
            raise
        print(f"warning: model: {reason}: serving without a model", file=sys.stderr)
        os.environ[pending.REASON_ENV] = reason
        return "slipway.serving.pending:app_from_env"
    return "slipway.serving.app:app_from_env"


def _share_metrics(workers: int) -> None:
    """With several workers, metrics made before the fork must be multiprocess values: when
    prometheus-client was imported before ``PROMETHEUS_MULTIPROC_DIR`` was set (a caller
    imported it), choose its value class again, as its import would have."""
    values = sys.modules.get("prometheus_client.values")
    if workers > 1 and values is not None:
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]


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
