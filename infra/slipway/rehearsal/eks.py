"""EKS: the in-cluster MLflow, the model server and the drift CronJob, started as Kubernetes
starts them, from the stack's own declarations.

* **MLflow** (community-charts/mlflow through ``helm.v3.Release``): the container the
  chart renders from the declared values (``slipway.eks.mlflow_chart``: ``mlflow server``
  with the chart's arguments and environment, artifacts proxied to ``s3://<bucket>/mlflow``
  in emulated S3), started once and shared by the workloads below. Readiness: the chart's
  ``/health`` probe; checks: a request with the in-cluster ``Host`` header is served, one
  with a foreign ``Host`` is refused (MLflow's host check is on).
* **model server** (the ``model-server`` Deployment): the container's command and
  environment, its ``readinessProbe``, calling MLflow by its Service name (cluster DNS
  emulated: ``slipway.rehearsal.cluster_dns``). Twice, as on a real stack: the first start,
  before any champion exists (ready, ``/invocations`` answers 503), and, after the release
  registered a champion, a start that serves it (the answer equals the model's own).
* **release**: what release.yml does against the stack's MLflow through
  ``kubectl port-forward`` (the project's ``pipeline run`` to 127.0.0.1), which registers
  the champion; tests may pass a faster stand-in.
* **drift check** (the ``drift-check`` CronJob's container): its command in an empty working
  directory (its ``emptyDir``), reading the requests the model server captured, the
  champion's profile through MLflow, pushing to the Pushgateway's Service name and uploading
  its report. Exit 0 (no drift) or 3 (retraining due) is a pass.

Each process runs with emulated AWS's endpoint and static credentials instead of the IRSA web
identity; its AWS requests are recorded with the principal of the role its ServiceAccount
names (``access/<workload>.jsonl``). What cannot run here is listed as not rehearsed, with
the reason (``NOT_REHEARSED``).
"""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from slipway.eks import lb_controller, mlflow_chart, observability, serving, tracking
from slipway.eks.irsa import ROLE_ANNOTATION
from slipway.eks.manifests import manifests, reveal
from slipway.envvars import CAPTURE_SAMPLING_ENV, MODEL_URI_ENV, WORKERS_ENV
from slipway.rehearsal import cluster_dns
from slipway.rehearsal.context import RehearsalContext
from slipway.rehearsal.image import ImageError, read_dockerfile, resolve_path
from slipway.rehearsal.predictions import invocation_checks
from slipway.rehearsal.process import free_port
from slipway.rehearsal.runner import Running, launch
from slipway.rehearsal.workload import CheckResult, HttpCheck, Outcome, Workload

ENGINE = "kubernetes"
JOB_SECONDS = 300.0
# Declared workloads this machine cannot start (no container engine, no EKS control plane).
NOT_REHEARSED = {
    "kube-prometheus-stack (Prometheus, Alertmanager, Grafana, operator, kube-state-metrics, "
    "node-exporter)": "Go and Grafana binaries of the chart's images, no container engine "
    "here; checked offline instead: values against the chart's keys, rules parsed with "
    "promql-parser, custom resources against their CRD schemas (docs/eks.md)",
    "prometheus-pushgateway": "a Go binary of the chart's image; the drift check pushes to a "
    "recorder in its place that parses the exposition with prometheus-client",
    "metrics-server, aws-ebs-csi-driver (EKS add-ons)": "run by EKS from AWS's images, not "
    "started by this stack",
    "mlflow-db-migration (the chart's init container)": "needs the stack's PostgreSQL; the "
    "rehearsed MLflow runs on SQLite, whose tables `mlflow server` creates itself",
    "Kubernetes control plane (Pulumi's await of the Deployment, the HPA scaling, Pod "
    "Security admission, NetworkPolicy enforcement, release.yml's kubectl rollout)": "no API "
    "server or CNI here; settled from their documentation (docs/eks.md), the pods' probes "
    "are rehearsed above",
    "IRSA (the pods' web-identity token exchange)": "no EKS OIDC issuer here: the pods run "
    "with emulated AWS's static credentials, their requests recorded under their role; the "
    "trust policies are evaluated by the access matrix",
}

