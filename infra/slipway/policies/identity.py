"""IAM: no administrator statements, the stack's permissions boundary on every role, and
trust policies that name exactly who may assume a role (resource policies)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs

from slipway.policies.base import ADVISORY, as_list, resource_policy, statements

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
GITHUB_OIDC = "token.actions.githubusercontent.com"
# Service principals that act for any account unless the trust names the caller's account
# (the confused-deputy rule of the IAM User Guide).
CONFUSED_DEPUTY_SERVICES = ("sagemaker.amazonaws.com",)
SOURCE_KEYS = ("aws:SourceAccount", "aws:SourceArn")


def _documents(args: ResourceValidationArgs) -> Iterator[Any]:
    if args.resource_type == ROLE:
        for inline in as_list(args.props.get("inlinePolicies")):
            yield inline.get("policy")
    else:
        yield args.props.get("policy")


def _broad(statement: Mapping[str, Any]) -> str | None:
    if statement.get("Effect") != "Allow":
        return None
    actions = [str(a) for a in as_list(statement.get("Action"))]
    on_everything = "*" in as_list(statement.get("Resource"))
    if "*" in actions:
        return "allows every action (Action *)"
    if statement.get("NotAction") is not None and on_everything:
        return "allows every action but a few on every resource (NotAction on *)"
    whole = [a for a in actions if a.endswith(":*")]
    if whole and on_everything:
        return f"allows {', '.join(whole)} on every resource"
    return None


def _no_admin(args: ResourceValidationArgs) -> Iterator[str]:
    for document in _documents(args):
        for statement in statements(document):
            problem = _broad(statement)
            if problem:
                yield f"statement {statement.get('Sid', '(no Sid)')} {problem}"


def _boundary(args: ResourceValidationArgs) -> Iterator[str]:
    if not args.props.get("permissionsBoundary"):
        yield "no permissions boundary (permissions_boundary)"


def _conditions(statement: Mapping[str, Any]) -> Mapping[str, Mapping[str, Any]]:
    condition = statement.get("Condition")
    return condition if isinstance(condition, Mapping) else {}


def _github_trust(statement: Mapping[str, Any]) -> Iterator[str]:
    conditions = _conditions(statement)
    equals = conditions.get("StringEquals") or {}
    subject = equals.get(f"{GITHUB_OIDC}:sub")
    if equals.get(f"{GITHUB_OIDC}:aud") not in ("sts.amazonaws.com", ["sts.amazonaws.com"]):
        yield "GitHub OIDC trust does not require audience sts.amazonaws.com (StringEquals)"
    if not subject or any(c in json.dumps(subject) for c in "*?"):
        yield "GitHub OIDC trust does not pin one exact subject (StringEquals ...:sub)"
    if any(op != "StringEquals" and GITHUB_OIDC in json.dumps(v) for op, v in conditions.items()):
        yield "GitHub OIDC trust widens the subject with another operator (only StringEquals)"


def _trust(args: ResourceValidationArgs) -> Iterator[str]:
    for statement in statements(args.props.get("assumeRolePolicy") or "{}"):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        principal = principal if isinstance(principal, Mapping) else {"AWS": principal}
        federated = [str(p) for p in as_list(principal.get("Federated"))]
        if any(p.endswith(f"oidc-provider/{GITHUB_OIDC}") for p in federated):
            yield from _github_trust(statement)
        services = set(map(str, as_list(principal.get("Service"))))
        if services & set(CONFUSED_DEPUTY_SERVICES):
            keys = {k for values in _conditions(statement).values() for k in values}
            if not keys & set(SOURCE_KEYS):
                yield (
                    f"trusts {', '.join(sorted(services))} for any account "
                    "(add an aws:SourceAccount condition)"
                )


POLICIES = [
    resource_policy(
        "iam-no-admin-statements",
        "IAM policies never allow every action, nor a whole service on every resource.",
        (ROLE, ROLE_POLICY, MANAGED_POLICY, USER_POLICY, GROUP_POLICY),
        _no_admin,
        remediation="List the actions and scope the resources (slipway.aws.policy helpers).",
    ),
    resource_policy(
        "iam-roles-have-permissions-boundary",
        "Every IAM role carries the stack's permissions boundary. Advisory: a stack without "
        "CI has none, and the EKS node role (AWS managed policies only, changed by an "
        "administrator) carries none by design (docs/security.md, Permissions boundary).",
        (ROLE,),
        _boundary,
        enforcement=ADVISORY,
        remediation="Create the role with permissions_boundary set to the stack's boundary.",
    ),
    resource_policy(
        "iam-trust-names-who",
        "Role trust policies name exactly who may assume them: one GitHub environment "
        "subject (StringEquals) for OIDC roles, the own account for SageMaker.",
        (ROLE,),
        _trust,
        remediation="Use slipway.aws.GithubDeployment / Roles, which write these conditions.",
    ),
]
