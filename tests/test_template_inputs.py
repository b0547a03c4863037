"""Template inputs that cannot hurt (issue 16 §3): a value is never run as Jinja, a bad one
is refused with one line before anything is written, and every value lands in each file
quoted or escaped for that file's syntax (checked by parsing the generated files)."""

from __future__ import annotations

import ast
import json
import logging
import os
import random
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter
from hook_loader import load_hook, load_inputs
from markdown_it import MarkdownIt
from matrix import ROOT
from slipway.cli import app
from typer.testing import CliRunner as TyperRunner

INPUTS = load_inputs()
COOKIECUTTER_JSON = json.loads((ROOT / "cookiecutter.json").read_text())
ANSWER_KEYS = [k for k in COOKIECUTTER_JSON if not k.startswith("_")]


def run_jinja_payload(marker: Path) -> str:
    """A value that, if rendered as Jinja, creates ``marker`` (a directory)."""
    return "{{ cycler.__init__.__globals__.os.mkdir(" + repr(str(marker)) + ") }}"


def slipway_new(*args: str) -> tuple[int, list[str]]:
    """`slipway new` in-process: exit code and the non-empty lines it printed."""
    result = TyperRunner().invoke(app, ["new", *args])
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return result.exit_code, lines


def plain_cookiecutter(*args: str) -> tuple[int, list[str]]:
    """cookiecutter's own command line in-process (its click context, its logging)."""
    from cookiecutter.cli import main

    try:
        result = CliRunner().invoke(main, [*args], catch_exceptions=False)
    finally:  # its logger writes to the runner's stream, closed after the run
        logging.getLogger("cookiecutter").handlers.clear()
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return result.exit_code, lines


def tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


# -- values are literal -------------------------------------------------------------------

LITERAL_FIELDS = [
    "project_name",
    "project_slug",
    "package_name",
    "description",
    "author_name",
    "author_email",
    "aws_region",
    "github_repository",
    "slipway_source",
]


@pytest.mark.parametrize("field", LITERAL_FIELDS)
def test_a_value_is_never_run_as_jinja(tmp_path: Path, field: str) -> None:
    marker = tmp_path / "ran"
    out = tmp_path / "out"
    with pytest.raises(FailedHookException) as refused:
        cookiecutter(
            str(ROOT),
            no_input=True,
            output_dir=str(out),
            extra_context={field: run_jinja_payload(marker)},
        )
    assert not marker.exists(), f"{field}: the value was rendered as Jinja"
    assert str(refused.value).startswith(f"error: {field}: "), refused.value
    assert tree(out) == []


def test_a_config_file_default_is_never_run_as_jinja(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump({"default_context": {"description": run_jinja_payload(marker)}})
    )
    code, lines = slipway_new(
        "--no-input", "-o", str(tmp_path / "out"), "--config-file", str(config)
    )
    assert not marker.exists()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: description: "), lines


def test_only_the_templates_own_text_is_parsed_as_jinja() -> None:
    from cookiecutter.environment import StrictEnvironment

    context = {"cookiecutter": {"_extensions": ["slipway_inputs.Inputs"]}}
    env = StrictEnvironment(context=context, keep_trailing_newline=True)
    values = {"project_name": "Churn Model", "project_slug": "churn-model", "package_name": "pkg"}
    render = lambda source: env.from_string(source).render(cookiecutter=values)  # noqa: E731
    assert render(COOKIECUTTER_JSON["package_name"]) == "churn_model"
    assert render("src/{{cookiecutter.package_name}}/cli.py") == "src/pkg/cli.py"
    assert render("/out/churn-model/./src/{{cookiecutter.package_name}}") == (
        "/out/churn-model/./src/pkg"
    )
    for value in [
        "{{ 7 * 7 }}",
        "{% if 1 %}x{% endif %}",
        "{# c #}",
        "a {{ b",
        "{{ cookiecutter }}",
    ]:
        assert render(value) == value
    assert render("{{ 7 * 7 }}/src/{{cookiecutter.package_name}}") == (
        "{{ 7 * 7 }}/src/{{cookiecutter.package_name}}"
    )


