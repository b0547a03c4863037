"""The post-gen hook pins slipway-mlops to where the template came from."""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import dockerfile
import pytest
from hook_loader import load_hook
from matrix import ROOT, snapshot_repo

BASE = {"compute": "sagemaker", "slipway_source": "", "_slipway_bundle_version": ""}
EXTRAS = "slipway-mlops[ml,aws,sandbox,serve,pipelines]"
UV = str(Path(sys.executable).parent / "uv")


WHEEL = "slipway_mlops-0.1.0-py3-none-any.whl"
VENDORED = f"{EXTRAS} @ {{root:uri}}/vendor/{WHEEL}"


def requirement(root: Path, **context: object) -> str:
    hook = load_hook("post_gen_project", {**BASE, **context})
    return str(hook.requirement(hook.CONTEXT, root))


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"slipway_source": "==0.2.0"}, f"{EXTRAS}==0.2.0"),
        ({"slipway_source": ">= 0.2"}, f"{EXTRAS}>=0.2"),
        (
            {"slipway_source": "git+https://github.com/acme/slipway@v1", "_template": "."},
            f"{EXTRAS} @ git+https://github.com/acme/slipway@v1",
        ),
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
    ],
)
def test_requirement_follows_template_origin(
    context: dict[str, str], expected: str, tmp_path: Path
) -> None:
    assert requirement(tmp_path, **context) == expected
    assert not (tmp_path / "vendor").exists()


@pytest.mark.parametrize(
    "context",
    [
        {"slipway_source": str(ROOT)},
        {"slipway_source": ROOT.as_uri()},
        {"_template": str(ROOT), "_repo_dir": str(ROOT)},
        {"_template": ROOT.as_uri(), "_repo_dir": str(ROOT)},  # cookiecutter clones file:// URLs
        {"_template": str(ROOT), "compute": "eks"},
    ],
)
def test_local_origin_is_vendored_as_a_wheel(context: dict[str, str], tmp_path: Path) -> None:
    """A path or file:// URL means nothing on a CI runner or in the image build: the hook
    builds the checkout into vendor/ and pins it relative to the project."""
    got = requirement(tmp_path, **context)
    # EKS runs its steps as Jobs: the eks extra instead of pipelines (the sagemaker SDK)
    extras = EXTRAS.replace("pipelines]", "eks]") if context.get("compute") == "eks" else EXTRAS
    assert got == VENDORED.replace(EXTRAS, extras)
    with zipfile.ZipFile(tmp_path / "vendor" / WHEEL) as wheel:
        names = set(wheel.namelist())
    assert {"slipway/__init__.py", "slipway/template/cookiecutter.json"} <= names


def test_a_built_wheel_is_vendored_as_is(tmp_path: Path) -> None:
    first = tmp_path / "first"
    first.mkdir()
    requirement(first, slipway_source=str(ROOT))
    again = tmp_path / "again"
    again.mkdir()
    assert requirement(again, slipway_source=str(first / "vendor" / WHEEL)) == VENDORED
    assert (again / "vendor" / WHEEL).read_bytes() == (first / "vendor" / WHEEL).read_bytes()


def test_a_path_that_is_no_slipway_source_is_a_one_line_error(tmp_path: Path) -> None:
    hook = load_hook("post_gen_project", {**BASE, "slipway_source": str(tmp_path)})
    with pytest.raises(hook.SourceError, match=r"^slipway_source: .* neither a slipway-mlops"):
        hook.requirement(hook.CONTEXT, tmp_path)


def test_explicit_source_overrides_origin(tmp_path: Path) -> None:
    got = requirement(
        tmp_path, slipway_source="==9.9.9", _template="gh:acme/slipway", _checkout="v1"
    )
    assert got == f"{EXTRAS}==9.9.9"


def test_relative_template_resolves_against_invoking_directory(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PWD", str(ROOT.parent))
    monkeypatch.chdir(tmp_path)
    assert requirement(tmp_path, _template=ROOT.name, _repo_dir=ROOT.name) == VENDORED


def test_unlocatable_template_is_a_one_line_error(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PWD", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    hook = load_hook("post_gen_project", {**BASE, "_template": "nowhere", "_repo_dir": "nowhere"})
    with pytest.raises(hook.SourceError, match=r"^slipway_source: cannot locate"):
        hook.requirement(hook.CONTEXT, tmp_path)


def _pinned(project: Path) -> str:
    line = next(
        ln for ln in (project / "pyproject.toml").read_text().splitlines() if "slipway-mlops" in ln
    )
    return line.strip().strip('",')


def resolves_alone(project: Path) -> subprocess.CompletedProcess[str]:
    """The project's direct requirements, resolved as pip would build them (hatchling
    metadata), with no index: a direct reference must point at a file that exists."""
    return subprocess.run(
        [UV, "pip", "compile", "--no-deps", "--offline", "--quiet", "pyproject.toml"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def image_build_context(project: Path, dest: Path) -> Path:
    """What the Dockerfile's build stage holds when it runs `pip install .`: the files its
    COPY lines bring from the context (less .dockerignore), at their WORKDIR paths."""
    ignored = [
        line.strip()
        for line in (project / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    workdir = Path("/")
    for command in dockerfile.parse_file(str(project / "Dockerfile")):
        if command.cmd == "WORKDIR":
            workdir = workdir / command.value[0]
        elif command.cmd == "COPY" and not command.flags:
            *sources, target = command.value
            for source in sources:
                if any(fnmatch.fnmatch(source, pattern) for pattern in ignored):
                    continue
                src, into = project / source, dest / (workdir / target).relative_to("/")
                if src.is_dir():  # Docker copies a directory's contents
                    shutil.copytree(src, into, dirs_exist_ok=True)
                else:
                    into = into / src.name if target.endswith("/") else into
                    into.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(src, into)
        elif command.cmd == "RUN" and "pip install ." in command.value[0]:
            return dest / workdir.relative_to("/")
    raise AssertionError("the Dockerfile never runs `pip install .`")


def test_project_from_a_local_checkout_installs_without_the_checkout(tmp_path: Path) -> None:
    """`cookiecutter .` in a Slipway checkout; then the checkout is gone and the project is
    cloned elsewhere, as on a CI runner: `make setup` (pip install -e .) and the image
    build (`pip install .` inside Docker) resolve slipway-mlops from the repository alone."""
    checkout = snapshot_repo(tmp_path / "slipway")
    run = subprocess.run(
        [sys.executable, "-m", "cookiecutter", ".", "--no-input", "-o", str(tmp_path / "out")],
        cwd=checkout,
        env={**os.environ, "PWD": str(checkout)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    shutil.rmtree(checkout)
    runner = tmp_path / "runner" / "churn-model"
    shutil.copytree(tmp_path / "out" / "churn-model", runner)
    for where in (runner, image_build_context(runner, tmp_path / "image")):
        resolved = resolves_alone(where)
        assert resolved.returncode == 0, f"{where}: {resolved.stderr}"
        assert f"slipway-mlops @ {(where / 'vendor' / WHEEL).as_uri()}" in resolved.stdout
    assert _pinned(runner) == VENDORED


def test_file_git_url_is_vendored_from_the_commit_rendered(
    tmp_path: Path, template_repo: Path
) -> None:
    """`cookiecutter git+file://...` clones a local repository: still local, so vendored
    (a git+file:// pin would name a path of this machine)."""
    from cookiecutter.main import cookiecutter

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
    assert _pinned(Path(project)) == VENDORED
    assert (Path(project) / "vendor" / WHEEL).is_file()
