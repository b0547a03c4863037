"""Rehearse every workload a stack declares: discover, start, check, report."""

from __future__ import annotations

import shutil
from collections.abc import Sequence

from slipway.rehearsal import sagemaker
from slipway.rehearsal.context import Discoverer, RehearsalContext
from slipway.rehearsal.runner import rehearse, write_report
from slipway.rehearsal.workload import Outcome

# One discoverer per engine; each returns the workloads its engine would start for the
# stack (or says why one cannot be started). Add an engine here.
DISCOVERERS: list[Discoverer] = [sagemaker.endpoint_workloads]
REPORT = "rehearsal.json"


def rehearse_stack(
    ctx: RehearsalContext, discoverers: Sequence[Discoverer] | None = None
) -> list[Outcome]:
    """Start each workload once; the outcomes also go to ``<work_dir>/rehearsal.json``."""
    shutil.rmtree(ctx.work_dir, ignore_errors=True)  # the previous rehearsal's files
    found = [item for discover in (discoverers or DISCOVERERS) for item in discover(ctx)]
    outcomes = rehearse(found, ctx.work_dir)
    write_report(outcomes, ctx.work_dir / REPORT)
    return outcomes
