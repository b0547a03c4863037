"""The drift benchmark's memory figure: a program's own peak RSS, not its parent's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from measure import group_cpu_seconds, measure, program_env

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


def burn(seconds: float) -> str:
    """Python source that spins for ``seconds`` of its own CPU time."""
    return (
        f"import time\nt = time.process_time()\nwhile time.process_time() - t < {seconds}: pass\n"
    )


def test_cpu_time_counts_the_program_and_its_children_not_its_waiting() -> None:
    grandchild = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn(0.6)!r}])"
    spinning = measure([sys.executable, "-c", burn(0.6)])
    sleeping = measure([sys.executable, "-c", "import time; time.sleep(0.6)"])
    parent = measure([sys.executable, "-c", grandchild])
    assert 0.6 <= spinning.cpu_seconds < 1.2
    assert sleeping.cpu_seconds < 0.4 <= sleeping.seconds
    assert parent.cpu_seconds >= 0.6  # a child's CPU is the program's


def test_group_cpu_counts_every_live_process_of_the_group(tmp_path: Path) -> None:
    """A server's group at its first /ping: a launcher whose two workers each spin 0.4 s."""
    ready = tmp_path / "ready"
    worker = burn(0.4) + f"open({str(ready)!r} + str(__import__('os').getpid()), 'w')\n"
    worker += "time.sleep(60)\n"
    launcher = (
        "import subprocess, sys, time\n"
        f"workers = [subprocess.Popen([sys.executable, '-c', {worker!r}]) for _ in range(2)]\n"
        "time.sleep(60)\n"
    )
    group = subprocess.Popen([sys.executable, "-c", launcher], start_new_session=True)
    try:
        while len(list(tmp_path.glob("ready*"))) < 2:
            assert group.poll() is None
            time.sleep(0.05)
        assert 0.8 <= group_cpu_seconds(group.pid) < 2.0
    finally:
        os.killpg(group.pid, signal.SIGKILL)
        group.wait()


def test_group_cpu_reads_proc_stat_fields(tmp_path: Path) -> None:
    """utime, stime, cutime, cstime (fields 14-17) of the processes whose pgrp (field 5) is the
    group; a command name with spaces and parentheses does not shift the fields."""
    tick = os.sysconf("SC_CLK_TCK")
    rest = "S 1 {pgrp} 1 0 -1 0 0 0 0 0 {u} {s} {cu} {cs} 20 0 1 0 0 0 0"
    for pid, comm, pgrp, times in (
        (10, "python", 10, (tick, tick, 0, 0)),
        (11, "a (b) c", 10, (0, 0, tick, tick)),
        (12, "other", 12, (9 * tick, 0, 0, 0)),
    ):
        (tmp_path / str(pid)).mkdir()
        u, s, cu, cs = times
        line = f"{pid} ({comm}) " + rest.format(pgrp=pgrp, u=u, s=s, cu=cu, cs=cs)
        (tmp_path / str(pid) / "stat").write_text(line)
    assert group_cpu_seconds(10, tmp_path) == 4.0
    assert group_cpu_seconds(12, tmp_path) == 9.0


def test_measured_programs_keep_their_bytecode_cache() -> None:
    env = program_env({"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/bin"})
    assert env == {"PATH": "/bin"}
