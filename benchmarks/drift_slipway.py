"""Slipway's drift detector on two Parquet files, the way monitoring runs it.

Usage: drift_slipway.py REFERENCE.parquet CURRENT.parquet OUT_DIR [WORKERS] -- profiles
the reference column by column, streams the current file in chunks, writes the HTML
report and JSON summary into OUT_DIR and the per-column result to OUT_DIR/bench.json.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow.parquet as pq
from slipway.drift import Profile, detect_drift, file_chunks, numeric_profile, write_report


def profile_parquet(path: Path, workers: int) -> Profile:
    """The reference profile, one column in memory per worker at a time."""
    names = pq.ParquetFile(path).schema_arrow.names

    def one(name: str):  # type: ignore[no-untyped-def]
        column = pq.read_table(path, columns=[name]).column(0).to_numpy()
        return numeric_profile(column.copy())

    with ThreadPoolExecutor(workers) as pool:
        return Profile(features=dict(zip(names, pool.map(one, names), strict=True)))


def main(reference: str, current: str, out_dir: str, workers: str = "2") -> None:
    start = time.perf_counter()
    profile = profile_parquet(Path(reference), int(workers))
    profiled = time.perf_counter()
    chunks = file_chunks(Path(current), list(profile.features))
    result = detect_drift(profile, chunks, workers=int(workers))
    write_report(result, Path(out_dir))
    done = time.perf_counter()
    columns = {f.feature: {"value": f.wasserstein, "drifted": f.drifted} for f in result.features}
    summary = {"profile_seconds": profiled - start, "detect_seconds": done - profiled,
               "profile_bytes": len(profile.model_dump_json()), "columns": columns}
    (Path(out_dir) / "bench.json").write_text(json.dumps(summary))


if __name__ == "__main__":
    main(*sys.argv[1:5])
