"""Rich tables of an apply or destroy: inventory (type, name, id) and read-back checks."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from slipway.sandbox.engine import ApplyReport, DestroyReport
from slipway.sandbox.state import Entry


def _inventory(title: str, entries: list[Entry]) -> Table:
    table = Table(title=title)
    for column in ("type", "name", "id", "where", "change"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        where = "moto" if entry.in_moto else "mock-only"
        table.add_row(entry.type, entry.name, entry.id, where, entry.action)
    return table


def summary(report: ApplyReport) -> str:
    """One line: counts per change, or ``no changes``."""
    if not report.changed:
        return f"no changes ({len(report.entries)} resources unchanged)"
    counts = Counter(entry.action for entry in report.entries)
    counts["deleted"] += len(report.removed)
    return ", ".join(f"{n} {action}" for action, n in sorted(counts.items()) if n)


def print_apply(report: ApplyReport, console: Console) -> None:
    console.print(_inventory("sandbox inventory", report.entries + report.removed))
    mock_only = sorted({e.type for e in report.entries if not e.in_moto})
    if mock_only:
        console.print(f"mock-only (moto cannot emulate): {', '.join(mock_only)}")
    checks = Table(title="read back from moto")
    for column in ("resource", "property", "declared", "in moto", "ok"):
        checks.add_column(column, overflow="fold")
    for check in report.checks:
        checks.add_row(
            check.resource,
            check.prop,
            str(check.declared),
            str(check.actual),
            "yes" if check.ok else "[red]NO[/red]",
        )
    console.print(checks)
    console.print(summary(report))


def print_destroy(report: DestroyReport, console: Console) -> None:
    console.print(_inventory("destroyed", report.removed))
    console.print(f"{len(report.removed)} deleted; moto holds nothing")
