"""Export the champion MLflow model as a SageMaker ``model.tar.gz`` in S3.

The archive holds the MLflow model directory at its root (``MLmodel``, the flavor
files, ``requirements.txt``), which SageMaker unpacks to ``/opt/ml/model`` where an
MLflow serving container looks for it. Uploaded under ``models/<name>/v<version>/``
with SSE-KMS under the stack's key.
"""

from __future__ import annotations

import hashlib
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient

from slipway.deploy.errors import DeployError
from slipway.lifecycle.registry import CHAMPION, version_by_alias


@dataclass(frozen=True)
class ExportedModel:
    name: str
    version: str
    uri: str
    sha256: str


def build_archive(model_dir: Path, archive: Path) -> str:
    """Write ``model_dir``'s contents as a gzip tarball at its root; return its sha256."""
    if not (model_dir / "MLmodel").is_file():
        raise DeployError("model", f"{model_dir} is not an MLflow model (no MLmodel file)")
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(model_dir)), recursive=False)
    return hashlib.sha256(archive.read_bytes()).hexdigest()


def champion_version(client: MlflowClient, name: str) -> ModelVersion:
    """``models:/<name>@champion``, or a refusal when there is none."""
    champion = version_by_alias(client, name, CHAMPION)
    if champion is None:
        raise DeployError("champion", f"model {name!r} has no champion to deploy")
    return champion


def export_version(
    client: MlflowClient, version: ModelVersion, s3: Any, bucket: str, kms_key_arn: str
) -> ExportedModel:
    """Download model ``version``, archive it, upload it encrypted; return its URI."""
    name = version.name
    key = f"models/{name}/v{version.version}/model.tar.gz"
    with tempfile.TemporaryDirectory() as tmp:
        source = client.get_model_version_download_uri(name, str(version.version))
        local = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=source,
                dst_path=str(Path(tmp) / "model"),
                tracking_uri=client.tracking_uri,
            )
        )
        archive = Path(tmp) / "model.tar.gz"
        digest = build_archive(local, archive)
        s3.upload_file(
            str(archive),
            bucket,
            key,
            ExtraArgs={
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": kms_key_arn,
                "Metadata": {"mlflow-model": f"{name}/{version.version}", "sha256": digest},
            },
        )
    return ExportedModel(name, str(version.version), f"s3://{bucket}/{key}", digest)
