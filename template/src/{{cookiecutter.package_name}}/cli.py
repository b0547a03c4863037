"""Command line of {{ cookiecutter.project_name }}: ``{{ cookiecutter.package_name }} --help``."""

from __future__ import annotations

import typer

import slipway

from {{ cookiecutter.package_name }} import __version__

app = typer.Typer(help="{{ cookiecutter.description }}", no_args_is_help=True)
pipeline = typer.Typer(help="The local ML lifecycle.", no_args_is_help=True)
app.add_typer(pipeline, name="pipeline")

OPTIONS = {
    "compute": "{{ cookiecutter.compute }}",
    "endpoint": "{{ cookiecutter.endpoint }}",
    "monitoring": "{{ cookiecutter.monitoring }}",
    "ci": "{{ cookiecutter.ci }}",
    "aws_region": "{{ cookiecutter.aws_region }}",
}


@app.command()
def info() -> None:
    """Show the project's template options and the platform version."""
    typer.echo(f"{{ cookiecutter.project_slug }} {__version__} (slipway-mlops {slipway.__version__})")
    for key, value in OPTIONS.items():
        typer.echo(f"{key}: {value}")


@pipeline.command("run")
def run_pipeline() -> None:
    """Run the lifecycle steps in order."""
    typer.echo("pipeline: no steps yet")
