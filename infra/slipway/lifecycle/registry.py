"""Model Registry aliases: ``challenger`` on registration, ``champion`` on promotion.

``challenger`` marks a candidate the gate found eligible; ``champion`` moves only with an
approval on record (:mod:`slipway.lifecycle.approval`). Every promotion records the
champion it replaced in the new champion's ``previous_champion`` tag, so rollback walks
that chain back. Stages are deprecated in MLflow and never used. Checks run before any
write, so a refused promotion or rollback leaves the registry unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from slipway.lifecycle.approval import Approval, check_approval
from slipway.lifecycle.errors import LifecycleError
from slipway.lifecycle.lineage import TRAINED_BY_TAG, Inputs, utc_now

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_TAG = "previous_champion"
ROLLED_BACK_TAG = "rolled_back_at"
# Run tag of a candidate's evaluation: the champion version it was compared with ("none").
COMPARED_TAG = "compared_with_champion"


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


def unchanged_version(client: MlflowClient, name: str, inputs: Inputs) -> ModelVersion | None:
    """The champion, or else the challenger, if it was trained from exactly ``inputs``."""
    for alias in (CHAMPION, CHALLENGER):
        version = version_by_alias(client, name, alias)
        if version is not None and Inputs.from_tags(version.tags) == inputs:
            return version
    return None


def register_challenger(
    client: MlflowClient, source_uri: str, name: str, tags: Mapping[str, str]
) -> ModelVersion:
    """Register ``source_uri`` as a new version of ``name`` with lineage tags and ``challenger``."""
    version = mlflow.register_model(source_uri, name, tags=dict(tags))
    client.set_registered_model_alias(name, CHALLENGER, version.version)
    return version


def candidate(client: MlflowClient, name: str, version: str | None = None) -> ModelVersion:
    """``version`` of ``name``, or its ``challenger``; a one-line error if there is none
    (naming the champion when there is one: the pipeline promotes what passes its gate)."""
    if version:
        return _require_version(client, name, version)
    challenger = version_by_alias(client, name, CHALLENGER)
    if challenger is not None:
        return challenger
    champion = version_by_alias(client, name, CHAMPION)
    if champion is None:
        return require_alias(client, name, CHALLENGER)
    raise LifecycleError(
        CHALLENGER,
        f"no version of model {name!r} has this alias; version {champion.version} is the "
        "champion (a pipeline run promotes the candidate that passes its gate)",
    )


def promote(
    client: MlflowClient,
    name: str,
    approval: Approval,
    version: str | None = None,
    *,
    needs_human: bool = False,
) -> AliasMove:
    """Move ``champion`` to ``version`` (default: the ``challenger``), recording ``approval``.

    With ``needs_human`` (staging, prod) the approval must be a person's, not the trainer's,
    and name the evaluation of this version that still compares it with today's champion.
    """
    target = candidate(client, name, version)
    current = version_by_alias(client, name, CHAMPION)
    chosen = str(target.version)
    previous = str(current.version) if current else ""
    if previous == chosen:
        raise LifecycleError("version", f"{chosen} is already the champion")
    check_approval(approval, target.tags.get(TRAINED_BY_TAG, ""), needs_human)
    if needs_human:
        _check_evaluation(client, target, approval.evaluation, previous)
    client.set_model_version_tag(name, chosen, PREVIOUS_TAG, previous)
    for key, value in approval.tags().items():
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


def _check_evaluation(
    client: MlflowClient, target: ModelVersion, evaluation: str, champion: str
) -> None:
    """The approver saw ``evaluation``: it must be this version's, against today's champion."""
    if evaluation != target.run_id:
        raise LifecycleError(
            "--evaluation",
            f"run {evaluation or '(none)'} is not the evaluation of version {target.version} "
            f"(run {target.run_id})",
        )
    compared = client.get_run(evaluation).data.tags.get(COMPARED_TAG, "none")
    if compared != (champion or "none"):
        raise LifecycleError(
            "--evaluation",
            f"run {evaluation} compared version {target.version} with champion "
            f"{_label(compared)}, but the champion is now {_label(champion)}; "
            "run the pipeline again",
        )


def _label(version: str) -> str:
    return f"v{version}" if version and version != "none" else "none"


def _require_version(client: MlflowClient, name: str, version: str) -> ModelVersion:
    try:
        return client.get_model_version(name, version)
    except MlflowException as exc:
        raise LifecycleError("version", f"model {name!r} has no version {version}") from exc
