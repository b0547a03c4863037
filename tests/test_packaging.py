"""The wheel carries the template, hooks and presets, so `slipway new` works from an
installed package with no access to this repository."""

from __future__ import annotations

import importlib.metadata
import json
import re
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
def test_slipway_new_from_an_installed_wheel_pins_where_it_came_from(
    wheel: Path, tmp_path: Path
) -> None:
    """Installed from a wheel file (PEP 610 direct_url.json names it): the project vendors
    that wheel. Installed from an index (no direct_url.json): it pins the version, and
    `slipway new` says the runner and the image build must reach that index."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # Only the CLI's own dependencies: `slipway new` must not need the heavy extras.
    subprocess.run(
        [str(UV), "pip", "install", "-q", "--python", str(python), str(wheel)], check=True
    )

    def new(out: Path) -> tuple[Path, str]:
        run = subprocess.run(
            [str(venv / "bin" / "slipway"), "new", "--no-input", "-o", str(out), "compute=eks"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        return out / "churn-model", run.stderr

    project, _ = new(tmp_path / "from-wheel")
    pyproject = (project / "pyproject.toml").read_text()
    assert f'"slipway-mlops[ml,aws,sandbox,serve,eks] @ {{root:uri}}/vendor/{wheel.name}"' in (
        pyproject
    )
    assert (project / "vendor" / wheel.name).read_bytes() == wheel.read_bytes()
    files = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    options = {
        "compute": "eks",
        "endpoint": "realtime",
        "monitoring": "yes",
        "ci": "github",
        "package_name": "churn_model",
    }
    assert files == expected_files(options)

    (direct_url,) = venv.glob("lib/python*/site-packages/slipway_mlops-*.dist-info/direct_url.json")
    direct_url.unlink()  # what an install from an index leaves
    project, note = new(tmp_path / "from-index")
    version = wheel.name.split("-")[1]
    pin = f"slipway-mlops[ml,aws,sandbox,serve,eks]=={version}"
    assert f'"{pin}"' in (project / "pyproject.toml").read_text()
    assert not (project / "vendor" / wheel.name).exists()
    assert f"note: {pin} installs from a package index" in note and "PIP_INDEX_URL" in note


@pytest.mark.parametrize(
    ("direct_url", "source"),
    [
        (None, None),  # from an index
        (
            {
                "url": "https://github.com/acme/slipway.git",
                "vcs_info": {"vcs": "git", "commit_id": "abc1"},
            },
            "git+https://github.com/acme/slipway.git@abc1",
        ),
        (
            {
                "url": "ssh://git@github.com/acme/slipway.git",
                "vcs_info": {"vcs": "git", "commit_id": "abc1"},
            },
            "git+ssh://git@github.com/acme/slipway.git@abc1",
        ),
        (
            {"url": "file:///opt/slipway_mlops-0.1.0-py3-none-any.whl", "archive_info": {}},
            "file:///opt/slipway_mlops-0.1.0-py3-none-any.whl",
        ),
        ({"url": "file:///src/slipway", "dir_info": {}}, "file:///src/slipway"),
        (
            {"url": "https://example.com/slipway_mlops-0.1.0-py3-none-any.whl", "archive_info": {}},
            None,
        ),
    ],
)
def test_installed_source_reads_pep_610(
    direct_url: dict[str, object] | None, source: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PEP 610 direct_url.json examples: where `slipway new` says the project installs from."""
    from slipway import origin

    class Installed:
        def read_text(self, name: str) -> str | None:
            assert name == "direct_url.json"
            return None if direct_url is None else json.dumps(direct_url)

    monkeypatch.setattr(origin, "distribution", lambda name: Installed())
    assert origin.installed_source() == source


def pins(text: str) -> dict[str, str]:
    """``name==version`` lines by canonical name (PEP 503)."""
    found = {}
    for line in text.splitlines():
        name, sep, version = line.partition("==")
        if sep:
            found[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return found


def test_the_environment_is_what_constraints_txt_pins() -> None:
    """`make setup` installs against constraints.txt; a dependency pyproject.toml gained, or a
    pin nothing needs any more, means `make constraints` has to run (Makefile)."""
    pinned = pins((ROOT / "constraints.txt").read_text())
    bootstrap = {"pip", "setuptools", "uv", "slipway-mlops"}  # the venv's and the checkout's
    installed = {
        re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower(): d.version
        for d in importlib.metadata.distributions()
    }
    unpinned = sorted(set(installed) - set(pinned) - bootstrap)
    assert not unpinned, f"installed but not in constraints.txt (make constraints): {unpinned}"
    stale = sorted(set(pinned) - set(installed))
    assert not stale, f"in constraints.txt but not installed (make constraints): {stale}"
    moved = sorted(n for n in pinned if installed[n] != pinned[n])
    assert not moved, f"installed at another version than constraints.txt pins: {moved}"


def test_the_python_floor_has_the_tarfile_filters_the_package_uses() -> None:
    """Unpacking model.tar.gz passes ``filter="data"`` (PEP 706), which Python has from 3.11.4
    (a 3.11.2 interpreter raises TypeError there): requires-python must exclude older ones."""
    import tomllib

    from packaging.specifiers import SpecifierSet

    package = ROOT / "infra" / "slipway"
    uses = [
        p for p in package.rglob("*.py") if re.search(r"extractall\([^)]*filter=", p.read_text())
    ]
    floor = SpecifierSet(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    )
    assert uses, "no filtered extraction left: the floor may come down again"
    assert "3.11.3" not in floor and "3.11.4" in floor, floor
