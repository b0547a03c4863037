"""Render docs/options.md from cookiecutter.json (`python -m slipway.options_doc`).

tests/test_docs.py fails when the committed page differs from this output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from slipway.resources import template_dir

HEADER = """\
# Options reference

<!-- Generated from cookiecutter.json by `python -m slipway.options_doc > docs/options.md`;
do not edit by hand (tests/test_docs.py compares the two). -->

Every question `slipway new` (or `cookiecutter`/`cruft create`) asks, in order. Give
answers on the command line as `key=value` (`slipway new --no-input compute=eks`;
`slipway new --help` lists them). A bad value is refused before anything is written, with
one line naming the field and the rule (see [template.md](template.md)). A default in
`{{ }}` is derived from earlier answers.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(value: Any) -> str:
    shown = value[0] if isinstance(value, list) else value
    return f"`{_cell(str(shown))}`" if shown != "" else "(blank)"


def _choices(key: str, value: Any, prompt: Any) -> str:
    if not isinstance(value, list):
        return "free text"
    labels = prompt if isinstance(prompt, dict) else {}
    return "<br>".join(
        f"`{choice}`" + (f": {_cell(labels[choice])}" if choice in labels else "")
        for choice in value
    )


# cookiecutter's own settings in cookiecutter.json: neither asked nor set by `slipway new`.
SETTINGS = frozenset({"_extensions", "_copy_without_render", "_jinja2_env_vars", "_new_lines"})


def answers(cookiecutter_json: Path) -> list[tuple[str, str]]:
    """Each key a user may give, with its choices or its default (for ``slipway new --help``)."""
    context: dict[str, Any] = json.loads(cookiecutter_json.read_text())
    rows = []
    for key, value in context.items():
        if key.startswith("_"):
            continue
        if isinstance(value, list):
            shown = " | ".join(map(str, value))
        elif "{{" in str(value):
            shown = "default: derived from the answers above"
        else:
            shown = f"default: {value}" if value != "" else "default: blank"
        rows.append((key, shown))
    return rows


def render(cookiecutter_json: Path | None = None) -> str:
    """The options page for ``cookiecutter_json`` (default: the template's own)."""
    path = cookiecutter_json or template_dir()[0] / "cookiecutter.json"
    context: dict[str, Any] = json.loads(path.read_text())
    prompts: dict[str, Any] = context.get("__prompts__", {})
    rows = ["| option | question | default | choices |", "|---|---|---|---|"]
    internal = []
    for key, value in context.items():
        if key.startswith("__") or key in SETTINGS:
            continue
        if key.startswith("_"):
            internal.append(f"`{key}`")
            continue
        prompt = prompts.get(key, "")
        question = prompt.get("__prompt__", "") if isinstance(prompt, dict) else prompt
        rows.append(
            f"| `{key}` | {_cell(question)} | {_default(value)} | {_choices(key, value, prompt)} |"
        )
    lines = [HEADER, *rows, ""]
    if internal:
        lines.append(f"Not asked (set by `slipway new` itself): {', '.join(internal)}.\n")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
