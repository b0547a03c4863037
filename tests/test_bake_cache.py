"""The bakes of a test process share compiled templates (tests/bake_cache.py): a bake from
the cache writes exactly the files a bake without it writes, and compiles nothing again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bake_cache import CACHE, _init, _init_with_cache
from cookiecutter.environment import StrictEnvironment
from cookiecutter.main import cookiecutter
from jinja2 import Environment
from matrix import ROOT, STRUCTURAL_COMBOS

pytestmark = pytest.mark.bakes


def files(project: Path) -> dict[str, bytes]:
    return {str(p.relative_to(project)): p.read_bytes() for p in project.rglob("*") if p.is_file()}


def bake(combo: dict[str, str], out: Path) -> Path:
    return Path(cookiecutter(str(ROOT), no_input=True, extra_context=combo, output_dir=str(out)))


def test_a_cached_bake_writes_what_a_plain_bake_writes_and_compiles_no_template_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    combo = STRUCTURAL_COMBOS[-1]
    monkeypatch.setattr(StrictEnvironment, "__init__", _init)
    plain = files(bake(combo, tmp_path / "plain"))
    monkeypatch.setattr(StrictEnvironment, "__init__", _init_with_cache)
    monkeypatch.setattr(CACHE, "code", {})
    first = files(bake(combo, tmp_path / "first"))
    compiled: list[str] = []
    compile_ = Environment.compile

    def counting(self: Environment, source: Any, name: str | None = None, *a: Any, **k: Any) -> Any:
        if name is not None:  # a template file (paths and values compile from strings)
            compiled.append(name)
        return compile_(self, source, name, *a, **k)

    monkeypatch.setattr(Environment, "compile", counting)
    second = files(bake(combo, tmp_path / "second"))
    assert plain == first == second
    assert CACHE.code, "the first bake filled the cache"
    assert compiled == [], f"compiled again: {compiled[:5]}"
