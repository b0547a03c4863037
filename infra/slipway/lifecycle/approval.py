"""Approval on record: who let a model version become champion, when, after which evaluation.

Two kinds: ``automated`` (the quality gate, allowed on the stacks a project lists in
``approval.automated``, dev by default) and ``human`` (a person: ``promote --approved-by``,
or the GitHub environment reviewer in CI). Outside those stacks only a human approval by
someone other than the trainer counts; :func:`check_approval` says why not in one line.
The same check guards ``promote`` (registry) and ``deploy`` (model package).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from slipway.lifecycle.errors import LifecycleError
from slipway.lifecycle.lineage import utc_now

Kind = Literal["automated", "human"]
GATE = "quality-gate"
AUTOMATED: Kind = "automated"
HUMAN: Kind = "human"


@dataclass(frozen=True)
class Approval:
    """An approval event: ``by`` approved, of ``kind``, at ``at`` (UTC), having seen the
    evaluation recorded in MLflow run ``evaluation``."""

    by: str
    kind: Kind
    at: str
    evaluation: str

    @classmethod
    def human(cls, by: str, evaluation: str) -> Approval:
        if not by.strip():
            raise LifecycleError("approved_by", "must name the person who approves")
        return cls(by.strip(), HUMAN, utc_now(), evaluation)

    @classmethod
    def automated(cls, evaluation: str) -> Approval:
        return cls(GATE, AUTOMATED, utc_now(), evaluation)

    def tags(self) -> dict[str, str]:
        return {
            "approved_by": self.by,
            "approval_kind": self.kind,
            "approved_at": self.at,
            "approved_evaluation": self.evaluation,
        }

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> Approval | None:
        if "approved_by" not in tags:
            return None
        kind = tags.get("approval_kind", AUTOMATED if tags["approved_by"] == GATE else HUMAN)
        return cls(
            tags["approved_by"],
            HUMAN if kind == HUMAN else AUTOMATED,
            tags.get("approved_at", ""),
            tags.get("approved_evaluation", ""),
        )

    def describe(self) -> str:
        return f"{self.kind} approval by {self.by} at {self.at} (evaluation {self.evaluation})"


def check_approval(
    approval: Approval | None, trained_by: str, needs_human: bool, what: str = "approval"
) -> Approval:
    """The approval, if it lets the model go where a person must approve (``needs_human``);
    otherwise a one-line :class:`LifecycleError` naming what is missing."""
    if approval is None:
        raise LifecycleError(what, "no approval on record")
    if not needs_human:
        return approval
    if approval.kind != HUMAN:
        raise LifecycleError(
            what,
            f"approved only by the automated gate ({approval.by}); outside dev a person "
            "approves (promote --approved-by)",
        )
    if approval.by == trained_by:
        raise LifecycleError(
            what, f"{approval.by} trained this model and cannot approve it; another person approves"
        )
    return approval
