"""Machine load beside each benchmark figure: was anything else using the CPU?

Ratios of two programs measured one after the other only hold when the machine gives both
the same CPU; on this shared 2-core VM the serve ratio fell from 46x (quiet) to 16.5x (busy).
Around each figure: the CPU used by other processes in a short idle window before and after
(``/proc/stat`` busy time minus this process's own), the hypervisor's steal share during the
figure, and the 1-minute load average (``/proc/loadavg``, which also counts the benchmark's
own processes, so it is context, not the verdict).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

OTHERS_LIMIT = 0.25  # cores used by other processes while the benchmark idles
STEAL_LIMIT = 0.05  # share of CPU time the hypervisor gave to other guests
IDLE_WINDOW = 1.0  # seconds
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuTimes:
    """The aggregate ``cpu`` line of ``/proc/stat``, in clock ticks."""

    busy: int
    steal: int
    total: int

    @classmethod
    def parse(cls, stat: str) -> CpuTimes:
        line = next(li for li in stat.splitlines() if li.startswith("cpu "))
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, line.split()[1:9])
        busy = user + nice + system + irq + softirq + steal  # guest time is inside user
        return cls(busy=busy, steal=steal, total=busy + idle + iowait)


@dataclass(frozen=True)
class Load:
    """The load around one figure."""

    loadavg: float  # 1-minute load average at the start
    others: float  # cores busy outside the benchmark (the busier idle window)
    steal: float  # steal share during the figure

    @property
    def busy(self) -> bool:
        return self.others > OTHERS_LIMIT or self.steal > STEAL_LIMIT

    def describe(self) -> str:
        verdict = "BUSY" if self.busy else "quiet"
        return (
            f"load {verdict}: others {self.others:.2f} cores (limit {OTHERS_LIMIT}), "
            f"steal {self.steal:.1%} (limit {STEAL_LIMIT:.0%}), 1-min load average "
            f"{self.loadavg:.2f}"
        )


def others_cores(before: CpuTimes, after: CpuTimes, own_seconds: float, seconds: float) -> float:
    """Cores used by other processes between two samples, given this process's CPU time."""
    machine = (after.busy - before.busy) / TICK
    return max(machine - own_seconds, 0.0) / seconds


def steal_share(before: CpuTimes, after: CpuTimes) -> float:
    total = after.total - before.total
    return (after.steal - before.steal) / total if total > 0 else 0.0


def read_stat(proc: Path = Path("/proc")) -> CpuTimes:
    return CpuTimes.parse((proc / "stat").read_text())


def read_loadavg(proc: Path = Path("/proc")) -> float:
    return float((proc / "loadavg").read_text().split()[0])


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def idle_others(seconds: float = IDLE_WINDOW, sleep: Callable[[float], None] = time.sleep) -> float:
    """Cores busy outside this process while it sleeps for ``seconds``."""
    before, own, start = read_stat(), _own_cpu(), time.perf_counter()
    sleep(seconds)
    elapsed = time.perf_counter() - start
    return others_cores(before, read_stat(), _own_cpu() - own, elapsed)


@dataclass
class LoadWatch:
    """Filled in by :func:`watch` when its block ends."""

    load: Load | None = None


@contextmanager
def watch(label: str, idle: Callable[[], float] = idle_others) -> Iterator[LoadWatch]:
    """Measure the load around the block (an idle window before and after, steal during)
    and print it under ``label``."""
    loadavg, before_others = read_loadavg(), idle()
    start, handle = read_stat(), LoadWatch()
    yield handle
    end = read_stat()
    others = max(before_others, idle())
    handle.load = Load(loadavg=loadavg, others=others, steal=steal_share(start, end))
    print(f"{label}: {handle.load.describe()}")
