"""The ``slipway`` command line."""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

from slipway import __version__
from slipway.origin import installed_source
from slipway.resources import template_dir

R = TypeVar("R")

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
            raise typer.BadParameter(f"{pair!r}: template values are key=value")
        context[key] = value
    return context


@app.command()
def version() -> None:
    """Print the installed slipway-mlops version."""
    typer.echo(__version__)


def _template_inputs(root: Path) -> ModuleType:
    """The template's input rules, imported once under the name cookiecutter imports them by."""
    loaded = sys.modules.get("slipway_inputs")
    if loaded is not None and Path(str(loaded.__file__)).parent == root:
        return loaded
    spec = importlib.util.spec_from_file_location("slipway_inputs", root / "slipway_inputs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["slipway_inputs"] = module
    spec.loader.exec_module(module)
    return module


def _template_keys_help() -> str:
    """Every key ``slipway new`` takes, with its choices or default, for ``--help``."""
    try:
        from slipway.options_doc import answers

        rows = answers(template_dir()[0] / "cookiecutter.json")
    except FileNotFoundError:  # pragma: no cover - a broken install; `new` says so itself
        return ""
    width = max(len(key) for key, _ in rows)
    lines = [f"{key.ljust(width)}  {shown}" for key, shown in rows]
    return "Template values, as key=value (the first choice is the default):\n\n" + "\n".join(lines)


@app.command(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=_template_keys_help(),
)
def new(
    extra_context: Annotated[
        list[str] | None,
        typer.Argument(help="Template values as key=value (e.g. compute=eks); listed below."),
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
    """Generate a new ML project from the template bundled in this package.

    Every answer is checked before anything is written: a bad one stops with one line
    naming the field and the rule, and exit code 1.
    """
    from cookiecutter.exceptions import CookiecutterException, FailedHookException
    from cookiecutter.main import cookiecutter

    # Refusals are one line (ours or a hook's); keep cookiecutter's tracebacks out.
    logging.getLogger("cookiecutter").setLevel(logging.CRITICAL)

    root, bundled = template_dir()
    inputs = _template_inputs(root)
    try:
        context = _parse_extra_context(extra_context or [])
        inputs.check_given(context, inputs.template_json())
        if any(mark in str(output_dir) for mark in ("{{", "{%", "{#")):
            raise inputs.InvalidInput(
                "--output-dir", "must not contain {{, {% or {#", str(output_dir)
            )
    except inputs.InvalidInput as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    replaying = replay or replay_file is not None
    if bundled and not replaying:
        # An installed package pins generated projects to its own version, from where it
        # was installed (a git URL, a wheel or a source tree; else the index it came from).
        context["_slipway_bundle_version"] = __version__
        source = installed_source()
        if source:
            context.setdefault("slipway_source", source)
    try:
        project = cookiecutter(
            str(root),
            no_input=no_input,
            extra_context=None if replaying else context,
            output_dir=str(output_dir),
            replay=replay_file or (True if replay else None),
            config_file=str(config_file) if config_file else None,
            overwrite_if_exists=overwrite_if_exists,
        )
    except inputs.InvalidInput as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except FailedHookException:
        # The hook already printed "error: <field>: <rule>"; cookiecutter removed the directory.
        raise typer.Exit(1) from None
    except (CookiecutterException, ValueError) as exc:
        typer.echo(f"error: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created {project}")
    pin = _slipway_pin(Path(project))
    if pin and " @ " not in pin:
        typer.echo(
            f"note: {pin} installs from a package index: CI runners and the image build must "
            "reach that index (PIP_INDEX_URL), or generate again with "
            "slipway_source=<git URL or wheel path>",
            err=True,
        )


def _slipway_pin(project: Path) -> str | None:
    """The slipway-mlops requirement the post-gen hook wrote into the project."""
    for line in (project / "pyproject.toml").read_text().splitlines():
        if line.strip().startswith('"slipway-mlops'):
            return line.strip().strip('",')
    return None


@app.command("ci-setup")
def ci_setup(
    project_dir: Annotated[Path, typer.Argument(help="The generated project's root.")] = Path("."),
    check: Annotated[
        bool, typer.Option("--check", help="Also check it with your gh and pulumi logins.")
    ] = False,
) -> None:
    """Print the GitHub and Pulumi setup the project's workflows need; --check verifies it."""
    from slipway import ci_setup as setup

    try:
        project = setup.load(project_dir)
    except (setup.SetupError, OSError, KeyError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(setup.steps(project))
    if not check:
        return
    # The Pulumi CLI reads the backend from the environment, as under `make`.
    os.environ["PULUMI_BACKEND_URL"] = project.backend_url
    findings = setup.check(project)
    for finding in findings:
        detail = f": {finding.detail}" if finding.detail else ""
        typer.echo(f"{finding.status:<9} {finding.item}{detail}")
    if any(f.status == "missing" for f in findings):
        raise typer.Exit(1)


@app.command()
def serve(
    model_uri: Annotated[
        str | None,
        typer.Argument(help="MLflow model URI (default: $SLIPWAY_MODEL_URI or /opt/ml/model)."),
    ] = None,
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8080).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: CPUs).")] = None,
) -> None:
    """Serve a model: GET /ping, POST /invocations, GET /metrics (SageMaker contract)."""
    from slipway.serving import entry

    try:
        code = entry.run(
            model_uri or entry.default_model_uri(),
            host or entry.default_host(),
            port if port is not None else entry.default_port(),
            workers if workers is not None else entry.default_workers(),
        )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


class _ApplyByDefault(TyperGroup):
    """``slipway sandbox DIR`` means ``slipway sandbox apply DIR``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["apply", *args]
        return super().parse_args(ctx, args)


sandbox_app = typer.Typer(
    cls=_ApplyByDefault,
    help="Apply a Pulumi program to emulated AWS (moto on 127.0.0.1); no account needed.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")
PROGRAM_DIR = typer.Argument(..., help="Directory of the Pulumi program (e.g. infra).")
STACK = typer.Option("dev", "--stack", help="Stack whose Pulumi.<stack>.yaml is used.")


def _sandbox_step(step: Callable[[], R]) -> R:
    """Run a sandbox step; its refusal is one ``error:`` line and exit 1."""
    from slipway.sandbox import SandboxError

    try:
        return step()
    except SandboxError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@sandbox_app.command("apply")
def sandbox_apply(
    program_dir: Path = PROGRAM_DIR,
    stack: str = STACK,
    rehearse: bool = typer.Option(
        True,
        "--rehearse/--no-rehearse",
        help="Then start every workload the stack declares as its engine would (default).",
    ),
) -> None:
    """Create/update the sandbox, print its inventory and read-back checks, then rehearse
    every declared workload (started as SageMaker or Kubernetes starts it)."""
    from rich.console import Console

    from slipway.sandbox import apply
    from slipway.sandbox.engine import rehearse as rehearse_workloads
    from slipway.sandbox.inventory import print_apply

    console = Console()
    if rehearse:  # the rehearsal loads the champion after the program ran here
        from slipway.lifecycle.formats import load_model_formats_first

        load_model_formats_first()
    report = _sandbox_step(lambda: apply(program_dir, stack))
    print_apply(report, console)
    for check in report.failed_checks:
        message = f"{check.resource}: {check.prop}: moto holds {check.actual!r}"
        typer.echo(f"error: {message}", err=True)
    if report.failed_checks:
        raise typer.Exit(1)
    if not rehearse:
        console.print("workloads: not rehearsed (--no-rehearse)")
        return
    from slipway.rehearsal.report import print_outcomes, summary

    outcomes = _sandbox_step(lambda: rehearse_workloads(program_dir, stack, report.run))
    print_outcomes(outcomes, console)
    console.print(summary(outcomes))
    failed = [o for o in outcomes if o.rehearsed and not o.ok]
    for outcome in failed:
        typer.echo(f"error: {outcome.name}: {outcome.reason}", err=True)
    if failed:
        raise typer.Exit(1)


@sandbox_app.command("destroy")
def sandbox_destroy(program_dir: Path = PROGRAM_DIR, stack: str = STACK) -> None:
    """Delete everything the sandbox applied; moto ends empty."""
    from rich.console import Console

    from slipway.sandbox import destroy
    from slipway.sandbox.inventory import print_destroy

    print_destroy(_sandbox_step(lambda: destroy(program_dir, stack)), Console())


@app.command()
def access(
    online: Annotated[
        bool,
        typer.Option("--online", help="Ask IAM (SimulatePrincipalPolicy); needs credentials."),
    ] = False,
    stack: Annotated[str, typer.Option("--stack", help="The deployed stack to check.")] = "dev",
    cwd: Annotated[Path, typer.Option("--cwd", help="The Pulumi program's directory.")] = Path(
        "infra"
    ),
    export: Annotated[
        Path | None,
        typer.Option("--export", help="A `pulumi stack export` file (default: run it)."),
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="AWS region of IAM.")] = None,
) -> None:
    """Check a deployed stack's roles against its access matrix with IAM's policy simulator:
    every request each role must be allowed, and what it must never do (docs: security)."""
    from slipway.access import online as online_check

    if not online:
        typer.echo(
            "error: --online: required; the offline matrix is a test of the slipway "
            "repository (its IAM engine is not shipped)",
            err=True,
        )
        raise typer.Exit(2)
    try:
        matrix = online_check.check(stack, cwd, export, region)
    except (ValueError, OSError) as exc:
        typer.echo(f"error: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(2) from None
    from slipway.access.report import render

    typer.echo(render(matrix, only_mismatches=True))
    skipped = matrix.not_evaluated()
    if skipped:
        typer.echo(f"not evaluated by IAM: {len(skipped)} requests ({skipped[0].decision.error})")
    mismatches = matrix.mismatches()
    typer.echo(f"{len(matrix.rows)} requests, {len(mismatches)} mismatches")
    raise typer.Exit(1 if mismatches else 0)


INFRA = typer.Option(
    None,
    "--infra",
    help="The Pulumi program's directory (default: ./infra, or . if it holds Pulumi.yaml).",
)


def _infra_dir(infra: Path | None) -> Path:
    if infra is not None:
        return infra
    return Path("infra") if (Path("infra") / "Pulumi.yaml").is_file() else Path(".")


def _program(infra: Path | None, stack: str) -> tuple[Path, str, Any]:
    """(program dir, project name, the program run under mocks) or a one-line error."""
    import yaml

    from slipway.testing import run_program

    infra = _infra_dir(infra)
    try:
        project = yaml.safe_load((infra / "Pulumi.yaml").read_text())["name"]
        if not (infra / f"Pulumi.{stack}.yaml").is_file():
            raise FileNotFoundError(f"{infra / f'Pulumi.{stack}.yaml'}: no such stack file")
        return infra, str(project), run_program(infra, stack)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        typer.echo(f"error: --infra {infra}: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(1) from None


@app.command()
def cost(
    stack: str = STACK,
    infra: Path | None = INFRA,
    output: Annotated[
        str, typer.Option("--format", help="markdown (default) or json.")
    ] = "markdown",
) -> None:
    """Estimate a stack's monthly cost from what its program declares (run under mocks)."""
    import json
    from dataclasses import asdict

    from slipway.cost import estimate
    from slipway.cost.doc import region_of
    from slipway.cost.report import render

    if output not in ("markdown", "json"):
        typer.echo(f"error: --format: must be markdown or json (got {output!r})", err=True)
        raise typer.Exit(1)
    directory, _, run = _program(infra, stack)
    result = estimate(run, stack, region_of(directory, stack))
    if output == "json":
        lines = [{**asdict(line), "monthly": line.monthly} for line in result.lines]
        summary = {"stack": stack, "region": result.region, "idle_total": result.idle_total}
        typer.echo(json.dumps({**summary, "lines": lines}, indent=2))
    else:
        typer.echo(render(result), nl=False)


policy_pack_app = typer.Typer(
    help="Slipway's Pulumi policy pack (pulumi preview --policy-pack <path>).",
    no_args_is_help=True,
)
app.add_typer(policy_pack_app, name="policy-pack")


@policy_pack_app.command("path")
def policy_pack_path() -> None:
    """Print the installed policy pack directory (for --policy-pack)."""
    from slipway.policies import PACK_DIR

    typer.echo(str(PACK_DIR))


@policy_pack_app.command("check")
def policy_pack_check(stack: str = STACK, infra: Path | None = INFRA) -> None:
    """Run the pack offline on the stack's program under mocks; exit 1 on a mandatory finding."""
    from slipway.policies.offline import analyze
    from slipway.testing import config_from_stack_file

    directory, project, run = _program(infra, stack)
    config = config_from_stack_file(directory / f"Pulumi.{stack}.yaml", project)
    report = analyze(run, project=project, stack=stack, config=config)
    for finding in report.findings:
        typer.echo(str(finding))
    mandatory = len(report.mandatory)
    typer.echo(
        f"{len(report.findings)} finding(s), {mandatory} mandatory, on {len(run.resources)} "
        f"resources of stack {stack}"
    )
    if mandatory:
        raise typer.Exit(1)


@app.command()
def monitoring(stack: str = STACK, infra: Path | None = INFRA) -> None:
    """Print true or false: slipway:monitoring of the stack's Pulumi.<stack>.yaml, as the
    program reads it (the drift workflow and `deploy` follow it)."""
    from slipway.platform.config import ConfigError, stack_monitoring

    try:
        enabled = stack_monitoring(_infra_dir(infra), stack)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo("true" if enabled else "false")


def main() -> None:  # pragma: no cover - console entry point
    app()
