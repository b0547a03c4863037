"""The rehearsal table ``make sandbox`` prints: each workload rehearsed or not, and why."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from slipway.rehearsal.workload import Outcome


def print_outcomes(outcomes: Sequence[Outcome], console: Console) -> None:
    table = Table(title="workloads rehearsed (started as their engine starts them)")
    for column in ("workload", "engine", "declared by", "rehearsed", "checks / reason"):
        table.add_column(column, overflow="fold")
    for outcome in outcomes:
        if not outcome.rehearsed:
            table.add_row(
                outcome.name, outcome.engine, outcome.source, "[yellow]NOT[/yellow]", outcome.reason
            )
            continue
        checks = "; ".join(
            f"{c.name}: {'ok' if c.ok else '[red]FAILED[/red] ' + c.detail}" for c in outcome.checks
        )
        verdict = "yes" if outcome.ok else "[red]yes, FAILED[/red]"
        table.add_row(outcome.name, outcome.engine, outcome.source, verdict, checks)
    console.print(table)
    for outcome in outcomes:
        for deviation in outcome.deviations:
            console.print(f"  {outcome.name}: deviation: {deviation}")
        if outcome.access_log is not None:
            console.print(f"  {outcome.name}: AWS requests kept in {outcome.access_log}")
        if outcome.rehearsed and not outcome.ok and outcome.output:
            console.print(f"  {outcome.name}: output (last lines):\n{outcome.output}")
    if not outcomes:
        console.print("the stack declares no workload")


def summary(outcomes: Sequence[Outcome]) -> str:
    done = sum(o.rehearsed for o in outcomes)
    failed = sum(o.rehearsed and not o.ok for o in outcomes)
    return f"{done} of {len(outcomes)} workloads rehearsed, {failed} failed"
