"""Exact data versions: S3 object versions in a versioned bucket (moto), and the local
content-addressed store of the embedded default."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slipway.lifecycle import DataVersion, LifecycleError
from slipway.lifecycle.datastore import download_version, keep, restore, s3_version

URI = "s3://project-dev-bucket/data/train.csv"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="project-dev-bucket")
        client.put_bucket_versioning(
            Bucket="project-dev-bucket", VersioningConfiguration={"Status": "Enabled"}
        )
        yield client


def test_a_recorded_s3_version_comes_back_exactly_after_the_key_is_overwritten(
    s3: Any, tmp_path: Path
) -> None:
    first = b"mean_radius,target\n1.0,0\n"
    s3.put_object(Bucket="project-dev-bucket", Key="data/train.csv", Body=first)
    recorded = s3_version(s3, URI, tmp_path / "read.csv")
    assert (tmp_path / "read.csv").read_bytes() == first
    assert recorded.sha256 == hashlib.sha256(first).hexdigest() and recorded.version_id

    s3.put_object(Bucket="project-dev-bucket", Key="data/train.csv", Body=b"relabelled\n")
    assert s3_version(s3, URI, tmp_path / "now.csv").version_id != recorded.version_id

    back = download_version(s3, recorded, tmp_path / "again.csv")
    assert back.read_bytes() == first
    assert restore(recorded, tmp_path / "restored.csv", tmp_path / "store", s3).read_bytes() == (
        first
    )

    forged = recorded.model_copy(update={"sha256": "0" * 64})
    with pytest.raises(LifecycleError, match="does not match its sha256"):
        download_version(s3, forged, tmp_path / "forged.csv")
    assert not (tmp_path / "forged.csv").exists()


def test_an_unversioned_bucket_or_a_prefix_is_refused(s3: Any, tmp_path: Path) -> None:
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key="train.csv", Body=b"x\n")
    with pytest.raises(LifecycleError, match=r"^s3://plain/train\.csv: bucket plain does not"):
        s3_version(s3, "s3://plain/train.csv", tmp_path / "x.csv")
    with pytest.raises(LifecycleError, match="must be s3://bucket/key of one object"):
        s3_version(s3, "s3://project-dev-bucket/data/", tmp_path / "x.csv")


def test_local_versions_are_kept_by_content_and_restored_checked(tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("a,target\n1,0\n")
    sha256 = hashlib.sha256(data.read_bytes()).hexdigest()
    stored = keep(data, sha256, tmp_path / "store")
    assert stored == tmp_path / "store" / f"{sha256}.csv"
    version = DataVersion(uri="data/train.csv", sha256=sha256, rows=1)

    data.write_text("changed\n")
    assert restore(version, data, tmp_path / "store").read_text() == "a,target\n1,0\n"

    stored.write_text("tampered\n")
    with pytest.raises(LifecycleError, match="content does not match its sha256"):
        restore(version, data, tmp_path / "store")
    stored.unlink()
    with pytest.raises(LifecycleError, match=f"version {sha256[:12]} is not kept in"):
        restore(version, data, tmp_path / "store")
