"""Slipway's drift detector on two Parquet files, the way monitoring runs it.

Usage: drift_slipway.py REFERENCE CURRENT.parquet OUT_DIR [WORKERS [CHUNK_ROWS]] --
profiles the reference column by column (REFERENCE.parquet, as training does; the profile is
saved as OUT_DIR/profile.json) or loads a saved profile (REFERENCE.json, as monitoring does),
streams the current file in chunks (column by column, one feature per worker), writes the
HTML report and JSON summary into OUT_DIR and the per-column result to OUT_DIR/bench.json.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow.parquet as pq
from slipway.drift import Profile, detect_drift, file_chunks, numeric_profile, write_report
from slipway.drift.sources import CHUNK_ROWS, ParquetChunks


def profile_parquet(path: Path, workers: int) -> Profile:
    """The reference profile, one column in memory per worker at a time."""
    names = pq.read_schema(path).names
    source = ParquetChunks(path, names)

    def one(name: str):  # type: ignore[no-untyped-def]
        return numeric_profile(source.read_column(name))  # the generated data is finite

    with ThreadPoolExecutor(workers) as pool:
        return Profile(features=dict(zip(names, pool.map(one, names), strict=True)))


def main(
    reference: str, current: str, out_dir: str, workers: str = "2", chunk_rows: str = ""
) -> None:
    start = time.perf_counter()
    if reference.endswith(".json"):
        profile = Profile.load(Path(reference))
    else:
        profile = profile_parquet(Path(reference), int(workers))
        profile.save(Path(out_dir) / "profile.json")
    profiled = time.perf_counter()
    chunks = file_chunks(Path(current), list(profile.features), int(chunk_rows or CHUNK_ROWS))
    result = detect_drift(profile, chunks, workers=int(workers))
    write_report(result, Path(out_dir))
    done = time.perf_counter()
    columns = {f.feature: {"value": f.wasserstein, "drifted": f.drifted} for f in result.features}
    summary = {
        "profile_seconds": profiled - start,
        "detect_seconds": done - profiled,
        "profile_bytes": len(profile.model_dump_json()),
        "columns": columns,
    }
    (Path(out_dir) / "bench.json").write_text(json.dumps(summary))


if __name__ == "__main__":
    main(*sys.argv[1:6])
