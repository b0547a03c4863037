"""Rows out of SageMaker data-capture records (one JSON object per line).

A record looks like ``{"captureData": {"endpointInput": {"observedContentType":
"text/csv", "mode": "INPUT", "data": "...", "encoding": "CSV"}, ...}, "eventMetadata":
{...}}``; ``encoding`` is CSV, JSON or BASE64 (then ``observedContentType`` says which).
CSV bodies carry no header (a header row naming the features is skipped): values are
in the model's input order, i.e. the profile's feature order. JSON bodies use the model
server's shapes (MLflow's ``dataframe_split`` / ``dataframe_records`` / ``inputs`` /
``instances``).
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Sequence
from typing import Any

Row = dict[str, Any]


class CaptureError(ValueError):
    """A capture record that cannot be turned into rows."""


def record_rows(record: dict[str, Any], names: Sequence[str]) -> list[Row]:
    """The input rows of one capture record (``names``: the features, in input order)."""
    try:
        captured = record["captureData"]["endpointInput"]
        data, encoding = captured["data"], str(captured.get("encoding", "")).upper()
    except (KeyError, TypeError):
        raise CaptureError("no captureData.endpointInput.data") from None
    media = str(captured.get("observedContentType", "")).split(";")[0].strip().lower()
    if encoding == "BASE64":
        data = base64.b64decode(data).decode()
        encoding = "JSON" if "json" in media else "CSV"
    if encoding == "CSV":
        return csv_rows(data, names)
    if encoding == "JSON":
        return json_rows(json.loads(data) if isinstance(data, str) else data, names)
    raise CaptureError(f"encoding {encoding!r} is not CSV, JSON or BASE64")


def csv_rows(text: str, names: Sequence[str]) -> list[Row]:
    rows = [r for r in csv.reader(io.StringIO(text)) if r]
    if rows and rows[0] == list(names):
        rows = rows[1:]
    for row in rows:
        if len(row) != len(names):
            raise CaptureError(f"a CSV row has {len(row)} values, expected {len(names)}")
    return [dict(zip(names, row, strict=True)) for row in rows]


def json_rows(doc: Any, names: Sequence[str]) -> list[Row]:
    if isinstance(doc, dict) and "dataframe_split" in doc:
        split = doc["dataframe_split"]
        return [dict(zip(split["columns"], row, strict=True)) for row in split["data"]]
    if isinstance(doc, dict):
        key = next((k for k in ("dataframe_records", "inputs", "instances") if k in doc), None)
        doc = doc[key] if key else [doc]
    if not isinstance(doc, list):
        raise CaptureError("a JSON body must hold a list of rows")
    if doc and not isinstance(doc[0], dict | list):  # a single row as a bare list
        doc = [doc]
    return [row if isinstance(row, dict) else dict(zip(names, row, strict=True)) for row in doc]
