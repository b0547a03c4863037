"""Shared fixtures: one throw-away project with its own embedded MLflow, run once per session.

Nothing here touches the project's real ``mlflow.db``/``mlruns``: the store lives
in a pytest temp dir and ``MLFLOW_TRACKING_URI`` is cleared for the session.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

from {{ cookiecutter.package_name }} import config as project_config
from {{ cookiecutter.package_name }}.pipeline import Outcome, run

PROJECT = Path(__file__).resolve().parents[1]

# Full garbage collections between test modules only: ~25% less CPU for this suite (slipway docs).
pytest_plugins = ["slipway.testing.gc_policy"]


@pytest.fixture
def cpython_collections() -> Iterator[tuple[int, int, int]]:
    """CPython's default collection thresholds for this test, the suite's own after it."""
    import gc

    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


@pytest.fixture
def package_env() -> dict[str, str]:
    """This test's environment for a subprocess that imports this package from ``src/``."""
    path = os.pathsep.join([str(PROJECT / "src"), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


@pytest.fixture(scope="session", autouse=True)
def _embedded_tracking() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        yield


def _write_config(root: Path, **overrides: dict) -> Path:
    """The project's config with sections updated by ``overrides``, written under ``root``."""
    raw = yaml.safe_load((PROJECT / "config" / "pipeline.yaml").read_text())
    for section, values in overrides.items():
        raw[section] = {**raw.get(section, {}), **values}
    path = root / "config" / "pipeline.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository with the project's config committed: runs record its commit."""
    root = tmp_path_factory.mktemp("project")
    _write_config(root)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "config"]):
        subprocess.run([*git, *args], cwd=root, check=True, capture_output=True)
    return root


@pytest.fixture(scope="session")
def head_commit(project: Path) -> str:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


@pytest.fixture(scope="session")
def settings(project: Path) -> project_config.PipelineConfig:
    return project_config.load(project / "config" / "pipeline.yaml")


@pytest.fixture(scope="session")
def outcome(project: Path, settings: project_config.PipelineConfig) -> Outcome:
    """The whole pipeline, run once on the bundled sample."""
    return run(settings, project)


@pytest.fixture(scope="session")
def client(outcome: Outcome) -> MlflowClient:
    return MlflowClient(outcome.tracking.uri, outcome.tracking.uri)


@pytest.fixture
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run CLI commands from the session project's root."""
    monkeypatch.chdir(project)
    return project


@pytest.fixture(scope="session")
def write_config() -> Callable[..., Path]:
    """``write_config(root, section={key: value})``: a config file with overrides."""
    return _write_config
