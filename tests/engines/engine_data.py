"""Data the engine tests upload: the project's schema, from scikit-learn's bundled data.

The training and evaluation sets go where the engine reads the data config's
``data/train.csv`` and ``data/evaluation.csv``: every CSV under ``data/train/`` and
``data/evaluation/`` of the stack's bucket (steps.locations)."""

from __future__ import annotations

import numpy as np
import pandas as pd

TRAIN_KEY = "data/train/part-0.csv"
EVALUATION_KEY = "data/evaluation/part-0.csv"
BATCH_KEY = "batch/input/batch.csv"


def _bundled() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
    # the project's sensitive column (the bundled sample's synthetic `cohort`)
    frame["cohort"] = np.random.default_rng(0).choice(("A", "B"), len(frame))
    return frame


def sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labelled training rows and unlabelled batch rows (the columns the project's schema
    names)."""
    frame = _bundled()
    return frame.iloc[:340], frame.iloc[450:].drop(columns=["target", "cohort"])


def held_out() -> pd.DataFrame:
    """Labelled evaluation rows, apart from the training rows."""
    return _bundled().iloc[340:450]


def newer_held_out() -> pd.DataFrame:
    """The evaluation set after it changed (the training set did not): fewer rows."""
    return held_out().iloc[10:]


def shuffled_labels(train: pd.DataFrame) -> pd.DataFrame:
    """New labels that no longer follow the features: the retrained model is worse."""
    return train.assign(target=train["target"].sample(frac=1, random_state=0).to_numpy())


def put_csv(s3: object, bucket: str, key: str, frame: pd.DataFrame) -> str:
    """Upload ``frame``; the new object version's id."""
    body = frame.to_csv(index=False).encode()
    return str(s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"])  # type: ignore[attr-defined]
