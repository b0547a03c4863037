"""Wall time, CPU time and the process's own peak memory of one benchmarked program.

Measured programs run with Python's default bytecode cache (``program_env``): the serving
image compiles its modules when it installs them (``pip install``), a project's venv caches
them on first import. A session with ``PYTHONDONTWRITEBYTECODE=1`` (set on this team's
machine) would otherwise recompile every imported module in every run: a ``pipeline run``
used 14.3 s of CPU without a cache, 7.4 s with one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

LAUNCHER = Path(__file__).resolve().with_name("peak.py")


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mib: float
    stderr: str = ""
    cpu_seconds: float = 0.0  # user + system, the program and the children it waited for


NO_BYTECODE = "PYTHONDONTWRITEBYTECODE"


def program_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a measured program: ``base`` (default ``os.environ``) with Python's
    bytecode cache on, as in the serving image and a project's venv."""
    return {k: v for k, v in (os.environ if base is None else base).items() if k != NO_BYTECODE}


def group_cpu_seconds(pgid: int, proc: Path = Path("/proc")) -> float:
    """CPU seconds (user + system) used so far by the live processes of group ``pgid`` and the
    children they have reaped (``/proc/<pid>/stat`` utime, stime, cutime, cstime)."""
    total = 0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # exited since the listing
            continue
        fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
        if int(fields[2]) == pgid:  # field 5, pgrp
            total += sum(int(f) for f in fields[11:15])  # fields 14-17
    return total / os.sysconf("SC_CLK_TCK")


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Measured:
    """Run ``cmd`` under the slim launcher (``peak.py``): wall time from spawn to exit and
    the program's own peak RSS, whatever the calling process holds. Its output is kept back
    (stderr is returned; its last lines are shown when it fails)."""
    with tempfile.TemporaryDirectory(prefix="slipway-measure-") as tmp:
        out = Path(tmp) / "measured.json"
        launcher = [sys.executable, "-I", "-S", str(LAUNCHER), str(out), "--", *cmd]
        done = subprocess.run(launcher, env=env, cwd=cwd, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"error: launcher: exited with {done.returncode}: {done.stderr}")
        result = json.loads(out.read_text())
    if result["exit"]:
        detail = done.stderr.strip().splitlines()[-20:]
        raise SystemExit("\n".join([f"error: {cmd[0]}: exited with {result['exit']}", *detail]))
    return Measured(
        seconds=result["seconds"],
        peak_mib=result["peak_mib"],
        stderr=done.stderr,
        cpu_seconds=result["cpu_seconds"],
    )
