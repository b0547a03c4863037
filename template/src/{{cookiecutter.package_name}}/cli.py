"""Command line of {{ cookiecutter.project_slug }}: ``{{ cookiecutter.package_name }} --help``.

Exit codes (``--on aws`` the same, from the stack's engine): 0 ok (also: nothing changed,
nothing trained), 1 quality gate refused the candidate (both models' scores shown), 2 bad
input or a refused promotion/deploy (one line ``error: <field>: <rule>``; nothing written),
3 drift says retraining is needed,
4 a call to AWS or the Pushgateway failed (``monitor`` reading captures or publishing{% if cookiecutter.compute == "sagemaker" %},
``deploy``/``deploy-rollback``{% endif %}).
"""

from __future__ import annotations

import contextlib
import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import slipway
import typer
from slipway import gc_policy
from slipway.envvars import PUSHGATEWAY_URL_ENV
from slipway.lifecycle import GateRejected, LifecycleError
from slipway.lifecycle.formats import load_model_formats_first

from {{ cookiecutter.package_name }} import __version__, remote

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from {{ cookiecutter.package_name }}.config import PipelineConfig

# Commands import their steps (mlflow, scikit-learn, pandas) when they run: `--help` stays fast.

# MLflow draws a progress bar (tqdm, when installed) for every artifact download, even of one
# small file: noise before a one-line error or a step's summary. Set it to true to see them.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

app = typer.Typer(
    help={{ cookiecutter.description | py }},  # noqa: E501
    no_args_is_help=True,
)
pipeline = typer.Typer(
    help="The ML lifecycle: here (--on local) or on the stack's engine (--on aws).",
    no_args_is_help=True,
)
app.add_typer(pipeline, name="pipeline")
data = typer.Typer(help="Data versions a model was trained and evaluated on.", no_args_is_help=True)
app.add_typer(data, name="data")


@app.callback()
def _process(ctx: typer.Context) -> None:
    # A command runs once and exits (slipway.gc_policy); `serve` keeps CPython's thresholds.
    if ctx.invoked_subcommand != "serve":
        gc_policy.for_a_job()


OPTIONS = {
    "compute": "{{ cookiecutter.compute }}",
    "endpoint": "{{ cookiecutter.endpoint }}",
    "monitoring": "{{ cookiecutter.monitoring }}",
    "ci": "{{ cookiecutter.ci }}",
    "aws_region": "{{ cookiecutter.aws_region }}",
}
CONFIG = typer.Option(  # config.DEFAULT_CONFIG (importing config loads pydantic, numpy)
    Path("config/pipeline.yaml"), "--config", "-c", envvar="SLIPWAY_CONFIG", help="Pipeline config."
)
ON = typer.Option(
    "local", "--on", help="local: this machine, embedded MLflow; aws: the stack's engine."
)
ENGINE_STACK = typer.Option("dev", "--stack", help="Stack (infra/Pulumi.<stack>.yaml), --on aws.")
ENGINE_OUTPUTS = typer.Option(
    Path("build/outputs.json"), "--outputs", help="`pulumi stack output --json` of the stack."
)
IMAGE_TAG = typer.Option(
    None, "--image-tag", help="--on aws: run this tag of the stack's image (default: the stack's)."
)
INPUT = typer.Option(None, "--input", help="CSV of inputs (default: batch.input).")
OUTPUT = typer.Option(None, "--output", help="Predictions CSV (default: batch.output).")
STAGE = typer.Option(
    None,
    "--stack",
    help="Stack whose MLflow this is (approval.automated lists where the gate may promote; "
    "default: local, the embedded MLflow; required with MLFLOW_TRACKING_URI).",
)
VERSION = typer.Option(None, "--version", help="Model version (default: the champion).")
LOCAL_STORES = ("sqlite:", "file:")  # a tracking server (http, arn) belongs to a stack
EXIT_GATE, EXIT_BAD_INPUT, EXIT_RETRAIN, EXIT_REMOTE = 1, 2, 3, 4  # 4: AWS (or Pushgateway) failed
T = TypeVar("T")


