"""Training data from S3: every CSV object under a prefix, as it is now, with the versions read.

``data.path: s3://bucket/prefix/`` reads each ``.csv`` object under the prefix (the stack's
bucket is versioned). Each object is read with :func:`slipway.lifecycle.datastore.s3_version`
(the one implementation of S3 data versions: bytes and ``VersionId`` from the same
``GetObject``), so the versions recorded are exactly the bytes trained on, and a later
retrain reads whatever is current then (newer versions, new objects). The objects are
concatenated in key order into one local CSV.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slipway.lifecycle.datastore import S3, s3_version
from slipway.lifecycle.errors import LifecycleError
from slipway.lifecycle.lineage import DataVersion


class DataError(ValueError):
    """The location holds no data to read; the message is one line."""


@dataclass(frozen=True)
class Snapshot:
    """The local copy of what a prefix held, and the object versions it was made of."""

    path: Path
    source: str
    versions: tuple[DataVersion, ...]

    @property
    def sha256(self) -> str:
        """Digest of the versions read (same objects and versions -> same digest)."""
        joined = "\n".join(f"{v.uri}@{v.sha256}" for v in self.versions)
        return hashlib.sha256(joined.encode()).hexdigest()

    def lineage(self, prefix: str = "data") -> dict[str, str]:
        """Tags naming every object version read (``data.<n>``: ``uri@version``)."""
        tags = {f"{prefix}.source": self.source, f"{prefix}.objects": str(len(self.versions))}
        for index, version in enumerate(self.versions):
            tags[f"{prefix}.{index}"] = f"{version.uri}@{version.version_id}"
        return tags

    def to_json(self) -> str:
        return json.dumps(
            {"source": self.source, "versions": [v.model_dump() for v in self.versions]}, indent=1
        )


def split(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri.removeprefix(S3).partition("/")
    if not uri.startswith(S3) or not bucket:
        raise DataError(f"{uri}: must be s3://bucket/prefix/")
    return bucket, prefix


def read_prefix(s3: Any, uri: str, destination: Path) -> Snapshot:
    """Concatenate the current version of every CSV under ``uri`` into ``destination``
    (one header: the first object's; the others must have the same header)."""
    bucket, prefix = split(uri)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = sorted(
        item["Key"]
        for page in pages
        for item in page.get("Contents", [])
        if item["Key"].endswith(".csv")
    )
    if not keys:
        raise DataError(f"{uri}: holds no .csv objects")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    versions = []
    header: bytes | None = None
    with tempfile.TemporaryDirectory() as scratch, partial.open("wb") as out:
        for index, key in enumerate(keys):
            local = Path(scratch) / f"{index}.csv"
            try:
                version = s3_version(s3, f"s3://{bucket}/{key}", local)
            except LifecycleError as exc:
                raise DataError(f"{exc.field}: {exc.rule}") from exc
            body = local.read_bytes()
            first, _, rest = body.partition(b"\n")
            if header is None:
                header = first
                out.write(body if body.endswith(b"\n") else body + b"\n")
            elif first.strip() != header.strip():
                raise DataError(f"s3://{bucket}/{key}: header differs from {keys[0]}'s")
            else:
                out.write(rest if rest.endswith(b"\n") or not rest else rest + b"\n")
            versions.append(version)
    partial.replace(destination)
    return Snapshot(destination, uri, tuple(versions))
