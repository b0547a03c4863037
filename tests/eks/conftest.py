"""One mocked run of the baked eks program per preset, shared by the tests of this folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from eks_support import bake_infra
from slipway.testing import ProgramRun, run_program

_RUNS: dict[str, ProgramRun] = {}


@pytest.fixture(params=["dev", "staging", "prod"])
def preset_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def eks_infra(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The baked project's ``infra/`` (baked once per test process)."""
    return bake_infra(tmp_path_factory.mktemp("eks-project"))


@pytest.fixture
def eks_run(eks_infra: Path, preset_name: str) -> ProgramRun:
    """The program under mocks with ``Pulumi.<preset>.yaml`` (run once per preset per session)."""
    if preset_name not in _RUNS:
        _RUNS[preset_name] = run_program(eks_infra, preset_name)
    return _RUNS[preset_name]
