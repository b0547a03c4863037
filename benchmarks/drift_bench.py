"""Slipway's drift detector vs Evidently's data-drift preset, same data, same machine, same run.

Data: ROWS x 20 numeric columns (reference and current, Parquet), current shifted by 0.2 sigma
in 5 columns. Each tool runs as its own process (Evidently in its own venv: 0.7.x needs
pandas < 3): wall time includes imports and reading the files; peak memory is the process's
own peak RSS (``measure.py``). Agreement: per column |Wasserstein ours - Evidently's| and the
drift verdicts.

Streaming: the monitoring run (the saved reference profile against the current file) on
ROWS and on 10 x ROWS current rows: time should grow with the rows, memory should not.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from load import watch
from measure import measure
from summary import Figure

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
COLUMNS, SHIFTED, SHIFT = 20, 5, 0.2
THRESHOLD, NEAR = 0.1, 0.01  # Evidently's default; verdicts this close to it may differ
TOLERANCE = 0.005  # max |Wasserstein difference| the issue allows
GENERATE_ROWS = 1_000_000  # rows generated (and written as one row group) at a time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("drift")
    group.add_argument("--drift-rows", type=int, default=1_000_000, help="rows per data set")
    group.add_argument(
        "--drift-scale", type=int, default=10, help="streaming run: this many times the rows"
    )
    group.add_argument("--drift-workers", type=int, default=2, help="slipway detector threads")
    group.add_argument(
        "--evidently-python",
        type=Path,
        default=ROOT / "build" / "evidently-venv" / "bin" / "python",
    )
    group.add_argument("--drift-data", type=Path, default=ROOT / "build" / "bench-drift")


def make_data(rows: int, out: Path, scale: int) -> tuple[Path, Path, Path]:
    """Reference and current Parquet files of ``rows`` rows, and a current file of ``scale``
    times as many rows from the same distribution (cached by row count)."""
    means, scales = np.random.default_rng(2024).uniform((-50, 0.5), (50, 20), (COLUMNS, 2)).T
    shift = np.where(np.arange(COLUMNS) < SHIFTED, SHIFT * scales, 0.0)
    files = (
        (out / f"reference-{rows}.parquet", rows, 0.0, 1),
        (out / f"current-{rows}.parquet", rows, shift, 2),
        (out / f"current-{rows * scale}.parquet", rows * scale, shift, 3),
    )
    for path, count, offset, seed in files:
        if not path.exists():
            write_normal(path, count, means + offset, scales, np.random.default_rng(seed))
    return files[0][0], files[1][0], files[2][0]


def write_normal(
    path: Path, rows: int, means: np.ndarray, scales: np.ndarray, rng: np.random.Generator
) -> None:
    """Normal columns ``f00``... written a row group at a time (bounded memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    names = [f"f{i:02d}" for i in range(COLUMNS)]
    schema = pa.schema([(name, pa.float64()) for name in names])
    partial = path.with_suffix(".tmp")
    with pq.ParquetWriter(partial, schema) as writer:
        for start in range(0, rows, GENERATE_ROWS):
            data = rng.normal(means, scales, size=(min(GENERATE_ROWS, rows - start), COLUMNS))
            writer.write_table(pa.table(dict(zip(names, data.T, strict=True)), schema=schema))
    partial.replace(path)


def slipway_cmd(reference: Path, current: Path, out: Path, workers: int) -> list[str]:
    script = HERE / "drift_slipway.py"
    return [sys.executable, str(script), str(reference), str(current), str(out), str(workers)]


def run(args: argparse.Namespace) -> list[Figure]:
    if not args.evidently_python.exists():
        raise SystemExit(f"error: {args.evidently_python}: missing; `make bench` creates it")
    reference, current, scaled = make_data(args.drift_rows, args.drift_data, args.drift_scale)
    workers, env = args.drift_workers, {**os.environ, "PYTHONWARNINGS": "ignore"}
    evidently = [str(args.evidently_python), str(HERE / "drift_evidently.py")]
    with tempfile.TemporaryDirectory(prefix="slipway-drift-bench-") as tmp:
        ours_out, theirs_out = Path(tmp) / "slipway", Path(tmp) / "evidently.json"
        with watch("drift vs Evidently") as versus:
            ours_run = measure(slipway_cmd(reference, current, ours_out, workers), env)
            theirs_run = measure([*evidently, str(reference), str(current), str(theirs_out)], env)
        ours = json.loads((ours_out / "bench.json").read_text())
        theirs = json.loads(theirs_out.read_text())
        profile = ours_out / "profile.json"  # the monitoring job's input: the saved profile
        with watch("drift streaming") as streaming:
            small, large = (
                measure(slipway_cmd(profile, path, Path(tmp) / path.stem, workers), env)
                for path in (current, scaled)
            )
    agree, total = compare(ours["columns"], theirs["columns"])
    print(
        f"slipway:   {ours_run.seconds:6.1f} s (profile {ours['profile_seconds']:.1f} s, "
        f"detect + report {ours['detect_seconds']:.1f} s), peak RSS {ours_run.peak_mib:5.0f} "
        f"MiB, profile {ours['profile_bytes'] / 1024:.0f} KiB JSON"
    )
    print(
        f"evidently: {theirs_run.seconds:6.1f} s (report {theirs['seconds']:.1f} s), "
        f"peak RSS {theirs_run.peak_mib:5.0f} MiB"
    )
    rows = (args.drift_rows, args.drift_rows * args.drift_scale)
    for count, run_ in zip(rows, (small, large), strict=True):
        print(
            f"slipway monitoring (saved profile, {count:,} current rows): "
            f"{run_.seconds:5.1f} s, peak RSS {run_.peak_mib:4.0f} MiB"
        )
    return [
        Figure("drift", f"{theirs_run.seconds / ours_run.seconds:.1f}x time", versus.load),
        Figure("", f"1/{theirs_run.peak_mib / ours_run.peak_mib:.1f} memory"),
        Figure("verdicts", f"{agree}/{total}"),
        Figure(
            f"{rows[1] / 1e6:g}M",
            f"{large.seconds / small.seconds:.1f}x time",
            streaming.load,
            steady=f"{large.peak_mib / small.peak_mib:.1f}x memory",
        ),
    ]


def compare(ours: dict, theirs: dict) -> tuple[int, int]:
    """Print the per-column agreement with Evidently; (verdicts that agree, columns)."""
    diffs, agree, required = [], 0, 0
    print(f"{'column':8} {'slipway W':>10} {'evidently W':>12} {'|diff|':>9}  verdicts")
    for name, mine in ours.items():
        other = theirs[name]
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
        f"max |Wasserstein diff| {max(diffs):.2e} (allowed {TOLERANCE}); verdicts agree on "
        f"{agree}/{len(diffs)} ({required} columns further than {NEAR} from the threshold)"
    )
    return agree, len(diffs)


def main() -> int:
    from summary import summary_line

    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    print(summary_line([run(parser.parse_args())]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
