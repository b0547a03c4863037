"""GitHub Actions as the stack's CI: which repository, workflows and branch may assume the
stack's roles, through the account's GitHub OIDC provider.

The provider (``token.actions.githubusercontent.com``) exists once per AWS account and no
stack creates it: an administrator creates it once (docs/security.md, "The account's GitHub
OIDC provider"), so no environment's deploy role can change what the others trust. Each role
trusts one GitHub environment (``sub``); where the preset reviews releases (staging, prod)
the deploy role also requires the deploy workflows (``job_workflow_ref``) on the default
branch (``ref``), so an environment without protection rules is not enough on its own. The
claim names are GitHub's (OIDC reference, "OIDC token claims"); AWS STS evaluates them as
``token.actions.githubusercontent.com:<claim>`` (IAM User Guide, "Available keys for AWS
OIDC federation"; AWS What's New 2026-01, "AWS STS supports validation of identity provider
claims").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
PREVIEW_ENVIRONMENT = "preview"
MONITOR_ENVIRONMENT = "monitor"
# The reusable workflows whose jobs assume the deploy role (`pulumi up`, train and release)
# and the monitor role (the drift check), under .github/workflows of the repository.
DEPLOY_WORKFLOWS = ("stack-up.yml", "release.yml")
MONITOR_WORKFLOWS = ("drift.yml",)
# release.yml's job `candidate` trains and registers in MLflow (train.yml calls release.yml)
CANDIDATE_WORKFLOWS = ("release.yml",)
CANDIDATE_ENVIRONMENT = "{stack}-candidate"
REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
BRANCH = re.compile(r"^[A-Za-z0-9._/-]+$")
OIDC_PROVIDER_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/" + re.escape(GITHUB_OIDC_HOST) + "$"
)
Claims = dict[str, str | list[str]]


@dataclass(frozen=True)
class GithubDeployment:
    """The repository (owner/name) whose workflows may deploy and watch this stack.

    ``drift_monitor``: also create the monitor role of the scheduled drift check;
    ``eks_cluster``: the stack runs on EKS (the deploy role may push the model image);
    ``state_bucket``: the bucket of a self-managed Pulumi backend (``s3://<bucket>``), whose
    objects and key of this stack alone the stack's roles may use.
    """

    repository: str
    """``owner/name`` of the GitHub repository whose workflows are trusted."""
    oidc_provider_arn: str | None = None
    """Default ``None``: the account's GitHub OIDC provider,
    ``arn:<partition>:iam::<account>:oidc-provider/token.actions.githubusercontent.com``,
    which an administrator creates once per account (no stack creates or changes it).
    """
    drift_monitor: bool = False
    """Default ``False``. Also create the monitor role of the scheduled drift check."""
    eks_cluster: bool = False
    """Default ``False``. The stack runs on EKS: the deploy role may manage the
    network, database and cluster and push the model image.
    """
    default_branch: str = "main"
    """Default ``main``. The branch whose workflows alone may release to reviewed stacks."""
    state_bucket: str | None = None
    """Default ``None`` (Pulumi Cloud). The bucket of a self-managed ``s3://`` backend."""

    def __post_init__(self) -> None:
        if not REPOSITORY.match(self.repository):
            raise ValueError(
                f"githubRepository: must be owner/name (letters, digits, _ . -), "
                f"got {self.repository!r}"
            )
        if self.oidc_provider_arn is not None and not OIDC_PROVIDER_ARN.match(
            self.oidc_provider_arn
        ):
            raise ValueError(
                "githubOidcProviderArn: must be arn:<partition>:iam::<12-digit account>:"
                f"oidc-provider/{GITHUB_OIDC_HOST}, got {self.oidc_provider_arn!r}"
            )
        if not BRANCH.match(self.default_branch) or ".." in self.default_branch:
            raise ValueError(
                "githubDefaultBranch: must be a branch name (letters, digits, . _ / -), "
                f"got {self.default_branch!r}"
            )
        if self.state_bucket is not None and not re.match(
            r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", self.state_bucket
        ):
            raise ValueError(
                "pulumiStateBucket: must be an S3 bucket name (3-63 lowercase letters, digits, "
                f". -), got {self.state_bucket!r}"
            )

    def subject(self, environment: str) -> str:
        """The OIDC ``sub`` of a job of this repository running in GitHub ``environment``."""
        return f"repo:{self.repository}:environment:{environment}"

    def claims(self, environment: str, workflows: tuple[str, ...] = ()) -> Claims:
        """The claims a job must present to assume a role trusted for ``environment``;
        with ``workflows``, only those reusable workflows on the default branch."""
        claims: Claims = {"aud": "sts.amazonaws.com", "sub": self.subject(environment)}
        if workflows:
            ref = f"refs/heads/{self.default_branch}"
            claims["ref"] = ref
            claims["job_workflow_ref"] = [
                f"{self.repository}/.github/workflows/{workflow}@{ref}" for workflow in workflows
            ]
        return claims

    def provider_arn(self, partition: pulumi.Input[str], account: pulumi.Input[str]) -> Any:
        """The account's GitHub OIDC provider (created once per account by an administrator)."""
        if self.oidc_provider_arn is not None:
            return self.oidc_provider_arn
        return pulumi.Output.concat(
            "arn:", partition, ":iam::", account, ":oidc-provider/", GITHUB_OIDC_HOST
        )


def provider_arn_of(account: str, partition: str = "aws") -> str:
    """The GitHub OIDC provider ARN of ``account``."""
    return f"arn:{partition}:iam::{account}:oidc-provider/{GITHUB_OIDC_HOST}"
