"""What a generated project's GitHub Actions need before their first run, and a check of it.

Read from the project itself: the Pulumi backend and organization (``infra/pulumi-backend.env``),
the repository the stacks' roles trust (``slipway:githubRepository`` in ``Pulumi.<stack>.yaml``),
and the GitHub environments and role secrets the workflows use (``.github/workflows``).
``steps`` prints the exact setup; ``check`` verifies it with the GitHub and Pulumi CLIs
where they are logged in, and says what it could not check (docs/ci.md).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

BACKEND_FILE = Path("infra") / "pulumi-backend.env"
STACKS = ("dev", "staging", "prod")
ROLE_SECRET = re.compile(r"\bAWS_(DEPLOY|CANDIDATE|PREVIEW|MONITOR)_ROLE_ARN_(DEV|STAGING|PROD)\b")
ROLE_OUTPUT = {
    "DEPLOY": "deployRoleArn",
    "CANDIDATE": "candidateRoleArn",  # release.yml's candidate job: trains, never approves
    "PREVIEW": "previewRoleArn",
    "MONITOR": "monitorRoleArn",
}
MONITOR_OUTPUT, MONITOR_ENVIRONMENT = ROLE_OUTPUT["MONITOR"], "monitor"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
# What each GitHub environment must enforce (docs/security.md: each role trusts one).
REVIEWED = {"staging", "prod"}  # required reviewers: a person approves each job
CANDIDATES = {f"{stack}-candidate" for stack in STACKS}  # release.yml trains there, unreviewed
MAIN_ONLY = {"dev", "staging", "prod", "monitor", *CANDIDATES}  # deployment branches: main only
STACK_INPUT = "${{ inputs.stack }}"

Runner = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]


class SetupError(ValueError):
    """The project lacks what the setup is derived from."""


@dataclass(frozen=True)
class Secret:
    name: str
    stack: str
    output: str


@dataclass(frozen=True)
class CiProject:
    root: Path
    repository: str
    region: str
    backend_url: str
    organization: str
    environments: tuple[str, ...]
    secrets: tuple[Secret, ...]
    slug: str = field(default="")

    @property
    def self_managed(self) -> bool:
        return not self.backend_url.startswith("https://")

    @property
    def bucket(self) -> str:
        """The state bucket of a self-managed s3:// backend."""
        return self.backend_url.removeprefix("s3://").split("?")[0]

    def stack(self, name: str) -> str:
        return f"{self.organization}/{name}"


def _read_env_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise SetupError(f"{BACKEND_FILE}: missing (run from the project root)")
    pairs = [
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return {key.strip(): value.strip() for key, value in pairs}


def _workflow_environments(workflows: list[dict[str, Any]]) -> tuple[str, ...]:
    """GitHub environments the jobs name; ``${{ inputs.stack }}`` stands for each stack the
    callers of a reusable workflow pass (``${{ inputs.stack }}-candidate``: dev-candidate...)."""
    found: set[str] = set()
    for workflow in workflows:
        for job in workflow.get("jobs", {}).values():
            environment = str(job.get("environment", ""))
            if STACK_INPUT in environment:
                found |= {environment.replace(STACK_INPUT, stack) for stack in STACKS}
            elif environment:
                found.add(environment)
    order = ["preview", *STACKS, *(f"{stack}-candidate" for stack in STACKS), "monitor"]
    return tuple(sorted(found, key=lambda e: (order.index(e) if e in order else len(order), e)))


def _monitoring(root: Path, stack: str) -> bool:
    from slipway.platform.config import ConfigError, stack_monitoring

    try:
        return stack_monitoring(root / "infra", stack)
    except ConfigError as exc:
        raise SetupError(str(exc)) from None


def load(root: Path) -> CiProject:
    """The CI facts of the project at ``root``."""
    backend = _read_env_file(root / BACKEND_FILE)
    for key in ("PULUMI_BACKEND_URL", "PULUMI_ORGANIZATION"):
        if not backend.get(key):
            raise SetupError(f"{BACKEND_FILE}: {key} must be set")
    files = sorted((root / ".github" / "workflows").glob("*.yml"))
    if not files:
        raise SetupError(".github/workflows: no workflows (the project was made with ci=none)")
    texts = [path.read_text() for path in files]
    stack_file = yaml.safe_load((root / "infra" / "Pulumi.dev.yaml").read_text())["config"]
    project = yaml.safe_load((root / "infra" / "Pulumi.yaml").read_text())
    secrets = sorted(
        {
            Secret(m.group(0), m.group(2).lower(), ROLE_OUTPUT[m.group(1)])
            for t in texts
            for m in ROLE_SECRET.finditer(t)
        },
        key=lambda s: (list(ROLE_OUTPUT.values()).index(s.output), STACKS.index(s.stack)),
    )
    # A stack has a monitor role only with slipway:monitoring on: drift.yml skips itself
    # otherwise, and needs neither its environment nor its secret.
    secrets = [s for s in secrets if s.output != MONITOR_OUTPUT or _monitoring(root, s.stack)]
    environments = _workflow_environments([yaml.safe_load(t) for t in texts])
    if not any(s.output == MONITOR_OUTPUT for s in secrets):
        environments = tuple(e for e in environments if e != MONITOR_ENVIRONMENT)
    return CiProject(
        root=root,
        repository=str(stack_file["slipway:githubRepository"]),
        region=str(stack_file["aws:region"]),
        backend_url=backend["PULUMI_BACKEND_URL"],
        organization=backend["PULUMI_ORGANIZATION"],
        environments=environments,
        secrets=tuple(secrets),
        slug=str(project["name"]),
    )


PURPOSES = {
    "preview": "open to pull-request branches (its roles are read-only)",
    "dev": "main only",
    "monitor": "main only",
    "staging": "a required reviewer approves each job; main only",
    "prod": "a required reviewer approves each job; main only",
    **{
        name: "main only, no reviewers: its candidate role trains and registers, never approves"
        for name in CANDIDATES
    },
}


def environment_body(environment: str) -> dict[str, Any]:
    """Body of GitHub's "create or update an environment" (PUT .../environments/{name})."""
    body: dict[str, Any] = {}
    if environment in REVIEWED:
        body["reviewers"] = [{"type": "User", "id": "<USER_ID>"}]
    if environment in MAIN_ONLY:
        body["deployment_branch_policy"] = {
            "protected_branches": False,
            "custom_branch_policies": True,
        }
    return body


def steps(project: CiProject) -> str:
    """The setup, in order, with commands ready to paste (templates/ci_setup.txt)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    bodies = [
        (e, json.dumps(environment_body(e)).replace('"<USER_ID>"', "<REVIEWER_ID>"))
        for e in project.environments
    ]
    return env.get_template("ci_setup.txt").render(
        p=project,
        stacks=STACKS,
        environments=bodies,
        purposes=PURPOSES,
        main_only=MAIN_ONLY,
        github_issuer=GITHUB_ISSUER,
    )


@dataclass(frozen=True)
class Finding:
    """One checked item: ``ok``, ``missing`` (the setup lacks it) or ``unchecked`` (why)."""

    status: str
    item: str
    detail: str = ""


NOT_INSTALLED = 127  # the shell's exit code for a command that is not found


def _run(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(list(args), capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError:
        return subprocess.CompletedProcess(list(args), NOT_INSTALLED, "", f"{args[0]}: not found")


def _logged_in(run: Runner, args: Sequence[str], what: str) -> str | None:
    """Why ``what`` cannot be checked (no CLI, not logged in), or None."""
    status = run(args).returncode
    if status == NOT_INSTALLED:
        return f"no {args[0]} command"
    return None if status == 0 else f"{args[0]} is not logged in ({what})"


def _json(run: Runner, args: Sequence[str]) -> Any:
    result = run(args)
    if result.returncode != 0:
        raise SetupError(f"{' '.join(args[:3])}: {(result.stderr or result.stdout).strip()[:200]}")
    return json.loads(result.stdout or "null")


def check_github(project: CiProject, run: Runner) -> list[Finding]:
    """Environments (reviewers, deployment branches) and secrets, through the GitHub CLI."""
    why = _logged_in(run, ["gh", "auth", "status"], "gh auth login")
    if why:
        return [Finding("unchecked", "GitHub environments and secrets", why)]
    repo, found = project.repository, []
    listed = _json(run, ["gh", "api", f"repos/{repo}/environments"]) or {}
    existing = {e["name"]: e for e in listed.get("environments", [])}
    for name in project.environments:
        item = f"environment {name}"
        if name not in existing:
            found.append(Finding("missing", item, "does not exist"))
            continue
        environment, problems = existing[name], []
        rules = {r.get("type") for r in environment.get("protection_rules", [])}
        if name in REVIEWED and "required_reviewers" not in rules:
            problems.append("no required reviewer")
        if name in MAIN_ONLY:
            policy = environment.get("deployment_branch_policy") or {}
            branches = []
            if policy.get("custom_branch_policies"):
                listed_policies = _json(
                    run,
                    ["gh", "api", f"repos/{repo}/environments/{name}/deployment-branch-policies"],
                )
                branches = [b["name"] for b in listed_policies.get("branch_policies", [])]
            if branches != ["main"]:
                problems.append(f"deployment branches {branches or 'all'}, not [main]")
        found.append(Finding("missing" if problems else "ok", item, "; ".join(problems)))
    secrets = {
        s["name"] for s in _json(run, ["gh", "secret", "list", "--repo", repo, "--json", "name"])
    }
    for secret in project.secrets:
        ok = secret.name in secrets
        found.append(
            Finding("ok" if ok else "missing", f"secret {secret.name}", "" if ok else "not set")
        )
    return found


def check_pulumi(project: CiProject, run: Runner) -> list[Finding]:
    """The stacks exist in the backend of infra/pulumi-backend.env (Pulumi CLI)."""
    why = _logged_in(run, ["pulumi", "whoami", "--cwd", "infra"], project.backend_url)
    if why:
        return [Finding("unchecked", "Pulumi stacks", why)]
    names = {
        str(s.get("name", "")).split("/")[-1]
        for s in _json(run, ["pulumi", "stack", "ls", "--json", "--cwd", "infra"]) or []
    }
    return [
        Finding("ok" if stack in names else "missing", f"stack {project.stack(stack)}")
        for stack in STACKS
    ]


def check(project: CiProject, run: Runner = _run) -> list[Finding]:
    """What the current credentials can verify of steps 1-4; the rest is ``unchecked``."""
    found = check_pulumi(project, run) + check_github(project, run)
    if not project.self_managed:
        found.append(
            Finding(
                "unchecked",
                f"OIDC issuer of {project.organization}",
                "Pulumi Cloud lists issuers to organization admins only: see step 1",
            )
        )
    return found
