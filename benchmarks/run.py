"""``make bench``: every benchmark side by side; the last line carries every figure.

Each part is a function returning its figures (``summary.Figure``); add a part to PARTS to
extend the summary (e.g. ``serve 46.1x rps, p99 1/56, ...; drift ...; pipeline 8.2 s``).
A figure measured while other processes used the CPU reads ``busy`` (``load.py``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from drift_bench import add_arguments as drift_arguments
from drift_bench import run as drift_run
from load import read_loadavg
from pipeline_bench import add_arguments as pipeline_arguments
from pipeline_bench import run as pipeline_run
from serve_bench import add_arguments as serve_arguments
from serve_bench import run as serve_run
from summary import Figure, summary_line

Part = tuple[
    Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], list[Figure]]
]
PARTS: list[Part] = [
    (serve_arguments, serve_run),
    (drift_arguments, drift_run),
    (pipeline_arguments, pipeline_run),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    for add_arguments, _ in PARTS:
        add_arguments(parser)
    args = parser.parse_args(argv)
    print(f"1-minute load average at the start: {read_loadavg():.2f}")
    groups = [run(args) for _, run in PARTS]
    print(summary_line(groups))
    return 0


if __name__ == "__main__":
    sys.exit(main())
