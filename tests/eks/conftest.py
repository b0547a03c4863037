"""One mocked run of the whole EKS flavor per preset, shared by the tests of this folder."""

from __future__ import annotations

import pytest
from eks_support import eks_program
from slipway.testing import ProgramRun, run_pulumi

_RUNS: dict[str, ProgramRun] = {}


@pytest.fixture(params=["dev", "staging", "prod"])
def preset_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def eks_run(preset_name: str) -> ProgramRun:
    """The full flavor under mocks for one preset (run once per preset per session)."""
    if preset_name not in _RUNS:
        _RUNS[preset_name] = run_pulumi(eks_program(preset_name), stack=preset_name)
    return _RUNS[preset_name]
