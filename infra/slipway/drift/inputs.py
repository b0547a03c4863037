"""Where the monitor step's current data comes from: a local file or captured requests in S3.

``current_chunks("data/batch.csv", ...)`` streams a CSV / Parquet / JSONL file,
``current_chunks("s3://bucket/data-capture/", ...)`` the SageMaker data-capture JSONL
objects under that prefix. Either way memory is bounded by ``chunk_rows``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slipway.drift.sources import CHUNK_ROWS, file_chunks, s3_capture_chunks, s3_location

if TYPE_CHECKING:
    import pandas as pd

S3 = "s3://"
REPORTS_PREFIX = "monitoring/drift/"


def is_s3(location: str | Path) -> bool:
    """Whether ``location`` names S3 objects (``s3://bucket/prefix``) rather than a file."""
    return str(location).startswith(S3)


def current_chunks(
    location: str | Path,
    names: Sequence[str],
    chunk_rows: int = CHUNK_ROWS,
    s3_client: Any = None,
) -> Iterator[pd.DataFrame]:
    """Chunks of the current data at ``location`` (a path or an ``s3://`` capture prefix)."""
    if is_s3(location):
        return s3_capture_chunks(str(location), names, chunk_rows, client=s3_client)
    return file_chunks(Path(location), names, chunk_rows)


def report_prefix(location: str, when: datetime | None = None) -> str:
    """``s3://<bucket>/monitoring/drift/<UTC timestamp>/``: where the report of a check on
    the captures in ``location``'s bucket goes."""
    bucket, _ = s3_location(location)
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{S3}{bucket}/{REPORTS_PREFIX}{stamp}/"


def upload_report(files: Sequence[Path], prefix: str, s3_client: Any = None) -> list[str]:
    """Upload the report ``files`` under the ``s3://`` ``prefix``; returns their URIs. The
    bucket's default encryption (the project's KMS key) applies."""
    if s3_client is None:
        import boto3

        s3_client = boto3.client("s3")
    bucket, key_prefix = s3_location(prefix)
    uris = []
    for path in files:
        key = f"{key_prefix}{path.name}"
        s3_client.upload_file(str(path), bucket, key)
        uris.append(f"{S3}{bucket}/{key}")
    return uris
