"""The version floors in pyproject.toml cover what the code calls (issue 12, item 12).

Every call into a Pulumi provider SDK in ``infra/slipway`` (a resource, an ``*Args`` class
or a function, with the keyword arguments it passes) must exist in the wheel of the lowest
version pyproject.toml allows. The floor wheels are downloaded with pip (``--no-deps``,
pip's cache makes reruns cheap) and read as source, never installed or imported. The full
lowest-direct resolution with the component tests is ``make floors`` (docs/components.md).
"""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass

import pytest
from matrix import ROOT
from packaging.requirements import Requirement

SDKS = {
    "pulumi_aws": "pulumi-aws",
    "pulumi_eks": "pulumi-eks",
    "pulumi_kubernetes": "pulumi-kubernetes",
    "pulumi_random": "pulumi-random",
}
SOURCES = ROOT / "infra" / "slipway"


@dataclass(frozen=True)
class Use:
    package: str  # import name, e.g. pulumi_aws
    module: tuple[str, ...]  # e.g. ("sagemaker",)
    name: str  # e.g. MlflowApp
    keywords: frozenset[str]
    where: str


def floors() -> dict[str, str]:
    """Lowest allowed version of each SDK (the ``>=`` bound in pyproject's extras)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = {}
    extras = project["optional-dependencies"].values()
    for requirement in (Requirement(line) for extra in extras for line in extra):
        for spec in requirement.specifier:
            if requirement.name in SDKS.values() and spec.operator == ">=":
                found[requirement.name] = spec.version
    return found


def uses() -> list[Use]:
    """Each call ``<alias>.<module...>.<Name>(...)`` on an imported SDK in infra/slipway."""
    found: list[Use] = []
    for path in sorted(SOURCES.rglob("*.py")):
        tree = ast.parse(path.read_text())
        aliases = {
            alias.asname or alias.name: alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
            if alias.name in SDKS
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            chain: list[str] = []
            target: ast.expr = node.func
            while isinstance(target, ast.Attribute):
                chain.insert(0, target.attr)
                target = target.value
            if isinstance(target, ast.Name) and target.id in aliases:
                found.append(
                    Use(
                        aliases[target.id],
                        tuple(chain[:-1]),
                        chain[-1],
                        frozenset(k.arg for k in node.keywords if k.arg),
                        f"{path.relative_to(ROOT)}:{node.lineno}",
                    )
                )
    return found


@pytest.fixture(scope="module")
def floor_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, zipfile.ZipFile]:
    """The wheel of each SDK's floor version, by import name."""
    out = tmp_path_factory.mktemp("floors")
    pins = [f"{dist}=={version}" for dist, version in floors().items()]
    download = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    run = subprocess.run(
        [*download, "--quiet", "-d", str(out), *pins],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    wheels = {}
    for package in SDKS:
        (wheel,) = out.glob(f"{package}-*.whl")
        wheels[package] = zipfile.ZipFile(wheel)
    return wheels


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def definition(wheel: zipfile.ZipFile, use: Use) -> ast.ClassDef | ast.FunctionDef | None:
    """Where the SDK defines ``use.name``: codegen puts class ``FooBar`` in ``foo_bar.py``,
    ``*Args`` in ``_inputs.py``, function ``get_x`` in ``get_x.py``; else any module file."""
    folder = "/".join((use.package, *use.module))
    files = [n for n in wheel.namelist() if n.rpartition("/")[0] == folder and n.endswith(".py")]
    likely = [f"{folder}/{snake(use.name)}.py", f"{folder}/{use.name}.py", f"{folder}/_inputs.py"]
    for name in [f for f in likely if f in files] + [f for f in files if f not in likely]:
        node = top_level(wheel, name, use.name)
        if node:
            return node
    return None


def top_level(
    wheel: zipfile.ZipFile, name: str, wanted: str
) -> ast.ClassDef | ast.FunctionDef | None:
    """The class or function ``wanted`` a module of the wheel defines at its top level: its
    text (from its line to the next top-level line) parsed alone, else the whole module if
    that does not parse. A cut too early can only lose parameters (a false failure)."""
    text = wheel.read(name).decode()
    found = re.search(rf"^(?:class|def) {wanted}\b.*?(?=^\S|\Z)", text, re.M | re.S)
    if found is None:
        return None
    try:
        node = ast.parse(found.group()).body[0]
    except SyntaxError:
        return _top_level(wheel, name).get(wanted)
    assert isinstance(node, ast.ClassDef | ast.FunctionDef)
    return node


@functools.cache
def _top_level(wheel: zipfile.ZipFile, name: str) -> dict[str, ast.ClassDef | ast.FunctionDef]:
    """Classes and functions a module of the wheel defines (each file parsed once)."""
    return {
        node.name: node
        for node in ast.parse(wheel.read(name)).body
        if isinstance(node, ast.ClassDef | ast.FunctionDef)
    }


def parameters(node: ast.ClassDef | ast.FunctionDef) -> set[str]:
    """Keyword arguments a resource (``_internal_init``), an Args class (``__init__``) or
    a function accepts."""
    functions = [node] if isinstance(node, ast.FunctionDef) else node.body
    names: set[str] = set()
    for function in functions:
        if isinstance(function, ast.FunctionDef) and function.name in (
            node.name,
            "_internal_init",
            "__init__",
        ):
            arguments = function.args
            names |= {a.arg for a in arguments.args + arguments.kwonlyargs}
    return names


def test_the_code_calls_each_sdk() -> None:
    found = {use.package for use in uses()}
    assert found == set(SDKS), "an SDK the floors name is no longer called (drop its floor)"
    assert set(floors()) == set(SDKS.values())


def test_every_sdk_call_exists_at_the_floor(floor_wheels: dict[str, zipfile.ZipFile]) -> None:
    """E.g. ``aws.sagemaker.MlflowApp`` first appears in pulumi-aws 7.22.0 and
    ``eks.Cluster(deletion_protection=...)`` in pulumi-eks 4.1.0."""
    problems = []
    for use in uses():
        floor = f"{SDKS[use.package]} {floors()[SDKS[use.package]]}"
        node = definition(floor_wheels[use.package], use)
        if node is None:
            problems.append(f"{use.where}: {floor} has no {'.'.join((*use.module, use.name))}")
            continue
        unknown = use.keywords - parameters(node)
        if unknown:
            problems.append(f"{use.where}: {floor} {use.name} takes no {sorted(unknown)}")
    assert not problems, "\n".join(problems)
