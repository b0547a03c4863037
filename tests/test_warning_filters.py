"""The warnings pytest hides are each hidden at their source: every filter of the repository's
and the template's ``[tool.pytest.ini_options]`` names the module that warns, and hides its
warning there and nowhere else (issue 17: runs print no warning the project can fix).

Applied as pytest applies them (``_pytest.config.parse_warning_filter``).
"""

from __future__ import annotations

import functools
import tomllib
import warnings
from pathlib import Path

import parliament
import pytest
from _pytest.config import parse_warning_filter

ROOT = Path(__file__).resolve().parents[1]
PYPROJECTS = [ROOT / "pyproject.toml", ROOT / "template" / "pyproject.toml"]


def filters(pyproject: Path) -> list[str]:
    """The section alone: the template's pyproject.toml is TOML only once rendered."""
    section = pyproject.read_text().split("[tool.pytest.ini_options]\n", 1)[1].split("\n[", 1)[0]
    return list(tomllib.loads(section).get("filterwarnings", []))


def compile_warnings(sources: dict[str, str], pyproject: Path | None) -> list[str]:
    """What compiling ``sources`` (file name -> text, as a fresh venv's first import does)
    warns under ``pyproject``'s filters (``None``: none)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        for spec in filters(pyproject) if pyproject else []:
            warnings.filterwarnings(*parse_warning_filter(spec, escape=False))
        for name, text in sources.items():
            compile(text, name, "exec")
    return [f"{w.filename}:{w.lineno}: {w.message}" for w in seen]


@pytest.mark.parametrize("pyproject", PYPROJECTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_filter_names_the_module_it_silences(pyproject: Path) -> None:
    for spec in filters(pyproject):
        action, message, _category, module, _ = parse_warning_filter(spec, escape=False)
        assert action == "ignore" and message and module, f"{pyproject.name}: {spec!r}"


def test_parliaments_escape_warnings_are_hidden_there_only() -> None:
    """parliament's regexes are plain strings with ``\\d``: a DeprecationWarning when a fresh
    venv compiles them on Python 3.11, a SyntaxWarning from 3.12."""
    package = Path(parliament.__file__).parent
    sources = {str(p): p.read_text() for p in sorted(package.rglob("*.py"))}
    assert any("invalid escape sequence" in w for w in compile_warnings(sources, None))
    assert compile_warnings(sources, PYPROJECTS[0]) == []
    ours = {str(ROOT / "tests" / "example.py"): 'PATTERN = "^\\d+$"\n'}
    assert len(compile_warnings(ours, PYPROJECTS[0])) == 1  # ours still warns


@functools.cache
def sagemaker_files_that_warn() -> dict[str, str]:
    """The sagemaker SDK's files that warn compiled with no filter (once per process). Only
    they can warn under a pyproject's filters: every filter ignores (checked above)."""
    import importlib.util

    spec = importlib.util.find_spec("sagemaker")
    assert spec is not None and spec.origin is not None
    package = Path(spec.origin).parent
    sources = {str(p): p.read_text() for p in sorted(package.rglob("*.py"))}
    return {name: text for name, text in sources.items() if compile_warnings({name: text}, None)}


@pytest.mark.parametrize("pyproject", PYPROJECTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_sagemaker_sdks_escape_warnings_are_hidden_there(pyproject: Path) -> None:
    """A fresh project venv compiles the sagemaker SDK in its first test (generated
    test_infra): its invalid escapes must not reach the suite's warnings summary."""
    sources = sagemaker_files_that_warn()
    assert any("invalid escape sequence" in w for w in compile_warnings(sources, None))
    assert compile_warnings(sources, pyproject) == []


@pytest.mark.parametrize("pyproject", PYPROJECTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_mlflows_migrations_noload_warning_is_hidden_there_only(pyproject: Path) -> None:
    """SQLAlchemy's ``noload`` deprecation, raised by MLflow's store and by its migration
    scripts, which alembic loads as modules named ``<revision>_<slug>_py``."""
    text = "The ``noload`` loader strategy is deprecated and will be removed"

    def shown(module: str) -> int:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("default")
            for spec in filters(pyproject):
                warnings.filterwarnings(*parse_warning_filter(spec, escape=False))
            warnings.warn_explicit(text, DeprecationWarning, "x.py", 1, module=module)
        return len(seen)

    assert shown("89d4b8295536_create_latest_metrics_table_py") == 0
    assert shown("mlflow.store.tracking.sqlalchemy_store") == 0
    assert shown("slipway.lifecycle.store_seed") == 1  # ours still warns
