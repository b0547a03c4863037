"""One-line drift errors: ``<field or column>: <rule>``.

Kept apart from ``slipway.lifecycle`` so that a monitoring job does not import MLflow;
the project's monitor step turns it into a ``LifecycleError``.
"""

from __future__ import annotations


class DriftError(ValueError):
    """Bad current data or source, detected before anything was written."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule
