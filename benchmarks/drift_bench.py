"""Slipway's drift detector vs Evidently's data-drift preset, same data, same machine, same run.

Data: ROWS x 20 numeric columns (reference and current, Parquet), current shifted by 0.2 sigma
in 5 columns. Each tool runs as its own process (Evidently in its own venv: 0.7.x needs
pandas < 3): wall time includes imports and reading the files; peak memory is the process's
max RSS. Agreement: per column |Wasserstein ours - Evidently's| and the drift verdicts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
COLUMNS, SHIFTED, SHIFT = 20, 5, 0.2
THRESHOLD, NEAR = 0.1, 0.01  # Evidently's default; verdicts this close to it may differ
TOLERANCE = 0.005  # max |Wasserstein difference| the issue allows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("drift")
    group.add_argument("--drift-rows", type=int, default=1_000_000, help="rows per data set")
    group.add_argument("--drift-workers", type=int, default=2, help="slipway detector threads")
    group.add_argument(
        "--evidently-python",
        type=Path,
        default=ROOT / "build" / "evidently-venv" / "bin" / "python",
    )
    group.add_argument("--drift-data", type=Path, default=ROOT / "build" / "bench-drift")


def make_data(rows: int, out: Path) -> tuple[Path, Path]:
    """Reference and current Parquet files (cached by row count)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    reference, current = out / f"reference-{rows}.parquet", out / f"current-{rows}.parquet"
    if reference.exists() and current.exists():
        return reference, current
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2024)
    means, scales = rng.uniform(-50, 50, COLUMNS), rng.uniform(0.5, 20, COLUMNS)
    shift = np.where(np.arange(COLUMNS) < SHIFTED, SHIFT * scales, 0.0)
    names = [f"f{i:02d}" for i in range(COLUMNS)]
    for path, offset in ((reference, 0.0), (current, shift)):
        data = rng.normal(means + offset, scales, size=(rows, COLUMNS))
        table = pa.table({name: data[:, i] for i, name in enumerate(names)})
        pq.write_table(table, path.with_suffix(".tmp"))
        path.with_suffix(".tmp").replace(path)
    return reference, current


def measure(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"error: {cmd[1]}: exited with {proc.returncode}")
    return seconds, usage.ru_maxrss / 1024


def run(args: argparse.Namespace) -> str:
    if not args.evidently_python.exists():
        raise SystemExit(f"error: {args.evidently_python}: missing; `make bench` creates it")
    reference, current = make_data(args.drift_rows, args.drift_data)
    with tempfile.TemporaryDirectory(prefix="slipway-drift-bench-") as tmp:
        ours_out, theirs_out = Path(tmp) / "slipway", Path(tmp) / "evidently.json"
        ours_t, ours_mem = measure(
            [
                sys.executable,
                str(HERE / "drift_slipway.py"),
                str(reference),
                str(current),
                str(ours_out),
                str(args.drift_workers),
            ]
        )
        theirs_t, theirs_mem = measure(
            [
                str(args.evidently_python),
                str(HERE / "drift_evidently.py"),
                str(reference),
                str(current),
                str(theirs_out),
            ]
        )
        ours = json.loads((ours_out / "bench.json").read_text())
        theirs = json.loads(theirs_out.read_text())
    diffs, agree, required = [], 0, 0
    print(f"{'column':8} {'slipway W':>10} {'evidently W':>12} {'|diff|':>9}  verdicts")
    for name, mine in ours["columns"].items():
        other = theirs["columns"][name]
        diff = abs(mine["value"] - other["value"])
        same = mine["drifted"] == (other["value"] >= other["threshold"])
        near = abs(other["value"] - other["threshold"]) < NEAR
        diffs.append(diff)
        agree += same
        required += not near
        print(
            f"{name:8} {mine['value']:10.5f} {other['value']:12.5f} {diff:9.2e}  "
            f"{'same' if same else 'DIFFERENT'}{' (near threshold)' if near else ''}"
        )
    print(
        f"slipway:   {ours_t:6.1f} s (profile {ours['profile_seconds']:.1f} s, detect + report "
        f"{ours['detect_seconds']:.1f} s), peak RSS {ours_mem:5.0f} MiB, "
        f"profile {ours['profile_bytes'] / 1024:.0f} KiB JSON"
    )
    print(
        f"evidently: {theirs_t:6.1f} s (report {theirs['seconds']:.1f} s), "
        f"peak RSS {theirs_mem:5.0f} MiB"
    )
    print(
        f"max |Wasserstein diff| {max(diffs):.2e} (allowed {TOLERANCE}); verdicts agree on "
        f"{agree}/{len(diffs)} ({required} columns further than {NEAR} from the threshold)"
    )
    return (
        f"drift {theirs_t / ours_t:.1f}x time, 1/{theirs_mem / ours_mem:.1f} memory, "
        f"verdicts {agree}/{len(diffs)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    print(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
