"""The warm pytest runner (tests/tools/warm_pytest.py) behaves like ``python -m pytest``:
same verdict, output, cwd, sys.path and environment; no state carried between runs;
timeouts kill the run; a helper that cannot be used falls back to a plain subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tools.warm_pytest import PlainRunWarning, WarmPytest, plain_run

ARGS = ["-q", "-p", "no:cacheprovider"]

PROJECT_FILES = {
    "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
    "src/tiny/__init__.py": "ANSWER = 42\n",
    "tests/test_passes.py": ("import tiny\n\n\ndef test_answer():\n    assert tiny.ANSWER == 42\n"),
    "tests/test_fails.py": (
        "def test_wrong_sum():\n    assert 1 + 1 == 3, 'arithmetic is broken'\n"
    ),
}

# Run twice from one helper: passes only if the second run starts from a clean state.
LEAK_TEST = """\
import json, os, sys

def test_starts_clean():
    assert "WARM_LEAK" not in os.environ
    assert not hasattr(json, "warm_leak")
    assert "leaky_module" not in sys.modules
    os.environ["WARM_LEAK"] = "1"
    json.warm_leak = True
    sys.modules["leaky_module"] = json
"""

# Records what a run sees, to compare the warm path with a plain interpreter.
PROBE_TEST = """\
import json, os, sys

def test_probe():
    seen = {"cwd": os.getcwd(), "path": sys.path, "env": dict(os.environ),
            "pythonpath": os.environ.get("PYTHONPATH"), "argv0": os.path.basename(sys.argv[0])}
    with open("probe.json", "w") as out:
        json.dump(seen, out)
"""

SLOW_TEST = """\
import os, subprocess, time

def test_hangs():
    sleeper = subprocess.Popen(["sleep", "300"])
    with open("pids", "w") as out:
        out.write(f"{os.getpid()} {sleeper.pid}")
    time.sleep(300)
