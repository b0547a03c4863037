"""Alias promotion and rollback on a real embedded MLflow registry (SQLite in tmp), with the
approval on record and the checks a person's approval must pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from isolation import undo_mlflow_globals
from mlflow.tracking import MlflowClient
from slipway.lifecycle import (
    COMPARED_TAG,
    Approval,
    DataVersion,
    Inputs,
    LifecycleError,
    configure_tracking,
    promote,
    register_challenger,
    rollback,
    training_tags,
    unchanged_version,
    use_experiment,
)

NAME = "m"
INPUTS = Inputs(training_data="d" * 64, code="c" * 64, config="f" * 64)
DATA = DataVersion(uri="data/train.csv", sha256="d" * 64, rows=341)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowClient]:
    with pytest.MonkeyPatch.context() as patch:
        undo_mlflow_globals(patch)  # configure_tracking and use_experiment set them
        root = tmp_path_factory.mktemp("registry")
        tracking = configure_tracking(root)
        assert tracking.db_path == (root / "mlflow.db").resolve()
        use_experiment(tracking, "exp")
        yield MlflowClient(tracking.uri, tracking.uri)


def _source(client: MlflowClient, compared: str = "none") -> tuple[str, str]:
    """A run artifact to register (any directory will do for the registry) and its run."""
    folder = Path(client.tracking_uri.removeprefix("sqlite:///")).parent / "model"
    folder.mkdir(exist_ok=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(folder), "model")
        mlflow.set_tag(COMPARED_TAG, compared)
    return f"runs:/{run.info.run_id}/model", run.info.run_id


def _aliases(client: MlflowClient, name: str = NAME) -> dict[str, str]:
    return {k: str(v) for k, v in client.get_registered_model(name).aliases.items()}


def test_promotion_history_and_rollback(client: MlflowClient) -> None:
    tags = {**training_tags(DATA, INPUTS, "abc123", {"roc_auc": 0.91}), "trained_by": "carol"}
    source, run = _source(client)
    first = str(register_challenger(client, source, NAME, tags).version)
    assert _aliases(client) == {"challenger": first}
    assert client.get_model_version(NAME, first).tags["metric.roc_auc"] == "0.910000"
    same = unchanged_version(client, NAME, INPUTS)
    assert same is not None and str(same.version) == first  # the challenger
    with pytest.raises(LifecycleError, match=r"^approved_by: must name the person"):
        promote(client, NAME, Approval.human(" ", run))
    assert _aliases(client) == {"challenger": first}

    assert promote(client, NAME, Approval.human("alice", run)).current == first
    second = str(register_challenger(client, source, NAME, tags).version)
    move = promote(client, NAME, Approval.automated(run))
    assert (move.previous, move.current) == (first, second)
    recorded = client.get_model_version(NAME, second).tags
    assert (recorded["approved_by"], recorded["approval_kind"]) == ("quality-gate", "automated")

    with pytest.raises(LifecycleError, match="already the champion"):
        promote(client, NAME, Approval.human("bob", run), version=second)
    with pytest.raises(LifecycleError, match="has no version 99"):
        promote(client, NAME, Approval.human("bob", run), version="99")
    # `make promote` right after a pipeline run that crowned its own candidate
    with pytest.raises(LifecycleError, match=rf"has this alias; version {second} is the champion"):
        promote(client, NAME, Approval.human("bob", run))
    assert _aliases(client) == {"champion": second}

    assert rollback(client, NAME).current == first
    with pytest.raises(LifecycleError, match="has no previous champion"):
        rollback(client, NAME)
    assert _aliases(client) == {"champion": first}


def test_a_person_approval_is_checked_before_anything_moves(client: MlflowClient) -> None:
    name = "needs-human"
    tags = {**training_tags(DATA, INPUTS, "abc123", {}), "trained_by": "carol"}
    source, run = _source(client)
    register_challenger(client, source, name, tags)

    def refused(approval: Approval) -> str:
        before = _aliases(client, name)
        with pytest.raises(LifecycleError) as err:
            promote(client, name, approval, needs_human=True)
        assert _aliases(client, name) == before
        return str(err.value)

    assert refused(Approval.automated(run)).startswith("approval: approved only by the automated")
    assert refused(Approval.human("carol", run)) == (
        "approval: carol trained this model and cannot approve it; another person approves"
    )
    assert refused(Approval.human("bob", "other-run")).startswith(
        f"--evaluation: run other-run is not the evaluation of version 1 (run {run})"
    )
    assert promote(client, name, Approval.human("bob", run), needs_human=True).current == "1"

    # an evaluation against an older champion is stale: the comparison the approver saw is gone
    source, stale = _source(client, compared="none")
    register_challenger(client, source, name, tags)
    assert refused(Approval.human("bob", stale)) == (
        f"--evaluation: run {stale} compared version 2 with champion none, but the champion "
        "is now v1; run the pipeline again"
    )


def test_missing_aliases_are_one_line_errors(client: MlflowClient) -> None:
    with pytest.raises(LifecycleError, match=r"^champion: no version of model 'absent'"):
        rollback(client, "absent")
    with pytest.raises(LifecycleError, match=r"^challenger: no version of model 'absent'"):
        promote(client, "absent", Approval.human("alice", "r"))


def test_tracking_uri_env_overrides_the_embedded_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    undo_mlflow_globals(monkeypatch)  # configure_tracking sets them
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    tracking = configure_tracking(tmp_path)
    assert tracking.uri == "http://127.0.0.1:5999" and tracking.db_path is None
    assert not (tmp_path / "mlflow.db").exists()
