"""Bake every valid option combination: exact file sets, no leftover template syntax,
and the project's own test suite passing: in full once per compute flavor
(tests/test_fresh_projects.py), and in every other structural combination the test modules
that differ from that flavor's or read the combination's stack files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from bake_cache import CACHE
from hook_loader import load_inputs
from matrix import (
    ALL_COMBOS,
    FULL_SUITE_COMBOS,
    ROOT,
    STRUCTURAL_COMBOS,
    combo_id,
    format_check,
    lint_project,
    modules_not_run_by,
    run_project_tests,
)
from template_manifest import VENDORED_WHEEL, expected_files

# `${{ ... }}` is a GitHub Actions expression, not leftover Jinja.
LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%|%\}|cookiecutter\.")
JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
PROGRAM = "infra/__main__.py"
PROGRAM_MAX_LINES, PROGRAM_MAX_TAGS = 40, 5  # issue 17: a thin program a user can read


def baked_files(project: Path) -> set[str]:
    return {
        str(p.relative_to(project))
        for p in project.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def assert_clean(project: Path, options: dict[str, str]) -> None:
    files = baked_files(project)
    expected = expected_files(options)
    assert files == expected, (
        f"missing {sorted(expected - files)}, unexpected {sorted(files - expected)}"
    )
    for rel in files - {VENDORED_WHEEL}:  # a zip: compressed bytes may hold anything
        text = (project / rel).read_text(errors="replace")
        match = LEFTOVER.search(text)
        assert match is None, f"{rel}: leftover template syntax {match.group()!r}"
        assert "@SLIPWAY_REQUIREMENT@" not in text, f"{rel}: requirement placeholder not filled"
    for path in project.rglob("*"):
        assert "{{" not in path.name and "cookiecutter" not in path.name, path


def program_tags() -> list[str]:
    """The Jinja tags of the program's template (the same source bakes every combination)."""
    return JINJA_TAG.findall((ROOT / "template" / PROGRAM).read_text())


@pytest.mark.parametrize("combo", ALL_COMBOS, ids=combo_id)
def test_every_combination_bakes_exact_files(cookies, combo: dict[str, str]) -> None:
    result = cookies.bake(extra_context=combo)
    assert result.exit_code == 0, result.exception
    assert CACHE.code, "the bake compiled its templates without the shared cache (bake_cache.py)"
    assert_clean(result.project_path, result.context)
    formatted = format_check(result.project_path)  # Jinja whitespace differs per combination
    assert formatted.returncode == 0, formatted.stdout[-3000:] + formatted.stderr
    lines = (result.project_path / PROGRAM).read_text().splitlines()
    assert len(lines) <= PROGRAM_MAX_LINES, f"{PROGRAM}: {len(lines)} lines"
    assert len(program_tags()) <= PROGRAM_MAX_TAGS, f"{PROGRAM}: tags {program_tags()}"


