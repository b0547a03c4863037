"""`slipway ci-setup --check` (docs/ci.md): what it concludes from the GitHub and Pulumi CLIs'
answers. The answers are canned in the shapes of GitHub's REST API ("List environments",
"List deployment branch policies") and `gh secret list --json name`; the live calls need
credentials and are not rehearsed here."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from slipway import ci_setup

REPO = "acme/churn"
PROJECT = ci_setup.CiProject(
    root=Path("."),
    repository=REPO,
    region="us-east-1",
    backend_url="https://api.pulumi.com",
    organization="acme",
    environments=("preview", "dev", "staging", "prod"),
    secrets=(
        ci_setup.Secret("AWS_DEPLOY_ROLE_ARN_DEV", "dev", "deployRoleArn"),
        ci_setup.Secret("AWS_PREVIEW_ROLE_ARN_DEV", "dev", "previewRoleArn"),
    ),
    slug="churn",
)


def environment(name: str, reviewers: bool, main_only: bool) -> dict[str, object]:
    rules = [{"id": 1, "type": "required_reviewers", "reviewers": []}] if reviewers else []
    if main_only:
        rules.append({"id": 2, "type": "branch_policy"})
    policy = {"protected_branches": False, "custom_branch_policies": True} if main_only else None
    return {"name": name, "protection_rules": rules, "deployment_branch_policy": policy}


GOOD: dict[tuple[str, ...], object] = {
    ("gh", "auth", "status"): "",
    ("gh", "api", f"repos/{REPO}/environments"): {
        "total_count": 4,
        "environments": [
            environment("preview", False, False),
            environment("dev", False, True),
            environment("staging", True, True),
            environment("prod", True, True),
        ],
    },
    **{
        ("gh", "api", f"repos/{REPO}/environments/{e}/deployment-branch-policies"): {
            "total_count": 1,
            "branch_policies": [{"id": 1, "name": "main", "type": "branch"}],
        }
        for e in ("dev", "staging", "prod")
    },
    ("gh", "secret", "list", "--repo", REPO, "--json", "name"): [
        {"name": "AWS_DEPLOY_ROLE_ARN_DEV"},
        {"name": "AWS_PREVIEW_ROLE_ARN_DEV"},
    ],
    ("pulumi", "whoami", "--cwd", "infra"): "acme",
    ("pulumi", "stack", "ls", "--json", "--cwd", "infra"): [
        {"name": f"acme/{s}"} for s in ("dev", "staging", "prod")
    ],
}


def runner(answers: dict[tuple[str, ...], object]):
    def run(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        key = tuple(args)
        if key not in answers:
            return subprocess.CompletedProcess(args, 1, "", "unexpected call")
        answer = answers[key]
        if isinstance(answer, int):
            return subprocess.CompletedProcess(args, answer, "", "failed")
        out = answer if isinstance(answer, str) else json.dumps(answer)
        return subprocess.CompletedProcess(args, 0, out, "")

    return run


def statuses(answers: dict[tuple[str, ...], object]) -> dict[str, str]:
    return {f.item: f.status for f in ci_setup.check(PROJECT, runner(answers))}


def test_a_complete_setup_checks_ok() -> None:
    found = statuses(GOOD)
    assert {k: v for k, v in found.items() if v != "ok"} == {"OIDC issuer of acme": "unchecked"}
    assert len(found) == 3 + 4 + 2 + 1


@pytest.mark.parametrize(
    ("change", "item"),
    [
        (
            lambda a: a[("gh", "api", f"repos/{REPO}/environments")]["environments"].pop(),
            "environment prod",
        ),
        (
            lambda a: a[("gh", "api", f"repos/{REPO}/environments")]["environments"][2].update(
                protection_rules=[]
            ),
            "environment staging",
        ),
        (
            lambda a: a[("gh", "api", f"repos/{REPO}/environments")]["environments"][1].update(
                deployment_branch_policy=None
            ),
            "environment dev",
        ),
        (
            lambda a: a[("gh", "secret", "list", "--repo", REPO, "--json", "name")].pop(),
            "secret AWS_PREVIEW_ROLE_ARN_DEV",
        ),
        (
            lambda a: a[("pulumi", "stack", "ls", "--json", "--cwd", "infra")].pop(),
            "stack acme/prod",
        ),
    ],
)
def test_each_gap_is_missing(change, item: str) -> None:
    answers = json.loads(json.dumps({"|".join(k): v for k, v in GOOD.items()}))
    answers = {tuple(k.split("|")): v for k, v in answers.items()}
    change(answers)
    found = statuses(answers)
    assert found[item] == "missing"
    assert [k for k, v in found.items() if v == "missing"] == [item]


def test_without_logins_nothing_is_claimed() -> None:
    answers = {**GOOD, ("gh", "auth", "status"): 1, ("pulumi", "whoami", "--cwd", "infra"): 127}
    found = ci_setup.check(PROJECT, runner(answers))
    assert {f.status for f in found} == {"unchecked"}
    why = {f.item: f.detail for f in found}
    assert why["Pulumi stacks"] == "no pulumi command"
    assert why["GitHub environments and secrets"] == "gh is not logged in (gh auth login)"
