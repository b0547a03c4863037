"""Helpers for starting a server process and waiting until it answers ``/ping``."""

from __future__ import annotations

import http.client
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    """Return once ``GET /ping`` on 127.0.0.1:port answers 200; raise if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server {proc.args!r} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/ping")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
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
