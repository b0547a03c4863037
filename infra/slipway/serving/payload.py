"""Request bodies (JSON in MLflow's shapes, or CSV) to checked rows in signature order."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from slipway.serving.errors import BadRequest
from slipway.serving.schema import InputSchema

JSON_SHAPES = ("dataframe_split", "dataframe_records", "inputs", "instances")
JSON_TYPES = ("application/json",)
CSV_TYPES = ("text/csv", "application/csv")

Rows = list[list[Any]]


class PayloadParser:
    """Turns one request body into rows of checked values, ordered like the signature."""

    def __init__(self, schema: InputSchema, max_rows: int) -> None:
        self.schema = schema
        self.names = schema.names
        self.checkers = schema.checkers()
        self.required = {c.name for c in schema.columns if c.required}
        self.max_rows = max_rows
        self._csv_converters = tuple(_csv_converter(c.type) for c in schema.columns)

    def parse(self, body: bytes, content_type: str) -> Rows:
        media = content_type.split(";", 1)[0].strip().lower()
        if not body:
            raise BadRequest("empty body: send one or more rows as JSON or CSV")
        if media in JSON_TYPES:
            rows = self.parse_json(body)
        elif media in CSV_TYPES:
            rows = self.parse_csv(body)
        else:
            shown = media or "none"
            raise BadRequest(
                f"content type {shown!r} is not supported; use application/json or text/csv", 415
            )
        if not rows:
            raise BadRequest("no rows: send at least one row")
        return rows

    # -- JSON -----------------------------------------------------------------
    def parse_json(self, body: bytes) -> Rows:
        try:
            doc = json.loads(body)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            raise BadRequest(f"invalid JSON: {exc}") from None
        if type(doc) is not dict:
            raise BadRequest(f"the JSON body must be an object with one of {list(JSON_SHAPES)}")
        keys = [k for k in doc if k in JSON_SHAPES]
        others = sorted(set(doc) - set(JSON_SHAPES))
        if others:
            raise BadRequest(
                f"unknown key(s) {others}; expected exactly one of {list(JSON_SHAPES)}"
            )
        if len(keys) != 1:
            raise BadRequest(f"expected exactly one of {list(JSON_SHAPES)}, got {keys}")
        key = keys[0]
        value = doc[key]
        if key == "dataframe_split":
            return self._split(value)
        if key == "dataframe_records":
            return self._records(value, key)
        return self._tensor_like(value, key)

    def _split(self, value: Any) -> Rows:
        if type(value) is not dict:
            raise BadRequest("dataframe_split must be an object with 'columns' and 'data'")
        unknown = sorted(set(value) - {"columns", "data", "index"})
        if unknown:
            raise BadRequest(f"dataframe_split: unknown key(s) {unknown}")
        data = value.get("data")
        if type(data) is not list:
            raise BadRequest("dataframe_split.data must be a list of rows")
        columns = value.get("columns", list(self.names))
        if type(columns) is not list or not all(type(c) is str for c in columns):
            raise BadRequest("dataframe_split.columns must be a list of column names")
        return self._lists(columns, data, "dataframe_split.data")

    def _records(self, value: Any, key: str) -> Rows:
        if type(value) is not list:
            raise BadRequest(f"{key} must be a list of objects (one per row)")
        self._check_count(len(value))
        names, checkers = self.names, self.checkers
        out: Rows = []
        for r, record in enumerate(value):
            if type(record) is not dict:
                raise BadRequest(f"{key}[{r}] must be an object mapping column names to values")
            if len(record) != len(names) or not all(n in record for n in names):
                self._check_columns(list(record), f"{key}[{r}]")
            get = record.get
            out.append([check(get(n), r) for n, check in zip(names, checkers, strict=True)])
        return out

    def _tensor_like(self, value: Any, key: str) -> Rows:
        if type(value) is dict:  # columnar: {"col": [v, ...]} or {"col": v} for one row
            columns = list(value)
            self._check_columns(columns, key)
            cols = [v if type(v) is list else [v] for v in value.values()]
            lengths = {len(c) for c in cols}
            if len(lengths) > 1:
                raise BadRequest(f"{key}: columns have different lengths {sorted(lengths)}")
            return self._lists(columns, [list(r) for r in zip(*cols, strict=True)], key)
        if type(value) is list and value and type(value[0]) is dict:
            return self._records(value, key)
        if type(value) is list:
            return self._lists(list(self.names), value, key)
        raise BadRequest(f"{key} must be a list of rows or an object of columns")

    def _lists(self, columns: list[str], data: list[Any], where: str) -> Rows:
        self._check_count(len(data))
        width = len(columns)
        if tuple(columns) == self.names:
            order: list[int] = list(range(width))
        else:
            self._check_columns(columns, where)
            position = {name: i for i, name in enumerate(columns)}
            order = [position.get(name, -1) for name in self.names]
        pairs = list(zip(order, self.checkers, strict=True))
        out: Rows = []
        for r, row in enumerate(data):
            if type(row) is not list:
                raise BadRequest(f"{where}[{r}] must be a list of {width} values")
            if len(row) != width:
                raise BadRequest(f"{where}[{r}] has {len(row)} values, expected {width}")
            out.append([check(row[i] if i >= 0 else None, r) for i, check in pairs])
        return out

    # -- CSV ------------------------------------------------------------------
    def parse_csv(self, body: bytes) -> Rows:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"CSV body is not UTF-8: {exc}") from None
        try:
            table = list(csv.reader(io.StringIO(text), strict=True))
        except csv.Error as exc:
            raise BadRequest(f"invalid CSV: {exc}") from None
        table = [row for row in table if row]
        if not table:
            raise BadRequest("empty CSV: send a header row and at least one data row")
        header, data = table[0], table[1:]
        self._check_count(len(data))
        typed = []
        for r, row in enumerate(data):
            if len(row) != len(header):
                raise BadRequest(f"CSV row {r} has {len(row)} fields, expected {len(header)}")
            typed.append(row)
        self._check_columns(header, "CSV header")
        position = {name: i for i, name in enumerate(header)}
        convert = [
            (position.get(name, -1), conv)
            for name, conv in zip(self.names, self._csv_converters, strict=True)
        ]
        converted = []
        for r, row in enumerate(typed):
            converted.append(
                [
                    conv(row[i], name, r) if i >= 0 else None
                    for (i, conv), name in zip(convert, self.names, strict=True)
                ]
            )
        return self._lists(list(self.names), converted, "CSV")

    # -- shared checks ----------------------------------------------------------
    def _check_count(self, count: int) -> None:
        if count > self.max_rows:
            raise BadRequest(f"too many rows: {count} > {self.max_rows}", 413)

    def _check_columns(self, columns: list[str], where: str) -> None:
        seen: set[str] = set()
        dupes = sorted({c for c in columns if c in seen or seen.add(c)})  # type: ignore[func-returns-value]
        if dupes:
            raise BadRequest(f"{where}: duplicate column(s) {dupes}")
        unknown = sorted(set(columns) - set(self.names))
        if unknown:
            raise BadRequest(f"{where}: unknown column(s) {unknown}; expected {list(self.names)}")
        missing = [n for n in self.names if n in self.required and n not in seen]
        if missing:
            raise BadRequest(f"{where}: missing column(s) {missing}; expected {list(self.names)}")


def _csv_converter(kind: str) -> Callable[[str, str, int], Any]:
    """Parse a CSV field as ``kind``; an empty field is a missing value."""

    def convert(raw: str, name: str, row: int) -> Any:
        if raw == "":
            return None
        try:
            if kind in ("double", "float"):
                return float(raw)
            if kind in ("long", "integer"):
                return int(raw)
        except ValueError:
            raise BadRequest(
                f"row {row}, column {name!r}: expected a number ({kind}) (got {raw[:40]!r})"
            ) from None
        if kind == "boolean":
            lowered = raw.strip().lower()
            if lowered in ("true", "false"):
                return lowered == "true"
            raise BadRequest(f"row {row}, column {name!r}: expected true or false (got {raw!r})")
        return raw

    return convert
