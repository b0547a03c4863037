"""Step 1: ingest + validate: schema, data a model can learn from, content versions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from slipway.lifecycle import LifecycleError, file_sha256
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.config import DataConfig
from {{ cookiecutter.package_name }}.data import SYNTHETIC_COLUMN, VERSIONS, ingest, write_sample
from {{ cookiecutter.package_name }}.pipeline import Outcome
from {{ cookiecutter.package_name }}.schema import FEATURES, TARGET

SENSITIVE = [SYNTHETIC_COLUMN]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    write_sample(root / "train.csv", root / "evaluation.csv", root / "batch.csv")
    return root


def test_bundled_sample_is_split_into_training_evaluation_and_unlabelled_batch(
    sample: Path,
) -> None:
    train = pd.read_csv(sample / "train.csv")
    evaluation = pd.read_csv(sample / "evaluation.csv")
    batch = pd.read_csv(sample / "batch.csv")
    assert list(train.columns) == list(evaluation.columns) == [*FEATURES, TARGET, SYNTHETIC_COLUMN]
    assert list(batch.columns) == FEATURES
    assert (len(train), len(evaluation), len(batch)) == (341, 114, 114)  # 569 rows, no download
    assert set(evaluation[SYNTHETIC_COLUMN]) == {"A", "B"}
    assert set(evaluation[TARGET]) == {0, 1}


def test_ingest_writes_the_sample_when_missing_and_keeps_each_version(tmp_path: Path) -> None:
    data = ingest(DataConfig(), SENSITIVE, tmp_path, Path("data/batch.csv"))
    for dataset, name in ((data.training, "train.csv"), (data.evaluation, "evaluation.csv")):
        path = tmp_path / "data" / name
        assert dataset.version.uri == f"data/{name}"
        assert dataset.version.sha256 == file_sha256(path)
        assert (tmp_path / VERSIONS / f"{dataset.version.sha256}.csv").read_bytes() == (
            path.read_bytes()
        )
    assert list(data.training.features.columns) == FEATURES  # the cohort is never an input


def _ingest(sample: Path, tmp_path: Path, frame: pd.DataFrame | str) -> LifecycleError:
    target = tmp_path / "train.csv"
    if isinstance(frame, str):
        target.write_text(frame)
    else:
        frame.to_csv(target, index=False)
    (tmp_path / "evaluation.csv").write_bytes((sample / "evaluation.csv").read_bytes())
    config = DataConfig(path=Path("train.csv"), evaluation=Path("evaluation.csv"), sample=None)
    with pytest.raises(LifecycleError) as err:
        ingest(config, SENSITIVE, tmp_path, Path("batch.csv"))
    return err.value


def _broken(
    sample: Path, tmp_path: Path, mutate: Callable[[pd.DataFrame], object]
) -> LifecycleError:
    frame = pd.read_csv(sample / "train.csv")
    mutate(frame)
    return _ingest(sample, tmp_path, frame)


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


def test_missing_sensitive_column_is_named(sample: Path, tmp_path: Path) -> None:
    err = _broken(sample, tmp_path, lambda f: f.pop(SYNTHETIC_COLUMN))
    assert (err.field, err.rule) == (SYNTHETIC_COLUMN, "required column is missing")


def test_missing_file_without_sample_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LifecycleError, match=r"^data.path: file not found"):
        ingest(DataConfig(path=Path("nope.csv"), sample=None), SENSITIVE, tmp_path, Path("b.csv"))


# Bad training data: one line naming the problem, exit 2, nothing written to MLflow.
BAD_DATA: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame | str], str]] = {
    "empty": (lambda f: "", "error: data.path: train.csv is empty (no header, no rows)"),
    "header-only": (
        lambda f: f.head(0),
        "error: data.path: train.csv has a header but no rows",
    ),
    "one-row": (
        lambda f: f.head(1),
        "error: data.path: train.csv has 1 row; needs at least 10 distinct rows, 5 of each class",
    ),
    "single-class": (
        lambda f: f[f[TARGET] == 1],
        "error: target: train.csv has only class 1; needs rows of both 0 and 1",
    ),
    "all-duplicate": (
        lambda f: pd.concat([f.head(1)] * len(f)),
        "error: data.path: all 341 rows of train.csv are the same row",
    ),
    "few-of-a-class": (
        lambda f: pd.concat([f[f[TARGET] == 1], f[f[TARGET] == 0].head(3)]),
        "error: data.path: train.csv has 3 distinct rows of class 0; "
        "needs at least 5 of each class",
    ),
}


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_bad_training_data_is_one_line_exit_2_and_leaves_no_run(
    case: str,
    in_project: Path,
    outcome: Outcome,
    client: MlflowClient,
    write_config: Callable[..., Path],
) -> None:
    mutate, expected = BAD_DATA[case]
    folder = in_project / "bad" / case
    folder.mkdir(parents=True)
    bad = mutate(pd.read_csv(in_project / "data" / "train.csv"))
    if isinstance(bad, str):
        (folder / "train.csv").write_text(bad)
    else:
        bad.to_csv(folder / "train.csv", index=False)
    config = write_config(folder, data={"path": str(folder / "train.csv"), "sample": None})
    experiment = client.get_experiment_by_name(outcome.model_name)
    runs_before = client.search_runs([experiment.experiment_id])

    result = CliRunner().invoke(app, ["pipeline", "run", "--config", str(config)])

    assert result.exit_code == 2, result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert line == expected.replace("train.csv", str(folder / "train.csv"))
    assert "Traceback" not in result.output
    runs = client.search_runs([experiment.experiment_id])
    assert [r.info.run_id for r in runs] == [r.info.run_id for r in runs_before]
    assert all(r.info.status == "FINISHED" for r in runs)


def test_data_show_and_checkout_restore_the_champions_exact_files(
    in_project: Path, outcome: Outcome
) -> None:
    shown = CliRunner().invoke(app, ["data", "show"])
    assert shown.exit_code == 0, shown.output
    report = outcome.report
    assert report is not None
    assert f"training data: {report.training_data.describe()}" in shown.output
    assert f"evaluation data: {report.evaluation_data.describe()}" in shown.output

    original = (in_project / "data" / "evaluation.csv").read_bytes()
    (in_project / "data" / "evaluation.csv").write_text("overwritten")
    restored = CliRunner().invoke(app, ["data", "checkout"])
    assert restored.exit_code == 0, restored.output
    assert (in_project / "data" / "evaluation.csv").read_bytes() == original
    assert file_sha256(in_project / "data" / "train.csv") == report.training_data.sha256

    (in_project / VERSIONS / f"{report.evaluation_data.sha256}.csv").rename(in_project / "kept")
    try:
        missing = CliRunner().invoke(app, ["data", "checkout"])
    finally:
        (in_project / "kept").rename(in_project / VERSIONS / f"{report.evaluation_data.sha256}.csv")
    assert missing.exit_code == 2
    assert missing.output.strip().startswith("error: data/evaluation.csv: version ")
