"""Template inputs that cannot hurt: taken literally, checked first, escaped per file.

cookiecutter imports this module from the template root (``_extensions`` in
cookiecutter.json) as a Jinja extension, in its own process, whether it was started as
plain ``cookiecutter``, ``cruft`` or ``slipway new``. See docs/template.md.

* **Literal values.** cookiecutter renders every value of cookiecutter.json as Jinja, the
  ones a user gives included (``extra_context``, a config file's ``default_context``:
  ``render_variable`` in cookiecutter/prompt.py). :meth:`Inputs.preprocess` lets Jinja
  parse only text the template wrote itself (cookiecutter.json, hooks/, the template's
  file names); anything else renders as itself.
* **Checked before anything is written.** The last key of cookiecutter.json renders
  ``{{ cookiecutter | slipway_check }}`` once every answer is known, before cookiecutter
  creates a directory. A bad answer raises :class:`InvalidInput`: one line
  ``error: <field>: <rule> (got <value>)``.
* **Escaped for each file.** The filters ``toml``, ``yaml``, ``py`` and ``md`` write a value
  as a TOML, YAML or Python string literal or as Markdown text. Free-text fields
  (:data:`FREE_TEXT`) go through them in every file of those types (a test parses the
  template to enforce it); the other fields are held by their patterns to characters that
  mean nothing special in any of them.
"""

from __future__ import annotations

import inspect
import json
import keyword
import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml as pyyaml
from cookiecutter.exceptions import FailedHookException
from jinja2 import Environment
from jinja2.ext import Extension
from slugify import slugify

ROOT = Path(__file__).resolve().parent

MAX_NAME = 40
# The slug starts every AWS name of a stack, <slug>-<stack>-..., and Pulumi appends "-" and 7
# characters to autonamed ones: the tightest name sets the cap (tests/aws/test_name_lengths.py).
MAX_SLUG = 31
MAX_TITLE = 100
MAX_DESCRIPTION = 200
# Fields whose value may hold characters that are syntax in TOML, YAML, Python or Markdown.
FREE_TEXT = ("project_name", "description", "author_name", "author_email", "slipway_source")
SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
# AWS tag values (author_name becomes the `owner` tag on every resource).
TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{1,256}$")
GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
# AWS commercial regions where SageMaker, S3, KMS and EKS are all offered.
AWS_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)
# Names a generated package must not take: they would shadow the platform package
# or a module the project imports.
RESERVED_PACKAGES = frozenset(
    {"slipway", "mlflow", "pulumi", "pulumi_aws", "sklearn", "pandas", "numpy", "infra", "tests"}
) | frozenset(sys.stdlib_module_names)
SOURCE_URL_PREFIXES = ("file://", "git+https://", "git+ssh://", "git+file://", "https://")
VERSION_SPEC = re.compile(r"^(==|>=|<=|~=|!=|>|<)\s*\d+(\.\d+)*([a-z0-9.+-]*)$")
BUNDLE_VERSION = re.compile(r"^\d+(\.\d+)*([a-z0-9.+-]*)$")
# cookiecutter settings in cookiecutter.json, not answers.
SETTINGS = frozenset({"_extensions", "_copy_without_render", "_jinja2_env_vars", "_new_lines"})


class InvalidInput(FailedHookException):
    """One answer breaks one rule.

    A FailedHookException, so plain ``cookiecutter`` prints the message as its only line
    and exits 1, and callers that expect a refusing hook get one.
    """

    def __init__(self, field: str, rule: str, value: object) -> None:
        shown = value if not isinstance(value, str) or len(value) <= 60 else value[:57] + "..."
        super().__init__(f"error: {field}: {rule} (got {shown!r})")
        self.field = field


# -- checks -----------------------------------------------------------------------------


def template_json(root: Path = ROOT) -> dict[str, Any]:
    """cookiecutter.json of this template."""
    data: dict[str, Any] = json.loads((root / "cookiecutter.json").read_text(encoding="utf-8"))
    return data


def answer_keys(context: Mapping[str, Any]) -> list[str]:
    """The keys a user may give: cookiecutter.json's keys without the private ones."""
    return [key for key in context if not key.startswith("_")]


def check_given(given: Mapping[str, str], context: Mapping[str, Any]) -> None:
    """Refuse keys the template does not ask and values outside a choice list."""
    valid = answer_keys(context)
    for key, value in given.items():
        if key not in valid:
            raise InvalidInput(key, "unknown key; valid keys: " + ", ".join(valid), value)
        choices = context[key]
        if isinstance(choices, list) and value not in choices:
            raise InvalidInput(key, "must be one of " + ", ".join(map(str, choices)), value)