def test_the_longest_answers_still_bake_formatted(cookies) -> None:
    """Free text at each field's limit (slipway_inputs.py) changes no generated layout: the
    bake passes `ruff format --check` and ruff's line length."""
    inputs = load_inputs()
    longest = {
        "project_name": ("Customer Lifetime Value " * 5)[: inputs.MAX_TITLE].strip(),
        "description": ("Scores what a customer is worth. " * 9)[: inputs.MAX_DESCRIPTION].strip(),
        "author_name": ("Machine Learning Platform " * 11)[:256].strip(),
        "github_repository": "o" * 39 + "/" + "r" * 100,
        "compute": "sagemaker",
        "ci": "github",
        "monitoring": "yes",
    }
    result = cookies.bake(extra_context=longest)
    assert result.exit_code == 0, result.exception
    assert len(result.context["project_slug"]) == inputs.MAX_SLUG
    formatted = format_check(result.project_path)
    assert formatted.returncode == 0, formatted.stdout[-3000:] + formatted.stderr
    ruff = Path(sys.executable).parent / "ruff"
    long_lines = subprocess.run(
        [str(ruff), "check", "--no-cache", "--select", "E501", "src", "tests", "infra"],
        cwd=result.project_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert long_lines.returncode == 0, long_lines.stdout[-3000:]


def test_program_tag_count_is_measured() -> None:
    """The counter sees every kind of tag (a regex that matched nothing would pass anything)."""
    sample = "{{ a }} {%- if b %}x{% endif %} {# c #} ${{ d }}"
    assert len(JINJA_TAG.findall(sample)) == 5  # ${{ d }} counts too: the template has none
    assert len(program_tags()) >= 1


IN_ENV_COMBOS = [c for c in STRUCTURAL_COMBOS if c not in FULL_SUITE_COMBOS]
# One bake per compute flavor also runs the project's own linters (as cookiecutter-data-science
# lints its bakes).
LINTED = [
    next(c for c in IN_ENV_COMBOS if c["compute"] == compute) for compute in ("sagemaker", "eks")
]


def test_every_structural_combination_runs_its_suite_somewhere() -> None:
    """What the suite test is parametrized with (read from its mark, as pytest collects it)
    and the two full-suite projects (tests/test_fresh_projects.py bakes FULL_SUITE_COMBOS
    [0] and [1]) together hold every structural combination exactly once."""
    import test_fresh_projects

    (mark,) = [
        m
        for m in getattr(test_generated_project_suite_passes, "pytestmark", [])
        if m.name == "parametrize"
    ]
    in_env = list(mark.args[1])
    full = [c for c in FULL_SUITE_COMBOS if c in STRUCTURAL_COMBOS]
    assert len(full) == len(FULL_SUITE_COMBOS) == 2, "a full-suite project is not structural"
    assert {c["compute"] for c in full} == {"sagemaker", "eks"}, "a flavor never runs in full"
    assert test_fresh_projects.FULL_SUITE_COMBOS is FULL_SUITE_COMBOS
    ran = sorted(map(combo_id, in_env + full))
    assert ran == sorted(map(combo_id, STRUCTURAL_COMBOS)), "a combination runs 0 or 2 times"


@pytest.fixture(scope="session")  # per worker: the suites below spread over the workers
def bake(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict[str, str]], Path]:
    """``bake(combo)``: a bake of ``combo``, made once per worker."""
    from cookiecutter.main import cookiecutter

    out = tmp_path_factory.mktemp("bakes")
    made: dict[str, Path] = {}

    def baked(combo: dict[str, str]) -> Path:
        key = combo_id(combo)
        if key not in made:
            target = str(out / key)
            made[key] = Path(
                cookiecutter(str(ROOT), no_input=True, extra_context=combo, output_dir=target)
            )
        return made[key]

    return baked


@pytest.fixture(scope="session")
def full_suite_bakes(bake: Callable[[dict[str, str]], Path]) -> dict[str, Path]:
    """Per compute flavor, a bake of the combination whose suite runs in full."""
    return {combo["compute"]: bake(combo) for combo in FULL_SUITE_COMBOS}


def earlier_in_env(combo: dict[str, str]) -> list[dict[str, str]]:
    """The in-env combinations of ``combo``'s flavor before it: a module whose text one of
    them shares (and that reads no project file) ran there (``modules_not_run_by``)."""
    before = IN_ENV_COMBOS[: IN_ENV_COMBOS.index(combo)]
    return [c for c in before if c["compute"] == combo["compute"]]


@pytest.mark.slow
@pytest.mark.parametrize("combo", IN_ENV_COMBOS, ids=combo_id)
def test_generated_project_suite_passes(
    cookies,
    full_suite_bakes: dict[str, Path],
    bake: Callable[[dict[str, str]], Path],
    combo: dict[str, str],
) -> None:
    result = cookies.bake(extra_context=combo)
    assert result.exit_code == 0, result.exception
    earlier = [bake(c) for c in earlier_in_env(combo)]
    modules = modules_not_run_by(result.project_path, full_suite_bakes[combo["compute"]], earlier)
    if combo["monitoring"] == "no":  # turned on later for prod alone, as `pulumi config set` does
        stack_file = result.project_path / "infra" / "Pulumi.prod.yaml"
        off = "  slipway:monitoring: false\n"
        assert off in stack_file.read_text()
        stack_file.write_text(stack_file.read_text().replace(off, '  slipway:monitoring: "true"\n'))
    assert modules != [], "every combination runs at least the modules reading its stack files"
    run = run_project_tests(result.project_path, *(modules or []))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout
    assert "warnings summary" not in run.stdout, run.stdout[-4000:]  # each filtered at its source
    if combo in LINTED:
        for check in lint_project(result.project_path):
            assert check.returncode == 0, f"{check.args}: {check.stdout[-3000:]}{check.stderr}"


