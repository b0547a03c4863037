"""docs/engines.md's cost of a run states each preset's instances and ceiling as the presets
declare them (the table is read, not re-typed: a preset change without the doc fails)."""

from __future__ import annotations

import re

import pytest
from matrix import ROOT
from slipway.presets import load_preset

DOC = ROOT / "docs" / "engines.md"
ROW = re.compile(
    r"^\| (?P<stack>dev|staging|prod) \| `(?P<processing>[\w.]+)` \u00d73 \| `(?P<train>[\w.]+)`, "
    r"(?P<spot>spot|on demand)[^|]*\| `(?P<batch>[\w.]+)` \| "
    r"4 (?:jobs )?\u00d7 (?P<minutes>\d+) min"
)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_cost_table_states_the_presets_instances_and_ceiling(stack: str) -> None:
    rows = {m["stack"]: m for m in map(ROW.match, DOC.read_text().splitlines()) if m}
    row, jobs = rows[stack], load_preset(stack).training.sagemaker
    assert (row["processing"], row["train"], row["batch"]) == (
        jobs.processing_instance_type,
        jobs.instance_type,
        jobs.batch_instance_type,
    )
    assert (row["spot"] == "spot") is jobs.spot
    assert int(row["minutes"]) == jobs.max_run_minutes
    if jobs.spot and stack != "dev":
        assert f"waits up to {jobs.max_wait_minutes} min" in row.group(0)
