"""``make bench``: every benchmark side by side; the last line sums up the ratios.

Each part is a function returning its one-line summary; add a part to PARTS to extend
the summary (e.g. ``serve 23.1x rps, p99 1/31; drift ...``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from drift_bench import add_arguments as drift_arguments
from drift_bench import run as drift_run
from serve_bench import add_arguments as serve_arguments
from serve_bench import run as serve_run

PARTS: list[tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], str]]]
PARTS = [(serve_arguments, serve_run), (drift_arguments, drift_run)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    for add_arguments, _ in PARTS:
        add_arguments(parser)
    args = parser.parse_args(argv)
    summaries = [run(args) for _, run in PARTS]
    print("; ".join(summaries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
