"""A new embedded store is a copy of the empty store MLflow migrated once
(``slipway.lifecycle.store_seed``): the same database MLflow makes itself, made once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import mlflow.store.db.utils
import pytest
from isolation import undo_mlflow_globals
from mlflow.tracking import MlflowClient
from slipway.lifecycle import configure_tracking
from slipway.lifecycle.store_seed import seed_store


def clauses(sql: str | None) -> list[str]:
    """A CREATE statement's clauses, sorted: alembic's batch migrations rebuild a table from
    its reflected constraints in no fixed order, so two stores MLflow migrates may differ in
    that order alone."""
    return sorted(sql.split(", \n")) if sql else []


def contents(db: Path) -> tuple[list[object], list[tuple[object, ...]]]:
    """Its schema (every table, index and trigger, with its SQL), revision and experiments."""
    with sqlite3.connect(db) as conn:
        schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        experiments = conn.execute(
            "SELECT experiment_id, name, lifecycle_stage FROM experiments"
        ).fetchall()
    return [(kind, name, clauses(sql)) for kind, name, sql in schema] + revision, experiments


def test_a_seeded_store_is_the_store_mlflow_makes_itself(tmp_path: Path) -> None:
    made, seeded = tmp_path / "made" / "mlflow.db", tmp_path / "seeded" / "mlflow.db"
    for db in (made, seeded):
        db.parent.mkdir()
    assert seed_store(seeded, tmp_path / "cache")
    for db in (made, seeded):  # MLflow opens both: it migrates one, finds the other migrated
        MlflowClient(f"sqlite:///{db}").search_experiments()
    assert contents(seeded) == contents(made)
    assert contents(seeded)[1] == [(0, "Default", "active")]


def test_the_migrations_run_once_per_cache_and_a_store_in_use_is_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    assert seed_store(first, cache)

    def migrate(engine: object) -> None:
        raise AssertionError("migrated again")

    monkeypatch.setattr(mlflow.store.db.utils, "_initialize_tables", migrate)
    assert seed_store(second, cache)
    assert second.read_bytes() == first.read_bytes()
    second.write_bytes(b"a store with runs")
    assert not seed_store(second, cache)
    assert second.read_bytes() == b"a store with runs"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partials


def test_without_a_usable_cache_mlflow_creates_the_store(tmp_path: Path) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache directory would be")
    db = tmp_path / "mlflow.db"
    assert not seed_store(db, blocked)
    assert not db.exists()
    MlflowClient(f"sqlite:///{db}").search_experiments()
    assert contents(db)[1] == [(0, "Default", "active")]


def test_configure_tracking_seeds_a_new_project_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    undo_mlflow_globals(monkeypatch)  # configure_tracking sets them
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    tracking = configure_tracking(tmp_path / "project")
    assert tracking.db_path is not None and tracking.db_path.is_file()
    assert list((tmp_path / "cache" / "slipway").glob("mlflow-*-empty.db"))