def guarded(action: Callable[[], T]) -> T:
    """Run ``action``; turn a lifecycle error into its one-line message and exit code."""
    try:
        return action()
    except GateRejected as exc:
        if exc.details:
            typer.echo(exc.details, err=True)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_GATE) from exc
    except LifecycleError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from exc


def _settings(config: Path) -> PipelineConfig:
    """The validated config."""
    from {{ cookiecutter.package_name }} import config as project_config

    return guarded(lambda: project_config.load(config))


def _registry(config: Path) -> tuple[PipelineConfig, MlflowClient]:
    """The validated config and a client of the project's tracking store."""
    from {{ cookiecutter.package_name }}.registry import open_registry

    settings = _settings(config)
    return settings, open_registry(Path.cwd(), settings)[1]


def _stack(stack: str | None) -> str:
    """The stack named, or ``local`` when MLflow keeps its state in local files."""
    if stack:
        return stack
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if uri and not uri.startswith(LOCAL_STORES):
        typer.echo(
            "error: --stack: required with MLFLOW_TRACKING_URI (name the stack whose MLflow "
            "this is: it decides who may approve)",
            err=True,
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    return "local"


def _exit_if_drifted(retrain_needed: bool) -> None:
    if retrain_needed:
        typer.echo("drift: retrain needed", err=True)
        raise typer.Exit(EXIT_RETRAIN)


@app.command()
def info() -> None:
    """Show the project's template options and the platform version."""
    typer.echo(f"{{ cookiecutter.project_slug }} {__version__}")
    typer.echo(f"slipway-mlops {slipway.__version__}")
    for key, value in OPTIONS.items():
        typer.echo(f"{key}: {value}")


@pipeline.command("run")
def run_pipeline(
    config: Path = CONFIG,
    stack: str = STAGE,
    force: bool = typer.Option(False, "--force", help="Train even if nothing changed."),
    on: str = ON,
    outputs: Path = ENGINE_OUTPUTS,
    image_tag: str = IMAGE_TAG,
) -> None:
    """Run the lifecycle steps in order and say where everything went (--on aws: on the
    stack's engine, followed until it ends, with the same exit codes)."""
    if guarded(lambda: remote.where(on)) == "aws":
        remote.run_on_aws(stack or "dev", outputs, "training", image_tag)
        return
    from {{ cookiecutter.package_name }}.pipeline import Status, run

    where = _stack(stack)
    settings = _settings(config)
    outcome = guarded(lambda: run(settings, Path.cwd(), where, force))
    typer.echo(f"MLflow tracking: {outcome.tracking.uri}")
    if outcome.tracking.artifact_root:
        typer.echo(f"MLflow artifacts: {outcome.tracking.artifact_root}")
    if outcome.report:
        typer.echo(f"gate: {outcome.report.gate}")
    typer.echo(outcome.message)
    if outcome.status is Status.promoted:
        typer.echo(f"model: models:/{outcome.model_name}@champion (version {outcome.version})")
    if outcome.predictions and outcome.drift:
        typer.echo(f"predictions: {outcome.predictions.path}")
        typer.echo(f"drift report: {outcome.drift.html} (summary {outcome.drift.json})")
        _exit_if_drifted(outcome.drift.result.retrain_needed)


@app.command()
def promote(
    version: str = typer.Option(None, help="Model version (default: the challenger)."),
    approved_by: str = typer.Option(getpass.getuser(), help="Who approves the promotion."),
    evaluation: str = typer.Option(
        None,
        "--evaluation",
        help="MLflow run of the evaluation the approver saw (default: the version's own; "
        "required where a person must approve).",
    ),
    stack: str = STAGE,
    config: Path = CONFIG,
) -> None:
    """Move ``champion`` to the challenger (or a given version), recording who approved it,
    when, and after which evaluation."""
    from {{ cookiecutter.package_name }}.register import approve_by

    where = _stack(stack)
    settings, client = _registry(config)
    moved = guarded(lambda: approve_by(client, settings, where, approved_by, evaluation, version))
    typer.echo(f"champion: version {moved.previous or '-'} -> {moved.current}")
    record = client.get_model_version(settings.model.name, moved.current).tags
    typer.echo(
        f"approved by {approved_by} at {record['approved_at']} after evaluation "
        f"{record['approved_evaluation']}"
    )


@app.command()
def rollback(config: Path = CONFIG) -> None:
    """Point ``champion`` back at the version it replaced."""
    from slipway.lifecycle import rollback as rollback_alias

    settings, client = _registry(config)
    move = guarded(lambda: rollback_alias(client, settings.model.name))
    typer.echo(f"champion: version {move.previous} -> {move.current}")


def _lineage(client: MlflowClient, name: str, version: str | None) -> dict[str, str]:
    """Tags of ``version`` of ``name`` (default: the champion)."""
    from slipway.lifecycle import CHAMPION, candidate, require_alias

    found = candidate(client, name, version) if version else require_alias(client, name, CHAMPION)
    return {"version": str(found.version), **found.tags}


@data.command("show")
def data_show(version: str = VERSION, config: Path = CONFIG) -> None:
    """The exact data, code and config versions a model version was trained and evaluated on."""
    from slipway.lifecycle import DataVersion

    settings, client = _registry(config)
    tags = guarded(lambda: _lineage(client, settings.model.name, version))
    typer.echo(f"model: {settings.model.name} version {tags['version']}")
    for role in ("training_data", "evaluation_data"):
        found = DataVersion.from_tags(tags, role)
        typer.echo(f"{role.replace('_', ' ')}: {found.describe() if found else 'not recorded'}")
    for key in ("code_sha256", "config_sha256", "git_commit", "trained_by"):
        typer.echo(f"{key.replace('_', ' ')}: {tags.get(key, 'not recorded')}")


@data.command("checkout")
def data_checkout(version: str = VERSION, config: Path = CONFIG) -> None:
    """Put back the exact training and evaluation files a model version used (data.path and
    data.evaluation), from data/.versions; check out its git commit for the code."""
    from slipway.lifecycle import DataVersion, LifecycleError

    from {{ cookiecutter.package_name }}.data import checkout

    settings, client = _registry(config)
    tags = guarded(lambda: _lineage(client, settings.model.name, version))
    root = Path.cwd()

    def restore() -> list[Path]:
        written = []
        for role, path in (
            ("training_data", settings.data.path),
            ("evaluation_data", settings.data.evaluation),
        ):
            found = DataVersion.from_tags(tags, role)
            if found is None:
                raise LifecycleError(role, f"version {tags['version']} records no {role} version")
            written.append(checkout(found, root / path, root))
        return written

    for path in remote_guarded(restore):  # an S3 version is fetched by its version id
        typer.echo(f"restored: {path}")
    typer.echo(
        f"code: git checkout {tags.get('git_commit', 'unknown')} (config sha256 "
        f"{tags.get('config_sha256', '?')[:12]})"
    )


@app.command()
def predict(
    input_path: Path | None = INPUT,
    output_path: Path | None = OUTPUT,
    config: Path = CONFIG,
) -> None:
    """Score a file with the champion."""
    from {{ cookiecutter.package_name }}.predict import batch_predict

    settings, client = _registry(config)
    result = guarded(
        lambda: batch_predict(
            client,
            settings.model.name,
            input_path or settings.batch.input,
            output_path or settings.batch.output,
        )
    )
    typer.echo(f"predictions: {result.path} ({result.rows} rows, version {result.model_version})")


def remote_guarded(action: Callable[[], T], network: bool = False) -> T:
    """Run ``action`` that calls AWS (``network``: or any HTTP endpoint, such as the
    Pushgateway); a failure of that call exits 4 with one line."""
    from botocore.exceptions import BotoCoreError, ClientError

    errors = (BotoCoreError, ClientError, *((OSError,) if network else ()))
    try:
        return guarded(action)
    except errors as exc:
        typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(EXIT_REMOTE) from exc


@app.command()
def monitor(
    location: str = typer.Option(
        None,
        "--input",
        help="CSV / Parquet / JSONL file, or s3://bucket/prefix of captured requests "
        "(default: batch.input).",
    ),
    publish: str = typer.Option(
        "none",
        "--publish",
        envvar="SLIPWAY_DRIFT_PUBLISH",
        help="Where drift metrics go: none, cloudwatch or prometheus (default none; "
        "SLIPWAY_DRIFT_PUBLISH sets it for a scheduled job).",
    ),
    pushgateway: str = typer.Option(
        None,
        "--pushgateway",
        envvar=PUSHGATEWAY_URL_ENV,
        help="Pushgateway URL for --publish prometheus.",
    ),
    upload_report: bool = typer.Option(
        False,
        "--upload-report/--no-upload-report",
        help="Also copy the report to s3://<input bucket>/monitoring/drift/<timestamp>/.",
    ),
    retrain_job: str = typer.Option(
        None,
        "--retrain-job",
        help="<namespace>/<cronjob>: on drift, start that CronJob's Job from inside the "
        "cluster (the EKS drift check's retrain).",
    ),
    config: Path = CONFIG,
) -> None:
    """Compare recent inputs with the champion's training profile; exit 3 if retraining is due."""
    from {{ cookiecutter.package_name }} import monitor as drift

    retrain = remote.retrain_target(retrain_job) if retrain_job else None
    settings, client = _registry(config)
    where = location or str(settings.batch.input)
    target = guarded(lambda: drift.parse_publish(publish))
    guarded(lambda: drift.check_publish(target, pushgateway, upload_report, where))
    report = remote_guarded(
        lambda: drift.monitor(client, settings.model.name, where, settings.monitor, Path.cwd())
    )
    drifted = ", ".join(f.feature for f in report.result.drifted) or "none"
    typer.echo(f"drifted features: {drifted}")
    typer.echo(f"drift report: {report.html} (summary {report.json})")
    sent = remote_guarded(
        lambda: drift.publish(report.result, settings.model.name, target, pushgateway),
        network=True,
    )
    typer.echo(f"drift metrics: {sent}")
    if upload_report:
        typer.echo(f"drift report uploaded: {remote_guarded(lambda: drift.upload(report, where))}")
    if retrain is not None and report.result.retrain_needed:
        typer.echo(f"retrain: started Job {remote.start_retrain(*retrain)}")
    _exit_if_drifted(report.result.retrain_needed)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (localhost by default)."),
    port: int = typer.Option(8080, help="Port (0: a free one)."),
    config: Path = CONFIG,
) -> None:
    """Serve ``models:/<name>@champion`` over HTTP (POST /invocations, GET /ping); prints its
    URL once the server answers /ping."""
    load_model_formats_first()  # before MLflow: ~1 s less CPU (slipway.lifecycle.formats)
    from slipway.lifecycle import CHAMPION, model_uri

    from {{ cookiecutter.package_name }}.serve import serve as serve_champion

    settings, client = _registry(config)
    uri = model_uri(settings.model.name, CHAMPION)

    def ready(url: str) -> None:
        typer.echo(f"serving {uri} at {url} (POST /invocations, GET /ping; Ctrl-C stops)")

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a local server ends: exit 0
        guarded(lambda: serve_champion(client, settings.model.name, host, port, on_ready=ready))


