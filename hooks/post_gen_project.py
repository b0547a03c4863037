"""Finish a generated project: drop files of unchosen options, pin slipway-mlops.

The dependency on slipway-mlops must install on a fresh CI runner and inside the image
build, with nothing but the repository, so it is derived from where the template came
from (see docs/template.md):

* ``slipway_source`` given: that version specifier or git URL; a local path (a source
  tree or a built wheel) is vendored;
* ``slipway new`` from an installed package: ``==<installed version>`` (from the index it
  was installed from; ``slipway new`` passes a git URL or local path instead when the
  package was installed from one);
* a remote git URL: ``@ git+https://...@<checkout or commit>``;
* a local checkout (path or ``file://`` clone): a wheel built from it now, vendored as
  ``vendor/slipway_mlops-<version>-py3-none-any.whl`` and referenced relative to the
  project (``{root:uri}``, hatchling's context formatting).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
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
VENDOR_DIR = "vendor"
# hatchling context formatting: the project root as a file:// URI, wherever it is built.
ROOT_URI = "{root:uri}"
WHEEL_GLOB = "slipway_mlops-*-py3-none-any.whl"
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
    },
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
    names.append("pipelines" if ctx["compute"] == "sagemaker" else "eks")
    return ",".join(names)


def is_slipway_checkout(path: Path) -> bool:
    return (path / "cookiecutter.json").is_file() and (path / "infra" / "slipway").is_dir()


def candidates(raw: str) -> list[Path]:
    """Where a path the user gave may be: hooks run inside the new project, so a relative
    one is tried against ``$PWD`` (where cookiecutter was invoked) and the current directory."""
    path = Path(raw.removeprefix("git+").removeprefix("file://")).expanduser()
    bases = [Path(os.environ.get("PWD", os.getcwd())), Path.cwd()]
    return [path] if path.is_absolute() else [base / path for base in bases]


def local_checkout(template: str, repo_dir: str) -> Path:
    """Absolute path of the local template checkout being rendered (cookiecutter may pass
    it relative). ``repo_dir`` first: ``file://`` templates render from a clone of it."""
    for raw in (repo_dir, template):
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
    """pip-style URL of a remote git template, or None when it is local (path or file://)."""
    for short, prefix in ABBREVIATIONS.items():
        if template.startswith(short):
            return "git+" + prefix + template[len(short) :]
    if template.startswith(("git+https://", "git+ssh://")):
        return template
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


WHAT_TO_SET = (
    "set slipway_source to a version on your package index (==0.1.0), "
    "a git URL (git+https://...@<tag>) or the path of a built slipway-mlops wheel"
)