def check_text(field: str, value: object, limit: int, *, required: bool = True) -> str:
    """One line of printable text, as it will be quoted into every file."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be text", value)
    if required and not value.strip():
        raise InvalidInput(field, "must not be empty", value)
    if len(value) > limit:
        raise InvalidInput(field, f"must be at most {limit} characters", value)
    if not value.isprintable():
        raise InvalidInput(field, "must be one line of printable characters", value)
    if value != value.strip():
        raise InvalidInput(field, "must not start or end with a space", value)
    if any(mark in value for mark in ("{{", "{%", "{#")):
        raise InvalidInput(field, "must not contain template syntax ({{, {% or {#)", value)
    return value


def check_identifier(
    field: str, value: str, pattern: re.Pattern[str], shape: str, maximum: int = MAX_NAME
) -> None:
    if not value:
        raise InvalidInput(field, "must not be empty", value)
    if len(value) > maximum:
        raise InvalidInput(field, f"must be at most {maximum} characters", value)
    if value[0].isdigit():
        raise InvalidInput(field, "must start with a letter, not a digit", value)
    if value != value.lower():
        raise InvalidInput(field, "must be lowercase", value)
    if any(ch.isspace() for ch in value):
        raise InvalidInput(field, "must not contain spaces", value)
    if not pattern.match(value):
        raise InvalidInput(field, f"must be {shape}", value)


def check_names(ctx: Mapping[str, Any]) -> None:
    name = check_text("project_name", ctx.get("project_name"), MAX_TITLE)
    slug_ = str(ctx.get("project_slug", ""))
    if slug_ == slug(name):  # derived from the name: say what to change in the name
        if not slug_:
            raise InvalidInput("project_name", "must contain a letter or digit", name)
        if slug_[0].isdigit():
            rule = "must start with a letter (its slug names the project); or set project_slug"
            raise InvalidInput("project_name", rule, name)
    check_identifier(
        "project_slug",
        slug_,
        SLUG,
        "lowercase letters and digits in words joined by single hyphens",
        MAX_SLUG,
    )
    package = str(ctx.get("package_name", ""))
    check_identifier(
        "package_name", package, PACKAGE, "a Python identifier of lowercase letters, digits, '_'"
    )
    if keyword.iskeyword(package) or keyword.issoftkeyword(package):
        raise InvalidInput("package_name", "must not be a Python keyword", package)
    if package in RESERVED_PACKAGES:
        rule = "must not shadow the standard library or a platform package"
        raise InvalidInput("package_name", rule, package)


def check_people(ctx: Mapping[str, Any]) -> None:
    owner = check_text("author_name", ctx.get("author_name"), 256)
    if not TAG_VALUE.match(owner):
        rule = "must be a valid AWS tag value: letters, digits, spaces and _ . : / = + - @"
        raise InvalidInput("author_name", rule, owner)
    email = check_text("author_email", ctx.get("author_email"), 254)
    if not EMAIL.match(email):
        raise InvalidInput("author_email", "must be an email address like team@example.com", email)
    check_text("description", ctx.get("description"), MAX_DESCRIPTION, required=False)


def check_choices(ctx: Mapping[str, Any]) -> None:
    """Choice values (a replay file or .cruft.json can carry any)."""
    for field, choices in template_json().items():
        listed = isinstance(choices, list) and not field.startswith("_")
        if listed and ctx.get(field) not in choices:
            rule = "must be one of " + ", ".join(choices)
            raise InvalidInput(field, rule, ctx.get(field))
    if ctx.get("aws_region") not in AWS_REGIONS:
        rule = "must be an AWS commercial region code such as us-east-1"
        raise InvalidInput("aws_region", rule, ctx.get("aws_region"))


def check_combinations(ctx: Mapping[str, Any]) -> None:
    """Refuse what the platform cannot deploy."""
    if ctx.get("compute") == "eks" and ctx.get("endpoint") == "serverless":
        rule = "serverless endpoints exist only on SageMaker; use realtime with eks"
        raise InvalidInput("endpoint", rule, "serverless")
    repository = str(ctx.get("github_repository", ""))
    if not GITHUB_REPOSITORY.match(repository) or repository.split("/")[1] in (".", ".."):
        raise InvalidInput(
            "github_repository", "must be owner/name of a GitHub repository", repository
        )


def check_source(ctx: Mapping[str, Any]) -> None:
    source = check_text("slipway_source", ctx.get("slipway_source", ""), 1000, required=False)
    bundle = str(ctx.get("_slipway_bundle_version", ""))
    if bundle and not BUNDLE_VERSION.match(bundle):
        raise InvalidInput("_slipway_bundle_version", "must be a version like 0.1.0", bundle)
    if not source or VERSION_SPEC.match(source):
        return
    if source.startswith(SOURCE_URL_PREFIXES):
        if re.search(r"[\s\"'\\]", source):
            rule = "must be a URL without spaces, quotes or backslashes"
            raise InvalidInput("slipway_source", rule, source)
        return
    if source.startswith(("/", "~", "./", "../")):
        path = Path(source).expanduser()
        if not (path.exists() or Path(os.environ.get("PWD", "."), path).exists()):
            raise InvalidInput("slipway_source", "path does not exist", source)
        return
    raise InvalidInput(
        "slipway_source",
        "must be a path, a file:// or git+https:// URL, or a version specifier like ==0.1.0",
        source,
    )


def check(ctx: Mapping[str, Any]) -> None:
    """Every rule on a complete set of answers; the first broken one raises."""
    for step in (check_choices, check_names, check_people, check_combinations, check_source):
        step(ctx)


# -- filters ----------------------------------------------------------------------------


def slug(value: object) -> str:
    """The default project_slug: ``Fraud Détection 2`` gives ``fraud-detection-2``."""
    return str(slugify(str(value), max_length=MAX_SLUG))


def toml(value: object) -> str:
    """A TOML basic string. JSON's escapes are TOML's, bar DEL (TOML 1.0, "String")."""
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def yaml(value: object) -> str:
    """A YAML double-quoted scalar, by PyYAML's emitter."""
    dumped = pyyaml.safe_dump(str(value), default_style='"', allow_unicode=True, width=float("inf"))
    return str(dumped).rstrip("\n")


def py(value: object) -> str:
    """A Python string literal: ``repr``'s escapes, in the quotes ruff format would choose
    (double, unless the text holds more double quotes than single)."""
    text = str(value)
    literal = repr(text)
    if literal[0] == "'" and text.count('"') <= text.count("'"):
        body = literal[1:-1].replace("\\'", "'").replace('"', '\\"')
        literal = f'"{body}"'
    return literal


# CommonMark and GitHub inline syntax: escapes, code, emphasis, links, HTML and autolinks,
# entities, strikethrough, table cells, math, heading closers.
MD_INLINE = frozenset("\\`*_[]<>&~|$#")
MD_LINE_START = re.compile(r"^(?:([-+=])|(\d+)([.)]))")


def md(value: object) -> str:
    """Markdown text that renders as exactly ``value``: no code, HTML, link, list or heading.

    Every ASCII punctuation character may be backslash-escaped (CommonMark 0.31, section 2.4);
    escaped here are those that start inline syntax anywhere or a block at the line start.
    """
    text = "".join("\\" + ch if ch in MD_INLINE else ch for ch in str(value))
    return MD_LINE_START.sub(lambda m: "\\" + m[1] if m[1] else m[2] + "\\" + m[3], text, count=1)


def slipway_check(cookiecutter: Mapping[str, Any]) -> str:
    try:
        check(cookiecutter)
    except InvalidInput as exc:
        if _called_from("cruft._cli"):
            # cruft's command line shows an exception as a rich traceback of ~100 lines,
            # ending in this one; say it alone, as plain cookiecutter does. Exiting leaves
            # nothing behind: the project directory is not created yet.
            print(exc, file=sys.stderr)
            raise SystemExit(1) from None
        raise
    return "passed"


FILTERS = {
    "toml": toml,
    "yaml": yaml,
    "py": py,
    "md": md,
    "slipway_slug": slug,
    "slipway_check": slipway_check,
}


# -- the extension ----------------------------------------------------------------------


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@dataclass(frozen=True)
class Authored:
    """What the template itself wrote that cookiecutter renders from strings, not files."""

    text: frozenset[str]  # whole strings: cookiecutter.json's, the hook scripts
    names: frozenset[str]  # file and directory names holding Jinja (rendered as paths)
    project_dir: str  # the template directory's name: the first thing rendered into a path

    @classmethod
    def read(cls, root: Path, marks: tuple[str, ...]) -> Authored:
        scripts = [p.read_text(encoding="utf-8") for p in (root / "hooks").iterdir() if p.is_file()]
        tops = [  # as cookiecutter/find.py finds it
            p
            for p in root.iterdir()
            if "cookiecutter" in p.name and any(m in p.name for m in marks)
        ]
        names: set[str] = set()
        for top in tops:
            names.add(top.name)
            for _, dirs, files in os.walk(top, followlinks=True):
                names.update(n for n in (*dirs, *files) if any(mark in n for mark in marks))
        return cls(
            text=frozenset([*_strings(template_json(root)), *scripts]),
            names=frozenset(names),
            project_dir=tops[0].name if tops else "",
        )


def _called_from(module: str) -> bool:
    """Whether a function of ``module`` is on the call stack: ``cruft._cli`` when the cruft
    command renders the template (cruft's typer vendors its own click, so no click context
    tells), not when cruft's Python API or another library does."""
    frame = inspect.currentframe()
    while frame is not None:
        if frame.f_globals.get("__name__") == module:
            return True
        frame = frame.f_back
    return False


def _cookiecutter_cli_answers() -> dict[str, str]:
    """The key=value pairs given to plain ``cookiecutter`` on its command line.

    cookiecutter drops keys that cookiecutter.json lacks before any template code runs
    (``apply_overwrites_to_context`` in cookiecutter/generate.py); its click context still
    holds them. Empty when cookiecutter runs as a library (slipway new, cruft, pytest).
    """
    try:
        import click
    except ImportError:  # pragma: no cover - cookiecutter depends on click
        return {}
    ctx = click.get_current_context(silent=True)
    if ctx is None or getattr(ctx.command.callback, "__module__", "") != "cookiecutter.cli":
        return {}
    return dict(ctx.params.get("extra_context") or {})


class _QuietHookFailure(logging.Filter):
    """Drop cookiecutter's traceback of a refusing hook: the hook said why in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        failure = record.exc_info[1] if record.exc_info else None
        return not isinstance(failure, FailedHookException)


_QUIET = _QuietHookFailure()


class Inputs(Extension):
    """The Jinja extension cookiecutter loads: filters, literal values, checks, quiet refusals.

    cookiecutter makes one environment per stage (answers, files, each hook), so the
    template's own text is read afresh for each: ``cruft update`` renders two commits from
    one checkout in one process (Python keeps the module of the first import, though).
    """

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.update(FILTERS)
        self._literals: list[str] = []
        self._authored: Authored | None = None
        environment.globals["_slipway_literal"] = self._literals.__getitem__
        environment.globals["_slipway_checked"] = lambda answers: slipway_check(answers) and ""
        hooks_logger = logging.getLogger("cookiecutter.hooks")
        if _QUIET not in hooks_logger.filters:
            hooks_logger.addFilter(_QUIET)
        answers = _cookiecutter_cli_answers()
        check_given({k: str(v) for k, v in answers.items()}, template_json())

    @property
    def authored(self) -> Authored:
        if self._authored is None:
            self._authored = Authored.read(ROOT, self._marks())
        return self._authored

    def _marks(self) -> tuple[str, ...]:
        env = self.environment
        return (env.variable_start_string, env.block_start_string, env.comment_start_string)

    def _is_authored(self, source: str) -> bool:
        if source in self.authored.text:
            return True
        parts = {p for p in re.split(r"[\\/]", source) if any(m in p for m in self._marks())}
        return bool(parts) and parts <= self.authored.names

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        """Parse template-authored text as Jinja; turn anything else into its own literal.

        Files cookiecutter renders come with a ``name``; ``from_string`` sources (answers,
        paths, hook scripts) do not. A path counts as authored when each of its parts that
        holds Jinja is a file or directory name of the template itself. The template
        directory's own name, which cookiecutter renders right before creating the project
        directory in every mode (``--replay`` and cruft included), first checks the answers.
        """
        env = self.environment
        start, end = env.variable_start_string, env.variable_end_string
        plain = env.line_statement_prefix is None and env.line_comment_prefix is None
        if name is not None or (plain and not any(m in source for m in self._marks())):
            return source
        if source == self.authored.project_dir:
            return f"{start} _slipway_checked(cookiecutter) {end}{source}"
        if self._is_authored(source):
            return source
        self._literals.append(source)
        return f"{start} _slipway_literal({len(self._literals) - 1}) {end}"
