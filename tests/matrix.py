"""Option matrix of the template, as cookiecutter-data-science builds it, and bake helpers.

The product of every choice option, with the pairs the platform cannot deploy
filtered out. STRUCTURAL_COMBOS varies the options that change generated code
(each also carries a python_version and license, cycled so every value appears);
ALL_COMBOS is the full product, baked for file sets and leftover syntax.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from tools.warm_pytest import PlainRunWarning, run_pytest

ROOT = Path(__file__).resolve().parents[1]

COOKIECUTTER = json.loads((ROOT / "cookiecutter.json").read_text())

CHOICES = {k: v for k, v in COOKIECUTTER.items() if isinstance(v, list) and not k.startswith("_")}

STRUCTURAL = ("compute", "endpoint", "monitoring", "ci")

COSMETIC = tuple(k for k in CHOICES if k not in STRUCTURAL)


def is_valid(combo: dict[str, str]) -> bool:
    """Pairs the platform cannot deploy (slipway_inputs.py refuses them; tested there)."""
    return not (combo["compute"] == "eks" and combo["endpoint"] == "serverless")


def _product(keys: tuple[str, ...]) -> list[dict[str, str]]:
    combos = (
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(CHOICES[k] for k in keys))
    )
    return [c for c in combos if is_valid({**{k: CHOICES[k][0] for k in CHOICES}, **c})]


ALL_COMBOS = _product(tuple(CHOICES))

STRUCTURAL_COMBOS = [
    {**combo, **{k: CHOICES[k][i % len(CHOICES[k])] for k in COSMETIC}}
    for i, combo in enumerate(_product(STRUCTURAL))
]


# Combinations whose suites run in full (tests/test_fresh_projects.py), one per compute
# flavor: the plain-cookiecutter default in its own fresh venv (`make test`), and one made by
# cruft in the shared environment. The other combinations run, in the shared environment, the
# tests of theirs these have not run (tests/test_template_matrix.py).
FULL_SUITE_COMBOS = [
    STRUCTURAL_COMBOS[0],
    next(c for c in STRUCTURAL_COMBOS if c["compute"] == "eks"),
]

# What a generated project's suite reads, besides the project files its test modules open
# themselves: its package (src/), its tests and its pipeline config (config/).
SUITE_INPUTS = ("src", "tests", "config")
# The one templated difference in the package within a flavor: the options `info` prints
# (src/<pkg>/cli.py), checked in every combination by tests/test_cli.py.
OPTION_SUMMARY = re.compile(r'^ +"(compute|endpoint|monitoring|ci)": "[^"\n]*",$', re.M)
# A test module that opens the project's own files (the stack files, the workflows).
READS_PROJECT_FILES = re.compile(r"parents\[1\]")
TEST_MODULE = re.compile(r"^tests/test_[^/]*\.py$")


def _suite_inputs(project: Path) -> dict[str, str]:
    files = (p for top in SUITE_INPUTS for p in sorted((project / top).rglob("*")))
    return {
        str(p.relative_to(project)): OPTION_SUMMARY.sub("", p.read_text(errors="replace"))
        for p in files
        if p.is_file() and "__pycache__" not in p.parts
    }


def modules_not_run_by(
    project: Path, reference: Path, earlier: Sequence[Path] = ()
) -> list[str] | None:
    """The test modules of ``project`` whose run neither the full suite of ``reference`` (a
    bake of another combination of the same compute flavor) nor the runs of the ``earlier``
    combinations of that flavor already stand for: every module that opens the project's own
    files (every option lands in the stack files), and every module whose text differs from
    the reference's and from each earlier bake's with the same other suite inputs (the first
    combination with a text runs it). ``None`` (run everything) when anything else the suite
    reads differs from the reference's (the package bar its option summary, conftest.py,
    config/)."""
    mine, theirs = _suite_inputs(project), _suite_inputs(reference)
    tests = {rel for rel in mine if TEST_MODULE.match(rel)}

    def others(inputs: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in inputs.items() if not TEST_MODULE.match(k)}

    if others(mine) != others(theirs):
        return None
    ran = [theirs, *(e for e in map(_suite_inputs, earlier) if others(e) == others(theirs))]
    return sorted(
        rel
        for rel in tests
        if READS_PROJECT_FILES.search(mine[rel]) or all(mine[rel] != e.get(rel) for e in ran)
    )


def combo_id(combo: dict[str, str]) -> str:
    return "-".join(combo[k] for k in CHOICES if k in combo)


def run_project_tests(
    project: Path, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run a baked project's own test suite in the shared environment.

    Forked from this worker's warm interpreter (tests/tools/warm_pytest.py). When that
    cannot be used, its ``PlainRunWarning`` is raised here: the test fails, saying why, rather
    than silently paying a cold ``python -m pytest`` (``SLIPWAY_WARM_PYTEST=0`` runs plainly).
    """
    env = {**os.environ, "PYTHONPATH": f"{project / 'src'}{os.pathsep}{project / 'infra'}"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", PlainRunWarning)
        return run_pytest(["-q", "-p", "no:cacheprovider", *args], project, env, timeout)


def format_check(project: Path) -> subprocess.CompletedProcess[str]:
    """`ruff format --check` of a baked project (its pyproject's [tool.ruff]), no cache written."""
    ruff = Path(sys.executable).parent / "ruff"
    command = [str(ruff), "format", "--check", "--no-cache", "."]  # as its `make lint`
    return subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)


def lint_project(project: Path) -> list[subprocess.CompletedProcess[str]]:
    """A baked project's own checks, as its `make lint` and pre-commit run them: ruff format
    and ruff check, mypy (its pyproject's [tool.mypy]) and its pre-commit config, with this
    environment's tools."""
    bin_dir = Path(sys.executable).parent
    commands = [
        [str(bin_dir / "ruff"), "check", "--no-cache", "."],
        [str(bin_dir / "mypy")],
        [str(bin_dir / "pre-commit"), "validate-config", ".pre-commit-config.yaml"],
    ]
    return [format_check(project)] + [
        subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
        for command in commands
    ]


def snapshot_repo(dest: Path) -> Path:
    """A git repository holding this checkout's working tree (tracked + untracked, not ignored)."""
    listed = (
        subprocess.run(
            [
                "git",
                "-C",
                str(ROOT),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, listed):
        src = ROOT / rel
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            target.symlink_to(os.readlink(src))
        else:
            target.write_bytes(src.read_bytes())
    git = ["git", "-C", str(dest), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "snapshot"], check=True)
    return dest
