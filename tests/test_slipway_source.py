"""The post-gen hook pins slipway-mlops to where the template came from."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hook_loader import load_hook
from matrix import ROOT

BASE = {"compute": "sagemaker", "slipway_source": "", "_slipway_bundle_version": ""}
EXTRAS = "slipway-mlops[ml,aws,sandbox,serve]"


def requirement(**context: object) -> str:
    hook = load_hook("post_gen_project", {**BASE, **context})
    return str(hook.requirement(hook.CONTEXT))


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"slipway_source": "==0.2.0"}, f"{EXTRAS}==0.2.0"),
        ({"slipway_source": ">= 0.2"}, f"{EXTRAS}>=0.2"),
        (
            {"slipway_source": "git+https://github.com/acme/slipway@v1", "_template": "."},
            f"{EXTRAS} @ git+https://github.com/acme/slipway@v1",
        ),
        ({"slipway_source": "file:///opt/slipway"}, f"{EXTRAS} @ file:///opt/slipway"),
        ({"slipway_source": str(ROOT)}, f"{EXTRAS} @ {ROOT.as_uri()}"),
        ({"_slipway_bundle_version": "0.3.1", "_template": "/x"}, f"{EXTRAS}==0.3.1"),
        (
            {"_template": "gh:acme/slipway", "_checkout": "v0.1.0"},
            f"{EXTRAS} @ git+https://github.com/acme/slipway@v0.1.0",
        ),
        (
            {"_template": "https://github.com/acme/slipway.git", "_commit": "abc123"},
            f"{EXTRAS} @ git+https://github.com/acme/slipway.git@abc123",
        ),
        (
            {"_template": "git@github.com:acme/slipway.git", "_checkout": "main"},
            f"{EXTRAS} @ git+ssh://git@github.com/acme/slipway.git@main",
        ),
        ({"_template": str(ROOT), "_repo_dir": str(ROOT)}, f"{EXTRAS} @ {ROOT.as_uri()}"),
        (
            {"_template": str(ROOT), "compute": "eks"},
            f"slipway-mlops[ml,aws,sandbox,serve,eks] @ {ROOT.as_uri()}",
        ),
    ],
)
def test_requirement_follows_template_origin(context: dict[str, str], expected: str) -> None:
    assert requirement(**context) == expected


def test_explicit_source_overrides_origin() -> None:
    got = requirement(slipway_source="==9.9.9", _template="gh:acme/slipway", _checkout="v1")
    assert got == f"{EXTRAS}==9.9.9"


def test_relative_template_resolves_against_invoking_directory(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PWD", str(ROOT.parent))
    monkeypatch.chdir(tmp_path)
    assert requirement(_template=ROOT.name, _repo_dir=ROOT.name) == f"{EXTRAS} @ {ROOT.as_uri()}"


def test_unlocatable_template_is_a_one_line_error(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PWD", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    hook = load_hook("post_gen_project", {**BASE, "_template": "nowhere", "_repo_dir": "nowhere"})
    with pytest.raises(hook.SourceError, match=r"^slipway_source: cannot locate"):
        hook.requirement(hook.CONTEXT)


def _pinned(project: Path) -> str:
    line = next(
        ln for ln in (project / "pyproject.toml").read_text().splitlines() if "slipway-mlops" in ln
    )
    return line.strip().strip('",')


def test_cookiecutter_cli_on_relative_path_pins_file_url(tmp_path: Path) -> None:
    env = {**os.environ, "PWD": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "cookiecutter", ".", "--no-input", "-o", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert _pinned(tmp_path / "churn-model") == f"{EXTRAS} @ {ROOT.as_uri()}"


def test_git_url_pins_cloned_commit(tmp_path: Path, template_repo: Path) -> None:
    from cookiecutter.main import cookiecutter

    commit = subprocess.run(
        ["git", "-C", str(template_repo), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"cookiecutters_dir: {tmp_path / 'clones'}\nreplay_dir: {tmp_path / 'replay'}\n"
    )
    project = cookiecutter(
        "git+" + template_repo.as_uri(),
        no_input=True,
        output_dir=str(tmp_path / "out"),
        config_file=str(config),
    )
    assert _pinned(Path(project)) == f"{EXTRAS} @ git+{template_repo.as_uri()}@{commit}"