# Declared only with some options: chart -> why it is not started here.
NOT_REHEARSED_CHARTS = {
    lb_controller.CHART: "the public API's AWS Load Balancer Controller (a Go binary that "
    "calls the ELB API; no container engine, no ELB here); its Ingress and the ALB's JWT "
    "checks are rehearsed in tests/publicapi (docs/public-api.md)",
}

Release = Callable[[str, Path], list[CheckResult]]
"""Registers the champion in the MLflow at the URL; gets a scratch directory."""


@dataclass(frozen=True)
class Declared:
    """What the stack declares for the cluster (the mocked run's inputs)."""

    mlflow_values: dict[str, Any]
    deployment: dict[str, Any] | None
    cronjob: dict[str, Any] | None
    roles: dict[tuple[str, str], str]
    """(namespace, service account) -> IRSA role ARN."""
    charts: tuple[str, ...] = ()
    """The Helm charts the stack installs."""

    @classmethod
    def read(cls, run: Any) -> Declared:
        found = manifests(run)

        def one(kind: str, name: str) -> dict[str, Any] | None:
            return next(
                (m for m in found if m["kind"] == kind and m["metadata"]["name"] == name), None
            )

        release = next(
            r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "mlflow"
        )
        values = reveal(release.inputs["values"])
        roles = {
            (m["metadata"]["namespace"], m["metadata"]["name"]): m["metadata"]["annotations"][
                ROLE_ANNOTATION
            ]
            for m in found
            if m["kind"] == "ServiceAccount"
            and ROLE_ANNOTATION in m["metadata"].get("annotations", {})
        }
        account = values["serviceAccount"]
        roles[tracking.NAMESPACE, account["name"]] = account["annotations"][ROLE_ANNOTATION]
        charts = tuple(r.inputs["chart"] for r in run.of_type("kubernetes:helm.sh/v3:Release"))
        return cls(
            values,
            one("Deployment", serving.APP),
            one("CronJob", observability.DRIFT_JOB),
            roles,
            charts,
        )


@dataclass
class Cluster:
    """The rehearsal's stand-in for the cluster network and the pods' common environment."""

    ctx: RehearsalContext
    work_dir: Path
    services: dict[str, int] = field(default_factory=dict)
    """``name:port`` of a Service -> the loopback port of the process behind it."""

    def aws_env(self) -> dict[str, str]:
        """Emulated AWS in place of the IRSA web identity (static credentials)."""
        endpoint, region = self.ctx.aws.endpoint_url, self.ctx.aws.region
        return {
            "AWS_ENDPOINT_URL": endpoint,
            "MLFLOW_S3_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
        }

    def pod_env(self, declared: dict[str, str]) -> dict[str, str]:
        path, _ = self.image_path()
        return {
            "PATH": path,
            **declared,
            **self.aws_env(),
            cluster_dns.ENV: cluster_dns.encode(self.services),
            WORKERS_ENV: "1",
        }

    def image_path(self) -> tuple[str, list[str]]:
        """The image's PATH with its virtualenv mapped to this interpreter's."""
        try:
            image = read_dockerfile(self.ctx.project_dir / "Dockerfile")
            declared = image.env.get("PATH", "")
        except ImageError:
            declared = ""
        return resolve_path(declared, Path(sys.executable).parent)

    def pod_deviations(self) -> list[str]:
        _, replaced = self.image_path()
        return [
            "image not pulled: its entry point runs from this environment (no container "
            "engine); "
            + ", ".join(f"PATH entry {p} is {Path(sys.executable).parent}" for p in replaced),
            "IRSA web identity replaced by emulated AWS's static credentials "
            f"(AWS_ENDPOINT_URL={self.ctx.aws.endpoint_url}); requests recorded with the "
            "ServiceAccount's role as principal",
            f"{WORKERS_ENV}=1: one server process instead of one per node CPU (cheaper)",
            "cluster DNS emulated: "
            + ", ".join(f"{s} -> 127.0.0.1:{p}" for s, p in self.services.items()),
        ]


