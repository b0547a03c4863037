"""Request bodies (JSON in MLflow's shapes, CSV or Parquet) to checked rows in signature order.

The contract is ``mlflow models serve``'s (``mlflow.pyfunc.scoring_server``): one of the four
shape keys, an optional ``params`` object, other top-level keys and columns the signature does
not name ignored, numbers sent as strings parsed as the column's type. The differences are
the safety ones listed in docs/serving.md.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable
from typing import Any

from slipway.serving.errors import BadRequest, InvalidValue, first_line
from slipway.serving.schema import InputSchema

log = logging.getLogger(__name__)

JSON_SHAPES = ("dataframe_split", "dataframe_records", "inputs", "instances")
PARAMS_KEY = "params"
JSON_TYPES = ("application/json",)
CSV_TYPES = ("text/csv", "application/csv")
PARQUET_TYPES = ("application/vnd.apache.parquet",)
SUPPORTED_TYPES = (*JSON_TYPES, *CSV_TYPES, *PARQUET_TYPES)
CHARSETS = ("utf-8", "utf8")
PARQUET_EXPANSION = 16  # Parquet columns may decode to at most this many body limits
MAX_WARNED_COLUMNS = 100  # ignored column names logged once each, up to this many

Rows = list[list[Any]]


class PayloadParser:
    """Turns one request body into rows of checked values, ordered like the signature."""

    def __init__(self, schema: InputSchema, max_rows: int, max_body: int) -> None:
        self.schema = schema
        self.max_body = max_body
        self.names = schema.names
        self.checkers = schema.checkers()
        self.required = {c.name for c in schema.columns if c.required}
        self.max_rows = max_rows
        self._csv_converters = tuple(_csv_converter(c.type) for c in schema.columns)
        self._ignored: set[str] = set()

    def parse(self, body: bytes, content_type: str) -> tuple[Rows, Any]:
        """``(rows, params)``; ``params`` is the JSON body's ``params`` value (else None)."""
        media, _, parameters = content_type.partition(";")
        media = media.strip().lower()
        if media not in SUPPORTED_TYPES:
            shown = media or "none"
            raise BadRequest(
                f"content type {shown!r} is not supported; use {', '.join(SUPPORTED_TYPES)}", 415
            )
        if parameters:
            _check_type_parameters(parameters)
        if not body:
            raise BadRequest("empty body: send one or more rows as JSON, CSV or Parquet")
        params = None
        if media in JSON_TYPES:
            rows, params = self.parse_json(body)
        elif media in CSV_TYPES:
            rows = self.parse_csv(body)
        else:
            rows = self.parse_parquet(body)
        if not rows:
            raise BadRequest("no rows: send at least one row")
        return rows, params

    # -- JSON -----------------------------------------------------------------
    def parse_json(self, body: bytes) -> tuple[Rows, Any]:
        try:
            doc = json.loads(body)
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, too many digits
            raise BadRequest(f"invalid JSON: {exc}") from None
        except RecursionError:  # the decoder nests one C frame per [ or {
            raise BadRequest("invalid JSON: nested too deeply") from None
        if type(doc) is not dict:
            raise BadRequest(f"the JSON body must be an object with one of {list(JSON_SHAPES)}")
        keys = [k for k in JSON_SHAPES if k in doc]
        if len(keys) != 1:
            raise BadRequest(
                f"the JSON body must have exactly one of {list(JSON_SHAPES)}, got {sorted(doc)}"
            )
        key = keys[0]
        value = doc[key]
        if key == "dataframe_split":
            rows = self._split(value)
        elif key == "dataframe_records":
            rows = self._records(value, key)
        else:
            rows = self._tensor_like(value, key)
        return rows, doc.get(PARAMS_KEY)

    def _split(self, value: Any) -> Rows:
        if type(value) is not dict:
            raise BadRequest("dataframe_split must be an object with 'columns' and 'data'")
        unknown = sorted(set(value) - {"columns", "data", "index"})
        if unknown:
            raise BadRequest(f"dataframe_split: unknown key(s) {unknown}")
        data = value.get("data")
        if type(data) is not list:
            raise BadRequest("dataframe_split.data must be a list of rows")
        index = value.get("index")
        if index is not None and (type(index) is not list or len(index) != len(data)):
            raise BadRequest(f"dataframe_split.index must be a list of {len(data)} labels")
        columns = value.get("columns", list(self.names))
        if type(columns) is not list:
            raise BadRequest("dataframe_split.columns must be a list of column names")
        if not all(type(c) is str for c in columns):
            raise InvalidValue(f"dataframe_split.columns: not column names {columns[:5]}")
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
            self._check_count(max(lengths, default=0))
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
        for r, row in enumerate(data):
            if len(row) != len(header):
                raise BadRequest(f"CSV row {r} has {len(row)} fields, expected {len(header)}")
        self._check_columns(header, "CSV header")
        position = {name: i for i, name in enumerate(header)}
        convert = [
            (position.get(name, -1), conv)
            for name, conv in zip(self.names, self._csv_converters, strict=True)
        ]
        converted = [
            [
                conv(row[i], name, r) if i >= 0 else None
                for (i, conv), name in zip(convert, self.names, strict=True)
            ]
            for r, row in enumerate(data)
        ]
        return self._lists(list(self.names), converted, "CSV")

    # -- Parquet ----------------------------------------------------------------
    def parse_parquet(self, body: bytes) -> Rows:
        """A Parquet file (``pandas.DataFrame.to_parquet``). Only the signature's columns are
        read, and their size is bounded before and after decoding (a small file of repeated
        or compressed values can decode to gigabytes)."""
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:  # pragma: no cover - mlflow depends on pyarrow
            raise BadRequest("Parquet needs pyarrow, which this server lacks", 415) from None
        try:
            file = pq.ParquetFile(io.BytesIO(body))
        except Exception as exc:  # ArrowInvalid, OSError: not a Parquet file
            raise BadRequest(f"invalid Parquet: {first_line(exc)}") from None
        meta = file.metadata
        self._check_count(meta.num_rows)
        columns = [c for c in file.schema_arrow.names if c != "__index_level_0__"]
        self._check_columns(columns, "Parquet columns")
        wanted = [n for n in self.names if n in columns]
        limit = PARQUET_EXPANSION * self.max_body
        declared = sum(
            chunk.total_uncompressed_size
            for g in range(meta.num_row_groups)
            for chunk in (meta.row_group(g).column(i) for i in range(meta.num_columns))
            if chunk.path_in_schema in wanted
        )
        self._check_decoded(declared, limit)
        texts = [
            n
            for n in wanted
            if pa.types.is_string(t := file.schema_arrow.field(n).type)
            or pa.types.is_large_string(t)
            or pa.types.is_binary(t)
        ]
        try:  # text stays dictionary-encoded until its decoded size is known
            file = pq.ParquetFile(io.BytesIO(body), read_dictionary=texts)
            table = file.read(columns=wanted)
        except Exception as exc:
            raise BadRequest(f"invalid Parquet: {first_line(exc)}") from None
        self._check_decoded(sum(_decoded_size(table.column(n)) for n in wanted), limit)
        data = [list(r) for r in zip(*(table.column(n).to_pylist() for n in wanted), strict=True)]
        return self._lists(wanted, data, "Parquet")

    def _check_decoded(self, size: int, limit: int) -> None:
        if size > limit:
            raise BadRequest(f"Parquet columns decode to {size} bytes, more than {limit}", 413)

    # -- shared checks ----------------------------------------------------------
    def _check_count(self, count: int) -> None:
        if count > self.max_rows:
            raise BadRequest(f"too many rows: {count} > {self.max_rows}", 413)

    def _check_columns(self, columns: list[str], where: str) -> None:
        seen: set[str] = set()
        dupes = sorted({c for c in columns if c in seen or seen.add(c)})  # type: ignore[func-returns-value]
        if dupes:
            raise InvalidValue(f"{where}: duplicate column(s) {dupes}")
        missing = [n for n in self.names if n in self.required and n not in seen]
        if missing:
            raise InvalidValue(f"{where}: missing column(s) {missing}; expected {list(self.names)}")
        extra = seen.difference(self.names)
        if extra:
            self._note_ignored(extra)

    def _note_ignored(self, extra: set[str]) -> None:
        """Columns the signature does not name are ignored, as MLflow does; each is logged once."""
        new = extra - self._ignored
        if new and len(self._ignored) < MAX_WARNED_COLUMNS:
            self._ignored |= new
            log.warning("ignoring column(s) not in the model signature: %s", sorted(new)[:10])


