"""Option matrix of the template, as cookiecutter-data-science builds it.

The product of every choice option, with the pairs the platform cannot deploy
filtered out. STRUCTURAL_COMBOS varies the options that change generated code
(each also carries a python_version and license, cycled so every value appears);
ALL_COMBOS is the full product, baked for file sets and leftover syntax.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COOKIECUTTER = json.loads((ROOT / "cookiecutter.json").read_text())
CHOICES = {k: v for k, v in COOKIECUTTER.items() if isinstance(v, list)}
STRUCTURAL = ("compute", "endpoint", "monitoring", "ci")
COSMETIC = tuple(k for k in CHOICES if k not in STRUCTURAL)


def is_valid(combo: dict[str, str]) -> bool:
    """Pairs the platform cannot deploy (pre_gen refuses them; tested there)."""
    return not (combo["compute"] == "eks" and combo["endpoint"] == "serverless")


def _product(keys: tuple[str, ...]) -> list[dict[str, str]]:
    combos = (dict(zip(keys, values)) for values in itertools.product(*(CHOICES[k] for k in keys)))
    return [c for c in combos if is_valid({**{k: CHOICES[k][0] for k in CHOICES}, **c})]


ALL_COMBOS = _product(tuple(CHOICES))
STRUCTURAL_COMBOS = [
    {**combo, **{k: CHOICES[k][i % len(CHOICES[k])] for k in COSMETIC}}
    for i, combo in enumerate(_product(STRUCTURAL))
]


def combo_id(combo: dict[str, str]) -> str:
    return "-".join(combo[k] for k in CHOICES if k in combo)


def run_project_tests(project: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run a baked project's own test suite in the shared environment."""
    env = {**os.environ, "PYTHONPATH": f"{project / 'src'}{os.pathsep}{project / 'infra'}"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )
