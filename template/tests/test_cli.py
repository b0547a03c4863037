"""The project's CLI answers."""

import ast
from pathlib import Path

import yaml
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = PROJECT / "src" / "{{ cookiecutter.package_name }}"


def test_info_reports_the_options_the_project_deploys() -> None:
    """What ``info`` says matches the project's own files: the dev stack's config and its CI."""
    result = CliRunner().invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    said = dict(line.split(": ", 1) for line in result.output.splitlines() if ": " in line)
    stack = yaml.safe_load((PROJECT / "infra" / "Pulumi.dev.yaml").read_text())["config"]
    assert said["compute"] == stack["slipway:compute"]
    assert said["endpoint"] == stack.get("slipway:endpoint", "realtime")  # EKS serves realtime
    assert said["monitoring"] == ("yes" if stack["slipway:monitoring"] is True else "no")
    assert said["aws_region"] == stack["aws:region"]
    assert said["ci"] == ("github" if (PROJECT / ".github" / "workflows").is_dir() else "none")


def test_a_command_runs_as_a_job_and_serve_keeps_cpythons_collections(
    cpython_collections: tuple[int, int, int],
) -> None:
    """slipway.gc_policy: every command but ``serve`` turns automatic full collections off."""
    import gc

    from slipway import gc_policy

    assert CliRunner().invoke(app, ["serve", "--help"]).exit_code == 0
    assert gc.get_threshold() == cpython_collections
    assert CliRunner().invoke(app, ["info"]).exit_code == 0
    assert gc.get_threshold()[2] == gc_policy.NEVER


def test_help_and_a_run_on_aws_load_no_ml_library(package_env: dict[str, str]) -> None:
    """Every command starts with the CLI import: it must not pay for mlflow or sklearn; nor
    must ``pipeline run --on aws``, which follows the stack's engine (here it stops at its
    missing ``--outputs``, as it would after the lifecycle's imports)."""
    import subprocess
    import sys

    check = (
        "import sys; from typer.testing import CliRunner;"
        " from {{ cookiecutter.package_name }}.cli import app;"
        " assert CliRunner().invoke(app, ['--help']).exit_code == 0;"
        " run = ['pipeline', 'run', '--on', 'aws', '--outputs', 'missing-outputs.json'];"
        " assert CliRunner().invoke(app, run).exit_code == 2;"
        " print(sorted({'mlflow', 'sklearn', 'pandas', 'scipy'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, env=package_env
    )
    assert (done.returncode, done.stdout) == (0, "[]\n"), done.stderr[-2000:]


def _loads(module: str) -> set[str]:
    """The modules a module of this package imports as it loads (``TYPE_CHECKING`` and
    in-function imports aside), with theirs."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = PACKAGE / f"{name.rpartition('.')[2]}.py"
        if not name.startswith("{{ cookiecutter.package_name }}.") or not path.is_file():
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                todo.append(node.module)
    return seen


def test_registry_and_drift_commands_load_no_training_code() -> None:
    """``monitor``, ``rollback``, ``promote``, ``data`` and ``serve`` open the registry
    (``registry.py``) and ``monitor`` checks drift (``monitor.py``): neither loads the
    training code (scikit-learn: ~1 s of CPU at every start)."""
    for module in ("registry", "monitor"):
        loaded = _loads(f"{{ cookiecutter.package_name }}.{module}")
        assert not {m.partition(".")[0] for m in loaded} & {"sklearn", "matplotlib"}, module
        assert "{{ cookiecutter.package_name }}.train" not in loaded, module
{%- if cookiecutter.compute == "sagemaker" %}


def test_deploy_finds_the_region_in_every_stack_file() -> None:
    """``deploy --stack <stack>`` reads the stack's region from the project's own stack file
    (tests/test_deploy.py deploys with stack files holding that region alone)."""
    from {{ cookiecutter.package_name }}.deploy import stack_region

    stacks = sorted(p.name.split(".")[1] for p in (PROJECT / "infra").glob("Pulumi.*.yaml"))
    assert stacks == ["dev", "prod", "staging"]
    for stack in stacks:
        assert stack_region(stack, PROJECT / "infra") == "{{ cookiecutter.aws_region }}", stack
{%- endif %}
