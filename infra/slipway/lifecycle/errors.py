"""One-line errors of the lifecycle: ``<field or column>: <rule>``."""

from __future__ import annotations

from typing import Any


class LifecycleError(Exception):
    """Bad input detected before anything was written; ``str()`` is one line."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


def from_schema_error(err: Exception) -> LifecycleError:
    """Name the column and the rule of a pandera ``SchemaError``/``SchemaErrors``."""
    from pandera.errors import SchemaErrorReason, SchemaErrors

    first: Any = err.schema_errors[0] if isinstance(err, SchemaErrors) else err
    reason = first.reason_code
    cases = first.failure_cases
    missing = SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME
    if reason in (missing, SchemaErrorReason.COLUMN_NOT_IN_SCHEMA):
        column = cases if isinstance(cases, str) else str(cases["failure_case"].iloc[0])
        rule = "required column is missing" if reason == missing else "column is not in the schema"
        return LifecycleError(column, rule)
    column = str(getattr(first.schema, "name", None) or "data")
    if reason == SchemaErrorReason.SERIES_CONTAINS_NULLS:
        return LifecycleError(column, "must not be null")
    if reason == SchemaErrorReason.DATATYPE_COERCION:
        return LifecycleError(column, f"must be {first.schema.dtype}")
    example = "" if isinstance(cases, str) else f" (e.g. {cases['failure_case'].iloc[0]!r})"
    return LifecycleError(column, f"{first.check}{example}")


class GateRejected(LifecycleError):
    """The candidate missed a quality threshold; ``rule`` says which and by how much.

    ``details``: what a person needs to see the refusal (both models' scores, per group),
    shown before the one-line error.
    """

    def __init__(self, field: str, rule: str, details: str = "") -> None:
        super().__init__(field, rule)
        self.details = details
