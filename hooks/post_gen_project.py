"""Finish a generated project: drop files of unchosen options, pin slipway-mlops.

The dependency on slipway-mlops must resolve with no package index, so it is
derived from where the template came from (see docs/template.md):

* ``slipway_source`` given: that path, URL or version specifier;
* ``slipway new`` from an installed package: ``==<installed version>``;
* a git URL: ``@ git+https://...@<checkout or commit>``;
* a local checkout: ``@ file:///...``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

CONTEXT = json.loads(r"""{{ cookiecutter | jsonify }}""")
PLACEHOLDER = "@SLIPWAY_REQUIREMENT@"
ABBREVIATIONS = {
    "gh:": "https://github.com/",
    "gl:": "https://gitlab.com/",
    "bb:": "https://bitbucket.org/",
}
SCP_LIKE = re.compile(r"^(?P<user>[\w.-]+)@(?P<host>[\w.-]+):(?P<path>.+)$")
VERSION_SPEC = re.compile(r"^(==|>=|<=|~=|!=|>|<)")
# What the requirement may hold: it is written between the quotes of a TOML basic string
# and read as one PEP 508 requirement, so no quote, backslash, space or control character.
REQUIREMENT = re.compile(
    r"^slipway-mlops\[[a-z,]+\]((==|>=|<=|~=|!=|>|<)[^\s\"'\\]+| @ [^\s\"'\\]+)$"
)

# Paths (relative to the project root; {pkg}: the package) that exist only for one option value.
OPTION_PATHS: dict[str, dict[str, list[str]]] = {
    "ci": {"github": [".github"]},
    "compute": {
        "sagemaker": ["src/{pkg}/deploy.py", "tests/test_deploy.py"],
        "eks": [".github/actions/image"],
    },
    "monitoring": {"yes": [".github/workflows/drift.yml"]},
}


class SourceError(ValueError):
    """The slipway-mlops requirement cannot be derived."""


def remove_unchosen(ctx: dict[str, str], root: Path) -> None:
    for option, by_value in OPTION_PATHS.items():
        for value, paths in by_value.items():
            if ctx[option] == value:
                continue
            for rel in paths:
                target = root / rel.format(pkg=ctx["package_name"])
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()


def extras(ctx: dict[str, str]) -> str:
    names = ["ml", "aws", "sandbox", "serve"]
    if ctx["compute"] == "eks":
        names.append("eks")
    return ",".join(names)


def is_slipway_checkout(path: Path) -> bool:
    return (path / "cookiecutter.json").is_file() and (path / "infra" / "slipway").is_dir()


def candidates(raw: str) -> list[Path]:
    """Where a path the user gave may be: hooks run inside the new project, so a relative
    one is tried against ``$PWD`` (where cookiecutter was invoked) and the current directory."""
    path = Path(raw.removeprefix("file://")).expanduser()
    bases = [Path(os.environ.get("PWD", os.getcwd())), Path.cwd()]
    return [path] if path.is_absolute() else [base / path for base in bases]


def local_checkout(template: str, repo_dir: str) -> Path:
    """Absolute path of a local template checkout (cookiecutter may pass it relative)."""
    for raw in (template, repo_dir):
        if not raw:
            continue
        for candidate in candidates(raw):
            if is_slipway_checkout(candidate):
                return candidate.resolve()
    raise SourceError(
        f"slipway_source: cannot locate the Slipway checkout {template!r}; "
        "pass the template as an absolute path or set slipway_source"
    )


def git_url(template: str) -> str | None:
    """pip-style git URL for a remote template, or None when it is local."""
    for short, prefix in ABBREVIATIONS.items():
        if template.startswith(short):
            return "git+" + prefix + template[len(short) :]
    if template.startswith(("git+https://", "git+ssh://", "git+file://")):
        return template
    if template.startswith("file://"):  # cookiecutter clones file:// URLs with git
        return "git+" + template
    if template.startswith(("https://", "http://", "ssh://")):
        return "git+" + template
    match = SCP_LIKE.match(template)
    if match and not Path(template).exists():
        return f"git+ssh://{match['user']}@{match['host']}/{match['path']}"
    return None


def head_commit(repo_dir: str) -> str:
    result = subprocess.run(
        ["git", "-C", repo_dir, "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SourceError(f"slipway_source: cannot read the template's commit in {repo_dir}")
    return result.stdout.strip()


def from_explicit(name: str, source: str) -> str:
    if VERSION_SPEC.match(source):
        return f"{name}{source.replace(' ', '')}"
    if source.startswith("file://"):
        return f"{name} @ {source}"
    url = git_url(source)
    if url:
        return f"{name} @ {url}"
    for path in candidates(source):
        if path.exists():
            return f"{name} @ {path.resolve().as_uri()}"
    raise SourceError(f"slipway_source: path does not exist (got {source!r})")


def requirement(ctx: dict[str, str]) -> str:
    """The slipway-mlops requirement, refused unless it stays one string in pyproject.toml."""
    req = derived_requirement(ctx)
    if not REQUIREMENT.match(req) or not req.isprintable():
        raise SourceError(f"slipway_source: not a requirement pyproject.toml can hold: {req!r}")
    return req


def derived_requirement(ctx: dict[str, str]) -> str:
    name = f"slipway-mlops[{extras(ctx)}]"
    explicit = ctx.get("slipway_source", "").strip()
    if explicit:
        return from_explicit(name, explicit)
    if ctx.get("_slipway_bundle_version"):
        return f"{name}=={ctx['_slipway_bundle_version']}"
    template = str(ctx.get("_template") or "")
    repo_dir = str(ctx.get("_repo_dir") or "")
    url = git_url(template)
    if url:
        ref = ctx.get("_checkout") or ctx.get("_commit") or head_commit(repo_dir)
        return f"{name} @ {url}@{ref}"
    return f"{name} @ {local_checkout(template, repo_dir).as_uri()}"


def write_requirement(root: Path, req: str) -> None:
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    if PLACEHOLDER not in text:
        raise SourceError(f"pyproject.toml: no {PLACEHOLDER} line to fill")
    pyproject.write_text(text.replace(PLACEHOLDER, req))


def main() -> int:
    root = Path.cwd()
    try:
        req = requirement(CONTEXT)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    remove_unchosen(CONTEXT, root)
    write_requirement(root, req)
    return 0


if __name__ == "__main__":
    sys.exit(main())
