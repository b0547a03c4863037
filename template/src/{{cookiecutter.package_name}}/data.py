"""Step 1, ingest + validate: read the training and evaluation data, check them against the
schema and against what training needs, and record their content versions.

Each local file's version is its sha256; a copy of every version read is kept under
``data/.versions/<sha256>.csv`` so that ``{{ cookiecutter.package_name }} data checkout``
can put back the exact files a past model was trained and evaluated on (data in the stack's
versioned bucket is restored by its S3 version id: ``slipway.lifecycle.datastore``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
from slipway.lifecycle import DataVersion, LifecycleError, file_sha256, from_schema_error
from slipway.lifecycle.datastore import S3, keep, restore, s3_version

from {{ cookiecutter.package_name }}.config import DataConfig
from {{ cookiecutter.package_name }}.schema import FEATURE_SCHEMA, FEATURES, TARGET, labelled_schema

BATCH_SHARE = 0.2
EVALUATION_SHARE = 0.25  # of the labelled rows left after the batch
VERSIONS = Path("data/.versions")
MIN_ROWS_PER_CLASS = 5
# The bundled data names no group of people. `cohort` is SYNTHETIC: drawn at random (seeded),
# it carries no information about the patients; it exists so that the per-group metrics
# and the fairness gate have a column to work on. Replace it with a real sensitive column.
SYNTHETIC_COLUMN = "cohort"
SYNTHETIC_GROUPS = ("A", "B")


@dataclass(frozen=True)
class Dataset:
    frame: pd.DataFrame
    path: Path
    version: DataVersion
    objects: tuple[DataVersion, ...] = ()
    """Read from an S3 prefix: each object version the local copy was made of."""

    @property
    def features(self) -> pd.DataFrame:
        return self.frame[FEATURES]

    @property
    def target(self) -> pd.Series:
        return self.frame[TARGET]


@dataclass(frozen=True)
class Datasets:
    """The training data and the held-out evaluation data, each with its version."""

    training: Dataset
    evaluation: Dataset


def write_sample(train_path: Path, evaluation_path: Path, batch_path: Path, seed: int = 0) -> None:
    """Write scikit-learn's bundled breast-cancer data (offline): labelled training and
    evaluation rows (with the synthetic ``cohort`` column) and unlabelled batch rows."""
    # Imported here: reading data (the engine's validate step) does not load scikit-learn.
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    bundled = load_breast_cancer(as_frame=True).frame
    bundled.columns = [str(c).replace(" ", "_") for c in bundled.columns]
    bundled[SYNTHETIC_COLUMN] = np.random.default_rng(seed).choice(SYNTHETIC_GROUPS, len(bundled))
    labelled, batch = train_test_split(
        bundled, test_size=BATCH_SHARE, random_state=seed, stratify=bundled[TARGET]
    )
    train, evaluation = train_test_split(
        labelled, test_size=EVALUATION_SHARE, random_state=seed, stratify=labelled[TARGET]
    )
    for path, frame in (
        (train_path, train),
        (evaluation_path, evaluation),
        (batch_path, batch[FEATURES]),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)


def read_csv(path: Path, field: str) -> pd.DataFrame:
    """Read a CSV file; a missing, empty or unparsable file is a one-line error naming ``field``."""
    if not path.is_file():
        raise LifecycleError(field, f"file not found: {path}")
    if path.stat().st_size == 0:
        raise LifecycleError(field, f"{path} is empty (no header, no rows)")
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


def check_learnable(frame: pd.DataFrame, field: str, path: Path) -> None:
    """Refuse data a classifier cannot be trained or scored on, naming the problem."""
    least = 2 * MIN_ROWS_PER_CLASS
    if frame.empty:
        raise LifecycleError(field, f"{path} has a header but no rows")
    distinct = frame.drop_duplicates()
    if len(distinct) == 1 and len(frame) > 1:
        raise LifecycleError(field, f"all {len(frame)} rows of {path} are the same row")
    if len(distinct) < least:
        rows = f"{len(frame)} row{'s' if len(frame) != 1 else ''}"
        unique = "" if len(distinct) == len(frame) else f" ({len(distinct)} distinct)"
        raise LifecycleError(
            field,
            f"{path} has {rows}{unique}; needs at least {least} distinct rows, "
            f"{MIN_ROWS_PER_CLASS} of each class",
        )
    counts = distinct[TARGET].value_counts()
    if len(counts) < 2:
        raise LifecycleError(
            TARGET, f"{path} has only class {counts.index[0]}; needs rows of both 0 and 1"
        )
    if counts.min() < MIN_ROWS_PER_CLASS:
        raise LifecycleError(
            field,
            f"{path} has {counts.min()} distinct rows of class {counts.idxmin()}; "
            f"needs at least {MIN_ROWS_PER_CLASS} of each class",
        )


def load_labelled(
    path: Path,
    field: str,
    sensitive: list[str],
    root: Path,
    read: DataVersion | None = None,
    objects: tuple[DataVersion, ...] = (),
) -> Dataset:
    """Read, validate and check one labelled file; keep a copy of its version (``read``:
    the S3 version it was downloaded from, restorable by its version id)."""
    for column in sensitive:
        if column in (*FEATURES, TARGET):
            raise LifecycleError("fairness.sensitive_columns", f"{column} is a model column")
    frame = validate(read_csv(path, field), labelled_schema(sensitive))
    check_learnable(frame, field, path)
    if read is not None:
        return Dataset(frame, path, read.model_copy(update={"rows": len(frame)}), objects)
    sha256 = file_sha256(path)
    keep(path, sha256, root / VERSIONS)
    uri = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    return Dataset(frame, path, DataVersion(uri=uri, sha256=sha256, rows=len(frame)))


def read_labelled(
    location: Path | str, field: str, sensitive: list[str], root: Path, local: Path | None = None
) -> Dataset:
    """A local file, one S3 object (``s3://bucket/key.csv``: its current version) or every
    CSV under an S3 prefix (``s3://bucket/prefix/``: each object's current version)."""
    uri = str(location)
    if not uri.startswith(S3):
        return load_labelled(root / location, field, sensitive, root)
    import boto3
    from slipway.jobs.s3data import DataError, read_prefix

    s3 = boto3.client("s3")
    local = local or root / "data" / ".s3" / f"{field.rpartition('.')[2]}.csv"
    if not uri.endswith("/"):
        return load_labelled(local, field, sensitive, root, s3_version(s3, uri, local))
    try:
        snapshot = read_prefix(s3, uri, local)
    except DataError as exc:
        raise LifecycleError(field, str(exc)) from exc
    read = DataVersion(uri=uri, sha256=file_sha256(local), rows=0)
    return load_labelled(local, field, sensitive, root, read, snapshot.versions)


def ingest(config: DataConfig, sensitive: list[str], root: Path, batch_path: Path) -> Datasets:
    """Load and validate the training and evaluation data (writing the bundled sample if
    configured); nothing is written when either is bad. Either may be in S3
    (``s3://bucket/key.csv`` or ``s3://bucket/prefix/``): read as it is now, versions recorded."""
    remote = any(str(p).startswith(S3) for p in (config.path, config.evaluation))
    train, evaluation = root / config.path, root / config.evaluation
    if not remote and not train.exists() and config.sample:
        write_sample(train, evaluation, root / batch_path)
    return Datasets(
        read_labelled(config.path, "data.path", sensitive, root),
        read_labelled(config.evaluation, "data.evaluation", sensitive, root),
    )


def checkout(version: DataVersion, destination: Path, root: Path) -> Path:
    """Put the recorded ``version`` back at ``destination``: a local file from
    ``data/.versions``, an S3 object by its recorded version id."""
    return restore(version, destination, root / VERSIONS)


def load_features(path: Path, field: str) -> pd.DataFrame:
    """Read and validate a file of inputs to score or monitor (no target column)."""
    return validate(read_csv(path, field), FEATURE_SCHEMA)
