"""A random generator per test, seeded by the test's name: a test's data never depends on
which tests ran before it in the same worker (xdist schedules them differently per run)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))
