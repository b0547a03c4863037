"""The ``slipway`` command line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from slipway import __version__
from slipway.resources import template_dir

app = typer.Typer(
    help="Slipway: launch ML projects onto AWS with MLflow and Pulumi.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _parse_extra_context(pairs: list[str]) -> dict[str, str]:
    context: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r}: extra context must be key=value")
        context[key] = value
    return context


@app.command()
def version() -> None:
    """Print the installed slipway-mlops version."""
    typer.echo(__version__)


@app.command(
    context_settings={"help_option_names": ["-h", "--help"]},
)
def new(
    extra_context: Annotated[
        list[str] | None, typer.Argument(help="Template values as key=value (e.g. compute=eks).")
    ] = None,
    no_input: Annotated[bool, typer.Option("--no-input", help="Do not prompt.")] = False,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="Where to create the project.")
    ] = Path("."),
    replay: Annotated[bool, typer.Option("--replay", help="Reuse the last answers.")] = False,
    replay_file: Annotated[
        Path | None, typer.Option("--replay-file", help="Reuse answers from this file.")
    ] = None,
    config_file: Annotated[
        Path | None, typer.Option("--config-file", help="cookiecutter user config file.")
    ] = None,
    overwrite_if_exists: Annotated[
        bool, typer.Option("--overwrite-if-exists", "-f", help="Write into an existing dir.")
    ] = False,
) -> None:
    """Generate a new ML project from the template bundled in this package."""
    from cookiecutter.exceptions import CookiecutterException, FailedHookException
    from cookiecutter.main import cookiecutter

    # The hooks print their own one-line errors; keep cookiecutter's tracebacks out.
    logging.getLogger("cookiecutter").setLevel(logging.CRITICAL)

    root, bundled = template_dir()
    context = _parse_extra_context(extra_context or [])
    if bundled:
        # An installed package pins generated projects to its own version.
        context.setdefault("_slipway_bundle_version", __version__)
    try:
        project = cookiecutter(
            str(root),
            no_input=no_input,
            extra_context=context,
            output_dir=str(output_dir),
            replay=replay_file or (True if replay else None),
            config_file=str(config_file) if config_file else None,
            overwrite_if_exists=overwrite_if_exists,
        )
    except FailedHookException:
        # The hook already printed "error: <field>: <rule>"; cookiecutter removed the directory.
        raise typer.Exit(1) from None
    except (CookiecutterException, ValueError) as exc:
        typer.echo(f"error: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created {project}")


def main() -> None:  # pragma: no cover - console entry point
    app()
