"""Root fixtures. Shared helpers live in matrix.py: test modules import from there,
never from a conftest (conftest modules of several folders share one module name)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from isolation import leaked_environment
from matrix import ROOT, snapshot_repo
from program_runs import StackRun, shared_runs


def pytest_configure(config: pytest.Config) -> None:
    # pytest-cookies bakes from --template (default "."); pin it to this checkout.
    config.option.template = str(ROOT)


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot_repo(tmp_path_factory.mktemp("template") / "slipway")


@pytest.fixture(scope="session")
def structural_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], StackRun]:
    """Every stack of every structural combination under mocks, keyed (combo id, stack)."""
    return shared_runs(tmp_path_factory)


@pytest.fixture(scope="module", autouse=True)
def no_environment_leak() -> Iterator[None]:
    """A test module (its tests and fixtures) leaves ``os.environ`` as it found it: a leak is
    undone and reported here rather than failing a later module on the same worker."""
    before = dict(os.environ)
    yield
    leaked = leaked_environment(before)
    assert not leaked, f"this module leaked environment variables: {leaked}"
