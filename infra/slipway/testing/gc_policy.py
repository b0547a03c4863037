"""Full garbage collections at test-module boundaries only: a pytest plugin, for slipway's suite
and every generated project's (``pytest_plugins`` in their conftest).

A test process that runs Pulumi programs under mocks, moto and MLflow holds ~1 M long-lived
objects (pulumi_aws' modules, moto's backends, MLflow) and makes many more. CPython starts a
full collection whenever what survived the two young generations grew by a quarter, and each
one walks the whole heap: in slipway's suite, 62 full collections took 45 s of its two xdist
workers' 163 s of CPU; in a generated project's suite, 19 took 6.9 s of 28.5 s
(docs/testing.md, "Session 7").

Here, before the first test of each module (the previous module's fixtures are torn down by
then): one full collection, then ``gc.freeze()``, which moves what survived to the permanent
generation, out of later collections' walk. Automatic full collections are off; the two young
generations collect as before. At the session's end ``gc.unfreeze()``, so that pytest's
collection at exit walks everything once and a failing finalizer in garbage left anywhere is
still reported. The cost: a cycle alive at a module boundary that dies later is freed at the
session's end rather than soon after.

A process that was frozen before the session (a warm runner's fork: tests/tools/warm_pytest.py)
stays frozen at its end: unfreezing would make its exit walk the whole preload again.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from slipway import gc_policy

_threshold = pytest.StashKey[tuple[int, int, int]]()
_frozen_before = pytest.StashKey[bool]()
_module = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_frozen_before] = gc.get_freeze_count() > 0
    config.stash[_threshold] = gc_policy.for_a_job()  # a session needs no automatic full one


@pytest.hookimpl(tryfirst=True)  # before the module's fixtures are set up
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.config.stash.get(_module, None) != item.path:
        item.config.stash[_module] = item.path
        gc.collect()
        gc.freeze()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not session.config.stash[_frozen_before]:
        gc.unfreeze()
    gc.set_threshold(*session.config.stash[_threshold])
