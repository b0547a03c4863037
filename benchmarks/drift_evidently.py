"""Evidently's data-drift preset on two Parquet files (runs in Evidently's own venv).

Usage: drift_evidently.py REFERENCE.parquet CURRENT.parquet OUT.json -- writes, per
column, Evidently's statistic (normalised Wasserstein at this size) and its threshold.
"""

from __future__ import annotations

import json
import sys
import time

import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset


def main(reference_path: str, current_path: str, out_path: str) -> None:
    start = time.perf_counter()
    reference = pd.read_parquet(reference_path)
    current = pd.read_parquet(current_path)
    snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
    columns = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            columns[config["column"]] = {
                "method": config["method"],
                "value": metric["value"],
                "threshold": config["threshold"],
            }
    with open(out_path, "w") as out:
        json.dump({"seconds": time.perf_counter() - start, "columns": columns}, out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
