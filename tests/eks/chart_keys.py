"""Key paths of Helm values checked against a chart's values.yaml (see chart_values/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

CHART_VALUES = Path(__file__).parent / "chart_values"


def chart_defaults(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((CHART_VALUES / name).read_text()))


def unknown_keys(
    values: dict[str, Any], chart: dict[str, Any], free_form: frozenset[str] = frozenset()
) -> Iterator[str]:
    """Dotted paths of ``values`` the chart does not declare.

    A path in ``free_form``, or a chart default that is an empty map (``annotations: {}``,
    ``extraEnvVars: {}``), takes any keys: the walk stops there.
    """

    def walk(ours: dict[str, Any], theirs: dict[str, Any], prefix: str) -> Iterator[str]:
        for key, value in ours.items():
            path = f"{prefix}{key}"
            if key not in theirs:
                yield path
            elif isinstance(value, dict) and path not in free_form and theirs[key] != {}:
                if not isinstance(theirs[key], dict):
                    yield path
                else:
                    yield from walk(value, theirs[key], path + ".")

    yield from walk(values, chart, "")
