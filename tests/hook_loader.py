"""Render a hook the way cookiecutter does and load it as a module, for unit tests."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

from cookiecutter.environment import StrictEnvironment

HOOKS = Path(__file__).resolve().parents[1] / "hooks"


def load_hook(name: str, context: dict[str, object]) -> types.ModuleType:
    env = StrictEnvironment(context={"cookiecutter": context})
    source = env.from_string((HOOKS / f"{name}.py").read_text()).render(cookiecutter=context)
    module = types.ModuleType(name)
    exec(compile(source, str(HOOKS / f"{name}.py"), "exec"), module.__dict__)
    return module


def load_inputs() -> types.ModuleType:
    """The template's Jinja extension module (slipway_inputs.py at the repository root),
    imported as cookiecutter imports it."""
    root = str(HOOKS.parent)
    if root not in sys.path:
        sys.path.append(root)
    return importlib.import_module("slipway_inputs")
