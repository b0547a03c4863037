"""How `make test` spreads the suite over its pytest-xdist workers (``--dist loadgroup``).

Two rules, decided on each worker from the collected items (every worker collects the same
items in the same order) and applied by the controller's scheduler:

* **Module fixtures stay on one worker.** A module-scoped fixture runs once per worker that
  runs any test of its module: the tests of a module that use one (a bake, a first ``up``,
  a server) form one unit, so the fixture runs once per session. Tests marked
  ``xdist_group(name)`` form the unit ``name``, as in plain ``loadgroup``.
* **The longest units start first.** Units are ordered by their duration in
  ``tests/durations.json`` (seconds per test from an earlier run, ``make durations``),
  longest first, so two long units never meet at the end of the run on one worker while
  the other idles. A test missing from the file counts as short; a stale file costs
  balance, never a result.

Why not plain ``loadgroup``: pytest-xdist 3.8 marks a group by rewriting ``item._nodeid``,
which pytest 9.2 no longer reads (``Node.nodeid`` is ``str(self._id)``), so its groups are
silently ignored. Here each worker writes ``{test id: unit}`` next to the workers' temp
directories and the controller's scheduler (``pytest_xdist_make_scheduler``, the hook
xdist provides for this) reads it. Single-process runs (``-n 0``) keep pytest's order.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

DURATIONS = Path(__file__).with_name("durations.json")
UNITS_FILE = "scheduling-units.json"
UNKNOWN_SECONDS = 0.1
# Module-scoped but free: it only compares os.environ before and after the module.
CHEAP_MODULE_FIXTURES = frozenset({"no_environment_leak"})


def recorded() -> dict[str, float]:
    """Seconds per test id (``path::name[params]``) of an earlier run; empty without a file."""
    if not DURATIONS.is_file():
        return {}
    data: dict[str, float] = json.loads(DURATIONS.read_text())
    return data


def uses_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        defs[-1].scope == "module"
        for name, defs in info.name2fixturedefs.items()
        if defs and name not in CHEAP_MODULE_FIXTURES
    )


def unit_of(item: pytest.Item) -> str:
    """An explicit ``xdist_group``; else the module for tests sharing a module fixture;
    else the test itself."""
    mark = item.get_closest_marker("xdist_group")
    if mark is not None:
        return "@" + str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
    return item.nodeid.split("::", 1)[0] if uses_module_fixture(item) else item.nodeid


def plan(items: list[pytest.Item], seconds: dict[str, float]) -> dict[str, list[pytest.Item]]:
    """``items`` by unit, the longest unit first (ties keep collection order)."""
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        units.setdefault(unit_of(item), []).append(item)

    def cost(entry: tuple[str, list[pytest.Item]]) -> float:
        return sum(seconds.get(item.nodeid, UNKNOWN_SECONDS) for item in entry[1])

    return dict(sorted(units.items(), key=cost, reverse=True))


def order_on_worker(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker: reorder ``items`` and publish each test's unit to the controller."""
    units = plan(items, recorded())
    items[:] = [item for members in units.values() for item in members]
    by_test = {item.nodeid: unit for unit, members in units.items() for item in members}
    if not config.option.basetemp:  # no temp dirs (-p no:tmpdir): every test its own unit
        return
    shared = Path(config.option.basetemp).parent / UNITS_FILE
    staged = shared.with_name(f".{UNITS_FILE}.{os.getpid()}")
    staged.write_text(json.dumps(by_test))
    os.replace(staged, shared)  # every worker writes the same mapping


class UnitScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """xdist's scope scheduling whose scopes are the units the workers published."""

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        super().__init__(config, log)
        self._units: dict[str, str] | None = None
        config.option.loadscopereorder = False  # keep the workers' order: longest first

    def _split_scope(self, nodeid: str) -> str:
        if self._units is None:  # read once the workers have collected
            factory = getattr(self.config, "_tmp_path_factory", None)
            shared = factory.getbasetemp() / UNITS_FILE if factory else None
            self._units = json.loads(shared.read_text()) if shared and shared.is_file() else {}
        return self._units.get(nodeid, nodeid)
