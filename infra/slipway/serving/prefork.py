"""Workers forked from a launcher that has already loaded the model (issue 17: cold start).

uvicorn's own supervisor (``uvicorn.supervisors.Multiprocess``) starts workers with
multiprocessing's ``spawn`` context (``uvicorn/_subprocess.py``): every worker is a fresh
interpreter that imports numpy, scikit-learn and the model again, so N workers cost N + 1
loads of CPU before the first ``/ping``. As gunicorn's ``--preload`` does, the launcher here
loads the model once and ``fork``s each worker from it: a worker starts with the imports and
the model already in (copy-on-write) memory, and only builds its own app (metrics, capture
thread, batcher) and event loop.

The launcher supervises: a worker that dies is forked again; SIGTERM, SIGINT or SIGQUIT stops
every worker with SIGTERM (uvicorn's graceful shutdown, which writes buffered request
captures) and waits for them, SIGKILL after ``STOP_TIMEOUT`` seconds. Prometheus metrics
created before the fork move to each worker's own file on first use (prometheus-client
resets its multiprocess values when the pid changes).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
STOP_TIMEOUT = 30.0  # seconds a worker gets to finish its requests and write its captures
POLL = 0.2  # seconds between checks for dead workers
RESTART_DELAY = 1.0  # seconds before forking again after a worker died (no hot loop)


class Preforked:
    """``workers`` processes forked from this one, each running ``serve(sockets)``."""

    def __init__(
        self, serve: Callable[[list[socket.socket]], None], sock: socket.socket, workers: int
    ) -> None:
        self.serve = serve
        self.sockets = [sock]
        self.workers = workers
        self.children: set[int] = set()
        self.stopping = False

    def run(self, on_forked: Callable[[], None] = lambda: None) -> None:
        """Fork the workers, call ``on_forked()``, and supervise them until a stop signal;
        returns when all exited."""
        previous = {s: signal.signal(s, self._stop) for s in STOP_SIGNALS}
        try:
            for _ in range(self.workers):
                self._fork()
            on_forked()
            while not self.stopping:
                time.sleep(POLL)
                for _ in self._reap():
                    if not self.stopping:
                        time.sleep(RESTART_DELAY)
                        self._fork()
        finally:
            self._terminate()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _fork(self) -> None:
        pid = os.fork()
        if pid == 0:  # the worker: default signals (uvicorn installs its own), then serve
            code = 1
            try:
                for sig in STOP_SIGNALS:
                    signal.signal(sig, signal.SIG_DFL)
                self.serve(self.sockets)
                code = 0
            except SystemExit as exc:  # uvicorn exits 3 when its startup fails
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                log.exception("worker %d failed", os.getpid())
            finally:
                os._exit(code)
        self.children.add(pid)

    def _reap(self) -> list[int]:
        """Collect the workers that have exited; returns their pids."""
        gone = []
        for pid in list(self.children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                self.children.discard(pid)
                gone.append(pid)
                if not self.stopping:
                    log.warning("worker %d exited (%s); forking a new one", pid, _how(status))
        return gone

    def _terminate(self) -> None:
        for pid in self.children:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        for pid in self.children:
            _signal(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        self.children.clear()


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"code {os.waitstatus_to_exitcode(status)}"
