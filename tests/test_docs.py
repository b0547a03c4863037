"""The documentation site: `mkdocs build --strict` passes (every page in the nav, every
link and anchor resolves) and the options page is what cookiecutter.json generates."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from matrix import ROOT
from slipway.options_doc import render


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


def test_site_builds_strict(tmp_path: Path) -> None:
    run = mkdocs_build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert run.returncode == 0, run.stderr[-3000:]
    architecture = (tmp_path / "site" / "architecture" / "index.html").read_text()
    assert '<pre class="mermaid">' in architecture  # the diagram, rendered client-side
    options = (tmp_path / "site" / "options" / "index.html").read_text()
    assert "<code>compute</code>" in options


def test_strict_build_fails_on_a_broken_link(tmp_path: Path) -> None:
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    with (tmp_path / "docs" / "index.md").open("a") as page:
        page.write("\nSee [nowhere](no-such-page.md).\n")
    run = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert run.returncode != 0
    assert "no-such-page.md" in run.stderr


def test_options_page_is_generated_from_cookiecutter_json() -> None:
    committed = (ROOT / "docs" / "options.md").read_text()
    assert committed == render(ROOT / "cookiecutter.json"), (
        "docs/options.md is stale: python -m slipway.options_doc > docs/options.md"
    )


def test_options_page_lists_every_question_and_choice(tmp_path: Path) -> None:
    changed = tmp_path / "cookiecutter.json"
    changed.write_text(
        '{"zone": ["blue", "green"], "_hidden": "", "__prompts__": '
        '{"zone": {"__prompt__": "Which zone?", "green": "The green one"}}}'
    )
    page = render(changed)
    assert "| `zone` | Which zone? | `blue` | `blue`<br>`green`: The green one |" in page
    assert "Not asked (set by `slipway new` itself): `_hidden`." in page
