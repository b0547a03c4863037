"""Template updates reach existing projects: a project created with cruft from one commit
of the template takes a later template change with `cruft update`, cleanly, and
`cruft check` reports out-of-date before and up-to-date after."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from matrix import snapshot_repo
from template_manifest import VENDORED_WHEEL

CRUFT = str(Path(sys.executable).parent / "cruft")
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
pytestmark = pytest.mark.slow  # bakes a project twice with cruft (~30 s)
ADDED = "\n## Support\n\nAsk the platform team in #ml-platform.\n"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def commit(repo: Path, message: str) -> str:
    assert run(*GIT, "add", "-A", cwd=repo).returncode == 0
    assert run(*GIT, "commit", "-q", "-m", message, cwd=repo).returncode == 0
    return run("git", "rev-parse", "HEAD", cwd=repo).stdout.strip()


def test_cruft_update_applies_a_later_template_change(tmp_path: Path) -> None:
    template = snapshot_repo(tmp_path / "slipway")
    first = run("git", "rev-parse", "HEAD", cwd=template).stdout.strip()
    created = run(
        CRUFT,
        "create",
        str(template),
        "--no-input",
        "--output-dir",
        str(tmp_path / "out"),
        "--extra-context",
        json.dumps({"project_name": "Upd Model", "ci": "none"}),
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr[-2000:]
    project = tmp_path / "out" / "upd-model"
    assert json.loads((project / ".cruft.json").read_text())["commit"] == first
    assert run(*GIT, "init", "-q", "-b", "main", cwd=project).returncode == 0
    commit(project, "generated")
    readme = (project / "README.md").read_text()

    assert run(CRUFT, "check", cwd=project).returncode == 0  # nothing newer yet

    with (template / "template" / "README.md").open("a") as source:
        source.write(ADDED)
    second = commit(template, "README: support section")

    before = run(CRUFT, "check", cwd=project)
    assert before.returncode != 0 and "out of date" in before.stdout.lower() + before.stderr.lower()

    updated = run(CRUFT, "update", "--skip-apply-ask", cwd=project)
    assert updated.returncode == 0, updated.stdout[-2000:] + updated.stderr[-2000:]
    assert (project / "README.md").read_text() == readme + ADDED
    assert not list(project.rglob("*.rej")), "the template change did not apply cleanly"
    changed = run("git", "status", "--porcelain", cwd=project).stdout.split("\n")
    # The vendored slipway-mlops wheel carries the template: it follows the update too.
    assert sorted(line[3:] for line in changed if line) == [
        ".cruft.json",
        "README.md",
        VENDORED_WHEEL,
    ]
    assert json.loads((project / ".cruft.json").read_text())["commit"] == second

    after = run(CRUFT, "check", cwd=project)
    assert after.returncode == 0, after.stdout + after.stderr
