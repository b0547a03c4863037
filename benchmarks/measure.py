"""Wall time and the process's own peak memory of one benchmarked program."""

from __future__ import annotations

import json
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
    return Measured(seconds=result["seconds"], peak_mib=result["peak_mib"], stderr=done.stderr)
