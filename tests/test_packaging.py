"""The wheel carries the template, hooks and presets, so `slipway new` works from an
installed package with no access to this repository."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from matrix import ROOT
from template_manifest import expected_files

UV = Path(sys.executable).parent / "uv"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([str(UV), "build", "--wheel", "-q", "-o", str(out), str(ROOT)], check=True)
    (built,) = out.glob("slipway_mlops-*.whl")
    return built


def test_wheel_bundles_template_hooks_and_presets(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "slipway/presets.py",
        "slipway/py.typed",  # a project's mypy checks its calls into slipway
        "slipway/stacks/dev.yaml",
        "slipway/stacks/prod.yaml",
        "slipway/template/cookiecutter.json",
        "slipway/template/hooks/post_gen_project.py",
        "slipway/template/slipway_inputs.py",
        "slipway/template/{{cookiecutter.project_slug}}/Makefile",
        "slipway/template/{{cookiecutter.project_slug}}/infra/__main__.py",
    ):
        assert required in names, required


@pytest.mark.slow
def test_slipway_new_from_installed_wheel_pins_its_version(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # Only the CLI's own dependencies: `slipway new` must not need the heavy extras.
    subprocess.run(
        [str(UV), "pip", "install", "-q", "--python", str(python), str(wheel)], check=True
    )
    out = tmp_path / "out"
    run = subprocess.run(
        [str(venv / "bin" / "slipway"), "new", "--no-input", "-o", str(out), "compute=eks"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    project = out / "churn-model"
    version = wheel.name.split("-")[1]
    assert (
        f'"slipway-mlops[ml,aws,sandbox,serve,eks]=={version}"'
        in (project / "pyproject.toml").read_text()
    )
    files = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    options = {
        "compute": "eks",
        "endpoint": "realtime",
        "monitoring": "yes",
        "ci": "github",
        "package_name": "churn_model",
    }
    assert files == expected_files(options)
