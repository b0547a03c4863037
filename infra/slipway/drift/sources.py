"""Current data as chunks of rows: local CSV / Parquet / JSONL files and SageMaker
data capture in S3. Memory is bounded by ``chunk_rows``, not by the data size.

A Parquet file is a ``ParquetChunks``: iterated, it gives frames like the other sources;
``detect_drift`` instead streams it column by column into numpy (one reader per feature,
no pandas), which is what keeps a monitoring job small and fast (docs/performance.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from slipway.drift.capture import Row, record_rows
from slipway.drift.errors import DriftError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

CHUNK_ROWS = 100_000
SUFFIXES = (".csv", ".parquet", ".jsonl")
READ_BUFFER = 1 << 20  # unbuffered whole-row-group reads cost ~140 MB more peak RSS (measured)
log = logging.getLogger(__name__)


def file_chunks(
    path: Path, names: Sequence[str], chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """Chunks of a CSV (with header), Parquet or JSONL file (plain records or data capture)."""
    if not path.is_file():
        raise DriftError(str(path), "is not a file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return ParquetChunks(path, names, chunk_rows)
    if suffix == ".csv":
        return _csv_chunks(path, names, chunk_rows)
    if suffix == ".jsonl":
        return _jsonl_chunks(path, names, chunk_rows)
    raise DriftError(str(path), f"has an unsupported suffix; use one of {SUFFIXES}")


def _csv_chunks(path: Path, names: Sequence[str], chunk_rows: int) -> Iterator[pd.DataFrame]:
    import pandas as pd

    yield from pd.read_csv(path, chunksize=chunk_rows, usecols=lambda c: c in set(names))


def _jsonl_chunks(path: Path, names: Sequence[str], chunk_rows: int) -> Iterator[pd.DataFrame]:
    with path.open() as lines:
        yield from CaptureReader(names, chunk_rows).chunks([(str(path), lines)])


class ParquetChunks(Iterator["pd.DataFrame"]):
    """The ``names`` columns of a Parquet file, ``chunk_rows`` rows at a time: as frames when
    iterated, or one column at a time as numpy arrays (``column``), which needs neither
    pandas nor the other columns' read buffers."""

    _frames: Iterator[pd.DataFrame] | None = None

    def __init__(self, path: Path, names: Sequence[str], chunk_rows: int = CHUNK_ROWS) -> None:
        self.path, self.names, self.chunk_rows = path, list(names), chunk_rows
        parquet = self._open()
        missing = [n for n in self.names if n not in parquet.schema_arrow.names]
        if missing:
            raise DriftError(missing[0], "missing from the current data")
        self.rows: int = parquet.metadata.num_rows

    def _open(self) -> Any:
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.path, pre_buffer=False, buffer_size=READ_BUFFER)

    def __next__(self) -> pd.DataFrame:
        if self._frames is None:
            batches = self._open().iter_batches(batch_size=self.chunk_rows, columns=self.names)
            self._frames = (batch.to_pandas() for batch in batches)
        return next(self._frames)

    def column(self, name: str) -> Iterator[np.ndarray]:
        """The values of one column, chunk by chunk (own reader: safe to use per thread)."""
        for batch in self._open().iter_batches(batch_size=self.chunk_rows, columns=[name]):
            yield arrow_to_numpy(batch.column(0))

    def read_column(self, name: str) -> np.ndarray:
        """One numeric column as a float array (NaN for nulls), filled chunk by chunk: no
        second copy of the column is held while reading."""
        values, start = np.empty(self.rows), 0
        for chunk in self.column(name):
            values[start : start + chunk.size] = chunk
            start += chunk.size
        return values


def arrow_to_numpy(array: pa.Array) -> np.ndarray:
    """A numpy view of a numeric Arrow array (nulls as NaN, like ``to_pandas``); other
    types through pyarrow's ``to_numpy``. Numeric columns avoid that call: it imports
    pandas (~1.5 s, ~60 MB)."""
    import pyarrow as pa

    kind = array.type
    if not (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
        return np.asarray(array.to_numpy(zero_copy_only=False))
    code = "f" if pa.types.is_floating(kind) else "i" if pa.types.is_signed_integer(kind) else "u"
    dtype = np.dtype(f"{code}{kind.bit_width // 8}")
    validity, data = array.buffers()
    values = np.frombuffer(data, dtype, len(array), array.offset * dtype.itemsize)
    if not array.null_count:
        return values
    bits = np.frombuffer(validity, np.uint8)
    valid = np.unpackbits(bits, count=array.offset + len(array), bitorder="little")
    return np.where(valid[array.offset :].astype(bool), values, np.nan)


def s3_location(uri: str) -> tuple[str, str]:
    """``(bucket, key prefix)`` of an ``s3://bucket/prefix`` URI."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise DriftError(uri, "is not an s3://bucket/prefix URI")
    return parsed.netloc, parsed.path.lstrip("/")


def s3_capture_chunks(
    uri: str, names: Sequence[str], chunk_rows: int = CHUNK_ROWS, client: Any = None
) -> Iterator[pd.DataFrame]:
    """Chunks of the SageMaker data-capture JSONL objects under ``s3://bucket/prefix``,
    read in key order (the capture keys are dated) and streamed line by line."""
    bucket, prefix = s3_location(uri)
    if client is None:
        import boto3

        client = boto3.client("s3")
    keys = sorted(
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
        if item["Key"].endswith(".jsonl")
    )
    if not keys:
        raise DriftError(uri, "holds no .jsonl capture files")

    def objects() -> Iterator[tuple[str, Iterable[bytes]]]:
        for key in keys:
            body = client.get_object(Bucket=bucket, Key=key)["Body"]
            yield f"s3://{bucket}/{key}", body.iter_lines()

    yield from CaptureReader(names, chunk_rows).chunks(objects())


class CaptureReader:
    """JSON lines to frames of ``chunk_rows`` rows; a line is a data-capture record or a
    plain ``{feature: value}`` record. Undecodable records are skipped, counted and logged
    (one bad request must not stop monitoring)."""

    def __init__(self, names: Sequence[str], chunk_rows: int = CHUNK_ROWS) -> None:
        self.names = list(names)
        self.chunk_rows = chunk_rows
        self.skipped = 0

    def chunks(
        self, sources: Iterable[tuple[str, Iterable[str | bytes]]]
    ) -> Iterator[pd.DataFrame]:
        rows: list[Row] = []
        for where, lines in sources:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    rows.extend(self._rows(line, where, number))
                if len(rows) >= self.chunk_rows:
                    yield self._frame(rows)
                    rows = []
        if rows:
            yield self._frame(rows)

    def _rows(self, line: str | bytes, where: str, number: int) -> list[Row]:
        try:
            record = json.loads(line)
            if isinstance(record, dict) and "captureData" in record:
                return record_rows(record, self.names)
            if isinstance(record, dict):
                return [record]
            raise ValueError("not a JSON object")
        except (ValueError, KeyError, TypeError) as exc:
            self.skipped += 1
            log.warning("%s line %d skipped: %s", where, number, exc)
            return []

    def _frame(self, rows: list[Row]) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame.from_records(rows, columns=self.names)
