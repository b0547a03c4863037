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
