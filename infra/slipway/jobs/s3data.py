"""Training data from S3: every CSV object under a prefix, as it is now, with the version read.

``data.path: s3://bucket/prefix/`` reads each ``.csv`` object under the prefix (the stack's
bucket is versioned): its current ``VersionId`` comes back with the bytes of the same
``GetObject``, so the versions recorded are exactly the bytes trained on, and a later
retrain reads whatever is current then (newer versions, new objects). The objects are
concatenated in key order into one local CSV; ``ObjectVersion`` records what went in.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

S3 = "s3://"


class DataError(ValueError):
    """The location holds no data to read; the message is one line."""


@dataclass(frozen=True)
class ObjectVersion:
    uri: str
    version_id: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Snapshot:
    """The local copy of what a prefix held, and the versions it was made of."""

    path: Path
    source: str
    versions: tuple[ObjectVersion, ...]

    @property
    def sha256(self) -> str:
        """Digest of the versions read (same objects and versions -> same digest)."""
        joined = "\n".join(f"{v.uri}@{v.sha256}" for v in self.versions)
        return hashlib.sha256(joined.encode()).hexdigest()

    def lineage(self) -> dict[str, str]:
        """Tags naming every object version read (``data.<n>``: ``uri@version``)."""
        tags = {"data.source": self.source, "data.objects": str(len(self.versions))}
        for index, version in enumerate(self.versions):
            tags[f"data.{index}"] = f"{version.uri}@{version.version_id}"
        return tags

    def to_json(self) -> str:
        return json.dumps(
            {"source": self.source, "versions": [asdict(v) for v in self.versions]}, indent=1
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
    with partial.open("wb") as out:
        for key in keys:
            response = s3.get_object(Bucket=bucket, Key=key)
            body = response["Body"].read()
            version_id = str(response.get("VersionId") or "")
            if not version_id or version_id == "null":
                raise DataError(
                    f"s3://{bucket}/{key}: bucket {bucket} does not version its objects"
                )
            first, _, rest = body.partition(b"\n")
            if header is None:
                header = first
                out.write(body if body.endswith(b"\n") else body + b"\n")
            elif first.strip() != header.strip():
                raise DataError(f"s3://{bucket}/{key}: header differs from {keys[0]}'s")
            else:
                out.write(rest if rest.endswith(b"\n") or not rest else rest + b"\n")
            versions.append(
                ObjectVersion(
                    f"s3://{bucket}/{key}", version_id, hashlib.sha256(body).hexdigest(), len(body)
                )
            )
    partial.replace(destination)
    return Snapshot(destination, uri, tuple(versions))
