"""The project's CLI answers."""

from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app


def test_info_reports_template_options() -> None:
    result = CliRunner().invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    assert "compute: {{ cookiecutter.compute }}" in result.output
    assert "aws_region: {{ cookiecutter.aws_region }}" in result.output
