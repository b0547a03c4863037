"""Model Registry aliases: ``challenger`` on registration, ``champion`` on promotion.

Every promotion records the champion it replaced in the new champion's
``previous_champion`` tag, so rollback walks that chain back. Stages are
deprecated in MLflow and never used. Checks run before any write, so a refused
promotion or rollback leaves the registry unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from slipway.lifecycle.errors import LifecycleError
from slipway.lifecycle.lineage import approval_tags, utc_now

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_TAG = "previous_champion"
ROLLED_BACK_TAG = "rolled_back_at"


@dataclass(frozen=True)
class AliasMove:
    """Where ``champion`` pointed before and after a promotion or rollback."""

    name: str
    previous: str | None
    current: str


def model_uri(name: str, alias: str = CHAMPION) -> str:
    return f"models:/{name}@{alias}"


def version_by_alias(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def require_alias(client: MlflowClient, name: str, alias: str) -> ModelVersion:
    version = version_by_alias(client, name, alias)
    if version is None:
        raise LifecycleError(alias, f"no version of model {name!r} has this alias")
    return version


def champion_metrics(client: MlflowClient, name: str) -> dict[str, float] | None:
    """Metrics of the champion's training run, or None when there is no champion."""
    champion = version_by_alias(client, name, CHAMPION)
    if champion is None or not champion.run_id:
        return None
    return dict(client.get_run(champion.run_id).data.metrics)


def register_challenger(
    client: MlflowClient, source_uri: str, name: str, tags: Mapping[str, str]
) -> ModelVersion:
    """Register ``source_uri`` as a new version of ``name`` with lineage tags and ``challenger``."""
    version = mlflow.register_model(source_uri, name, tags=dict(tags))
    client.set_registered_model_alias(name, CHALLENGER, version.version)
    return version


def promote(
    client: MlflowClient, name: str, approved_by: str, version: str | None = None
) -> AliasMove:
    """Move ``champion`` to ``version`` (default: the ``challenger``)."""
    if not approved_by.strip():
        raise LifecycleError("approved_by", "must not be empty")
    target = (
        _require_version(client, name, version)
        if version
        else require_alias(client, name, CHALLENGER)
    )
    current = version_by_alias(client, name, CHAMPION)
    chosen = str(target.version)
    previous = str(current.version) if current else ""
    if previous == chosen:
        raise LifecycleError("version", f"{chosen} is already the champion")
    client.set_model_version_tag(name, chosen, PREVIOUS_TAG, previous)
    for key, value in approval_tags(approved_by).items():
        client.set_model_version_tag(name, chosen, key, value)
    client.set_registered_model_alias(name, CHAMPION, chosen)
    if CHALLENGER in target.aliases:
        client.delete_registered_model_alias(name, CHALLENGER)
    return AliasMove(name, previous or None, chosen)


def rollback(client: MlflowClient, name: str) -> AliasMove:
    """Point ``champion`` back at the version it replaced."""
    current = require_alias(client, name, CHAMPION)
    previous = current.tags.get(PREVIOUS_TAG, "")
    if not previous:
        raise LifecycleError(CHAMPION, f"version {current.version} has no previous champion")
    _require_version(client, name, previous)
    client.set_model_version_tag(name, current.version, ROLLED_BACK_TAG, utc_now())
    client.set_registered_model_alias(name, CHAMPION, previous)
    return AliasMove(name, str(current.version), previous)


def _require_version(client: MlflowClient, name: str, version: str) -> ModelVersion:
    try:
        return client.get_model_version(name, version)
    except MlflowException as exc:
        raise LifecycleError("version", f"model {name!r} has no version {version}") from exc
