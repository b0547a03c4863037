"""The project's CLI answers."""

from pathlib import Path

import yaml
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app

PROJECT = Path(__file__).resolve().parents[1]


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


def test_help_loads_no_ml_library(package_env: dict[str, str]) -> None:
    """Every command starts with the CLI import: it must not pay for mlflow or sklearn."""
    import subprocess
    import sys

    check = (
        "import sys; from typer.testing import CliRunner;"
        " from {{ cookiecutter.package_name }}.cli import app;"
        " assert CliRunner().invoke(app, ['--help']).exit_code == 0;"
        " print(sorted({'mlflow', 'sklearn', 'pandas', 'scipy'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, env=package_env
    )
    assert (done.returncode, done.stdout) == (0, "[]\n"), done.stderr[-2000:]
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
