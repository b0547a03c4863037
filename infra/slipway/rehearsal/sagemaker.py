"""SageMaker real-time endpoints: each variant's inference container, started as SageMaker does.

For every endpoint the stack declares (output ``endpointName``), the variant's model is
read from emulated AWS as SageMaker reads it when it starts instances: the model's
container (or its model package's), image, ``ModelDataUrl`` and ``Environment``. Then, as
"Use Your Own Inference Code with Hosting Services" (SageMaker Developer Guide) describes:

* the model data (a ``.tar.gz``) is fetched with the model's execution role and unpacked
  into ``/opt/ml/model`` before the container starts (the fetch is recorded as that role's
  requests);
* the container runs as ``docker run IMAGE serve``: the image ENTRYPOINT (from the
  project's Dockerfile) with the argument ``serve`` replacing CMD; the environment is the
  image's ENV plus ``ContainerDefinition.Environment``;
* it must answer ``GET /ping`` with 200 on port 8080 (2 s timeout per ping) and
  ``POST /invocations``; the rehearsal compares the answer with the MLflow model's own
  prediction of its input example.

Only an image built from this project's Dockerfile (the stack's ECR repository, output
``modelRepositoryUrl``) can be run here; any other image is listed as not rehearsed.
"""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from slipway.rehearsal.context import Found, RehearsalContext
from slipway.rehearsal.image import ImageError, read_dockerfile, resolve_path
from slipway.rehearsal.paths import access_log, slug
from slipway.rehearsal.predictions import invocation_checks
from slipway.rehearsal.workload import HttpCheck, NotRehearsed, Workload

ENGINE = "sagemaker-endpoint"
MODEL_DIR = "/opt/ml/model"
PORT = 8080
SERVE = ("serve",)
# "If the container does not begin to pass health checks ... during the 4 minutes after
# startup, CreateEndpoint will fail" (Use Your Own Inference Code with Hosting Services).
STARTUP_SECONDS = 240.0
# One worker: the rehearsal proves the entry point serves, not its throughput.
REHEARSAL_ENV = {"SAGEMAKER_MODEL_SERVER_WORKERS": "1"}


def endpoint_workloads(ctx: RehearsalContext) -> Found:
    """The inference containers of the stack's endpoint, one per production variant."""
    endpoint = ctx.outputs.get("endpointName")
    if not endpoint:
        return []
    sagemaker = ctx.aws("sagemaker")
    source = f"endpoint {endpoint}"
    try:
        described = sagemaker.describe_endpoint(EndpointName=endpoint)
    except sagemaker.exceptions.ClientError:
        reason = "the endpoint does not exist yet: the first release creates it"
        return [NotRehearsed(f"{endpoint}", ENGINE, source, reason)]
    config = sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    found: list[Workload | NotRehearsed] = []
    for variant in config["ProductionVariants"]:
        name = f"{endpoint}/{variant['VariantName']}"
        where = f"{source}, config {config['EndpointConfigName']}, model {variant['ModelName']}"
        try:
            found.append(_variant(ctx, name, where, variant["ModelName"]))
        except _Skip as skip:
            found.append(NotRehearsed(name, ENGINE, where, str(skip)))
    return found


class _Skip(Exception):
    """Why a variant cannot be started here."""


