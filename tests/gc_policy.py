"""Full garbage collections at test-module boundaries only (a pytest plugin).

An xdist worker of this suite holds ~1.5 M long-lived objects (pulumi_aws' modules, moto's
backends, MLflow) and makes many more (programs run under mocks, moto requests). CPython starts
a full collection whenever what survived the two young generations grew by a quarter, and each
one walks the whole heap: in tests/aws, tests/eks and the access matrix, 58 full collections
took 29 s of the two workers' 79 s of CPU (docs/testing.md, "Session 7").

Here, before the first test of each module (the previous module's fixtures are torn down by
then): one full collection, then ``gc.freeze()``, which moves what survived to the permanent
generation, out of later collections' walk. Automatic full collections are off; the two young
generations collect as before. At the session's end ``gc.unfreeze()``: pytest's collection at
exit (tests/exit_gc.py) walks everything once, so a failing finalizer in garbage left anywhere
is still reported. The cost: a cycle alive at a module boundary that dies later is freed at
the session's end rather than soon after.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

NEVER = 1_000_000
"""Young collections between two automatic full ones: none in a session."""

_module = pytest.StashKey[Path]()
_threshold = pytest.StashKey[tuple[int, int, int]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_threshold] = young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER)


@pytest.hookimpl(tryfirst=True)  # before the module's fixtures are set up
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.config.stash.get(_module, None) != item.path:
        item.config.stash[_module] = item.path
        gc.collect()
        gc.freeze()


def pytest_sessionfinish(session: pytest.Session) -> None:
    gc.unfreeze()
    gc.set_threshold(*session.config.stash[_threshold])
