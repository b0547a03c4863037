"""What the pipeline benchmark reads from the project's output."""

from __future__ import annotations

from pipeline_bench import import_breakdown, step_seconds

IMPORTTIME = """import time: self [us] | cumulative | imported package
import time:       120 |        120 |   _io
import time:      2000 |       2500 |     mlflow.entities
import time:      1500 |       4000 |   mlflow
import time:       700 |        700 | sklearn.base
not an import line
"""
STDERR = """2026/11/29 INFO mlflow.store.db.utils: Creating initial MLflow database tables...
done ingest + validate (0.3 s)
done train (1.2 s)
  monitor ━━━━━━━━━━ 7/7 0:00:04
"""


def test_import_time_is_summed_per_top_level_package_from_self_times() -> None:
    seconds = import_breakdown(IMPORTTIME)
    assert seconds == {"_io": 0.00012, "mlflow": 0.0035, "sklearn": 0.0007}


def test_step_timings_come_from_the_done_lines() -> None:
    assert step_seconds(STDERR) == {"ingest + validate": 0.3, "train": 1.2}
