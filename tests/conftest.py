"""Root fixtures. Shared helpers live in matrix.py: test modules import from there,
never from a conftest (conftest modules of several folders share one module name)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from bake_cache import share_compiled_templates
from isolation import leaked_environment
from matrix import ROOT, snapshot_repo
from program_runs import StackRun, shared_runs
from scheduling import DURATIONS, UnitScheduling, order_on_worker
from slipway.lifecycle.formats import load_model_formats_first

# Full garbage collections: between test modules, and once at exit.
pytest_plugins = ["exit_gc", "slipway.testing.gc_policy"]


def pytest_configure(config: pytest.Config) -> None:
    # pytest-cookies bakes from --template (default "."); pin it to this checkout.
    config.option.template = str(ROOT)
    # MLflow's usage telemetry, on when mlflow is imported outside a test (collection): it
    # would reach for its config server, and on failing offline it drops its session variable
    # from os.environ mid-run, which made the warm runner's later runs plain (docs/testing.md)
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    if hasattr(config, "workerinput") or not config.getoption("numprocesses", None):
        load_model_formats_first()  # in each process that runs tests, before any program
        share_compiled_templates()


# A test bakes the template when it uses one of these fixtures or its module calls a baker.
BAKE_FIXTURES = frozenset({"cookies", "structural_runs", "template_repo", "eks_infra"})
BAKER = re.compile(
    r"\bcookiecutter\(|\bcookies\b|run_project_tests|[\"']-m[\"'],\s*[\"']cookiecutter"
)


def _bakes(item: pytest.Item, sources: dict[str, bool]) -> bool:
    if BAKE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    path = str(item.path)
    if path not in sources:
        sources[path] = bool(BAKER.search(item.path.read_text()))
    return sources[path]


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that bake (``-m "not bakes"``: make test-fast); under xdist, units and
    their order (tests/scheduling.py)."""
    sources: dict[str, bool] = {}
    for item in items:
        if _bakes(item, sources):
            item.add_marker(pytest.mark.bakes)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        order_on_worker(config, items)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> UnitScheduling | None:
    """``--dist loadgroup`` (make test): the workers' units, longest first."""
    return UnitScheduling(config, log) if config.getvalue("dist") == "loadgroup" else None


_SECONDS: dict[str, float] = {}
_CPU: dict[str, float] = {}
_CPU_MARK = [0.0]


def _cpu_seconds() -> float:
    """This process's CPU and that of its children it has waited for (a server a fixture
    started counts at its teardown)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def pytest_runtest_logstart() -> None:
    _CPU_MARK[0] = _cpu_seconds()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport() -> Iterator[None]:
    """Each phase's report carries the CPU seconds the worker spent on it (``cpu``)."""
    outcome = yield
    now = _cpu_seconds()
    outcome.get_result().user_properties.append(("cpu", now - _CPU_MARK[0]))  # type: ignore[attr-defined]
    _CPU_MARK[0] = now


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Setup + call + teardown seconds (wall and CPU) per test, as the controller receives them."""
    _SECONDS[report.nodeid] = _SECONDS.get(report.nodeid, 0.0) + report.duration
    cpu = [v for k, v in report.user_properties if k == "cpu" and isinstance(v, float)]
    _CPU[report.nodeid] = _CPU.get(report.nodeid, 0.0) + sum(cpu)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """``build/durations.json``: this run's seconds per test; ``make durations`` keeps them
    as tests/durations.json, the order of later runs (tests/scheduling.py)."""
    if os.environ.get("PYTEST_XDIST_WORKER") or not _SECONDS:
        return
    out = ROOT / "build" / DURATIONS.name
    out.parent.mkdir(exist_ok=True)
    kept = {k: round(v, 2) for k, v in sorted(_SECONDS.items()) if v >= 0.05}
    out.write_text(json.dumps(kept, indent=0) + "\n")
    # the same tests' CPU seconds: a test whose wall time far exceeds its CPU waited (a lock,
    # a server, a sleep) while the machine had a core to spare
    cpu = {k: round(_CPU.get(k, 0.0), 2) for k in kept}
    (out.parent / "cpu.json").write_text(json.dumps(cpu, indent=0) + "\n")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The summed test time and the CPU time of pytest and its finished children (the xdist
    workers and their subprocesses): on a busy machine, wall time alone says little."""
    if os.environ.get("PYTEST_XDIST_WORKER") or not _SECONDS:
        return
    cpu = os.times()
    terminalreporter.write_line(
        f"summed test durations: {sum(_SECONDS.values()):.0f} s over {len(_SECONDS)} tests; "
        f"CPU: {cpu.user + cpu.system:.0f} s pytest, "
        f"{cpu.children_user + cpu.children_system:.0f} s its finished children"
    )


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
