"""Whether a server answers ``/ping``: the launcher's ready announcement, and helpers for
starting a server process and waiting until it is ready."""

from __future__ import annotations

import http.client
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

WILDCARDS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}  # bound to all: ask loopback


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers_ping(host: str, port: int) -> bool:
    """Whether ``GET /ping`` on ``host:port`` answers 200 now (a wildcard host: its loopback)."""
    conn = http.client.HTTPConnection(WILDCARDS.get(host, host), port, timeout=2)
    try:
        conn.request("GET", "/ping")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def announce_when_ready(
    host: str, port: int, announce: Callable[[str], None], poll: float = 0.05
) -> threading.Thread:
    """A daemon thread that calls ``announce(url)`` once, when ``/ping`` first answers 200
    (asking every ``poll`` seconds at first, then less often, up to every 0.5 s)."""

    def wait() -> None:
        pause = poll
        while not answers_ping(host, port):
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
        announce(url(host, port))

    thread = threading.Thread(target=wait, name="slipway-ready", daemon=True)
    thread.start()
    return thread


def wait_until_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    """Return once ``GET /ping`` on 127.0.0.1:port answers 200; raise if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server {proc.args!r} exited with {proc.returncode}")
        if answers_ping("127.0.0.1", port):
            return
        time.sleep(0.3)
    raise TimeoutError(f"server on port {port} did not answer /ping within {timeout:.0f} s")


@contextmanager
def serving(port: int, proc: subprocess.Popen[bytes]) -> Iterator[int]:
    """Wait until ``proc`` answers on ``port``, yield the port, then stop ``proc``."""
    try:
        wait_until_ready(port, proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
