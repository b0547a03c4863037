"""Rehearse every workload a stack declares: discover, start, check, report."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence

from slipway.rehearsal import sagemaker
from slipway.rehearsal.context import Discoverer, RehearsalContext
from slipway.rehearsal.runner import rehearse, write_report
from slipway.rehearsal.workload import Outcome

# One discoverer per engine; each returns the workloads its engine would start for the
# stack (or says why one cannot be started). Add an engine here.
DISCOVERERS: list[Discoverer] = [sagemaker.endpoint_workloads]
REPORT = "rehearsal.json"

Sequenced = Callable[[RehearsalContext], list[Outcome]]
"""An engine whose workloads call each other (a cluster: MLflow first, then the pods that
use it, a release in between): it starts, checks and stops them in order itself."""


def eks_cluster(ctx: RehearsalContext) -> list[Outcome]:
    """The EKS workloads (slipway.rehearsal.eks) of a stack with a cluster; imported only
    then (it needs the eks extra)."""
    if not ctx.outputs.get("clusterName"):
        return []
    from slipway.rehearsal import eks

    return eks.rehearse(ctx)


SEQUENCED: list[Sequenced] = [eks_cluster]


def rehearse_stack(
    ctx: RehearsalContext,
    discoverers: Sequence[Discoverer] | None = None,
    sequenced: Sequence[Sequenced] | None = None,
) -> list[Outcome]:
    """Start each workload once; the outcomes also go to ``<work_dir>/rehearsal.json``."""
    shutil.rmtree(ctx.work_dir, ignore_errors=True)  # the previous rehearsal's files
    found = [item for discover in (discoverers or DISCOVERERS) for item in discover(ctx)]
    outcomes = rehearse(found, ctx.work_dir)
    for engine in SEQUENCED if sequenced is None else sequenced:
        outcomes.extend(engine(ctx))
    write_report(outcomes, ctx.work_dir / REPORT)
    return outcomes
