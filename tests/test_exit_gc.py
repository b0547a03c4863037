"""tests/exit_gc.py: a finalizer's exception in garbage left at exit is still reported, by
the one full collection that runs after the session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import atexit, gc, os

gc.disable()  # only explicit collections from here on
full = []
gc.callbacks.append(lambda phase, info: phase == "start" and full.append(info["generation"]))
atexit.register(lambda: os.write(1, f"full collections after the tests: {full.count(2)}".encode()))


class Failing:
    def __del__(self):
        raise RuntimeError("finalizer failed")


def test_leaves_a_cycle():
    failing = Failing()
    failing.cycle = failing
"""


def test_one_collection_at_exit_still_reports_a_failing_finalizer(tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(PROBE)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "exit_gc", "-p", "no:cacheprovider", "-q"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)},
        capture_output=True,
        text=True,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "RuntimeError: finalizer failed" in output
    assert "full collections after the tests: 1" in output