# -- refused before anything is written ---------------------------------------------------

REFUSED = [
    # (answers, field named, words of the rule)
    (["project_slug=../escape/x"], "project_slug", "single hyphens"),
    (["project_slug=$(id)"], "project_slug", "single hyphens"),
    (["package_name=../../x"], "package_name", "Python identifier"),
    (["project_name="], "project_name", "must not be empty"),
    (["project_name=" + "n" * 300], "project_name", "at most 100 characters"),
    (["project_name=🚀🚀"], "project_name", "letter or digit"),
    (["project_name=2 Fraud"], "project_name", "start with a letter"),
    (["project_name=Churn\u202eledoM"], "project_name", "printable"),
    (["description= padded"], "description", "start or end with a space"),
    (["comptue=eks"], "comptue", "unknown key; valid keys: " + ", ".join(ANSWER_KEYS)),
    (["foo=bar"], "foo", "unknown key"),
    (["_slipway_bundle_version=1.0"], "_slipway_bundle_version", "unknown key"),
    (["__slipway_checks=passed"], "__slipway_checks", "unknown key"),
    (["compute=lambda"], "compute", "must be one of sagemaker, eks"),
    (
        ['slipway_source=https://example.invalid/x", "evil-package==6.6.6'],
        "slipway_source",
        "without spaces, quotes",
    ),
]