def rehearse(ctx: RehearsalContext, release: Release | None = None) -> list[Outcome]:
    """Every EKS workload of the stack (none for a SageMaker stack)."""
    if not ctx.outputs.get("clusterName"):
        return []
    declared = Declared.read(ctx.run)
    cluster = Cluster(ctx, ctx.work_dir / "eks")
    outcomes: list[Outcome] = []
    with mlflow_server(cluster, declared) as (mlflow, first):
        if first["ready"].get("status") != 200:
            outcomes.extend(_without(declared, "MLflow did not become ready"))
        else:
            outcomes.extend(model_server(cluster, declared, champion=False))
            released = run_release(cluster, mlflow, release or project_release(ctx))
            outcomes.append(released)
            if released.ok:
                outcomes.extend(model_server(cluster, declared, champion=True))
                outcomes.extend(drift_check(cluster, declared))
            else:
                outcomes.extend(_without(declared, "no champion: the release failed", 1))
    outcomes.insert(0, mlflow.outcome(first, mlflow.stopped))
    return [*outcomes, *not_rehearsed(declared)]


def not_rehearsed(declared: Declared) -> list[Outcome]:
    """What the cluster runs that cannot be started here, each with the reason."""
    always = [
        Outcome(name, ENGINE, "not started here", rehearsed=False, reason=reason)
        for name, reason in NOT_REHEARSED.items()
    ]
    return always + [
        Outcome(chart, ENGINE, f"helm.v3.Release {chart}", rehearsed=False, reason=reason)
        for chart, reason in NOT_REHEARSED_CHARTS.items()
        if chart in declared.charts
    ]


def _without(declared: Declared, reason: str, skip: int = 0) -> list[Outcome]:
    """The MLflow-dependent workloads, not rehearsed for ``reason`` (after the first
    ``skip`` of them)."""
    names = [
        ("model-server (first start, no champion yet)", "Deployment serving/model-server"),
        ("model-server (serves the champion)", "Deployment serving/model-server"),
        ("drift-check (CronJob run)", f"CronJob serving/{observability.DRIFT_JOB}"),
    ]
    return [Outcome(n, ENGINE, s, rehearsed=False, reason=reason) for n, s in names[skip:]]


@dataclass
class MlflowProcess:
    running: Running
    port: int
    stopped: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def outcome(self, answer: dict[str, Any], output: str) -> Outcome:
        return self.running.outcome(answer, output)


