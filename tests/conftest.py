"""Root fixtures. Shared helpers live in matrix.py: test modules import from there,
never from a conftest (conftest modules of several folders share one module name)."""

from __future__ import annotations

from pathlib import Path

import pytest
from matrix import ROOT, snapshot_repo


def pytest_configure(config: pytest.Config) -> None:
    # pytest-cookies bakes from --template (default "."); pin it to this checkout.
    config.option.template = str(ROOT)


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot_repo(tmp_path_factory.mktemp("template") / "slipway")
