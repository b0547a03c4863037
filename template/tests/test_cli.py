"""The project's CLI answers."""

from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app


def test_info_reports_template_options() -> None:
    result = CliRunner().invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    assert "compute: {{ cookiecutter.compute }}" in result.output
    assert "aws_region: {{ cookiecutter.aws_region }}" in result.output


def test_help_loads_no_ml_library() -> None:
    """Every command starts with the CLI import: it must not pay for mlflow or sklearn."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    check = (
        "import sys; from typer.testing import CliRunner;"
        " from {{ cookiecutter.package_name }}.cli import app;"
        " assert CliRunner().invoke(app, ['--help']).exit_code == 0;"
        " print(sorted({'mlflow', 'sklearn', 'pandas', 'scipy'} & set(sys.modules)))"
    )
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env)
    assert (done.returncode, done.stdout) == (0, "[]\n"), done.stderr[-2000:]
