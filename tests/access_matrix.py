"""The access matrix of every stack of every structural option combination, evaluated in one
iam-simulate batch (tests/test_access_matrix.py; shared helpers, imported, never a conftest)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from matrix import ROOT, STRUCTURAL_COMBOS, combo_id
from program_runs import StackRun
from slipway.access.expectations import expectations, other_project
from slipway.access.matrix import Case, Expectation, Matrix, Row, case_for
from slipway.access.request import AccessRequest, read_jsonl
from slipway.access.stack import StackAccess, stack_access
from slipway.testing import ProgramRun, run_program
from tools.iam_engine import IamSimulate

STACKS = ("dev", "staging", "prod")
PROJECT = "churn-model"
RECORDED = ROOT / "tests" / "recorded"
# The first combination once more with a self-managed Pulumi backend (its stacks' roles
# reach their own state only): key `<combo>+state`.
STATE_BUCKET = "example-org-pulumi-state"
STATE = "+state"


@dataclass
class Evaluated:
    runs: dict[tuple[str, str], ProgramRun]
    matrices: dict[tuple[str, str], Matrix]
    requests: int
    evaluated: int


def recorded() -> dict[str, list[AccessRequest]]:
    """Workload recordings kept by the tests that run the workloads (tests/recorded/*.jsonl)."""
    return {path.stem: list(read_jsonl(path)) for path in sorted(RECORDED.glob("*.jsonl"))}


def with_state_variant(
    runs: dict[tuple[str, str], StackRun], out: Path
) -> dict[tuple[str, str], ProgramRun]:
    """The shared runs, plus the first combination's stacks run again with
    ``slipway:pulumiStateBucket`` set (``<combo>+state``)."""
    found = {key: stack.run for key, stack in runs.items()}
    first = combo_id(STRUCTURAL_COMBOS[0])
    infra = shutil.copytree(runs[first, STACKS[0]].infra, out / "infra")
    for stack in STACKS:
        stack_file = infra / f"Pulumi.{stack}.yaml"
        stack_file.write_text(
            stack_file.read_text() + f"  slipway:pulumiStateBucket: {STATE_BUCKET}\n"
        )
        found[first + STATE, stack] = run_program(infra, stack)
    return found


def evaluate_all(
    runs: dict[tuple[str, str], ProgramRun], engine: IamSimulate | None = None
) -> Evaluated:
    """Expectations of every (combo, stack) against its combo's other stacks and another
    project; one Node process for all of them."""
    recordings = recorded()
    stacks = {
        key: stack_access(
            run, PROJECT, key[1], state_bucket=STATE_BUCKET if key[0].endswith(STATE) else None
        )
        for key, run in runs.items()
    }
    plans: list[tuple[tuple[str, str], list[Expectation], list[Case]]] = []
    for (combo, name), stack in stacks.items():
        siblings = [other for (c, s), other in stacks.items() if c == combo and s != name]
        others = [*siblings, other_project(stack)]
        expected = expectations(stack, runs[combo, name], others, recordings)
        world: list[StackAccess] = [stack, *others]
        plans.append(((combo, name), expected, [case_for(e, stack, world) for e in expected]))
    engine = engine or IamSimulate()
    decisions = engine.evaluate([c for _, _, cases in plans for c in cases])
    matrices, start = {}, 0
    for key, expected, cases in plans:
        chunk = decisions[start : start + len(cases)]
        start += len(cases)
        matrices[key] = Matrix(
            stacks[key], [Row(e, d) for e, d in zip(expected, chunk, strict=True)]
        )
    return Evaluated(runs, matrices, engine.requests, engine.evaluated)


def finding(row: Row) -> str:
    """A mismatch without the stack's names: ``role want action [origin kind]``."""
    e = row.expectation
    kind = e.why.split(":", 1)[0]
    if e.why.startswith("deny:"):
        kind = "deny:" + (
            e.why[5:]
            if not e.why[5:].startswith(PROJECT + "-") and not e.why[5:].startswith("other-")
            else ("other project" if e.why[5:].startswith("other-") else "other stack")
        )
    want = "allow" if e.allow else "deny"
    error = " (error)" if row.decision.decision == "Error" else ""
    return f"{e.role} must {want} {e.request.action} [{kind}]{error}"
