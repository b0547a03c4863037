"""Helm's handling of chart values, as far as Slipway relies on it."""

from __future__ import annotations

from typing import Any


def coalesce(defaults: Any, overrides: Any) -> Any:
    """User values over a chart's defaults, as Helm coalesces them: maps merge key by key,
    anything else replaces."""
    if isinstance(defaults, dict) and isinstance(overrides, dict):
        merged = dict(defaults)
        for key, value in overrides.items():
            merged[key] = coalesce(defaults.get(key), value)
        return merged
    return overrides