@pipeline.command("status")
def pipeline_status(
    on: str = ON, stack: str = ENGINE_STACK, outputs: Path = ENGINE_OUTPUTS
) -> None:
    """The newest run of the stack's training pipeline (or Job) and its steps (--on aws)."""
    if guarded(lambda: remote.where(on)) != "aws":
        typer.echo("error: --on: status follows runs on the stack's engine: use --on aws", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    remote.status_on_aws(stack, outputs, "training")


@app.command()
def batch(
    on: str = ON,
    stack: str = ENGINE_STACK,
    outputs: Path = ENGINE_OUTPUTS,
    image_tag: str = IMAGE_TAG,
    config: Path = CONFIG,
) -> None:
    """Score batch.input with the champion (--on aws: every CSV under the stack's batch/input/,
    predictions to batch/predictions/<run>/)."""
    if guarded(lambda: remote.where(on)) == "aws":
        remote.run_on_aws(stack, outputs, "batch", image_tag)
        return
    predict(None, None, config)
{%- if cookiecutter.compute == "sagemaker" %}


STACK = ENGINE_STACK
STACK_OUTPUTS = ENGINE_OUTPUTS


def deploy_guarded(action: Callable[[], T]) -> T:
    """Run a deploy step: a refusal exits 2, an AWS failure 4, each with one line."""
    from botocore.exceptions import BotoCoreError, ClientError
    from slipway.deploy import DeployError

    try:
        return action()
    except DeployError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    except (BotoCoreError, ClientError) as exc:
        typer.echo(f"error: aws: {exc}", err=True)
        raise typer.Exit(EXIT_REMOTE) from exc


@app.command()
def deploy(
    stack: str = STACK,
    outputs: Path = STACK_OUTPUTS,
    image_tag: str = typer.Option(
        None, help="Tag of the serving image in the stack's repository (modelRepositoryUrl)."
    ),
    image_uri: str = typer.Option(None, help="Full serving image URI (instead of --image-tag)."),
    canary_percent: int = typer.Option(
        None, help="Canary share, 1-50 (default: the stack preset's traffic shifting)."
    ),
    wait_seconds: int = typer.Option(None, help="Baking period (default: the preset's)."),
    auto_rollback: bool = typer.Option(
        True,
        "--auto-rollback/--no-auto-rollback",
        help="Refuse an endpoint without CloudWatch alarms; --no-auto-rollback deploys "
        "without alarm rollback (monitoring=no stacks). Alarms present are always used.",
    ),
    config: Path = CONFIG,
) -> None:
    """Ship the champion to the stack's endpoint (the first release creates it).

    The package is approved with the champion's approval on record; outside dev that must
    be a person's (promote --approved-by), else the deploy is refused before any write."""
    from {{ cookiecutter.package_name }} import deploy as shipping
    from {{ cookiecutter.package_name }}.register import card_notes

    def ship() -> shipping.Deployed:
        if canary_percent is not None:
            shipping.check_canary(canary_percent)
        where = shipping.target(stack, outputs)
        settings, client = _registry(config)
        return shipping.deploy(
            client,
            settings.model.name,
            where,
            canary_percent=canary_percent,
            wait_seconds=wait_seconds,
            image=shipping.image(where, image_uri, image_tag),
            auto_rollback=auto_rollback,
            notes=card_notes(settings),
        )

    deployed = deploy_guarded(ship)
    rollout = deployed.rollout
    model = deployed.model
    typer.echo(f"model: {model.name} v{model.version} -> {model.uri} (sha256 {model.sha256})")
    typer.echo(f"package: {deployed.package_arn} (Approved: {deployed.approval.describe()})")
    typer.echo(f"model card: {deployed.model_card_arn}")
    before = rollout.previous_config or "(created)"
    typer.echo(f"endpoint: {rollout.endpoint}: {before} -> {rollout.new_config}")
    deployment = rollout.deployment_config
    if rollout.created:
        typer.echo("traffic: first release, the endpoint was created")
    elif deployment is None:
        typer.echo("traffic: all at once (serverless endpoints take no canary)")
    else:
        policy = deployment["BlueGreenUpdatePolicy"]
        routing = policy["TrafficRoutingConfiguration"]
        shift = (
            f"canary {routing['CanarySize']['Value']}%"
            if routing["Type"] == "CANARY"
            else "all at once"
        )
        alarms = ", ".join(rollout.alarms)
        guard = f"rollback on {alarms}" if alarms else "no alarm rollback (--no-auto-rollback)"
        typer.echo(f"traffic: {shift}, baking {policy['TerminationWaitInSeconds']} s, {guard}")


@app.command("deploy-rollback")
def deploy_rollback(stack: str = STACK, outputs: Path = STACK_OUTPUTS) -> None:
    """Switch the stack's endpoint back to the configuration the last deploy replaced."""
    from {{ cookiecutter.package_name }} import deploy as shipping

    back = deploy_guarded(lambda: shipping.roll_back(shipping.target(stack, outputs)))
    typer.echo(f"endpoint: {back.endpoint}: {back.previous_config} -> {back.new_config}")
{%- endif %}