"""


def make_project(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def project_env(project: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(project / "src"), **extra}


@pytest.fixture(scope="module")
def warm() -> Iterator[WarmPytest]:
    runner = WarmPytest(preload=("pytest", "json"))
    yield runner
    runner.close()


def test_a_failing_test_fails_the_run_and_a_passing_one_passes(
    warm: WarmPytest, tmp_path: Path
) -> None:
    project = make_project(tmp_path, PROJECT_FILES)
    run = warm.run(ARGS, project, project_env(project), timeout=120)
    assert warm.broken is None, warm.broken
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout
    assert "FAILED tests/test_fails.py::test_wrong_sum" in run.stdout
    assert "arithmetic is broken" in run.stdout

    passing = warm.run([*ARGS, "tests/test_passes.py"], project, project_env(project), 120)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "1 passed" in passing.stdout


def test_a_preloaded_pytest_plugin_adds_no_warning(tmp_path: Path) -> None:
    """The preload imports anyio (a pytest11 plugin) before pytest can rewrite its asserts;
    a fresh ``python -m pytest`` would not warn, so the warm run must not either."""
    project = make_project(tmp_path, {**PROJECT_FILES, "tests/test_fails.py": ""})
    runner = WarmPytest(preload=("pytest", "anyio"))
    try:
        run = runner.run(ARGS, project, project_env(project), timeout=120)
    finally:
        runner.close()
    assert runner.broken is None, runner.broken
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
    assert "warnings summary" not in run.stdout, run.stdout


def test_no_state_leaks_from_one_run_to_the_next(warm: WarmPytest, tmp_path: Path) -> None:
    project = make_project(tmp_path, {"tests/test_leak.py": LEAK_TEST})
    for _ in range(2):
        run = warm.run(ARGS, project, project_env(project), timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
    assert warm.broken is None, warm.broken
    assert "WARM_LEAK" not in os.environ


def test_run_sees_what_a_plain_interpreter_sees(warm: WarmPytest, tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", {"tests/test_probe.py": PROBE_TEST})
    seen = {}
    for name, runner in (("warm", warm.run), ("plain", plain_run)):
        run = runner(ARGS, project, project_env(project), 120)
        assert run.returncode == 0, run.stdout + run.stderr
        seen[name] = json.loads((project / "probe.json").read_text())
    assert warm.broken is None, warm.broken
    assert seen["warm"] == seen["plain"]
    assert {str(project), str(project / "src")} <= set(seen["warm"]["path"])
    assert seen["warm"]["pythonpath"] == str(project / "src")
    assert seen["warm"]["env"]["PATH"] == os.environ["PATH"]


def _running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a reaped-later zombie is not running


def test_timeout_kills_the_run_and_what_it_started(warm: WarmPytest, tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", {"tests/test_slow.py": SLOW_TEST})
    pids = project / "pids"
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        warm.run(ARGS, project, project_env(project), timeout=4)
    assert time.monotonic() - started < 30
    child, sleeper = map(int, pids.read_text().split())
    deadline = time.monotonic() + 10
    while (_running(child) or _running(sleeper)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(child) and not _running(sleeper)
    # The helper survives a timeout and serves the next run warm.
    project = make_project(tmp_path / "next", PROJECT_FILES)
    assert warm.run(ARGS, project, project_env(project), 120).returncode == 1
    assert warm.broken is None, warm.broken


def test_a_dead_helper_falls_back_to_a_plain_subprocess(tmp_path: Path) -> None:
    project = make_project(tmp_path, PROJECT_FILES)
    runner = WarmPytest(preload=("pytest",))
    try:
        assert runner.run(ARGS, project, project_env(project), 120).returncode == 1
        assert runner.broken is None and runner._proc is not None
        runner._proc.kill()
        runner._proc.wait()
        with pytest.warns(PlainRunWarning, match="running a plain subprocess"):
            run = runner.run(ARGS, project, project_env(project), 120)
    finally:
        runner.close()
    assert run.returncode == 1 and "1 failed, 1 passed" in run.stdout
    assert runner.broken is not None


def test_without_fork_or_with_another_environment_it_runs_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path, PROJECT_FILES)
    with monkeypatch.context() as patch:
        patch.delattr(os, "fork")
        forkless = WarmPytest(preload=("pytest",))
    with pytest.warns(PlainRunWarning, match=r"os\.fork is unavailable"):
        run = forkless.run(ARGS, project, project_env(project), 120)
    assert run.returncode == 1 and "1 failed, 1 passed" in run.stdout
    assert forkless._proc is None

    runner = WarmPytest(preload=("pytest",))
    try:
        runner.run(ARGS, project, project_env(project), 120)
        with pytest.warns(PlainRunWarning, match="environment differs .*: WARM_OTHER"):
            run = runner.run(ARGS, project, project_env(project, WARM_OTHER="1"), 120)
    finally:
        runner.close()
    assert run.returncode == 1 and "1 failed, 1 passed" in run.stdout


def test_what_the_preload_sets_itself_keeps_later_runs_warm(tmp_path: Path) -> None:
    """scikit-learn sets ``KMP_*`` when imported. A helper started before the caller imported
    it (the caller's environment lacks them) still serves the caller's later runs, which have
    them; any other difference still makes a run plain."""
    project = make_project(tmp_path, PROJECT_FILES)
    before = {k: v for k, v in project_env(project).items() if not k.startswith("KMP_")}
    after = project_env(project, KMP_DUPLICATE_LIB_OK="True", KMP_INIT_AT_FORK="FALSE")
    runner = WarmPytest(preload=("pytest", "sklearn"))
    try:
        for env in (before, after):  # a plain run would raise (the suite's warning filter)
            run = runner.run(ARGS, project, env, 120)
            assert run.returncode == 1 and "1 failed, 1 passed" in run.stdout
        assert {"KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK"} <= runner.set_by_imports
        other = "environment differs from the one the helper imported under: WARM_OTHER"
        with pytest.warns(PlainRunWarning, match=other):
            runner.run(ARGS, project, {**after, "WARM_OTHER": "1"}, 120)
    finally:
        runner.close()


def test_the_sagemaker_sdk_imports_offline_and_leaves_the_environment_as_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The helper imports the SDK as slipway's pipeline definitions do (a region, no instance
    metadata); the environment and boto3's default session are as found afterwards."""
    import boto3
    from slipway.aws.pipeline_definition import OFFLINE_ENV
    from tools.warm_pytest import SAGEMAKER_IMPORT_ENV, _import_environment

    assert SAGEMAKER_IMPORT_ENV == OFFLINE_ENV  # a copy: the helper never imports slipway

    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    before = dict(os.environ)
    with _import_environment("sagemaker.core.processing"):
        assert SAGEMAKER_IMPORT_ENV.items() <= os.environ.items()
        assert os.environ["AWS_DEFAULT_REGION"]
        boto3.client("sagemaker")  # what the SDK's import does: makes a default session
    assert dict(os.environ) == before
    assert boto3.DEFAULT_SESSION is None
    with _import_environment("pandas"):
        assert dict(os.environ) == before
