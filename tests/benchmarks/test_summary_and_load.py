"""The summary line of ``make bench`` and the machine-load verdict beside each figure."""

from __future__ import annotations

import subprocess
import sys

import load
import pytest
from load import CpuTimes, Load, idle_others, others_cores, steal_share, watch
from summary import Figure, summary_line

QUIET = Load(loadavg=0.3, others=0.05, steal=0.0)
BUSY = Load(loadavg=4.2, others=1.3, steal=0.0)
STAT = """cpu  85601 0 14276 77889 1147 0 316 143 0 0
cpu0 42000 0 7000 39000 500 0 150 70 0 0
intr 1234
"""


def issue_figures(serve_load: Load, pipeline_load: Load) -> list[list[Figure]]:
    return [
        [
            Figure("serve", "46.1x rps", serve_load),
            Figure("p99", "1/56", serve_load),
            Figure("batch100", "12.0x rps", QUIET),
            Figure("cold start", "1/4.2", QUIET),
        ],
        [
            Figure("drift", "122.6x time", QUIET),
            Figure("", "1/11.0 memory"),
            Figure("verdicts", "20/20"),
            Figure("10M", "9.8x time", QUIET, steady="1.1x memory"),
        ],
        [Figure("pipeline", "8.2 s", pipeline_load)],
    ]


def test_summary_line_carries_every_figure_in_the_issues_form() -> None:
    assert summary_line(issue_figures(QUIET, QUIET)) == (
        "serve 46.1x rps, p99 1/56, batch100 12.0x rps, cold start 1/4.2; drift 122.6x time, "
        "1/11.0 memory, verdicts 20/20, 10M 9.8x time 1.1x memory; pipeline 8.2 s"
    )


def test_a_figure_measured_on_a_busy_machine_says_busy_instead_of_its_ratio() -> None:
    line = summary_line(issue_figures(BUSY, BUSY))
    assert line.startswith("serve busy (others 1.3 cores, steal 0%), p99 busy (")
    assert "46.1x" not in line and "1/56" not in line and "8.2 s" not in line
    assert line.endswith("; pipeline busy (others 1.3 cores, steal 0%)")
    held = Figure("10M", "9.8x time", BUSY, steady="1.1x memory").render()
    assert held == "10M busy (others 1.3 cores, steal 0%) 1.1x memory"
    assert (
        Figure("pipeline", unmeasured="no project").render() == "pipeline not measured (no project)"
    )


def test_load_is_busy_when_others_use_a_quarter_core_or_the_hypervisor_steals() -> None:
    assert not QUIET.busy and BUSY.busy
    assert Load(loadavg=0.0, others=0.0, steal=0.08).busy
    assert not Load(loadavg=3.0, others=0.2, steal=0.01).busy  # the load average is context
    assert "BUSY" in BUSY.describe() and "quiet" in QUIET.describe()


def test_proc_stat_parsing_and_window_arithmetic() -> None:
    times = CpuTimes.parse(STAT)
    assert times == CpuTimes(busy=85601 + 14276 + 316 + 143, steal=143, total=179372)
    later = CpuTimes(busy=times.busy + 150, steal=times.steal + 20, total=times.total + 200)
    # 1.5 s of CPU in 1 s, 0.4 s of it this process's own: others used 1.1 cores
    assert abs(others_cores(times, later, own_seconds=0.4, seconds=1.0) - 1.1) < 1e-9
    assert others_cores(times, later, own_seconds=2.0, seconds=1.0) == 0.0
    assert steal_share(times, later) == 0.1 and steal_share(times, times) == 0.0


def test_a_process_spinning_beside_the_benchmark_reads_as_busy() -> None:
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        others = idle_others(0.5)
    finally:
        spinner.kill()
        spinner.wait()
    assert others > load.OTHERS_LIMIT


def test_watch_fills_and_prints_the_load_when_its_block_ends(
    capsys: pytest.CaptureFixture[str],
) -> None:
    windows = iter([0.1, 0.6])
    with watch("serve", idle=lambda: next(windows)) as handle:
        assert handle.load is None
    assert handle.load is not None and handle.load.others == 0.6 and handle.load.busy
    assert capsys.readouterr().out.startswith("serve: load BUSY: others 0.60 cores")