@contextmanager
def mlflow_server(
    cluster: Cluster, declared: Declared
) -> Iterator[tuple[MlflowProcess, dict[str, Any]]]:
    """The chart's MLflow container, started once; yields it and its checks' answer."""
    container = mlflow_chart.render(declared.mlflow_values)
    work = cluster.work_dir / "mlflow"
    work.mkdir(parents=True, exist_ok=True)
    store = work / "mlflow.db"
    store.unlink(missing_ok=True)
    args = [a for a in container.args if not a.startswith(("--host=", "--port="))]
    args = [
        f"--backend-store-uri=sqlite:///{store}" if a.startswith("--backend-store-uri=") else a
        for a in args
    ]
    principal = declared.roles[tracking.NAMESPACE, declared.mlflow_values["serviceAccount"]["name"]]
    in_cluster = tracking.IN_CLUSTER_HOST
    api = "/api/2.0/mlflow/experiments/search?max_results=1"
    workload = Workload(
        name="mlflow",
        engine=ENGINE,
        source=f"helm.v3.Release mlflow (community-charts/mlflow {mlflow_chart.CHART_VERSION})",
        command=(*container.command, *args),
        env={
            **container.env,
            **cluster.aws_env(),
            "PATH": cluster.image_path()[0],
            "MLFLOW_WORKERS": "1",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        },
        port=container.port,
        readiness=HttpCheck("readiness GET /health", "GET", container.readiness_path),
        checks=(
            HttpCheck(f"API with Host {in_cluster}", "GET", api, headers={"Host": in_cluster}),
            HttpCheck(
                "API with a foreign Host is refused",
                "GET",
                api,
                status=403,
                headers={"Host": "attacker.example.com"},
            ),
        ),
        principal=principal,
        isolate=False,
        host_env="MLFLOW_HOST",
        port_env="MLFLOW_PORT",
        startup_seconds=120.0,
        deviations=(
            "the chart's image not pulled: `mlflow server` of this environment "
            f"(chart appVersion {mlflow_chart.APP_VERSION})",
            f"--backend-store-uri=postgresql:// (PG* from the ConfigMap and Secret) replaced "
            f"by SQLite {store}: no PostgreSQL here",
            "--host=0.0.0.0 --port=5000 replaced by MLFLOW_HOST/MLFLOW_PORT on 127.0.0.1",
            "MLFLOW_WORKERS=1: one uvicorn worker instead of MLflow's default 4 (the chart "
            "sets none), to keep the rehearsal cheap",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false: no job runner (seven Huey consumer "
            "processes); Slipway submits no MLflow server jobs",
            f"artifacts in emulated S3 (MLFLOW_S3_ENDPOINT_URL={cluster.ctx.aws.endpoint_url})",
        ),
    )
    running = launch(workload, cluster.work_dir)
    process = MlflowProcess(running, running.started.port)
    try:
        first = running.started.exchange(workload.checks)
        cluster.services[in_cluster] = process.port
        yield process, first
    finally:
        process.stopped = running.started.stop()


def model_server(cluster: Cluster, declared: Declared, champion: bool) -> list[Outcome]:
    """The Deployment's container: before the first champion, or serving it."""
    phase = "serves the champion" if champion else "first start, no champion yet"
    name = f"model-server ({phase})"
    if declared.deployment is None:
        reason = "no image tag yet: the first `up` declares no model server (docs/eks.md)"
        return [Outcome(name, ENGINE, "Deployment model-server", rehearsed=False, reason=reason)]
    spec = declared.deployment["spec"]["template"]["spec"]
    container = spec["containers"][0]
    env = {e["name"]: str(e["value"]) for e in container["env"]}
    probe = container["readinessProbe"]["httpGet"]
    deviations = cluster.pod_deviations()
    sampled = env.get(CAPTURE_SAMPLING_ENV)
    if sampled is not None and float(sampled) < 100:
        # one rehearsed request must reach the drift check's input, whatever the preset keeps
        env[CAPTURE_SAMPLING_ENV] = "100"
        deviations.append(
            f"{CAPTURE_SAMPLING_ENV}=100 instead of the preset's {sampled}: the one rehearsed "
            "request is captured for the drift check"
        )
    if champion:
        checks = champion_checks(cluster, env[MODEL_URI_ENV])
    else:
        checks = (
            HttpCheck(
                "POST /invocations answers 503 until a champion exists",
                "POST",
                "/invocations",
                status=503,
                body=b"{}",
                headers={"Content-Type": "application/json"},
                expect=_error_code("TEMPORARILY_UNAVAILABLE"),
            ),
        )
    workload = Workload(
        name=name,
        engine=ENGINE,
        source="Deployment serving/model-server",
        command=tuple(container["command"]),
        env=cluster.pod_env(env),
        port=int(container["ports"][0]["containerPort"]),
        readiness=HttpCheck(f"readinessProbe GET {probe['path']}", "GET", probe["path"]),
        checks=checks,
        principal=declared.roles[serving.NAMESPACE, spec["serviceAccountName"]],
        isolate=False,
        deviations=tuple(deviations),
        startup_seconds=120.0,
    )
    running = launch(workload, cluster.work_dir)
    try:
        answer = running.started.exchange(workload.checks)
    finally:
        output = running.started.stop()
    return [running.outcome(answer, output)]


def _error_code(code: str) -> Callable[[bytes], str]:
    def judge(body: bytes) -> str:
        got = json.loads(body or b"{}").get("error_code")
        return "" if got == code else f"error_code {got!r}, wanted {code!r}"

    return judge


def champion_checks(cluster: Cluster, model_uri: str) -> tuple[HttpCheck, ...]:
    """POST the champion's input example; the answer must be the model's own prediction
    (the model loaded here from the same MLflow, through its artifact proxy)."""
    from mlflow.artifacts import download_artifacts
    from mlflow.store.artifact.utils.models import _parse_model_uri
    from mlflow.tracking import MlflowClient

    url = f"http://127.0.0.1:{cluster.services[tracking.IN_CLUSTER_HOST]}"
    local = cluster.work_dir / "champion"
    shutil.rmtree(local, ignore_errors=True)
    parsed = _parse_model_uri(model_uri)
    client = MlflowClient(tracking_uri=url, registry_uri=url)
    if parsed.alias:
        version = client.get_model_version_by_alias(str(parsed.name), parsed.alias).version
    else:
        version = parsed.version or client.get_latest_versions(str(parsed.name))[-1].version
    source = client.get_model_version_download_uri(str(parsed.name), str(version))
    local = Path(download_artifacts(artifact_uri=source, dst_path=str(local), tracking_uri=url))
    return invocation_checks(local, "POST /invocations: the champion's answer")


def run_release(cluster: Cluster, mlflow: MlflowProcess, release: Release) -> Outcome:
    """The release (release.yml): registers a champion through a port-forward to MLflow."""
    work = cluster.work_dir / "release"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    checks = release(mlflow.url, work)
    return Outcome(
        "release (champion registered through kubectl port-forward)",
        ENGINE,
        "release.yml: pipeline run against the stack's MLflow",
        rehearsed=True,
        reason="" if all(c.ok for c in checks) else "the release failed",
        checks=tuple(checks),
        deviations=(f"port-forward: MLflow at {mlflow.url}, as kubectl's local port",),
    )


# The project's candidate summary (pipeline.SUMMARY_DIR) and who approves in the rehearsal.
CANDIDATE = Path("outputs/evaluation/candidate.json")
APPROVER = "slipway-rehearsal"


def project_release(ctx: RehearsalContext) -> Release:
    """release.yml's steps with the project's CLI, in the project directory: ``pipeline run
    --stack <stack>``, then, where the stack needs a person's approval, ``promote`` with the
    evaluation it names (the environment reviewer's step; ``APPROVER`` stands for them)."""

    def release(url: str, work: Path) -> list[CheckResult]:
        log = work / "output.log"

        def cli(args: list[str]) -> int:
            argv, env, _ = project_cli(ctx, args)
            done = subprocess.run(
                argv,
                cwd=ctx.project_dir,
                env={**env, "MLFLOW_TRACKING_URI": url},
                capture_output=True,
                timeout=JOB_SECONDS,
                check=False,
            )
            with log.open("ab") as out:
                out.write(done.stdout + done.stderr)
            return done.returncode

        code = cli(["pipeline", "run", "--stack", ctx.stack])
        ok = code in (0, 3)  # 3: the batch step saw drift; release.yml goes on
        checks = [CheckResult(f"pipeline run --stack {ctx.stack}", ok, f"exit {code}")]
        candidate = ctx.project_dir / CANDIDATE
        if ok and candidate.is_file():
            facts = json.loads(candidate.read_text())
            if facts.get("status") == "awaiting-approval":
                version, evaluation = str(facts["version"]), str(facts["evaluation"])
                code = cli(
                    [
                        *("promote", "--stack", ctx.stack, "--version", version),
                        *("--evaluation", evaluation, "--approved-by", APPROVER),
                    ]
                )
                name = f"promote (approved by {APPROVER} for the reviewer)"
                checks.append(CheckResult(name, code == 0, f"exit {code}"))
        return checks

    return release


def project_cli(
    ctx: RehearsalContext, args: list[str]
) -> tuple[list[str], dict[str, str], list[str]]:
    """The project's console script with ``args`` (argv, environment, deviations): the one on
    the image's PATH, else ``python -m <package>`` from the project's ``src/``."""
    scripts = tomllib.loads((ctx.project_dir / "pyproject.toml").read_text())["project"]["scripts"]
    script, target = next(iter(scripts.items()))
    path, _ = Cluster(ctx, ctx.work_dir).image_path()
    found = shutil.which(script, path=path)
    if found:
        return [found, *args], {"PATH": path}, []
    package = target.split(":")[0].split(".")[0]
    env = {"PATH": path, "PYTHONPATH": str(ctx.project_dir / "src")}
    deviation = f"`{script}` is not installed here: ran as `python -m {package}` from src/"
    return [sys.executable, "-m", package, *args], env, [deviation]


def image_files(project: Path, args: list[str]) -> tuple[list[str], list[str]]:
    """``args`` with paths inside the image read from where the project's Dockerfile copies
    them from (final stage ``COPY <src> <dest>`` from the build context); a path the image
    does not hold stays as it is (and the workload will not find it, as in the cluster)."""
    from dockerfile_parse import DockerfileParser

    dockerfile = project / "Dockerfile"
    if not dockerfile.is_file():
        return args, []
    structure = DockerfileParser(path=str(dockerfile)).structure
    starts = [i for i, item in enumerate(structure) if item["instruction"] == "FROM"]
    copies = {}
    for item in structure[starts[-1] if starts else 0 :]:
        parts = item["value"].split()
        if item["instruction"] == "COPY" and len(parts) == 2 and not parts[0].startswith("--"):
            copies[parts[1].rstrip("/")] = project / parts[0]
    mapped, deviations = [], []
    for arg in args:
        dest = next((d for d in copies if arg == d or arg.startswith(d + "/")), None)
        if dest is None:
            mapped.append(arg)
            continue
        local = str(copies[dest]) + arg[len(dest) :]
        mapped.append(local)
        deviations.append(f"{arg} (in the image: Dockerfile COPY) read from {local}")
    return mapped, deviations


def drift_check(cluster: Cluster, declared: Declared) -> list[Outcome]:
    """One run of the CronJob's container; passes on exit 0 or 3 with metrics pushed and the
    report uploaded."""
    name, source = "drift-check (CronJob run)", f"CronJob serving/{observability.DRIFT_JOB}"
    if declared.cronjob is None:
        reason = "not declared: monitoring is off, or no image tag yet"
        return [Outcome(name, ENGINE, source, rehearsed=False, reason=reason)]
    spec = declared.cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = spec["containers"][0]
    env = {e["name"]: str(e["value"]) for e in container["env"]}
    command = list(container["command"])
    args, copied = image_files(cluster.ctx.project_dir, command[1:])
    argv, cli_env, cli_deviations = project_cli(cluster.ctx, args)
    cli_deviations += copied
    with pushgateway_recorder() as (port, pushed):
        gateway = urlparse(observability.PUSHGATEWAY_URL).netloc
        cluster.services[gateway] = port
        workload = Workload(
            name=name,
            engine=ENGINE,
            source=source,
            command=tuple(argv),
            env={**cluster.pod_env(env), **cli_env},
            port=0,
            readiness=HttpCheck("exit", "GET", "/"),
            principal=declared.roles[serving.NAMESPACE, spec["serviceAccountName"]],
            isolate=False,
            workdir=container.get("workingDir", ""),
            deviations=(
                *cluster.pod_deviations(),
                *cli_deviations,
                f"Pushgateway {gateway} is a recorder on 127.0.0.1:{port}",
            ),
        )
        running = launch(workload, cluster.work_dir)
        try:
            code = running.started.process.wait(JOB_SECONDS)
        except subprocess.TimeoutExpired:
            code = -1
        output = running.started.stop()
        del cluster.services[gateway]
    bucket = cluster.ctx.outputs["bucketName"]
    listed = cluster.ctx.aws("s3").list_objects_v2(Bucket=bucket, Prefix="monitoring/drift/")
    checks = [
        CheckResult("exit 0 (no drift) or 3 (retraining due)", code in (0, 3), f"exit {code}"),
        CheckResult(
            "drift metrics pushed",
            "slipway_drift_share" in pushed,
            ", ".join(sorted(pushed)) or "nothing pushed",
        ),
        CheckResult(
            "report uploaded under monitoring/drift/",
            listed.get("KeyCount", 0) > 0,
            f"{listed.get('KeyCount', 0)} objects",
        ),
    ]
    outcome = replace(
        running.outcome({"ready": {"status": 200}, "results": []}, output), checks=tuple(checks)
    )
    return [replace(outcome, reason="" if outcome.ok else "the job failed")]


@contextmanager
def pushgateway_recorder() -> Iterator[tuple[int, set[str]]]:
    """A loopback HTTP endpoint taking Pushgateway pushes; yields its port and the metric
    names pushed (each body parsed with prometheus-client's exposition parser)."""
    from prometheus_client.parser import text_string_to_metric_families

    pushed: set[str] = set()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _push(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if self.path.startswith("/metrics/job/"):
                pushed.update(f.name for f in text_string_to_metric_families(body))
            self.send_response(200)
            self.end_headers()

        do_PUT = do_POST = _push

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], pushed
    finally:
        server.shutdown()
        server.server_close()


__all__ = ["NOT_REHEARSED", "Declared", "Release", "not_rehearsed", "rehearse"]
