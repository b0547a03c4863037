"""The benchmark helpers are scripts in ``benchmarks/`` (not a package): import them from there."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
