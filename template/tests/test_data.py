"""Step 1: ingest + validate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from slipway.lifecycle import LifecycleError

from {{ cookiecutter.package_name }}.config import DataConfig
from {{ cookiecutter.package_name }}.data import ingest, write_sample
from {{ cookiecutter.package_name }}.schema import FEATURES, TARGET


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    write_sample(root / "train.csv", root / "batch.csv")
    return root


def test_bundled_sample_is_split_into_labelled_training_and_unlabelled_batch(sample: Path) -> None:
    train = pd.read_csv(sample / "train.csv")
    batch = pd.read_csv(sample / "batch.csv")
    assert list(train.columns) == [*FEATURES, TARGET]
    assert list(batch.columns) == FEATURES
    assert len(train) + len(batch) == 569  # scikit-learn's breast_cancer, no download


def test_ingest_writes_the_sample_when_missing_and_hashes_the_file(tmp_path: Path) -> None:
    dataset = ingest(DataConfig(), tmp_path, Path("data/batch.csv"))
    assert (tmp_path / "data" / "train.csv").is_file()
    assert (tmp_path / "data" / "batch.csv").is_file()
    assert len(dataset.sha256) == 64
    assert set(dataset.target.unique()) == {0, 1}


def _broken(
    sample: Path, tmp_path: Path, mutate: Callable[[pd.DataFrame], object]
) -> LifecycleError:
    frame = pd.read_csv(sample / "train.csv")
    mutate(frame)
    frame.to_csv(tmp_path / "train.csv", index=False)
    config = DataConfig(path=Path("train.csv"), sample=None)
    with pytest.raises(LifecycleError) as err:
        ingest(config, tmp_path, Path("batch.csv"))
    return err.value


def test_negative_value_names_column_and_rule(sample: Path, tmp_path: Path) -> None:
    err = _broken(sample, tmp_path, lambda f: f.__setitem__("mean_radius", -f["mean_radius"]))
    assert err.field == "mean_radius"
    assert "greater_than_or_equal_to(0)" in err.rule


def test_out_of_range_label_names_target(sample: Path, tmp_path: Path) -> None:
    err = _broken(sample, tmp_path, lambda f: f.__setitem__(TARGET, 2))
    assert err.field == TARGET and "isin" in err.rule


def test_missing_column_is_named(sample: Path, tmp_path: Path) -> None:
    err = _broken(sample, tmp_path, lambda f: f.pop("worst_area"))
    assert (err.field, err.rule) == ("worst_area", "required column is missing")


def test_missing_file_without_sample_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LifecycleError, match=r"^data.path: file not found"):
        ingest(DataConfig(path=Path("nope.csv"), sample=None), tmp_path, Path("batch.csv"))


def test_malformed_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("")
    with pytest.raises(LifecycleError, match=r"^data.path: not a readable CSV"):
        ingest(DataConfig(path=Path("train.csv"), sample=None), tmp_path, Path("batch.csv"))
