"""Alias promotion and rollback on a real embedded MLflow registry (SQLite in tmp)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from isolation import undo_mlflow_globals
from mlflow.tracking import MlflowClient
from slipway.lifecycle import (
    LifecycleError,
    configure_tracking,
    promote,
    register_challenger,
    rollback,
    training_tags,
    use_experiment,
)

NAME = "m"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowClient]:
    with pytest.MonkeyPatch.context() as patch:
        undo_mlflow_globals(patch)  # configure_tracking and use_experiment set them
        root = tmp_path_factory.mktemp("registry")
        tracking = configure_tracking(root)
        assert tracking.db_path == (root / "mlflow.db").resolve()
        use_experiment(tracking, "exp")
        yield MlflowClient(tracking.uri, tracking.uri)


@pytest.fixture(scope="module")
def source(client: MlflowClient, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A run artifact to register (any directory will do for the registry)."""
    folder = tmp_path_factory.mktemp("model")
    (folder / "MLmodel").write_text("flavors: {}\n")
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(folder), "model")
    return f"runs:/{run.info.run_id}/model"


def _aliases(client: MlflowClient) -> dict[str, str]:
    return {k: str(v) for k, v in client.get_registered_model(NAME).aliases.items()}


def test_promotion_history_and_rollback(client: MlflowClient, source: str) -> None:
    tags = training_tags("f" * 64, "abc123", {"roc_auc": 0.91})
    first = str(register_challenger(client, source, NAME, tags).version)
    assert _aliases(client) == {"challenger": first}
    assert client.get_model_version(NAME, first).tags["metric.roc_auc"] == "0.910000"
    with pytest.raises(LifecycleError, match=r"^approved_by: must not be empty$"):
        promote(client, NAME, " ")
    assert _aliases(client) == {"challenger": first}

    assert promote(client, NAME, "alice").current == first
    second = str(register_challenger(client, source, NAME, tags).version)
    move = promote(client, NAME, "bob")
    assert (move.previous, move.current) == (first, second)
    assert client.get_model_version(NAME, second).tags["approved_by"] == "bob"

    with pytest.raises(LifecycleError, match="already the champion"):
        promote(client, NAME, "bob", version=second)
    with pytest.raises(LifecycleError, match="has no version 99"):
        promote(client, NAME, "bob", version="99")
    assert _aliases(client) == {"champion": second}

    assert rollback(client, NAME).current == first
    with pytest.raises(LifecycleError, match="has no previous champion"):
        rollback(client, NAME)
    assert _aliases(client) == {"champion": first}


def test_missing_aliases_are_one_line_errors(client: MlflowClient) -> None:
    with pytest.raises(LifecycleError, match=r"^champion: no version of model 'absent'"):
        rollback(client, "absent")
    with pytest.raises(LifecycleError, match=r"^challenger: no version of model 'absent'"):
        promote(client, "absent", "alice")


def test_tracking_uri_env_overrides_the_embedded_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    tracking = configure_tracking(tmp_path)
    assert tracking.uri == "http://127.0.0.1:5999" and tracking.db_path is None
    assert not (tmp_path / "mlflow.db").exists()