def source_digest(tree: Path) -> str | None:
    """Content hash of a git tree's files (tracked and untracked, not ignored), or None."""
    listed = subprocess.run(
        ["git", "-C", str(tree), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        return None
    digest = hashlib.sha256()
    for rel in sorted(filter(None, listed.stdout.decode().split("\0"))):
        path = tree / rel
        if path.is_file() and not path.is_symlink():
            digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def build_command(tree: Path, out: Path) -> list[str]:
    """uv when it is there (fast, cached build env), else pip."""
    if importlib.util.find_spec("uv") is not None:
        return [
            sys.executable,
            "-m",
            "uv",
            "build",
            "--wheel",
            "--quiet",
            "-o",
            str(out),
            str(tree),
        ]
    uv = shutil.which("uv")
    if uv:
        return [uv, "build", "--wheel", "--quiet", "-o", str(out), str(tree)]
    return [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(tree)]


def build_wheel(tree: Path, target: Path) -> Path:
    """A slipway-mlops wheel built from ``tree`` into ``target``; cached by content under
    the tree's build/ when it is a git checkout."""
    digest = source_digest(tree)
    cache = tree / "build" / "slipway-wheels" / (digest or "")
    hits = sorted(cache.glob(WHEEL_GLOB)) if digest else []
    if hits:
        shutil.copyfile(hits[-1], target / hits[-1].name)
        return target / hits[-1].name
    with tempfile.TemporaryDirectory(prefix="slipway-wheel-") as out:
        run = subprocess.run(
            build_command(tree, Path(out)), capture_output=True, text=True, check=False
        )
        built = sorted(Path(out).glob(WHEEL_GLOB))
        if run.returncode != 0 or not built:
            last = (run.stderr or run.stdout).strip().splitlines()[-1:] or ["no wheel"]
            raise SourceError(
                f"slipway_source: cannot build a wheel of {tree} ({last[0]}); {WHAT_TO_SET}"
            )
        shutil.copyfile(built[0], target / built[0].name)
        if digest:
            try:  # publish atomically: parallel bakes may race for the same cache entry
                cache.mkdir(parents=True, exist_ok=True)
                staged = cache / f".{os.getpid()}.tmp"
                shutil.copyfile(built[0], staged)
                os.replace(staged, cache / built[0].name)
            except OSError:  # a read-only checkout: no cache
                pass
    return target / built[0].name


def vendor(name: str, source: Path, root: Path) -> str:
    """Copy (a wheel) or build (a source tree) slipway-mlops into the project's vendor/."""
    target = root / VENDOR_DIR
    target.mkdir(exist_ok=True)
    if source.is_file() and source.name.endswith(".whl"):
        if not source.name.startswith("slipway_mlops-"):
            raise SourceError(f"slipway_source: {source.name} is not a slipway-mlops wheel")
        wheel = target / source.name
        shutil.copyfile(source, wheel)
    elif source.is_dir() and (source / "pyproject.toml").is_file():
        wheel = build_wheel(source, target)
    else:
        raise SourceError(
            f"slipway_source: {source} is neither a slipway-mlops wheel nor a source tree"
        )
    # Relative to the project, wherever it is cloned (hatchling expands {root:uri}).
    return f"{name} @ {ROOT_URI}/{VENDOR_DIR}/{wheel.name}"


def from_explicit(name: str, source: str, root: Path) -> str:
    if VERSION_SPEC.match(source):
        return f"{name}{source.replace(' ', '')}"
    if source.startswith("git+file://"):  # a local repository: vendor the ref it names
        path, _, ref = source.removeprefix("git+file://").partition("@")
        with tempfile.TemporaryDirectory(prefix="slipway-commit-") as tree:
            export_commit(Path(path), ref or "HEAD", Path(tree))
            return vendor(name, Path(tree), root)
    if not source.startswith("file://"):
        url = git_url(source)
        if url:
            return f"{name} @ {url}"
    for candidate in candidates(source):
        if candidate.exists():
            return vendor(name, candidate.resolve(), root)
    raise SourceError(f"slipway_source: path does not exist (got {source!r})")


def requirement(ctx: dict[str, str], root: Path) -> str:
    """The slipway-mlops requirement, refused unless it stays one string in pyproject.toml."""
    req = derived_requirement(ctx, root)
    if not REQUIREMENT.match(req) or not req.isprintable():
        raise SourceError(f"slipway_source: not a requirement pyproject.toml can hold: {req!r}")
    return req


def derived_requirement(ctx: dict[str, str], root: Path) -> str:
    name = f"slipway-mlops[{extras(ctx)}]"
    explicit = ctx.get("slipway_source", "").strip()
    if explicit:
        return from_explicit(name, explicit, root)
    if ctx.get("_slipway_bundle_version"):
        return f"{name}=={ctx['_slipway_bundle_version']}"
    template = str(ctx.get("_template") or "")
    repo_dir = str(ctx.get("_repo_dir") or "")
    url = git_url(template)
    if url:
        ref = ctx.get("_checkout") or ctx.get("_commit") or head_commit(repo_dir)
        return f"{name} @ {url}@{ref}"
    checkout = local_checkout(template, repo_dir)
    commit = str(ctx.get("_commit") or "")
    if not commit:
        return vendor(name, checkout, root)
    # cruft renders a given commit of the checkout (create and update): vendor that commit.
    with tempfile.TemporaryDirectory(prefix="slipway-commit-") as tree:
        export_commit(checkout, commit, Path(tree))
        return vendor(name, Path(tree), root)


def export_commit(checkout: Path, commit: str, dest: Path) -> None:
    """The files of ``commit`` of the git checkout, written under ``dest``."""
    archive = subprocess.run(
        ["git", "-C", str(checkout), "archive", "--format=tar", commit],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise SourceError(f"slipway_source: commit {commit} is not in {checkout}; {WHAT_TO_SET}")
    safe = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}  # Python >= 3.11.4
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, **safe)  # type: ignore[arg-type]


def write_requirement(root: Path, req: str) -> None:
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    if PLACEHOLDER not in text:
        raise SourceError(f"pyproject.toml: no {PLACEHOLDER} line to fill")
    pyproject.write_text(text.replace(PLACEHOLDER, req))


def main() -> int:
    root = Path.cwd()
    try:
        req = requirement(CONTEXT, root)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    remove_unchosen(CONTEXT, root)
    write_requirement(root, req)
    return 0


if __name__ == "__main__":
    sys.exit(main())
