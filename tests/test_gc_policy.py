"""slipway.testing.gc_policy: a module's growing heap starts no full collection, young garbage
is still collected, the previous module's garbage is gone before the next module starts, and a
failing finalizer of an object frozen at a boundary is still reported at exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

POLICY = "slipway.testing.gc_policy"

FIRST = """
import gc, sys

full = sys.modules["record"].full


class Failing:
    def __del__(self):
        raise RuntimeError("finalizer failed")


class Noted:
    def __del__(self):
        sys.modules["record"].finalized.append("first module's cycle")


kept = []


def test_a_growing_heap_starts_no_full_collection():
    before = full.count(2)
    young = full.count(0)
    for _ in range(60):
        kept.append([[] for _ in range(5_000)])  # 300,000 survivors in all
    noted = Noted()
    noted.cycle = noted  # garbage once this test returns
    assert full.count(0) > young  # the young generation still collects
    print(f"full collections while the heap grew: {full.count(2) - before}")


def test_keeps_a_failing_cycle_alive():
    failing = Failing()
    failing.cycle = failing
    sys.modules["record"].failing = failing
"""

SECOND = """
import gc, sys

record = sys.modules["record"]


def test_the_first_modules_garbage_is_gone():
    assert record.finalized == ["first module's cycle"]
    assert gc.get_freeze_count() > 0


def test_drops_the_frozen_cycle():
    del record.failing  # frozen at the boundary: freed by the collection at exit
"""

CONFTEST = """
import atexit, gc, os, sys, types

if os.environ.get("FREEZE_FIRST"):  # as a warm runner's fork is
    gc.freeze()
atexit.register(lambda: print(f"frozen at exit: {gc.get_freeze_count() > 0}"))

record = types.ModuleType("record")
record.full, record.finalized = [], []
sys.modules["record"] = record
gc.callbacks.append(lambda phase, info: phase == "start" and record.full.append(info["generation"]))
"""


def _run(tmp_path: Path, *plugins: str, **env: str) -> str:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_a_first.py").write_text(FIRST)
    (tmp_path / "test_b_second.py").write_text(SECOND)
    options = [arg for plugin in plugins for arg in ("-p", plugin)]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *options, "-p", "no:cacheprovider", "-q", "-s"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    return run.stdout + run.stderr + f"\nexit {run.returncode}"


def test_full_collections_happen_at_module_boundaries_only(tmp_path: Path) -> None:
    output = _run(tmp_path, POLICY, "exit_gc")
    assert "4 passed" in output, output
    assert "full collections while the heap grew: 0" in output, output
    assert "RuntimeError: finalizer failed" in output, output  # reported at exit
    assert "frozen at exit: False" in output, output


def test_a_process_frozen_before_the_session_stays_frozen(tmp_path: Path) -> None:
    output = _run(tmp_path, POLICY, "exit_gc", FREEZE_FIRST="1")
    assert "4 passed" in output, output
    assert "full collections while the heap grew: 0" in output, output
    assert "frozen at exit: True" in output, output


def test_without_the_policy_the_growing_heap_starts_full_collections(tmp_path: Path) -> None:
    """The probe can tell: CPython's own thresholds start full collections in the first test
    (and the next module may start before the cycle is collected)."""
    output = _run(tmp_path, "exit_gc")
    assert "full collections while the heap grew: 0" not in output, output
    assert "full collections while the heap grew: " in output, output
