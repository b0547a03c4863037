"""Every component's ``*Args`` class documents each field, and says the default of each
field that has one (issue 17: documented args, as pulumi-eks's SDK documents its inputs).

Read from the source, as Sphinx and IDEs read attribute docstrings: the string literal right
after the field's annotation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCES = Path(__file__).resolve().parents[1] / "infra" / "slipway"


def args_classes() -> list[tuple[str, ast.ClassDef]]:
    found = []
    for path in sorted(SOURCES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Args"):
                found.append((f"{path.relative_to(SOURCES)}:{node.name}", node))
    return found


def undocumented(cls: ast.ClassDef) -> list[str]:
    """Fields with no docstring, or with a default their docstring does not mention."""
    problems = []
    for field, after in zip(cls.body, [*cls.body[1:], None], strict=True):
        if not isinstance(field, ast.AnnAssign) or not isinstance(field.target, ast.Name):
            continue
        doc = (
            after.value.value
            if isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
            else None
        )
        if doc is None:
            problems.append(f"{field.target.id}: no docstring")
        elif field.value is not None and "default" not in doc.lower():
            problems.append(f"{field.target.id}: default {ast.unparse(field.value)} not said")
    return problems


def test_the_check_finds_an_undocumented_field_and_an_unsaid_default() -> None:
    sample = ast.parse(
        "class XArgs:\n"
        "    a: int\n"
        '    """Documented."""\n'
        "    b: str\n"
        "    c: int = 3\n"
        '    """Documented, not what it is when unset."""\n'
        "    d: int = 4\n"
        '    """Default 4."""\n'
    ).body[0]
    assert isinstance(sample, ast.ClassDef)
    assert undocumented(sample) == ["b: no docstring", "c: default 3 not said"]


def test_every_component_has_args_classes_to_check() -> None:
    names = {name.split(":")[1] for name, _ in args_classes()}
    assert {"ArtifactStoreArgs", "RolesArgs", "ClusterArgs", "TrackingArgs"} <= names


@pytest.mark.parametrize(("where", "cls"), [pytest.param(w, c, id=w) for w, c in args_classes()])
def test_args_fields_are_documented_with_their_defaults(where: str, cls: ast.ClassDef) -> None:
    assert undocumented(cls) == [], where
