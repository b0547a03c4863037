"""Errors of the deploy runtime."""

from __future__ import annotations


class DeployError(RuntimeError):
    """A deploy step was refused: ``<field>: <rule>``."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
