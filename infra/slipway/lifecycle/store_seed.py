"""A new embedded MLflow store starts as a copy of an empty store MLflow migrated once.

MLflow creates a SQLite store by creating its first tables and running every schema
migration of its history (alembic, about 70 scripts): about 1 s of CPU in a new project's
first ``pipeline run`` (10 s is the goal of the whole run, issue 17) and in every test that
bakes one. The migrated, still empty database is the same for every project on one MLflow
version, so MLflow's own ``_initialize_tables`` makes it once per machine and version in the
user's cache (``$XDG_CACHE_HOME/slipway``, else ``~/.cache/slipway``), and each new
project's ``mlflow.db`` is a copy. Nothing else changes: MLflow then finds its tables,
checks the schema revision (as it does on every start) and creates the default experiment
with the project's own artifact root, as it would in a store it had just migrated.

When the cache cannot be used (no writable cache directory, an MLflow without that function)
nothing is copied and MLflow creates the store itself, as before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

CACHE_ENV = "XDG_CACHE_HOME"


def cache_dir() -> Path:
    base = os.environ.get(CACHE_ENV) or str(Path.home() / ".cache")
    return Path(base) / "slipway"


def empty_store(cache: Path) -> Path:
    """The empty, migrated store of the installed MLflow (made on first use)."""
    import mlflow
    import sqlalchemy
    from mlflow.store.db.utils import _initialize_tables  # what MLflow runs on a new store

    path = cache / f"mlflow-{mlflow.__version__}-empty.db"
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        partial = cache / f".{path.name}.{os.getpid()}"
        engine = sqlalchemy.create_engine(f"sqlite:///{partial}")
        try:
            _initialize_tables(engine)
            engine.dispose()
            os.replace(partial, path)  # whole or absent, whoever else makes it at the same time
        finally:
            engine.dispose()
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
    return path


def seed_store(db_path: Path, cache: Path | None = None) -> bool:
    """Copy the empty store to ``db_path`` when no store is there; whether it did."""
    if db_path.exists():
        return False
    try:
        source = empty_store(cache_dir() if cache is None else cache)
    except (ImportError, OSError):
        return False
    partial = db_path.with_name(f".{db_path.name}.{os.getpid()}")
    try:
        shutil.copyfile(source, partial)
        os.link(partial, db_path)  # never over a store another process created meanwhile
    except OSError:  # FileExistsError: that store is used; else MLflow creates the store
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return True