def test_a_suite_that_would_run_cold_fails_its_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run_project_tests`` raises the warm runner's ``PlainRunWarning``: a project suite that
    would run as a cold ``python -m pytest`` fails its test, naming why, rather than silently
    costing a cold interpreter (tests/tools/warm_pytest.py)."""
    import tools.warm_pytest as warm

    monkeypatch.delattr(os, "fork")
    monkeypatch.setattr(warm, "_default", warm.WarmPytest(preload=()))
    with pytest.raises(warm.PlainRunWarning, match=r"os\.fork is unavailable"):
        run_project_tests(tmp_path)


def test_option_matrix_covers_every_choice_value() -> None:
    from matrix import CHOICES

    for option, values in CHOICES.items():
        seen = {combo[option] for combo in STRUCTURAL_COMBOS}
        assert seen == set(values), f"{option}: project suites never run with {set(values) - seen}"
    assert not any(c["compute"] == "eks" and c["endpoint"] == "serverless" for c in ALL_COMBOS)


@pytest.mark.parametrize("license_name", ["MIT", "Apache-2.0", "Proprietary"])
def test_license_option_shapes_license_file_and_metadata(cookies, license_name: str) -> None:
    result = cookies.bake(extra_context={"license": license_name, "author_name": "Ada Team"})
    assert result.exit_code == 0, result.exception
    license_text = (result.project_path / "LICENSE").read_text()
    pyproject = (result.project_path / "pyproject.toml").read_text()
    assert "Ada Team" in license_text
    if license_name == "Proprietary":
        assert "All rights reserved" in license_text
        assert "license =" not in pyproject
    else:
        assert f'license = "{license_name}"' in pyproject
        assert ("MIT License" in license_text) == (license_name == "MIT")


def test_derived_names_follow_project_name(cookies) -> None:
    result = cookies.bake(extra_context={"project_name": "Fraud Scoring_v2"})
    assert result.exit_code == 0, result.exception
    assert result.project_path.name == "fraud-scoring-v2"
    assert (result.project_path / "src" / "fraud_scoring_v2" / "cli.py").is_file()
    assert 'name = "fraud-scoring-v2"' in (result.project_path / "pyproject.toml").read_text()


def test_a_combination_runs_the_tests_its_flavors_full_suite_did_not(tmp_path: Path) -> None:
    """What an in-env combination runs (``modules_not_run_by``): the modules that open the
    project's files or differ from the reference and from every earlier combination with the
    same package and config; everything when the package differs beyond its option summary."""

    def tree(root: Path, files: dict[str, str]) -> Path:
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        return root

    base = {
        "src/p/cli.py": 'OPTIONS = {\n    "compute": "sagemaker",\n    "ci": "github",\n}\n',
        "src/p/train.py": "A = 1\n",
        "config/pipeline.yaml": "model: {}\n",
        "tests/conftest.py": "",
        "tests/test_same.py": "def test(): pass\n",
        "tests/test_stack.py": "INFRA = Path(__file__).resolve().parents[1] / 'infra'\n",
        "tests/test_templated.py": "SERVERLESS = False\n",
    }
    reference = tree(tmp_path / "ref", base)
    options = base["src/p/cli.py"].replace('"github"', '"none"')
    combo = {**base, "src/p/cli.py": options, "tests/test_templated.py": "SERVERLESS = True\n"}
    assert modules_not_run_by(tree(tmp_path / "a", combo), reference) == [
        "tests/test_stack.py",
        "tests/test_templated.py",
    ]
    for rel, text in (("src/p/train.py", "A = 2\n"), ("config/pipeline.yaml", "model: {x: 1}\n")):
        other = tree(tmp_path / rel.replace("/", "-"), {**combo, rel: text})
        assert modules_not_run_by(other, reference) is None, rel
    # An earlier combination with the same text ran the module; one whose config differs
    # (it ran everything, on other inputs) stands for nothing here.
    earlier = tree(tmp_path / "earlier", {**combo, "src/p/cli.py": base["src/p/cli.py"]})
    other_config = tree(tmp_path / "other", {**combo, "config/pipeline.yaml": "model: {x: 1}\n"})
    later = tree(tmp_path / "later", combo)
    assert modules_not_run_by(later, reference, [other_config]) == [
        "tests/test_stack.py",
        "tests/test_templated.py",
    ]
    assert modules_not_run_by(later, reference, [other_config, earlier]) == ["tests/test_stack.py"]
