"""The access matrix: role x request -> decision, compared with what is expected.

An ``Expectation`` says whether a role must be allowed or denied a request and why. The
matrix turns each into a ``Case`` (the role's identity policies and permissions boundary,
the resource's policy, the request's condition keys with the role's and the resource's
tags) for an ``Evaluator``: iam-simulate in this repository's tests, IAM's
``SimulatePrincipalPolicy`` online (``slipway.access.online``). ``mismatches`` are the
expectations the decision contradicts; ``unused_grants`` the identity statements no
must-allow request was granted by (what each role could still drop).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Protocol

from slipway.access.request import AccessRequest, ContextValue
from slipway.access.stack import Document, Role, StackAccess

ALLOWED = "Allowed"
NOT_EVALUATED = "NotEvaluated"  # an evaluator that cannot judge the request says so


@dataclass(frozen=True)
class Expectation:
    """``role`` (a kind: deploy, infer, serving ...) must be allowed (or denied) ``request``."""

    role: str
    request: AccessRequest
    allow: bool
    why: str


@dataclass(frozen=True)
class Case:
    """Everything an evaluator needs for one request (policies as documents).

    ``documented_keys``: the request's condition keys are ones AWS documents outside the
    service authorization reference (an OIDC token's ``<issuer>:sub``/``:aud``, IAM User
    Guide "Available keys for AWS OIDC federation"), so the evaluator must not drop them."""

    request: AccessRequest
    identity: tuple[tuple[str, Document], ...]
    boundary: tuple[tuple[str, Document], ...] = ()
    resource_policy: tuple[str, Document] | None = None
    documented_keys: bool = False


@dataclass(frozen=True)
class Decision:
    """``decision``: Allowed, ExplicitlyDenied, ImplicitlyDenied or Error; ``statements``:
    the decisive ones as ``<policy>#<Sid or index>`` (granting or explicitly denying)."""

    decision: str
    statements: tuple[str, ...] = ()
    error: str = ""

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOWED


class Evaluator(Protocol):
    def evaluate(self, cases: Sequence[Case]) -> list[Decision]: ...


@dataclass(frozen=True)
class Row:
    expectation: Expectation
    decision: Decision

    @property
    def evaluated(self) -> bool:
        return self.decision.decision != NOT_EVALUATED

    @property
    def ok(self) -> bool:
        return self.decision.decision != "Error" and (
            self.decision.allowed == self.expectation.allow
        )


@dataclass
class Matrix:
    """The evaluated expectations of one stack (``world``: every stack whose resources the
    requests may name, this one first)."""

    stack: StackAccess
    rows: list[Row] = field(default_factory=list)

    def mismatches(self) -> list[Row]:
        return [r for r in self.rows if r.evaluated and not r.ok]

    def not_evaluated(self) -> list[Row]:
        return [r for r in self.rows if not r.evaluated]

    def roles(self) -> list[str]:
        return sorted({r.expectation.role for r in self.rows})

    def size(self) -> tuple[int, int]:
        """(roles, requests)."""
        return len(self.roles()), len(self.rows)

    def unused_grants(self) -> dict[str, list[str]]:
        """Per role: its Allow statements (``<policy>#<Sid>``) no must-allow request was
        granted by, and of its own statements some request used, the actions none used
        (``<policy>#<Sid>: <action>, ...``); an AWS managed policy is kept or dropped whole."""
        used: dict[tuple[str, str], set[str]] = {}
        for r in self.rows:
            if r.expectation.allow and r.decision.allowed:
                for s in r.decision.statements:
                    used.setdefault((r.expectation.role, s), set()).add(
                        r.expectation.request.action
                    )
        unused: dict[str, list[str]] = {}
        for kind, role in sorted(self.stack.roles.items()):
            for name, document in self.stack.identity_policies(role):
                for index, statement in enumerate(_statements(document), 1):
                    if statement.get("Effect") != "Allow":
                        continue
                    label = f"{name}#{statement.get('Sid') or index}"
                    actions = used.get((kind, label))
                    aws_managed = ":iam::aws:policy/" in name  # kept or dropped whole
                    if actions is None or aws_managed:
                        if actions is None:
                            note = " (AWS managed)" if aws_managed else ""
                            unused.setdefault(kind, []).append(label + note)
                        continue
                    idle = [
                        a
                        for a in _listed(statement.get("Action", []))
                        if not any(fnmatchcase(u.lower(), a.lower()) for u in actions)
                    ]
                    if idle:
                        unused.setdefault(kind, []).append(f"{label}: {', '.join(idle)}")
        return unused


def _listed(value: object) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]  # type: ignore[attr-defined]


def _statements(document: Document) -> list[Document]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def case_for(expectation: Expectation, stack: StackAccess, world: Sequence[StackAccess]) -> Case:
    """The role's policies and the request's full context (role and resource tags); for a
    web-identity request, the role's trust policy and the token's claims."""
    role = stack.role(expectation.role)
    if expectation.request.action == "sts:AssumeRoleWithWebIdentity":
        return Case(
            expectation.request, (), resource_policy=("trust", role.trust), documented_keys=True
        )
    asked = expectation.request
    tags = {} if asked.creates else _resource_tags(asked.resource, world)
    context: dict[str, ContextValue] = {**role.principal_context, **tags, **asked.context}
    request = replace(asked, principal=role.arn, context=context)
    policy = None
    for owner in world:
        policy = owner.resource_policy(request.resource)
        if policy is not None:
            break
    return Case(
        request=request,
        identity=tuple(stack.identity_policies(role)),
        boundary=_boundary(role, stack),
        resource_policy=policy,
    )


def _boundary(role: Role, stack: StackAccess) -> tuple[tuple[str, Document], ...]:
    return ((role.boundary, stack.policies[role.boundary]),) if role.boundary else ()


def _resource_tags(resource: str, world: Sequence[StackAccess]) -> dict[str, str]:
    """``aws:ResourceTag/<key>`` of a declared resource (S3 objects have none)."""
    if resource.startswith("arn:aws:s3:::") and "/" in resource:
        return {}
    for owner in world:
        tags = owner.tags_by_arn.get(resource)
        if tags is not None:
            return {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
    return {}


def evaluate(
    stack: StackAccess,
    expectations: Iterable[Expectation],
    evaluator: Evaluator,
    world: Sequence[StackAccess] = (),
) -> Matrix:
    world = [stack, *(w for w in world if w is not stack)]
    expected = list(expectations)
    decisions = evaluator.evaluate([case_for(e, stack, world) for e in expected])
    return Matrix(stack, [Row(e, d) for e, d in zip(expected, decisions, strict=True)])


def describe(row: Row) -> str:
    """One line: role, action, resource, expected, decision, decisive statements, why."""
    e, d = row.expectation, row.decision
    want = "allow" if e.allow else "deny"
    by = ", ".join(d.statements) or ("no statement allows" if not d.allowed else "")
    context = json.dumps(dict(e.request.context), sort_keys=True) if e.request.context else ""
    return (
        f"{e.role}: {e.request.action} {e.request.resource} {context} -> {d.decision}"
        f" (want {want}; {by or d.error}) [{e.why}]"
    )
