"""The baked eks project's infra program (template/infra/__main__.py), run under mocks.

The project is baked once per test process with cookiecutter (project "Churn": package
``churn``, stacks ``churn-<env>``; compute=eks, monitoring=yes, ci=none), so the tests
exercise the program users get, not a re-composition of it; other options are set the
way a project sets them, in its stack config (``with_config``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from cookiecutter.main import cookiecutter
from stack_config import configure_eks

ROOT = Path(__file__).resolve().parents[2]
PROJECT = {
    "project_name": "Churn",
    "compute": "eks",
    "endpoint": "realtime",
    "monitoring": "yes",
    "ci": "none",
}
MODEL_URI = "models:/churn@champion"  # slipway:modelUri of the baked stacks


def bake_infra(out: Path) -> Path:
    """Bake the eks project into ``out``; its ``infra/`` directory."""
    project = cookiecutter(str(ROOT), no_input=True, extra_context=PROJECT, output_dir=str(out))
    return configure_eks(Path(project) / "infra")


def stack_config(infra: Path, stack: str) -> dict[str, Any]:
    return dict(yaml.safe_load((infra / f"Pulumi.{stack}.yaml").read_text())["config"])


def with_config(infra: Path, dest: Path, stack: str, **values: Any) -> Path:
    """A copy of the program whose ``Pulumi.<stack>.yaml`` sets ``slipway:<key>`` to values
    (``None``: unset)."""
    shutil.copytree(infra, dest)
    config = stack_config(dest, stack)
    for key, value in values.items():  # None: the key is not set
        if value is None:
            config.pop(f"slipway:{key}", None)
        else:
            config[f"slipway:{key}"] = value
    (dest / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    return dest
