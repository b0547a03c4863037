"""A project made by plain `cookiecutter` from a clean checkout installs itself into its own
fresh venv and passes its own `make test`; a project made by `cruft create` records its
template and passes its whole suite. One per compute flavor: these are the full suites of
the option matrix (tests/test_template_matrix.py runs the rest per combination).

Both bake from a git snapshot of this working tree (what a fresh clone holds), so
the project's vendored slipway-mlops wheel (vendor/) is built from that snapshot.
The project's Makefile installs with uv (`UV` points it at this environment's uv rather
than installing one); the venv, the resolution and the install are real, the resolution
against the versions this checkout pins (constraints.txt via uv's `UV_CONSTRAINT`, as
`make demo` does: the same versions as the shared environment's). The cruft project
(the other flavor) runs in the shared environment, which holds every extra of slipway-mlops
in one resolution: its own extras are a subset of it (docs/testing.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from matrix import FULL_SUITE_COMBOS, ROOT, run_project_tests
from template_manifest import VENDORED_WHEEL

UV = Path(sys.executable).parent / "uv"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def make_test(project: Path) -> subprocess.CompletedProcess[str]:
    """The project's `make test` (setup, then its suite), its install resolved against the
    versions this checkout's tests pass with (constraints.txt, as `make demo` does); its
    pytest's temp files beside the project (not among the other suites' numbered temp dirs,
    which it would spend ~3 s of CPU removing)."""
    env = {
        **os.environ,
        "UV_CONSTRAINT": str(ROOT / "constraints.txt"),
        "PYTEST_ADDOPTS": f"--basetemp={project.parent / 'pytest-basetemp'}",
    }
    return subprocess.run(
        ["make", "test", f"UV={UV}", "PYTHON=" + sys.executable],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_cookiecutter_project_passes_its_own_make_test(tmp_path: Path, template_repo: Path) -> None:
    out = tmp_path / "x"
    context = [f"{k}={v}" for k, v in FULL_SUITE_COMBOS[0].items()]
    subprocess.run(
        [str(BIN / "cookiecutter"), str(template_repo), "--no-input", "-o", str(out), *context],
        check=True,
        capture_output=True,
    )
    project = out / "churn-model"
    assert f"@ {{root:uri}}/{VENDORED_WHEEL}" in (project / "pyproject.toml").read_text()
    run = make_test(project)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-3000:]
    assert " passed" in run.stdout


def test_cruft_project_records_its_template_and_passes_its_suite(
    tmp_path: Path, template_repo: Path
) -> None:
    subprocess.run(
        [
            str(BIN / "cruft"),
            "create",
            str(template_repo),
            "--no-input",
            "--output-dir",
            str(tmp_path),
            "--extra-context",
            json.dumps(FULL_SUITE_COMBOS[1]),
        ],
        check=True,
        capture_output=True,
    )
    project = tmp_path / "churn-model"
    state = json.loads((project / ".cruft.json").read_text())
    assert state["template"] == str(template_repo)
    assert state["context"]["cookiecutter"]["compute"] == FULL_SUITE_COMBOS[1]["compute"]
    assert f"@ {{root:uri}}/{VENDORED_WHEEL}" in (project / "pyproject.toml").read_text()
    run = run_project_tests(project)  # the shared environment, warm (tests/matrix.py)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-3000:]
    assert " passed" in run.stdout