def _decoded_size(column: Any) -> int:
    """Bytes of a column once decoded: a dictionary column's values are counted per row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(column.type):
        return int(column.nbytes)
    total = 0
    for chunk in column.chunks:
        lengths = pc.take(pc.binary_length(chunk.dictionary), chunk.indices)
        total += int(pc.sum(lengths).as_py() or 0)
    return total


def _check_type_parameters(parameters: str) -> None:
    """``charset`` must be UTF-8 and no other parameter is known (415), as in MLflow."""
    for pair in parameters.split(";"):
        key, _, value = pair.partition("=")
        key = key.strip().lower()
        if key == "charset":
            if value.strip().strip('"').lower() not in CHARSETS:
                raise BadRequest(f"charset {value.strip()!r} is not supported; send UTF-8", 415)
        elif key:
            raise BadRequest(f"unknown content type parameter {key!r}", 415)


def _csv_converter(kind: str) -> Callable[[str, str, int], Any]:
    """An empty field is a missing value; a boolean is ``true``/``false``; numbers and strings
    go to the cell check as text (it parses numbers as the column's type)."""

    def convert(raw: str, name: str, row: int) -> Any:
        if raw == "":
            return None
        if kind == "boolean":
            lowered = raw.strip().lower()
            if lowered in ("true", "false"):
                return lowered == "true"
            raise BadRequest(
                f"row {row}, column {name!r}: expected true or false (got {raw[:40]!r})"
            )
        return raw

    return convert
