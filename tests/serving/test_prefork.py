"""Workers forked from the launcher that loaded the model (``slipway.serving.prefork``)."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from slipway.serving.probe import free_port, wait_until_ready

SUPERVISED = """
import os, socket, sys, time
from slipway.serving import prefork
prefork.RESTART_DELAY = 0.1
def serve(sockets):
    open(os.path.join({out!r}, str(os.getpid())), "w").close()
    time.sleep(600)
prefork.Preforked(serve, socket.socket(), 2).run(on_forked=lambda: print("forked", flush=True))
print("stopped")
"""


def wait_for(predicate: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_dead_worker_is_forked_again_and_sigterm_stops_every_worker(tmp_path: Path) -> None:
    launcher = subprocess.Popen(
        [sys.executable, "-c", SUPERVISED.format(out=str(tmp_path))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: len(list(tmp_path.iterdir())) == 2)
        first, second = sorted(int(p.name) for p in tmp_path.iterdir())
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: len(list(tmp_path.iterdir())) == 3)
        workers = {int(p.name) for p in tmp_path.iterdir()} - {first}
        assert second in workers and all(alive(pid) for pid in workers)
        launcher.send_signal(signal.SIGTERM)
        out, err = launcher.communicate(timeout=60)
    finally:
        launcher.kill()
    assert (launcher.returncode, out) == (0, "forked\nstopped\n"), err  # once, not per re-fork
    assert f"worker {first} exited (signal 9); forking a new one" in err
    assert not any(alive(pid) for pid in workers)


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2 :].split()[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def test_workers_are_forks_of_the_launcher_that_loaded_the_model(model_uri: str) -> None:
    """uvicorn's supervisor spawns each worker as a fresh interpreter
    (``multiprocessing.spawn``), which imports and loads everything again; forked workers run
    the launcher's own command line."""
    port = free_port()
    cmd = [sys.executable, "-m", "slipway.serving", "--model-uri", model_uri]
    server = subprocess.Popen([*cmd, "--port", str(port), "--workers", "2"])
    try:
        wait_until_ready(port, server)
        workers = children(server.pid)
        assert len(workers) == 2
        assert all(cmdline(pid) == cmdline(server.pid) for pid in workers)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/ping")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert server.returncode == 0 and not any(alive(pid) for pid in workers)
