"""The model's input signature compiled to plain-Python cell checks (no pandas per request)."""

from __future__ import annotations

import math
import reprlib
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


# The largest magnitude each numeric type holds: a value past it is refused, not wrapped.
FLOAT32_MAX = 3.4028234663852886e38
INT_BOUNDS = {"long": 2**63, "integer": 2**31}  # -bound <= value < bound
_SHOW = reprlib.Repr()
_SHOW.maxstring = _SHOW.maxother = 40
_SHOW.maxlist = _SHOW.maxdict = 4
_SHOW.maxlevel = 2  # bounded depth: never the recursion limit, whatever was sent


def shown(value: Any) -> str:
    """A short, bounded ``repr`` of a request value for an error message."""
    try:
        return _SHOW.repr(value)
    except Exception:  # e.g. an int with more digits than str() converts
        return f"a {type(value).__name__}"


def _checker(column: Column, allow_nan: bool) -> Callable[[Any, int], Any]:
    """A cell check: MLflow's casts where they are safe (a number sent as a string is parsed as
    the column's type), refusals where pandas would guess (``true`` for a number, ``"false"``
    for a boolean), and the bounds of the type (NaN, infinity, overflow)."""
    name, kind = column.name, column.type

    def fail(value: Any, row: int, rule: str) -> BadRequest:
        return BadRequest(f"row {row}, column {name!r}: {rule} (got {shown(value)})")

    def missing(value: Any, row: int) -> Any:
        if column.required:
            raise fail(value, row, "value is required")
        return math.nan if kind in NUMERIC else None

    if kind in ("double", "float"):
        limit = FLOAT32_MAX if kind == "float" else math.inf

        def real(value: Any, row: int) -> float:
            if not math.isfinite(value):
                if math.isinf(value):
                    raise fail(value, row, "infinity is not allowed")
                if not allow_nan:
                    raise fail(value, row, "NaN is not allowed by this model")
            elif abs(value) > limit:
                raise fail(value, row, f"out of range for {kind}")
            return value

        def check_real(value: Any, row: int) -> Any:
            cls = type(value)
            if cls is float:
                return value if -limit < value < limit else real(value, row)
            if cls is int or cls is str:
                try:
                    number = float(value)
                except OverflowError:
                    raise fail(value, row, f"out of range for {kind}") from None
                except ValueError:
                    raise fail(value, row, f"expected a number ({kind})") from None
                return real(number, row)
            if value is None:
                return missing(value, row)
            raise fail(value, row, f"expected a number ({kind})")

        return check_real

    if kind in ("long", "integer"):
        bound = INT_BOUNDS[kind]

        def check_int(value: Any, row: int) -> Any:
            cls = type(value)
            if cls is int:
                number = value
            elif cls is str or (cls is float and value.is_integer()):
                try:
                    number = int(value)
                except ValueError:
                    raise fail(value, row, f"expected an integer ({kind})") from None
            elif value is None:
                return missing(value, row)
            else:
                raise fail(value, row, f"expected an integer ({kind})")
            if not -bound <= number < bound:
                raise fail(value, row, f"out of range for {kind}")
            return number

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
