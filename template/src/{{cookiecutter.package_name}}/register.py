"""Step 4, register + promote: a new model version with its lineage and the ``challenger``
alias (eligible), then ``champion`` with an approval on record; the model card follows.

On a stack listed in ``approval.automated`` (local, dev) the gate's verdict is the
approval; elsewhere the version waits for a person (``promote --approved-by``).
"""

from __future__ import annotations

from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient
from slipway.lifecycle import (
    CARD_ARTIFACT,
    AliasMove,
    Approval,
    EvaluationReport,
    Inputs,
    LifecycleError,
    candidate,
    load_report,
    markdown_card,
    promote,
    register_challenger,
    training_tags,
)

from {{ cookiecutter.package_name }}.config import PipelineConfig
from {{ cookiecutter.package_name }}.data import SYNTHETIC_COLUMN


def card_notes(config: PipelineConfig) -> list[str]:
    """Caveats every card of this project carries."""
    if SYNTHETIC_COLUMN in config.fairness.sensitive_columns and config.data.sample:
        return [
            f"`{SYNTHETIC_COLUMN}` is a synthetic, random column of the bundled sample data: "
            "its per-group figures show the method, not a property of the model."
        ]
    return []


def register(
    client: MlflowClient,
    model_uri: str,
    report: EvaluationReport,
    inputs: Inputs,
    lineage: dict[str, str],
) -> ModelVersion:
    """Register the evaluated candidate (the logged model at ``model_uri``) as a new version
    tagged with its inputs (challenger)."""
    commit = lineage.get("git_commit", "")
    tags = {
        **training_tags(report.training_data, inputs, commit, report.challenger),
        **report.evaluation_data.tags("evaluation_data"),
        **lineage,
    }
    return register_challenger(client, model_uri, report.model_name, tags)


def approve(
    client: MlflowClient,
    config: PipelineConfig,
    approval: Approval,
    version: str | None,
    needs_human: bool,
) -> AliasMove:
    """Move ``champion`` (to the challenger, or ``version``) with ``approval``; refresh its card."""
    move = promote(client, config.model.name, approval, version, needs_human=needs_human)
    write_card(client, config, move.current)
    return move


def approve_by(
    client: MlflowClient,
    config: PipelineConfig,
    stack: str,
    person: str,
    evaluation: str | None,
    version: str | None,
) -> AliasMove:
    """A person's approval (``promote --approved-by``). Where the gate may not promote, the
    approver names the evaluation they saw; elsewhere it defaults to the version's own."""
    needs_human = config.approval.needs_human(stack)
    if not evaluation:
        if needs_human:
            raise LifecycleError("--evaluation", f"required on stack {stack}: the run you reviewed")
        evaluation = str(candidate(client, config.model.name, version).run_id)
    return approve(client, config, Approval.human(person, evaluation), version, needs_human)


def write_card(client: MlflowClient, config: PipelineConfig, version: str) -> str:
    """(Re)write ``model_card.md`` of ``version``'s run from its evaluation and approval
    (a version registered by other means, with no evaluation record, gets no card)."""
    found = client.get_model_version(config.model.name, version)
    run_id = str(found.run_id or "")
    report = load_report(client, run_id) if run_id else None
    if report is None:
        return ""
    card = markdown_card(report, version, Approval.from_tags(found.tags), card_notes(config))
    client.log_text(run_id, card, CARD_ARTIFACT)
    return card
