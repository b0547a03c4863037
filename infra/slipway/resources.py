"""Where the bundled template and stack presets live.

In a wheel they are package data under ``slipway/``; in a source checkout
(editable install) they sit at the repository root, two levels above this file.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parents[1]


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise FileNotFoundError("slipway data not found in " + ", ".join(str(c) for c in candidates))


def stacks_dir() -> Path:
    """Directory holding the stack presets (dev.yaml, staging.yaml, prod.yaml)."""
    return _first_existing(PACKAGE_DIR / "stacks", SOURCE_ROOT / "stacks")


def template_dir() -> tuple[Path, bool]:
    """The cookiecutter template root and whether it is the copy bundled in the wheel."""
    bundled = PACKAGE_DIR / "template"
    if (bundled / "cookiecutter.json").exists():
        return bundled, True
    if (SOURCE_ROOT / "cookiecutter.json").exists():
        return SOURCE_ROOT, False
    raise FileNotFoundError(f"no cookiecutter template in {bundled} or {SOURCE_ROOT}")
