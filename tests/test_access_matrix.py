"""The access matrix (issue 13): every role of every stack of every structural option
combination, evaluated by a real IAM engine (npm @cloud-copilot/iam-simulate, AGPL-3.0, test
time only) for what it must be allowed and what it must be denied.

``KNOWN`` lists the findings still open, each a mismatch the engine reports; the comparison
is strict, so a new mismatch fails and so does a finding that went away without its entry
being removed (docs/security.md lists the findings of issue 13 and their fixes). A variant of
the first combination runs with a self-managed Pulumi backend (``<combo>+state``).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from access_matrix import STACKS, STATE, Evaluated, evaluate_all, finding, with_state_variant
from matrix import ROOT, STRUCTURAL_COMBOS, combo_id
from program_runs import StackRun, stack_cases
from slipway.access.report import render, tsv
from tools import iam_engine

pytestmark = pytest.mark.skipif(
    not iam_engine.available(),
    reason="needs Node.js and `make iam-simulate` (npm @cloud-copilot/iam-simulate)",
)
REPORT = ROOT / "build" / "access-matrix"
Combo = dict[str, str]

# finding -> where it shows (combo, stack). Every finding of issue 13 is fixed (their
# entries are gone: docs/security.md lists them); what remains belongs to another workstream.
KNOWN: dict[str, Callable[[Combo, str], bool]] = {}
# Roles no workload uses (yet), so nothing must be allowed: the unused-grant report lists
# every statement of theirs (docs/security.md).
NOTHING_TO_ALLOW: dict[str, Callable[[str], bool]] = {
    # An EKS stack still declares the SageMaker training role: its Jobs' steps run as the
    # `training` IRSA role (on SageMaker the pipelines run as `train`, slipway.access.engines).
    "train": lambda combo: combo.startswith("eks"),
    # An EKS stack still declares the SageMaker execution and inference roles; nothing runs
    # with them there (tracking is the in-cluster MLflow, serving the cluster's Deployment).
    "exec": lambda combo: combo.startswith("eks"),
    "infer": lambda combo: combo.startswith("eks"),
}
FIRST = STRUCTURAL_COMBOS[0]
# every combo's dev, staging, prod and two `public` stacks; the first combo's stacks once
# more with a self-managed Pulumi backend
CASES = [
    *((combo_id(c), c, s) for c, s in stack_cases()),
    *((combo_id(FIRST) + STATE, FIRST, s) for s in STACKS),
]


@pytest.fixture(scope="module")
def evaluated(
    structural_runs: dict[tuple[str, str], StackRun], tmp_path_factory: pytest.TempPathFactory
) -> Evaluated:
    runs = with_state_variant(structural_runs, tmp_path_factory.mktemp("state"))
    return evaluate_all(runs)


@pytest.mark.parametrize(("key", "combo", "stack"), CASES, ids=[f"{k}-{s}" for k, _, s in CASES])
def test_every_role_gets_exactly_what_it_must(
    evaluated: Evaluated, key: str, combo: Combo, stack: str
) -> None:
    matrix = evaluated.matrices[key, stack]
    REPORT.mkdir(parents=True, exist_ok=True)
    (REPORT / f"{key}-{stack}.tsv").write_text(tsv(matrix))
    found = sorted({finding(row) for row in matrix.mismatches()})
    expected = sorted(label for label, where in KNOWN.items() if where(combo, stack))
    assert found == expected
    errors = [row for row in matrix.rows if row.decision.decision == "Error"]
    assert errors == []


def test_the_matrix_covers_every_role_the_stacks_declare(evaluated: Evaluated) -> None:
    for key, matrix in evaluated.matrices.items():
        assert matrix.roles() == sorted(matrix.stack.roles), key
        for role in matrix.stack.roles:
            allowed = [r for r in matrix.rows if r.expectation.role == role and r.expectation.allow]
            denied = [
                r for r in matrix.rows if r.expectation.role == role and not r.expectation.allow
            ]
            assert denied, (key, role)
            if not allowed:
                assert role in NOTHING_TO_ALLOW, (key, role)
                assert NOTHING_TO_ALLOW[role](key[0]), (key, role)


def test_print_one_stack(evaluated: Evaluated, capsys: pytest.CaptureFixture[str]) -> None:
    matrix = evaluated.matrices[combo_id(STRUCTURAL_COMBOS[0]), "dev"]
    text = render(matrix, only_mismatches=os.environ.get("SLIPWAY_ACCESS_ALL") is None)
    with capsys.disabled():
        print(text)
    roles, requests = matrix.size()
    assert f"{roles} roles x {requests} requests" in text
    assert "grants no expected request uses" in text


def test_the_runners_shortcuts_decide_as_the_package_alone(
    structural_runs: dict[tuple[str, str], StackRun],
) -> None:
    """tests/tools/iam_simulate.cjs reuses one collator and validates each policy once (half
    of the matrix's Node CPU): on one stack's whole matrix, every condition included, each
    decision and its deciding statements are those of the package run as it ships."""
    key = (combo_id(FIRST), "dev")
    runs = {key: structural_runs[key].run}
    fast, plain = iam_engine.IamSimulate(), iam_engine.IamSimulate(plain=True)
    shortcut, alone = evaluate_all(runs, fast), evaluate_all(runs, plain)
    assert fast.shortcuts == {"oneCollator": True, "validatedOnce": True}
    assert plain.shortcuts == {"oneCollator": False, "validatedOnce": False}
    decided = [row.decision for row in shortcut.matrices[key].rows]
    assert len(decided) > 500
    assert decided == [row.decision for row in alone.matrices[key].rows]
