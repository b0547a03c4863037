"""Slim launcher: run one command, write its wall time, own peak RSS, CPU time and exit code
as JSON.

Usage: ``python -I -S peak.py OUT.json -- CMD [ARG...]`` (``benchmarks.measure`` calls it).

Why a launcher: on Linux a child's ``ru_maxrss`` starts at the high-water mark of the
process it was forked from (``execve`` folds the old address space's peak into it), so
``os.wait4`` on a child of the benchmark itself reports the benchmark's own heap (the
generated data) when that is larger than the child's. This launcher runs without ``site``
(about 8 MiB), so what ``wait4`` reports is the measured program's own peak.
"""

import json
import os
import sys
import time


def main() -> None:
    out, separator, *cmd = sys.argv[1:]
    if separator != "--" or not cmd:
        raise SystemExit("usage: peak.py OUT.json -- CMD [ARG...]")
    start = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    result = {
        "seconds": seconds,
        "peak_mib": usage.ru_maxrss / 1024,  # KiB on Linux
        # user + system time of the program and the children it waited for (wait4 reports
        # both on Linux): what the program costs, whatever else shares the CPU
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "exit": os.waitstatus_to_exitcode(status),
    }
    with open(out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
