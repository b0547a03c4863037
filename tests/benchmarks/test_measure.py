"""The drift benchmark's memory figure: a program's own peak RSS, not its parent's."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from measure import measure

MIB = 2**20


def allocate(mib: int) -> list[str]:
    """A Python child that writes ``mib`` MiB (every page touched) and exits."""
    return [sys.executable, "-c", f"block = b'x' * ({mib} * {MIB}); print(len(block))"]


def test_reports_the_peak_of_a_child_that_allocates_a_known_amount() -> None:
    small, large = measure(allocate(1)), measure(allocate(200))
    # the interpreter itself is ~10 MiB; the extra 199 MiB block shows up as such
    assert large.peak_mib - small.peak_mib == pytest.approx(199, abs=4)
    assert small.peak_mib < 30 and large.seconds > 0


def test_a_parents_large_heap_does_not_leak_into_the_childs_peak() -> None:
    heap = b"x" * (400 * MIB)  # the benchmark holding its generated data
    child = [sys.executable, "-c", "pass"]
    # The pitfall is real here: wait4 on a direct child reports the parent's high-water mark.
    proc = subprocess.Popen(child)
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    assert usage.ru_maxrss / 1024 >= 400
    assert measure(child).peak_mib < 50
    del heap


def test_a_failing_program_is_an_error_naming_it() -> None:
    failing = [sys.executable, "-c", "import sys; sys.exit('bad input: x')"]
    with pytest.raises(SystemExit, match=r"python: exited with 1\nbad input: x$"):
        measure(failing)
