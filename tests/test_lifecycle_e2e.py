"""The local lifecycle end to end on a baked project, through its Makefile.

How it runs: ``make -o <venv>/.installed VENV=<this venv> PYTHONPATH=src ...`` -- the
project's own Makefile targets in the shared environment (``-o`` skips ``setup``, so
nothing is installed) against the project's embedded MLflow (``mlflow.db`` + ``mlruns/``).

Sequence: a good run crowns version 1; the identical rerun trains and registers nothing; a
deliberately worse configuration is refused by the gate on the same evaluation data as the
champion (exit 1, both scores shown, nothing registered); a changed but equally good
configuration crowns version 2; ``make rollback`` restores version 1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

VENV = Path(sys.prefix)


def make(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["PYTHONPATH"] = "src"
    return subprocess.run(
        ["make", "--no-print-directory", "-o", f"{VENV}/.installed", f"VENV={VENV}", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def champion(project: Path, name: str) -> str:
    uri = f"sqlite:///{project / 'mlflow.db'}"
    return str(MlflowClient(uri, uri).get_model_version_by_alias(name, "champion").version)


def versions(project: Path, name: str) -> int:
    uri = f"sqlite:///{project / 'mlflow.db'}"
    return len(MlflowClient(uri, uri).search_model_versions(f"name='{name}'"))


@pytest.mark.slow
def test_pipeline_refuses_a_worse_model_and_rollback_restores_the_champion(cookies) -> None:
    baked = cookies.bake(extra_context={"project_name": "Lifecycle Demo"})
    assert baked.exit_code == 0, baked.exception
    project: Path = baked.project_path
    name = "lifecycle-demo"

    first = make(project, "pipeline")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert f"model: models:/{name}@champion (version 1)" in first.stdout
    for noise in ("Warning:", "Downloading artifacts"):  # each filtered at its source
        assert noise not in first.stderr, first.stderr[-3000:]
    for produced in (
        "mlflow.db",
        "mlruns",
        "outputs/predictions.csv",
        "outputs/drift/drift_report.html",
        "outputs/drift/drift_summary.json",
    ):
        assert (project / produced).exists(), produced

    again = make(project, "pipeline")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "unchanged: training data, code and config are those of champion version 1" in (
        again.stdout
    )
    assert (champion(project, name), versions(project, name)) == ("1", 1)

    config = yaml.safe_load((project / "config" / "pipeline.yaml").read_text())
    config["model"].update(estimator="random_forest", params={"n_estimators": 1, "max_depth": 1})
    (project / "config" / "worse.yaml").write_text(yaml.safe_dump(config))
    worse = make(project, "pipeline", "CONFIG=config/worse.yaml")
    assert worse.returncode != 0, worse.stderr[-3000:]  # make says 2 when the CLI exits 1
    assert "error: gate: champion v1 wins on data/evaluation.csv" in worse.stderr
    assert "(champion v1)" in worse.stderr and "short by" in worse.stderr, worse.stderr[-3000:]
    assert (champion(project, name), versions(project, name)) == ("1", 1)

    config["model"].update(estimator="logistic_regression", params={"C": 1.0, "max_iter": 1000})
    (project / "config" / "longer.yaml").write_text(yaml.safe_dump(config))
    second = make(project, "pipeline", "CONFIG=config/longer.yaml")
    assert second.returncode == 0, second.stderr[-3000:]
    assert champion(project, name) == "2"

    back = make(project, "rollback")
    assert back.returncode == 0, back.stderr[-3000:]
    assert "champion: version 2 -> 1" in back.stdout
    assert champion(project, name) == "1"
