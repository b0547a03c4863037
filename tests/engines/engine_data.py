"""Data the engine tests upload: the project's schema, from scikit-learn's bundled data."""

from __future__ import annotations

import pandas as pd

TRAIN_KEY = "data/train/part-0.csv"
BATCH_KEY = "batch/input/batch.csv"


def sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labelled rows and unlabelled batch rows (the columns the project's schema names)."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
    return frame.iloc[:450], frame.iloc[450:].drop(columns=["target"])


def shuffled_labels(train: pd.DataFrame) -> pd.DataFrame:
    """New labels that no longer follow the features: the retrained model is worse."""
    return train.assign(target=train["target"].sample(frac=1, random_state=0).to_numpy())


def put_csv(s3: object, bucket: str, key: str, frame: pd.DataFrame) -> str:
    """Upload ``frame``; the new object version's id."""
    body = frame.to_csv(index=False).encode()
    return str(s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"])  # type: ignore[attr-defined]
