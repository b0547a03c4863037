"""Who may assume the stack's GitHub roles: tokens of GitHub Actions jobs, as AWS STS sees
them (``sts:AssumeRoleWithWebIdentity`` with the token's claims as
``token.actions.githubusercontent.com:<claim>`` condition keys), evaluated against each
role's trust policy.

Must allow the jobs that use each role (the deploy workflows in the stack's environment on
the default branch; release.yml's candidate job in ``<stack>-candidate``; the drift check; a
pull request's preview); must deny the same role from
another environment, another repository, and, on stacks whose releases are reviewed, from a
branch other than the default one or from another workflow: so an environment without
protection rules (GitHub creates a referenced environment without any) is not enough.
"""

from __future__ import annotations

from collections.abc import Iterator

from slipway.access.request import AccessRequest
from slipway.access.stack import Role, StackAccess
from slipway.aws.github import (
    CANDIDATE_ENVIRONMENT,
    CANDIDATE_WORKFLOWS,
    DEPLOY_WORKFLOWS,
    GITHUB_OIDC_HOST,
    MONITOR_ENVIRONMENT,
    MONITOR_WORKFLOWS,
    PREVIEW_ENVIRONMENT,
    provider_arn_of,
)

ASSUME = "sts:AssumeRoleWithWebIdentity"
PULL_REQUEST_REF = "refs/pull/7/merge"


def token(
    repository: str, environment: str, workflow: str, ref: str
) -> dict[str, str | tuple[str, ...]]:
    """The condition keys of a GitHub Actions job's token (GitHub, "OIDC token claims")."""
    claims = {
        "aud": "sts.amazonaws.com",
        "sub": f"repo:{repository}:environment:{environment}",
        "environment": environment,
        "ref": ref,
        "repository": repository,
        "job_workflow_ref": f"{repository}/.github/workflows/{workflow}@{ref}",
    }
    return {f"{GITHUB_OIDC_HOST}:{k}": v for k, v in claims.items()}


def repository_of(role: Role) -> str | None:
    """The repository a GitHub role trusts (from its ``sub``), if it is one."""
    for statement in role.trust.get("Statement", []):
        equals = statement.get("Condition", {}).get("StringEquals", {})
        sub = equals.get(f"{GITHUB_OIDC_HOST}:sub")
        if isinstance(sub, str) and sub.startswith("repo:"):
            return sub.split(":")[1]
    return None


def trust_requests(
    stack: StackAccess, reviewed: bool, default_branch: str = "main"
) -> Iterator[tuple[str, AccessRequest, bool]]:
    """(role kind, request, allowed?) for every GitHub role of ``stack``."""
    for kind, role in sorted(stack.roles.items()):
        repository = repository_of(role)
        if repository is None:
            continue
        for environment, workflow, ref, why, allowed in _jobs(
            kind, stack.environment, reviewed, default_branch
        ):
            repo = "someone/else" if why == "another repository" else repository
            context = token(repo, environment, workflow, ref)
            request = AccessRequest(
                provider_arn_of(stack.account), ASSUME, role.arn, context, f"trust:{why}"
            )
            yield kind, request, allowed


def _jobs(
    kind: str, stack: str, reviewed: bool, branch: str
) -> list[tuple[str, str, str, str, bool]]:
    """(environment, workflow, ref, why, allowed?) of the jobs that try the ``kind`` role."""
    main, feature = f"refs/heads/{branch}", "refs/heads/feature"
    candidate = CANDIDATE_ENVIRONMENT.format(stack=stack)
    if kind == "deploy":
        return [
            *((stack, w, main, f"{w} on {branch}", True) for w in DEPLOY_WORKFLOWS),
            # a branch or another workflow naming the environment: fine on dev, never on a
            # reviewed stack (its environment may have no protection rules)
            (stack, "ci.yml", main, "another workflow", not reviewed),
            (stack, "stack-up.yml", feature, "a branch", not reviewed),
            (PREVIEW_ENVIRONMENT, "ci.yml", PULL_REQUEST_REF, "a pull request", False),
            (candidate, "release.yml", main, "the candidate job", False),
            (stack, "x.yml", main, "another repository", False),
        ]
    if kind == "candidate":
        release = CANDIDATE_WORKFLOWS[0]
        return [
            (candidate, release, main, f"{release} on {branch}", True),
            (candidate, release, feature, "a branch", not reviewed),
            (candidate, "ci.yml", main, "another workflow", not reviewed),
            (stack, release, main, "another environment", False),
            (candidate, release, main, "another repository", False),
        ]
    if kind == "monitor":
        drift = MONITOR_WORKFLOWS[0]
        return [
            (MONITOR_ENVIRONMENT, drift, main, f"{drift} on {branch}", True),
            (MONITOR_ENVIRONMENT, drift, feature, "a branch", False),
            (stack, "stack-up.yml", main, "another environment", False),
            (MONITOR_ENVIRONMENT, drift, main, "another repository", False),
        ]
    if kind == "preview":
        return [
            (PREVIEW_ENVIRONMENT, "ci.yml", PULL_REQUEST_REF, "a pull request", True),
            (stack, "ci.yml", main, "another environment", False),
            (PREVIEW_ENVIRONMENT, "ci.yml", PULL_REQUEST_REF, "another repository", False),
        ]
    return []
