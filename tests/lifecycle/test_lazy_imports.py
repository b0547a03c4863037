"""``import slipway.lifecycle`` is cheap: a project CLI's ``--help`` loads no mlflow."""

from __future__ import annotations

import subprocess
import sys

import pytest
import slipway.lifecycle as lifecycle

HEAVY = ("mlflow", "sklearn", "pandas", "scipy", "pydantic")
CHECK = f"""
import sys
from slipway.lifecycle import GateRejected, LifecycleError
print(sorted(set({HEAVY!r}) & set(sys.modules)))
"""


def test_importing_the_package_loads_no_ml_library() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, "[]\n"), done.stderr[-2000:]


def test_every_exported_name_resolves_from_its_module() -> None:
    for name in lifecycle.__all__:
        assert getattr(lifecycle, name) is not None
    assert lifecycle.CHAMPION == "champion"
    assert lifecycle.StrictModel.__module__ == "slipway.lifecycle.config"
    with pytest.raises(AttributeError, match="no_such_name"):
        lifecycle.no_such_name  # noqa: B018