@pytest.mark.parametrize(
    ("answers", "field", "rule"), REFUSED, ids=[r[1] + str(i) for i, r in enumerate(REFUSED)]
)
def test_slipway_new_refuses_with_one_line_and_writes_nothing(
    tmp_path: Path, answers: list[str], field: str, rule: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    code, lines = slipway_new("--no-input", "-o", str(work / "out"), *answers)
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {field}: ") and rule in lines[0], lines[0]
    assert tree(tmp_path) == ["work"], "something was written on refusal"


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ("project_slug=../escape/x", "project_slug"),
        ("comptue=eks", "comptue"),
        ("project_name=", "project_name"),
    ],
)
def test_plain_cookiecutter_refuses_with_one_line_and_writes_nothing(
    tmp_path: Path, answer: str, field: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    code, lines = plain_cookiecutter("--no-input", "-o", str(work / "out"), str(ROOT), answer)
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {field}: "), lines[0]
    assert tree(tmp_path) == ["work"]


@pytest.mark.parametrize("command", ["cookiecutter", "cruft"])
def test_the_command_line_stops_at_the_error_line(
    tmp_path: Path, template_repo: Path, command: str
) -> None:
    """Plain cookiecutter, and cruft (which shows an exception as a traceback of ~100 lines):
    the refusal is the only line."""
    out, template, bad = str(tmp_path / "out"), str(template_repo), '{"project_slug": "Bad"}'
    args = {
        "cookiecutter": ["--no-input", "-o", out, template, "project_slug=Bad"],
        "cruft": ["create", template, "--no-input", "--output-dir", out, "--extra-context", bad],
    }[command]
    run = subprocess.run(
        [str(Path(sys.executable).parent / command), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert run.returncode == 1
    assert lines == ["error: project_slug: must be lowercase (got 'Bad')"], lines
    assert tree(tmp_path) == []


def test_a_refusing_post_gen_hook_shows_its_line_without_cookiecutters_traceback(
    tmp_path: Path,
) -> None:
    """The pin cannot be derived (a relative template path, $PWD elsewhere): the hook's
    line, cookiecutter's own one-line summary, and no traceback between them."""
    cli = Path(sys.executable).parent / "cookiecutter"
    run = subprocess.run(
        [str(cli), "--no-input", "-o", str(tmp_path / "out"), ROOT.name],
        cwd=ROOT.parent,
        env={**os.environ, "PWD": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert run.returncode == 1
    assert len(lines) == 2, lines
    assert lines[0].startswith("Hook script failed") or lines[1].startswith("Hook script failed")
    assert any(line.startswith("error: slipway_source: cannot locate") for line in lines)
    assert tree(tmp_path / "out") == []


@pytest.mark.parametrize(
    ("bad", "line"),
    [
        ({"author_email": "x"}, "error: author_email: must be an email address"),
        ({"project_slug": "../escape/x"}, "error: project_slug: must be lowercase letters"),
    ],
)
def test_a_replayed_bad_answer_is_refused_before_anything_is_written(
    tmp_path: Path, bad: dict[str, str], line: str
) -> None:
    """--replay skips the prompts; the answers are checked again as cookiecutter renders the
    template directory's name, before it creates anything."""
    choices = {k: v[0] for k, v in COOKIECUTTER_JSON.items() if isinstance(v, list) and k[0] != "_"}
    answers = {
        **{k: v for k, v in COOKIECUTTER_JSON.items() if not k.startswith("__")},
        **choices,
        "project_slug": "churn-model",
        "package_name": "churn_model",
        "github_repository": "example-org/churn-model",
        "__slipway_checks": "passed",
        **bad,
    }
    replay = tmp_path / "bad.json"
    replay.write_text(json.dumps({"cookiecutter": answers}))
    code, lines = plain_cookiecutter(
        "--replay-file", str(replay), "-o", str(tmp_path / "out"), str(ROOT)
    )
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith(line), lines
    assert tree(tmp_path) == ["bad.json"]


def test_the_requirement_the_post_gen_hook_writes_cannot_break_out_of_its_string(
    tmp_path: Path,
) -> None:
    context = {"compute": "sagemaker", "slipway_source": "", "_slipway_bundle_version": ""}
    hook = load_hook(
        "post_gen_project",
        {**context, "_template": "https://example.com/slipway.git", "_checkout": 'v1", "evil==1'},
    )
    with pytest.raises(hook.SourceError, match="slipway_source"):
        hook.requirement(hook.CONTEXT, tmp_path)


# -- names ----------------------------------------------------------------------------------


def test_a_non_ascii_name_is_slugified(tmp_path: Path) -> None:
    project = Path(
        cookiecutter(
            str(ROOT),
            no_input=True,
            output_dir=str(tmp_path),
            extra_context={"project_name": "Fraud Détection 2", "ci": "none"},
        )
    )
    assert project.name == "fraud-detection-2"
    assert (project / "src" / "fraud_detection_2" / "cli.py").is_file()
    assert "# Fraud Détection 2\n" in (project / "README.md").read_text()


# -- escaped for every file -----------------------------------------------------------------

HOSTILE = [
    {
        "project_name": "Churn: v2 #1 \"q\" 'a' \\N{x} <b>x</b> *e* `c` [l](u) ~~s~~|$m$ &é🚀{a} #",
        "project_slug": "churn-v2",
        "description": "```py <script>alert(1)</script> \"\"\" ''' \\ # c: yes & &amp; ${x} {y}",
        "author_name": "@ML: Team/x = +1 _é",
        "author_email": "%ml+team@example-1.io",
        "compute": "sagemaker",
        "ci": "github",
        "monitoring": "yes",
    },
    {
        "project_name": "# - > 1. [x]: /url",
        "project_slug": "hostile-two",
        "description": "- [ ] null: ~ | a | b |",
        "author_name": "- ML Team: null",
        "author_email": "a.b-c@x.io",
        "compute": "eks",
        "ci": "github",
        "monitoring": "yes",
    },
    {
        "project_name": "1) <!-- x --> &copy; \\",
        "project_slug": "hostile-three",
        "description": "1986. ~~~ <div> === ---",
        "author_name": "=+ML=",
        "compute": "sagemaker",
        "ci": "none",
        "monitoring": "no",
    },
]
FREE_TEXT_KEYS = ("project_name", "description", "author_name", "author_email")


@pytest.fixture(scope="module", params=range(len(HOSTILE)), ids=lambda i: f"hostile{i}")
def hostile(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, str], Path, Path]:
    """A project baked with hostile free text, and one with the same options and defaults."""
    answers = HOSTILE[request.param]
    plain = {k: v for k, v in answers.items() if k not in (*FREE_TEXT_KEYS, "project_slug")}
    out = tmp_path_factory.mktemp("hostile")
    project = cookiecutter(
        str(ROOT), no_input=True, output_dir=str(out / "h"), extra_context=answers
    )
    baseline = cookiecutter(
        str(ROOT), no_input=True, output_dir=str(out / "b"), extra_context=plain
    )
    values = {k: answers.get(k, COOKIECUTTER_JSON[k]) for k in FREE_TEXT_KEYS} | {
        "compute": answers["compute"]
    }
    return values, Path(project), Path(baseline)


def files(project: Path, *suffixes: str) -> Iterator[Path]:
    for path in sorted(project.rglob("*")):
        if path.is_file() and (path.suffix in suffixes or path.name in suffixes):
            yield path


def string_constants(path: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_toml_files_parse_to_the_given_values(hostile: tuple[dict[str, str], Path, Path]) -> None:
    values, project, _ = hostile
    for path in files(project, ".toml"):
        tomllib.loads(path.read_text())
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert meta["description"] == values["description"]
    assert meta["authors"] == [{"name": values["author_name"], "email": values["author_email"]}]
    slipway, *others = meta["dependencies"]
    assert slipway.startswith("slipway-mlops[") and others == ["typer>=0.12"]


def test_yaml_files_parse_to_the_given_values(hostile: tuple[dict[str, str], Path, Path]) -> None:
    values, project, _ = hostile
    for path in files(project, ".yaml", ".yml"):
        list(yaml.safe_load_all(path.read_text()))
    infra = project / "infra"
    described = yaml.safe_load((infra / "Pulumi.yaml").read_text())["description"]
    assert described == (
        f"AWS platform of {values['project_name']} ({values['compute']}), "
        "composed from slipway components."
    )
    for stack in ("dev", "staging", "prod"):
        config = yaml.safe_load((infra / f"Pulumi.{stack}.yaml").read_text())["config"]
        assert config["slipway:owner"] == values["author_name"]
        assert config.get("slipway:alarmEmail", values["author_email"]) == values["author_email"]


def test_python_files_parse_to_the_given_values(hostile: tuple[dict[str, str], Path, Path]) -> None:
    values, project, _ = hostile
    constants: set[str] = set()
    for path in files(project, ".py"):
        constants |= string_constants(path)
    assert values["description"] in constants  # the CLI's help
    assert values["author_name"] in constants  # the owner tag the infra test expects


def markdown_blocks(text: str) -> tuple[list[str], list[Any]]:
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(text)
    return [t.type for t in tokens], tokens


def test_markdown_shows_values_as_text_and_nothing_else(
    hostile: tuple[dict[str, str], Path, Path],
) -> None:
    values, project, baseline = hostile
    for path in files(project, ".md"):
        types, tokens = markdown_blocks(path.read_text())
        plain_types, _ = markdown_blocks((baseline / path.relative_to(project)).read_text())
        assert types == plain_types, f"{path.name}: a value changed the document's blocks"
    _, tokens = markdown_blocks((project / "README.md").read_text())
    heading, description = tokens[1], tokens[4]
    for inline, value in ((heading, values["project_name"]), (description, values["description"])):
        assert [child.type for child in inline.children] == ["text"], inline.children
        assert inline.children[0].content == value


def test_values_land_only_in_files_that_are_parsed(
    hostile: tuple[dict[str, str], Path, Path],
) -> None:
    values, project, _ = hostile
    checked = {".toml", ".yaml", ".yml", ".py", ".md", "LICENSE"}
    for path in project.rglob("*"):
        if path.is_file() and not (checked & {path.suffix, path.name}):
            text = path.read_text(errors="replace")
            for key, value in values.items():
                if key in FREE_TEXT_KEYS and len(value) > 3:
                    assert value not in text, f"{path.relative_to(project)} holds {key}"
    license_text = (project / "LICENSE").read_text()
    assert f" {values['author_name']}" in license_text


def test_each_filter_round_trips_through_its_syntaxs_parser() -> None:
    """Random strings over the characters each syntax treats specially, and more."""
    rng = random.Random(16)
    alphabet = list("ab '\"\\`*_[]<>&~|$#!-+=.():;,%@1{}\u00e9\u4e2d\U0001f680")
    markdown = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))).strip()
        if not text:
            continue
        assert ast.literal_eval(INPUTS.py(text)) == text, text
        assert tomllib.loads("k = " + INPUTS.toml(text))["k"] == text, text
        assert yaml.safe_load("k: " + INPUTS.yaml(text))["k"] == text, text
        for line in (INPUTS.md(text), "# " + INPUTS.md(text)):
            inline = [t for t in markdown.parse(line) if t.type == "inline"]
            assert [(c.type, c.content) for c in inline[0].children or []] == [("text", text)], line


def test_free_text_goes_through_the_filter_of_its_files_syntax() -> None:
    """Every template file: a free-text field reaches the output only as the outermost
    expression of a ``{{ }}`` filtered for that file's syntax (LICENSE is plain text)."""
    from cookiecutter.environment import StrictEnvironment
    from jinja2 import nodes

    env = StrictEnvironment(context={"cookiecutter": {"_extensions": ["slipway_inputs.Inputs"]}})
    by_suffix = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".py": "py", ".md": "md"}

    def free_refs(node: nodes.Node) -> list[str]:
        found = []
        for ref in [node, *node.find_all((nodes.Getattr, nodes.Getitem))]:
            if not isinstance(ref, (nodes.Getattr, nodes.Getitem)):
                continue
            key = ref.attr if isinstance(ref, nodes.Getattr) else getattr(ref.arg, "value", None)
            if isinstance(ref.node, nodes.Name) and ref.node.name == "cookiecutter":
                found += [str(key)] if key in INPUTS.FREE_TEXT else []
        return found

    def unprotected(node: nodes.Node, wanted: str | None) -> list[str]:
        if isinstance(node, nodes.FilterBlock) and node.filter.name == wanted:
            return []
        if isinstance(node, nodes.Output):
            bad: list[str] = []
            for expr in node.nodes:
                if isinstance(expr, nodes.Filter) and expr.name == wanted:
                    bad += [ref for arg in expr.args for ref in free_refs(arg)]
                elif not isinstance(expr, nodes.TemplateData):
                    bad += free_refs(expr)
            return bad
        if isinstance(node, nodes.Expr):  # a test, an assignment: keep free text out of them
            return free_refs(node)
        return [ref for child in node.iter_child_nodes() for ref in unprotected(child, wanted)]

    violations = []
    for path in sorted((ROOT / "template").rglob("*")):
        if not path.is_file():
            continue
        wanted = by_suffix.get(path.suffix)
        if path.name == "LICENSE":
            continue
        for field in unprotected(env.parse(path.read_text(), name=path.name), wanted):
            violations.append(
                f"{path.relative_to(ROOT)}: {field} needs | {wanted or '(none: keep it out)'}"
            )
    assert violations == []


# -- help ------------------------------------------------------------------------------------


def test_slipway_new_help_lists_every_key_and_its_choices() -> None:
    result = TyperRunner().invoke(app, ["new", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for key in ANSWER_KEYS:
        value = COOKIECUTTER_JSON[key]
        assert key in result.stdout, key
        if isinstance(value, list):
            assert " | ".join(value) in result.stdout, key
