"""Start a workload as a process the way its container would run, and talk to it.

With ``unshare`` (util-linux) the process gets what a container gives it: its own network
namespace (only loopback, so it binds the declared port, e.g. 8080 on ``0.0.0.0``, without
clashing with anything on this machine) and its own mount namespace where each declared
mount (``/opt/ml/model``) appears at its container path, read-only, over an overlay of the
real parent directory. The rehearsal's HTTP client runs inside that network namespace
(``nsenter``). Without them (not Linux, user namespaces refused) the process runs on a
free loopback port and the mounts are handed over by the workload's documented override;
both are reported as deviations.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slipway.envvars import MODEL_URI_ENV
from slipway.rehearsal.workload import HttpCheck, Workload

PROBE = Path(__file__).with_name("probe.py")
TOOLS = ("unshare", "nsenter", "mount", "ip")
STOP_SECONDS = 10


@functools.cache
def namespaces_available() -> bool:
    """Whether this machine lets us create user, mount and network namespaces."""
    if sys.platform != "linux" or not all(shutil.which(t) for t in TOOLS):
        return False
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "--net", "true"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Started:
    """A running workload: its process, where its output goes, how to reach it."""

    workload: Workload
    process: subprocess.Popen[bytes]
    port: int
    isolated: bool
    log: Path

    def exchange(self, checks: tuple[HttpCheck, ...]) -> dict[str, Any]:
        """Wait for readiness, then send ``checks``; the probe's JSON answer."""
        ready = self.workload.readiness
        plan = {
            "pid": self.process.pid,
            "port": self.port,
            "deadline_seconds": self.workload.startup_seconds,
            "ready": _request(ready),
            "requests": [_request(c) for c in checks],
        }
        argv = [sys.executable, "-I", "-S", str(PROBE)]
        if self.isolated:
            self._await_namespace()
            pid = str(self.process.pid)
            argv = ["nsenter", "--target", pid, "--user", "--net", "--preserve-credentials", *argv]
        done = subprocess.run(
            argv,
            input=json.dumps(plan).encode(),
            capture_output=True,
            timeout=self.workload.startup_seconds + 120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"probe failed: {done.stderr.decode(errors='replace')[-500:]}")
        answer: dict[str, Any] = json.loads(done.stdout)
        return answer

    def _await_namespace(self) -> None:
        """Until ``unshare`` has moved the process into its own network namespace (joining
        one's own namespace fails); bounded by the startup deadline."""
        own = os.readlink("/proc/self/ns/net")
        deadline = time.monotonic() + self.workload.startup_seconds
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if os.readlink(f"/proc/{self.process.pid}/ns/net") != own:
                    return
            except OSError:
                return
            time.sleep(0.01)

    def stop(self) -> str:
        """SIGTERM, then SIGKILL after 10 s (SageMaker waits 30 s); the process's output."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.log.read_text(errors="replace")


def _request(check: HttpCheck) -> dict[str, Any]:
    return {
        "method": check.method,
        "path": check.path,
        "status": check.status,
        "body": base64.b64encode(check.body).decode(),
        "headers": check.headers,
    }


def start(workload: Workload, run_dir: Path, env: dict[str, str]) -> tuple[Started, list[str]]:
    """Start ``workload`` with ``env``; the handle and the deviations this start adds."""
    run_dir.mkdir(parents=True, exist_ok=True)
    log = run_dir / "output.log"
    workdir = run_dir / "workdir"
    workdir.mkdir(exist_ok=True)
    deviations = []
    if workload.workdir:
        deviations.append(f"working directory {workdir} instead of the image's {workload.workdir}")
    if workload.isolate and namespaces_available():
        argv = _isolated(workload, run_dir, workdir)
        port, isolated = workload.port, workload.own_network
    else:
        port, isolated = free_port(), False
        argv = list(workload.command)
        overrides = fallback_env(workload, port)
        env = {**env, **overrides}
        why = "calls services on this machine" if not workload.isolate else "no namespaces here"
        # a job (port 0) listens nowhere: no port to report
        where = f"port {port} on 127.0.0.1 instead of {workload.port}; " if workload.port else ""
        deviations.append(f"{why}: {where}" + ", ".join(f"{k}={v}" for k, v in overrides.items()))
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Started(workload, process, port, isolated, log), deviations


def fallback_env(workload: Workload, port: int) -> dict[str, str]:
    """The overrides the workload documents for a start without namespaces."""
    env = {workload.host_env: "127.0.0.1", workload.port_env: str(port)}
    for target, host in workload.mounts.items():
        if target == "/opt/ml/model":
            env[MODEL_URI_ENV] = str(host)
    return env


def _isolated(workload: Workload, run_dir: Path, workdir: Path) -> list[str]:
    """``unshare`` + a shell that raises loopback, lays the mounts, then execs the command."""
    return namespaced(
        workload.name,
        workload.command,
        workload.mounts,
        run_dir,
        str(workdir),
        own_network=workload.own_network,
        read_only=True,
    )


def namespaced(
    name: str,
    command: tuple[str, ...],
    mounts: dict[str, Path],
    run_dir: Path,
    workdir: str,
    *,
    own_network: bool,
    read_only: bool,
    keep: Iterable[str] = (),
) -> list[str]:
    """The argv that runs ``command`` in its own user and mount namespaces (and network
    namespace with ``own_network``): each mount at its container path, then ``cd workdir``.

    A mount over a host directory the rehearsal itself lives in (a pod's ``emptyDir`` at
    ``/tmp`` while the work dir, the project and the other mounts' sources are under the
    host's ``/tmp``) is laid last, and the host paths under it that the process needs (the
    other mounts' sources are read before; ``keep``: e.g. ``PYTHONPATH`` entries, the access
    log) are bound into its source first, at the same paths, so they stay reachable."""
    lines = ["set -e", "ip link set lo up"] if own_network else ["set -e"]
    for anchor, layer in mount_layers(mounts, run_dir).items():
        lines.append(
            f"mount -t overlay overlay -o lowerdir={shlex.quote(str(layer))}:{shlex.quote(anchor)} "
            f"{shlex.quote(anchor)}"
        )
    keep = [p for p in keep if p.startswith("/") and Path(p).exists()]  # host paths only
    needed = [*(str(host) for host in mounts.values()), *keep]

    def covers(target: str) -> bool:
        return any(_under(path, target) for path in needed)

    for target, host in sorted(mounts.items(), key=lambda item: covers(item[0])):
        hidden = _topmost(p for p in keep if _under(p, target))
        for path in hidden:
            inside = Path(host) / Path(path).relative_to(target)
            lines.append(f"mkdir -p {shlex.quote(str(inside))}")
            lines.append(f"mount --rbind {shlex.quote(path)} {shlex.quote(str(inside))}")
        bind = "--rbind" if hidden else "--bind"
        lines.append(f"mount {bind} {shlex.quote(str(host))} {shlex.quote(target)}")
        if read_only:
            lines.append(f"mount -o remount,bind,ro {shlex.quote(target)}")
    lines.append(f"cd {shlex.quote(workdir)}")
    lines.append('exec "$@"')
    network = ["--net"] if own_network else []
    script = "\n".join(lines)
    return [
        "unshare",
        "--user",
        "--map-root-user",
        "--mount",
        *network,
        "sh",
        "-c",
        script,
        name,
        *command,
    ]


def _under(path: str, directory: str) -> bool:
    """Whether ``path`` is strictly inside ``directory``."""
    return path.startswith(directory.rstrip("/") + "/")


def _topmost(paths: Iterable[str]) -> list[str]:
    """``paths`` without those inside another one of them."""
    unique = sorted(set(paths))
    return [p for p in unique if not any(_under(p, other) for other in unique)]


def mount_layers(targets: Iterable[str], run_dir: Path) -> dict[str, Path]:
    """Per existing ancestor of a mount target, a layer holding the missing directories."""
    layers: dict[str, Path] = {}
    for target in targets:
        anchor = Path(target)
        while not anchor.exists():
            anchor = anchor.parent
        if str(anchor) == target:
            continue
        layer = layers.setdefault(str(anchor), run_dir / "layers" / str(len(layers)))
        (layer / Path(target).relative_to(anchor)).mkdir(parents=True, exist_ok=True)
    return layers


def environment(workload: Workload, extra: dict[str, str]) -> dict[str, str]:
    """The process environment: the engine's (the workload's env) plus the rehearsal's."""
    base = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TZ", "HOME")}
    return {**base, **workload.env, **extra}
