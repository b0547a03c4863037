"""The matrix as rich tables: role x request -> decision, and each role's unused grants."""

from __future__ import annotations

import io
import json

from rich.console import Console
from rich.table import Table

from slipway.access.matrix import Matrix


def matrix_table(matrix: Matrix, *, only_mismatches: bool = False) -> Table:
    stack = matrix.stack
    roles, requests = matrix.size()
    table = Table(title=f"{stack.prefix}: {roles} roles x {requests} requests")
    for column in ("role", "action", "resource", "context", "want", "decision", "decisive", "why"):
        table.add_column(column, overflow="fold")
    for row in matrix.rows:
        if only_mismatches and row.ok:
            continue
        e, d = row.expectation, row.decision
        context = json.dumps(dict(e.request.context), sort_keys=True) if e.request.context else ""
        decision = d.decision if row.ok else f"[bold red]{d.decision}[/]"
        table.add_row(
            e.role,
            e.request.action,
            e.request.resource,
            context,
            "allow" if e.allow else "deny",
            decision,
            ", ".join(d.statements) or d.error or ("-" if d.allowed else "no statement allows"),
            e.why,
        )
    return table


def unused_table(matrix: Matrix) -> Table:
    table = Table(title=f"{matrix.stack.prefix}: grants no expected request uses")
    table.add_column("role")
    table.add_column("statements it could still drop", overflow="fold")
    for role, statements in matrix.unused_grants().items():
        table.add_row(role, "\n".join(statements))
    return table


def render(matrix: Matrix, *, width: int = 200, only_mismatches: bool = False) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(matrix_table(matrix, only_mismatches=only_mismatches))
    console.print(unused_table(matrix))
    return console.export_text()


def tsv(matrix: Matrix) -> str:
    """Every row as tab-separated text (role, action, resource, want, decision, decisive, why)."""
    lines = ["role\taction\tresource\twant\tdecision\tdecisive\twhy"]
    for row in matrix.rows:
        e, d = row.expectation, row.decision
        want = "allow" if e.allow else "deny"
        decisive = ", ".join(d.statements) or d.error
        lines.append(
            f"{e.role}\t{e.request.action}\t{e.request.resource}\t{want}\t{d.decision}"
            f"\t{decisive}\t{e.why}"
        )
    return "\n".join(lines) + "\n"
