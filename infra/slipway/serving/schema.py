"""The model's input signature compiled to plain-Python cell checks (no pandas per request)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slipway.serving.errors import BadRequest, ModelLoadError

NUMERIC = {"double", "float", "long", "integer"}
SUPPORTED = NUMERIC | {"boolean", "string"}


@dataclass(frozen=True)
class Column:
    """One input column: its name, MLflow type and whether it may be missing/null."""

    name: str
    type: str
    required: bool = True


@dataclass(frozen=True)
class InputSchema:
    """Ordered input columns and whether NaN is acceptable to the model."""

    columns: tuple[Column, ...]
    allow_nan: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def all_numeric(self) -> bool:
        return all(c.type in NUMERIC for c in self.columns)

    def checkers(self) -> tuple[Callable[[Any, int], Any], ...]:
        """One function per column turning a raw cell into a checked value (or raising)."""
        return tuple(_checker(c, self.allow_nan) for c in self.columns)


def from_signature(signature: Any) -> InputSchema:
    """Compile an MLflow ``ModelSignature``; refuse what the server cannot check."""
    inputs = getattr(signature, "inputs", None)
    if inputs is None:
        raise ModelLoadError("the model has no input signature; log it with signature=...")
    if inputs.is_tensor_spec():
        raise ModelLoadError("the model has a tensor signature; only column signatures are served")
    columns = []
    for spec in inputs.inputs:
        if spec.name is None:
            raise ModelLoadError("the model signature has unnamed columns; name every column")
        type_name = getattr(spec.type, "name", str(spec.type))
        if type_name not in SUPPORTED:
            raise ModelLoadError(
                f"column {spec.name!r} has type {type_name!r}; supported: {sorted(SUPPORTED)}"
            )
        columns.append(Column(spec.name, type_name, bool(getattr(spec, "required", True))))
    return InputSchema(tuple(columns))


def _checker(column: Column, allow_nan: bool) -> Callable[[Any, int], Any]:
    name, kind = column.name, column.type

    def fail(value: Any, row: int, rule: str) -> BadRequest:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        return BadRequest(f"row {row}, column {name!r}: {rule} (got {shown})")

    def missing(value: Any, row: int) -> Any:
        if column.required:
            raise fail(value, row, "value is required")
        return math.nan if kind in NUMERIC else None

    if kind in ("double", "float"):

        def check_real(value: Any, row: int) -> Any:
            cls = type(value)
            if cls is float:
                if not math.isfinite(value):
                    if math.isinf(value):
                        raise fail(value, row, "infinity is not allowed")
                    if not allow_nan:
                        raise fail(value, row, "NaN is not allowed by this model")
                return value
            if cls is int:
                return float(value)
            if value is None:
                return missing(value, row)
            raise fail(value, row, f"expected a number ({kind})")

        return check_real

    if kind in ("long", "integer"):

        def check_int(value: Any, row: int) -> Any:
            cls = type(value)
            if cls is int:
                return value
            if cls is float and value.is_integer():
                return int(value)
            if value is None:
                return missing(value, row)
            raise fail(value, row, f"expected an integer ({kind})")

        return check_int

    exact, rule = (
        (bool, "expected true or false") if kind == "boolean" else (str, "expected a string")
    )

    def check_exact(value: Any, row: int) -> Any:
        if type(value) is exact:
            return value
        if value is None:
            return missing(value, row)
        raise fail(value, row, rule)

    return check_exact
