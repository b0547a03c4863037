"""Fixtures of the component tests."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["dev", "staging", "prod"])
def preset_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)