def _variant(ctx: RehearsalContext, name: str, source: str, model_name: str) -> Workload:
    sagemaker = ctx.aws("sagemaker")
    model = sagemaker.describe_model(ModelName=model_name)
    container = _container(sagemaker, model)
    image = str(container.get("Image", ""))
    repository = str(ctx.outputs.get("modelRepositoryUrl") or "")
    if not repository or image.rsplit(":", 1)[0] != repository:
        raise _Skip(
            f"image {image} is not built from this project's Dockerfile (stack repository "
            f"{repository or 'none'}); only the project's own image can be run here"
        )
    _require_pushed(ctx, repository, image)
    try:
        spec = read_dockerfile(ctx.project_dir / "Dockerfile")
    except ImageError as exc:
        raise _Skip(str(exc)) from None
    work = ctx.work_dir / slug(name)
    model_dir = fetch_model(ctx, container["ModelDataUrl"], model["ExecutionRoleArn"], work)
    venv_bin = Path(_python()).parent
    path, replaced = resolve_path(spec.env.get("PATH", ""), venv_bin)
    src = ctx.project_dir / "src"
    env = {
        **spec.env,
        "PATH": path,
        **container.get("Environment", {}),
        **REHEARSAL_ENV,
        "PYTHONPATH": str(src),
    }
    deviations = [
        f"the project's package from {src} (PYTHONPATH) instead of the image's virtualenv",
        f"image {image} not pulled: its Dockerfile's entry point runs from this checkout "
        "(image build and push are not rehearsed: no container engine)",
        *(f"PATH entry {p} (the image's) is {venv_bin} here" for p in replaced),
        *(f"{k}={v} added (one worker, not one per CPU)" for k, v in REHEARSAL_ENV.items()),
    ]
    if spec.user:
        deviations.append(f"USER {spec.user} not applied: runs as the rehearsal's user")
    checks = invocation_checks(model_dir)
    if not checks:
        deviations.append("/invocations not checked: the MLflow model has no input example")
    return Workload(
        name=name,
        engine=ENGINE,
        source=source,
        command=spec.argv(SERVE),
        env=env,
        port=PORT,
        readiness=HttpCheck("GET /ping", "GET", "/ping"),
        checks=checks,
        mounts={MODEL_DIR: model_dir},
        workdir=spec.workdir,
        principal=str(model["ExecutionRoleArn"]),
        deviations=tuple(deviations),
        startup_seconds=STARTUP_SECONDS,
    )


def _container(sagemaker: Any, model: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = model.get("PrimaryContainer") or model["Containers"][0]
    if container.get("ModelPackageName"):
        package = sagemaker.describe_model_package(ModelPackageName=container["ModelPackageName"])
        inner: dict[str, Any] = package["InferenceSpecification"]["Containers"][0]
        env = {**inner.get("Environment", {}), **container.get("Environment", {})}
        return {**inner, "Environment": env}
    return container


def _require_pushed(ctx: RehearsalContext, repository: str, image: str) -> None:
    """SageMaker pulls the image when it starts instances: the tag must be in ECR."""
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest"
    ecr = ctx.aws("ecr")
    try:
        ecr.describe_images(
            repositoryName=repository.split("/", 1)[1], imageIds=[{"imageTag": tag}]
        )
    except ecr.exceptions.ClientError as exc:
        raise _Skip(
            f"image {image} is not in ECR ({exc.response['Error']['Code']}): SageMaker could "
            "not pull it; push the image before the release"
        ) from None


def fetch_model(ctx: RehearsalContext, url: str, role_arn: str, work: Path) -> Path:
    """Download ``url`` as SageMaker does for the model's execution role, unpack it."""
    from slipway.access import recorder

    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.path.endswith(".tar.gz"):
        raise _Skip(f"ModelDataUrl {url}: SageMaker downloads only an s3:// .tar.gz")
    work.mkdir(parents=True, exist_ok=True)
    s3 = ctx.aws.fresh("s3")
    recorder.install(s3, log=access_log(ctx.work_dir, work.name, "platform"), principal=role_arn)
    archive = work / "model.tar.gz"
    try:
        s3.download_file(parsed.netloc, parsed.path.lstrip("/"), str(archive))
    except s3.exceptions.ClientError as exc:
        raise _Skip(f"model data {url} cannot be downloaded: {exc}") from None
    model_dir = work / "model"
    model_dir.mkdir(exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(model_dir, filter="data")
    return model_dir


def _python() -> str:
    import sys

    return sys.executable
