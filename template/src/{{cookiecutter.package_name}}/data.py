"""Step 1, ingest + validate: read the training data and check it against the schema."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from slipway.lifecycle import LifecycleError, file_sha256, from_schema_error

from {{ cookiecutter.package_name }}.config import DataConfig
from {{ cookiecutter.package_name }}.schema import FEATURE_SCHEMA, TARGET, TRAINING_SCHEMA

BATCH_SHARE = 0.2


@dataclass(frozen=True)
class Dataset:
    frame: pd.DataFrame
    path: Path
    sha256: str

    @property
    def features(self) -> pd.DataFrame:
        return self.frame.drop(columns=[TARGET])

    @property
    def target(self) -> pd.Series:
        return self.frame[TARGET]


def write_sample(train_path: Path, batch_path: Path, seed: int = 0) -> None:
    """Write scikit-learn's bundled breast-cancer data (offline): training rows with
    labels to ``train_path``, unseen rows without labels to ``batch_path``."""
    bundled = load_breast_cancer(as_frame=True).frame
    bundled.columns = [str(c).replace(" ", "_") for c in bundled.columns]
    train, batch = train_test_split(
        bundled, test_size=BATCH_SHARE, random_state=seed, stratify=bundled[TARGET]
    )
    for path, frame in ((train_path, train), (batch_path, batch.drop(columns=[TARGET]))):
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)


def read_csv(path: Path, field: str) -> pd.DataFrame:
    """Read a CSV file; a missing or unparsable file is a one-line error naming ``field``."""
    if not path.is_file():
        raise LifecycleError(field, f"file not found: {path}")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise LifecycleError(field, f"not a readable CSV file: {path}") from exc


def validate(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Validate against ``schema``; the first violation names its column and rule."""
    try:
        return schema.validate(frame)
    except (pa.errors.SchemaError, pa.errors.SchemaErrors) as exc:
        raise from_schema_error(exc) from exc


def load_training(path: Path, field: str) -> Dataset:
    """Read and validate a file of labelled rows."""
    frame = validate(read_csv(path, field), TRAINING_SCHEMA)
    return Dataset(frame=frame, path=path, sha256=file_sha256(path))


def ingest(config: DataConfig, root: Path, batch_path: Path) -> Dataset:
    """Load and validate the training data (writing the bundled sample if configured);
    ``data.path`` may be ``s3://bucket/prefix/``: every CSV under it, as it is now."""
    if str(config.path).startswith("s3://"):
        return from_s3(str(config.path), root)
    path = root / config.path
    if not path.exists() and config.sample:
        write_sample(path, root / batch_path)
    return load_training(path, "data.path")


def from_s3(uri: str, root: Path) -> Dataset:
    """The CSV objects under ``uri`` (their current versions) as one local snapshot, with
    the versions read beside it (``data/.s3/<name>.versions.json``)."""
    import boto3
    from slipway.jobs.s3data import DataError, read_prefix

    local = root / "data" / ".s3" / "train.csv"
    try:
        snapshot = read_prefix(boto3.client("s3"), uri.rstrip("/") + "/", local)
    except DataError as exc:
        raise LifecycleError("data.path", str(exc)) from exc
    local.with_suffix(".versions.json").write_text(snapshot.to_json())
    return load_training(local, "data.path")


def load_features(path: Path, field: str) -> pd.DataFrame:
    """Read and validate a file of inputs to score or monitor (no target column)."""
    return validate(read_csv(path, field), FEATURE_SCHEMA)
