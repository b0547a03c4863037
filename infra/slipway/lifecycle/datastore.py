"""Exact data versions: record the one a run reads, get exactly it back later.

Data in the stack's bucket is versioned by S3 itself (the artifact bucket has versioning
on): a run records the object's ``VersionId`` beside the sha256 of its bytes, and
``GetObject`` with that ``VersionId`` returns those bytes again, whatever was written to the
key since, for as long as the bucket keeps noncurrent versions (the preset's
``retention.noncurrent_version_days``). docs/promotion.md, "Data versions", says why S3
versions and not DVC.

A local file's version is its sha256; :func:`keep` copies each version into a local
content-addressed store so :func:`restore` can put it back.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from slipway.lifecycle.errors import LifecycleError
from slipway.lifecycle.lineage import DataVersion, file_sha256

S3 = "s3://"


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key); a one-line error for anything else."""
    bucket, _, key = uri.removeprefix(S3).partition("/")
    if not uri.startswith(S3) or not bucket or not key or key.endswith("/"):
        raise LifecycleError(uri, "must be s3://bucket/key of one object")
    return bucket, key


def s3_version(s3: Any, uri: str, destination: Path) -> DataVersion:
    """Download the current version of object ``uri`` to ``destination``; its DataVersion
    names the ``VersionId`` read (bytes and version come from the same GetObject)."""
    bucket, key = split_s3(uri)
    response = s3.get_object(Bucket=bucket, Key=key)
    version_id = response.get("VersionId")
    if not version_id or version_id == "null":
        raise LifecycleError(uri, f"bucket {bucket} does not version its objects")
    sha256 = _write(response["Body"], destination)
    return DataVersion(uri=uri, sha256=sha256, rows=0, version_id=version_id)


def download_version(s3: Any, version: DataVersion, destination: Path) -> Path:
    """Exactly the recorded object version at ``destination``, its sha256 checked."""
    bucket, key = split_s3(version.uri)
    if not version.version_id:
        raise LifecycleError(version.uri, "no S3 version id recorded")
    response = s3.get_object(Bucket=bucket, Key=key, VersionId=version.version_id)
    if _write(response["Body"], destination) != version.sha256:
        destination.unlink()
        raise LifecycleError(version.uri, f"version {version.version_id} does not match its sha256")
    return destination


def keep(path: Path, sha256: str, store: Path) -> Path:
    """Copy ``path`` to ``<store>/<sha256><suffix>`` unless that version is kept already."""
    stored = store / f"{sha256}{path.suffix}"
    if not stored.exists():
        store.mkdir(parents=True, exist_ok=True)
        partial = stored.with_name(stored.name + ".partial")
        shutil.copyfile(path, partial)
        partial.replace(stored)
    return stored


def restore(version: DataVersion, destination: Path, store: Path, s3: Any = None) -> Path:
    """Put the recorded ``version`` at ``destination``: from S3 by its version id, else from
    the local ``store``; either way the sha256 must match."""
    if version.version_id:
        if s3 is None:
            import boto3

            s3 = boto3.client("s3")
        return download_version(s3, version, destination)
    stored = store / f"{version.sha256}{Path(version.uri).suffix}"
    if not stored.is_file():
        raise LifecycleError(
            version.uri, f"version {version.sha256[:12]} is not kept in {store} on this machine"
        )
    if file_sha256(stored) != version.sha256:
        raise LifecycleError(str(stored), "content does not match its sha256 (file altered)")
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(stored, destination)
    return destination


def _write(body: Any, destination: Path) -> str:
    """Stream ``body`` to ``destination`` (via a .partial file); return its sha256."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for chunk in iter(lambda: body.read(1 << 20), b""):
            digest.update(chunk)
            out.write(chunk)
    partial.replace(destination)
    return digest.hexdigest()
