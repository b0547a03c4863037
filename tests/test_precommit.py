"""The pre-commit configurations of the repository and of generated projects are valid and
run the tools `make lint` runs, from the checkout's own .venv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = [ROOT / ".pre-commit-config.yaml", ROOT / "template" / ".pre-commit-config.yaml"]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_pre_commit_config_is_valid(config: Path) -> None:
    run = subprocess.run(
        [str(PRE_COMMIT), "validate-config", str(config)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_hooks_are_ruff_format_ruff_check_and_mypy_from_the_venv(config: Path) -> None:
    hooks = [hook for repo in yaml.safe_load(config.read_text())["repos"] for hook in repo["hooks"]]
    assert [hook["id"] for hook in hooks] == ["ruff-format", "ruff-check", "mypy"]
    for hook in hooks:
        tool = hook["entry"].split()[0]
        assert tool.startswith(".venv/bin/"), hook["id"]
        # the repository's own .venv has the same tools a generated project's `make setup` installs
        assert (ROOT / tool).is_file(), f"{hook['id']}: {tool} missing (make setup)"
    assert hooks[2].get("pass_filenames") is False  # mypy reads pyproject's files, not one file


# What `ruff format` formats (ruff >= 0.16 also formats the Python blocks of Markdown files:
# https://docs.astral.sh/ruff/formatter/), so what `make lint`'s `ruff format --check .` checks.
RUFF_FORMATS = {".py", ".pyi", ".md"}


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_format_hook_sees_every_file_ruff_formats(config: Path) -> None:
    """A file type `make lint` checks but the hook skips would pass the commit, then fail CI
    (the template's files stand for a generated project's)."""
    from identify.identify import tags_from_path

    hook = yaml.safe_load(config.read_text())["repos"][0]["hooks"][0]
    listed = subprocess.run(
        ["git", "-C", str(config.parent), "ls-files", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    missed = [
        rel
        for rel in listed
        if Path(rel).suffix in RUFF_FORMATS
        and (config.parent / rel).is_file()
        and not tags_from_path(str(config.parent / rel)) & set(hook["types_or"])
    ]
    assert missed == [], f"{hook['id']} never sees {missed[:5]} ({len(missed)} files)"


@pytest.mark.parametrize(
    "makefile",
    [ROOT / "Makefile", ROOT / "template" / "Makefile"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_make_lint_checks_every_file_ruff_formats(makefile: Path) -> None:
    """`ruff format --check .` and `ruff check .`: docs' code blocks included ([tool.ruff]
    extend-exclude keeps the template's Jinja sources out of the repository's)."""
    recipe = _recipe(makefile.read_text(), "lint")
    assert "$(BIN)/ruff format --check .\n" in recipe and "$(BIN)/ruff check .\n" in recipe, recipe


def _recipe(makefile: str, target: str) -> str:
    """What ``make target`` runs: its recipe after those of its prerequisites with recipes."""
    head, recipe = makefile.split(f"\n{target}:", 1)[1].split("\n", 1)
    before = "".join(_recipe(makefile, t) for t in head.split() if f"\n{t}:" in makefile)
    return before + recipe.split("\n\n", 1)[0] + "\n"


def test_the_repository_is_ruff_formatted() -> None:
    run = subprocess.run(
        [str(PRE_COMMIT.parent / "ruff"), "format", "--check", "--no-cache", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
