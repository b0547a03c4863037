"""Every stack of every structural option combination, baked and run under mocks once per
test session and shared by the tests that read them (the access matrix, the policy pack,
the cost estimate). Under pytest-xdist the first worker to ask bakes and runs; the others
wait on a file lock and load its pickle (pytest-xdist's documented recipe for a
session fixture that runs once)."""

from __future__ import annotations

import fcntl
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import pytest
from matrix import ROOT, STRUCTURAL_COMBOS, combo_id
from slipway.testing import ProgramRun, config_from_stack_file, run_program
from stack_config import configure_eks

STACKS = ("dev", "staging", "prod")
PROJECT = "churn-model"


@dataclass(frozen=True)
class StackRun:
    """One stack of one baked project, run under mocks."""

    combo: dict[str, str]
    stack: str
    infra: Path
    run: ProgramRun

    @property
    def config(self) -> dict[str, str]:
        """The stack's configuration as the CLI hands it over (``Pulumi.<stack>.yaml``)."""
        return config_from_stack_file(self.infra / f"Pulumi.{self.stack}.yaml", PROJECT)


def bake_and_run(out: Path) -> dict[tuple[str, str], StackRun]:
    from cookiecutter.main import cookiecutter

    runs = {}
    for combo in STRUCTURAL_COMBOS:
        project = cookiecutter(
            str(ROOT), no_input=True, output_dir=str(out / combo_id(combo)), extra_context=combo
        )
        infra = configure_eks(Path(project) / "infra")  # as a user sets it before `up`
        for stack in STACKS:
            runs[combo_id(combo), stack] = StackRun(combo, stack, infra, run_program(infra, stack))
    return runs


def shared_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], StackRun]:
    """``bake_and_run`` once per session, whichever worker asks first."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    cache = root / "structural-runs.pickle"
    with open(root / "structural-runs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not cache.exists():
            runs = bake_and_run(root / "structural-projects")
            cache.write_bytes(pickle.dumps(runs))
            return runs
        loaded: dict[tuple[str, str], StackRun] = pickle.loads(cache.read_bytes())
        return loaded
