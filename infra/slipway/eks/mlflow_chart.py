"""The MLflow container the community-charts/mlflow chart renders from Slipway's values.

There is no ``helm`` binary where Slipway's tests and rehearsals run, so the part of the
chart's logic that Slipway's values reach is re-expressed here in Python: the ``mlflow server``
arguments (templates/deployment.yaml), the container environment and the ``-env-configmap``
it loads (templates/configmap.yaml), and the allowed hosts (templates/_helpers.tpl). Every
rule cites the template line it re-expresses (``CITED``); tests/eks/test_eks_mlflow_chart.py
checks each citation against the vendored excerpt of the pinned chart, and ``render``
refuses values that switch on a branch not re-expressed here (``UNMODELLED``) rather than
render it wrong. Chart defaults for the keys read here are ``DEFAULTS`` (checked against the
chart's values.yaml by the same test).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from slipway.eks.helm import coalesce

CHART_VERSION = "1.11.4"
APP_VERSION = "3.15.1"  # Chart.yaml appVersion: the image tag, MLFLOW_VERSION
DEFAULTS: dict[str, Any] = {
    "image": {"tag": ""},
    "serverHost": "0.0.0.0",
    "service": {"containerPort": 5000, "containerPortName": "mlflow"},
    "log": {"enabled": True, "level": "info"},
    "telemetry": {"enabled": False},
    "backendStore": {
        "postgres": {"enabled": False, "host": "", "port": 5432, "database": "", "driver": ""},
        "existingDatabaseSecret": {
            "name": "",
            "usernameKey": "username",
            "passwordKey": "password",
        },
    },
    "artifactRoot": {
        "proxiedArtifactStorage": False,
        "defaultArtifactRoot": "./mlruns",
        "defaultArtifactsDestination": "./mlartifacts",
        "s3": {"enabled": False, "bucket": "", "path": "", "existingSecret": {"name": ""}},
    },
    "serviceMonitor": {"enabled": False},
    "extraArgs": {},
    "extraFlags": [],
    "extraEnvVars": {},
    "extraSecretNamesForEnvFrom": [],
    "ingress": {"enabled": False},
    "serverAllowedHosts": [],
    "corsAllowedOrigins": [],
}
# Branches of the templates this module does not re-express: values must leave them off.
UNMODELLED = (
    "auth.enabled",
    "ldapAuth.enabled",
    "oidcAuth.enabled",
    "oauth2Proxy.enabled",
    "minio.enabled",
    "postgresql.enabled",
    "mysql.enabled",
    "backendStore.mysql.enabled",
    "backendStore.mssql.enabled",
    "artifactRoot.azureBlob.enabled",
    "artifactRoot.gcs.enabled",
    "artifactRoot.s3.existingSecret.name",
    "artifactRoot.s3.awsAccessKeyId",
    "extraArgs",
    "extraFlags",
    "extraSecretNamesForEnvFrom",
    "ingress.enabled",
)
# The template lines each rule below re-expresses (verbatim, whitespace-trimmed).
CITED = {
    "command": 'command: ["mlflow"]',
    "server": "- server",
    "host": "- --host={{ .Values.serverHost }}",
    "port": "- --port={{ .Values.service.containerPort }}",
    "postgres": "- --backend-store-uri=postgresql{{ $dbConnectionDriver }}://",
    "driver": '{{- $dbConnectionDriver = printf "+%s" .Values.backendStore.postgres.driver }}',
    "artifact_root": (
        '{{- $artifactCommand := printf "--%s=%s" $artifactCommandPrefix '
        ".Values.artifactRoot.defaultArtifactRoot }}"
    ),
    "artifacts_destination": '{{- $artifactCommandPrefix = "artifacts-destination" }}',
    "s3": (
        '{{- $artifactCommand = printf "--%s=s3://%s/%s" $artifactCommandPrefix '
        ".Values.artifactRoot.s3.bucket .Values.artifactRoot.s3.path }}"
    ),
    "artifact_arg": "- {{ $artifactCommand }}",
    "serve_artifacts": "- --serve-artifacts",
    "prometheus": "- --expose-prometheus=/mlflow/metrics",
    "log_level": "- {{ printf \"--uvicorn-opts='--log-level=%s'\" .Values.log.level }}",
    "probe": "path: /health",
    "container_port": "containerPort: {{ .Values.service.containerPort }}",
    "mlflow_version": "value: {{ .Values.image.tag | default .Chart.AppVersion | quote }}",
    "pg_password": "key: {{ .Values.backendStore.existingDatabaseSecret.passwordKey }}",
    "pg_user": "key: {{ .Values.backendStore.existingDatabaseSecret.usernameKey }}",
    "extra_env": "value: {{ $value | quote }}",
    "pg_host": (
        'PGHOST: {{ required "postgres host must be specified" '
        ".Values.backendStore.postgres.host }}"
    ),
    "pg_port": (
        'PGPORT: {{ required "postgres port must be specified" '
        ".Values.backendStore.postgres.port | quote }}"
    ),
    "pg_database": (
        'PGDATABASE: {{ required "postgres database must be specified" '
        ".Values.backendStore.postgres.database }}"
    ),
    "configure_logging": "MLFLOW_CONFIGURE_LOGGING: {{ .Values.log.enabled | quote }}",
    "logging_level": "MLFLOW_LOGGING_LEVEL: {{ .Values.log.level | upper | quote }}",
    "telemetry": 'MLFLOW_DISABLE_TELEMETRY: "true"',
    "do_not_track": 'DO_NOT_TRACK: "true"',
    "allowed_hosts": "MLFLOW_SERVER_ALLOWED_HOSTS: {{ . | quote }}",
    "cors": "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS: {{ . | quote }}",
    "hosts_from_values": (
        "{{- range .Values.serverAllowedHosts -}}{{- $hosts = append $hosts . -}}{{- end -}}"
    ),
    "normalize": (
        '{{- if has "*" $list -}}*{{- else if $list -}}{{- join "," $list -}}{{- end -}}'
    ),
}


@dataclass(frozen=True)
class SecretEnv:
    """An environment variable Kubernetes fills from a Secret (``secretKeyRef``)."""

    secret: str
    key: str


@dataclass(frozen=True)
class MlflowContainer:
    """The chart's ``mlflow`` container: what Kubernetes starts."""

    command: tuple[str, ...]
    args: tuple[str, ...]
    env: dict[str, str]
    """Literal values: the container's ``env`` and its ``-env-configmap`` (``envFrom``)."""
    secret_env: dict[str, SecretEnv] = field(default_factory=dict)
    port: int = 5000
    readiness_path: str = "/health"

    @property
    def argv(self) -> tuple[str, ...]:
        return self.command + self.args


class UnmodelledValue(ValueError):
    """The values switch on a branch of the chart this module does not re-express."""


def merged(values: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of ``values`` over ``DEFAULTS`` (maps merge, the rest replaces)."""
    return dict(coalesce(DEFAULTS, values))


def _get(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for key in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def render(values: dict[str, Any]) -> MlflowContainer:
    """The container the pinned chart renders for ``values`` (revealed, no Pulumi outputs)."""
    for path in UNMODELLED:
        if _get(values, path):
            raise UnmodelledValue(
                f"{path}: set, but slipway.eks.mlflow_chart does not re-express that branch "
                f"of the mlflow chart {CHART_VERSION}"
            )
    v = merged(values)
    store, artifacts = v["backendStore"], v["artifactRoot"]
    args = ["server", f"--host={v['serverHost']}", f"--port={v['service']['containerPort']}"]
    if not store["postgres"]["enabled"]:
        raise UnmodelledValue("backendStore.postgres.enabled: only PostgreSQL is re-expressed")
    driver = f"+{store['postgres']['driver']}" if store["postgres"]["driver"] else ""
    args.append(f"--backend-store-uri=postgresql{driver}://")
    args.append(_artifact_arg(artifacts))
    if artifacts["proxiedArtifactStorage"]:
        args.append("--serve-artifacts")
    if v["serviceMonitor"]["enabled"]:
        args.append("--expose-prometheus=/mlflow/metrics")
    if v["log"]["enabled"]:
        args.append(f"--uvicorn-opts='--log-level={v['log']['level']}'")
    env = {"MLFLOW_VERSION": str(v["image"]["tag"] or APP_VERSION)}
    secret_env = {}
    secret = store["existingDatabaseSecret"]
    if secret["name"]:
        secret_env["PGPASSWORD"] = SecretEnv(secret["name"], secret["passwordKey"])
        secret_env["PGUSER"] = SecretEnv(secret["name"], secret["usernameKey"])
    env.update({key: _quote(value) for key, value in v["extraEnvVars"].items()})
    env = {**_configmap(v), **env}  # Kubernetes: `env` wins over `envFrom`
    return MlflowContainer(
        ("mlflow",), tuple(args), env, secret_env, port=int(v["service"]["containerPort"])
    )


def _artifact_arg(artifacts: dict[str, Any]) -> str:
    prefix, target = "default-artifact-root", artifacts["defaultArtifactRoot"]
    if artifacts["proxiedArtifactStorage"]:
        prefix, target = "artifacts-destination", artifacts["defaultArtifactsDestination"]
    if artifacts["s3"]["enabled"]:
        target = f"s3://{artifacts['s3']['bucket']}/{artifacts['s3']['path']}"
    return f"--{prefix}={target}"


def _configmap(v: dict[str, Any]) -> dict[str, str]:
    """The ``<release>-env-configmap`` the container loads with ``envFrom``."""
    postgres = v["backendStore"]["postgres"]
    data = {
        "PGHOST": str(postgres["host"]),
        "PGPORT": str(postgres["port"]),
        "PGDATABASE": str(postgres["database"]),
        "MLFLOW_CONFIGURE_LOGGING": _quote(v["log"]["enabled"]),
    }
    if v["log"]["enabled"]:
        data["MLFLOW_LOGGING_LEVEL"] = str(v["log"]["level"]).upper()
    if not v["telemetry"]["enabled"]:
        data["MLFLOW_DISABLE_TELEMETRY"] = "true"
        data["DO_NOT_TRACK"] = "true"
    hosts = _normalize(list(v["serverAllowedHosts"]))  # ingress is off (UNMODELLED)
    if hosts:
        data["MLFLOW_SERVER_ALLOWED_HOSTS"] = hosts
    origins = _normalize(list(v["corsAllowedOrigins"]))
    if origins:
        data["MLFLOW_SERVER_CORS_ALLOWED_ORIGINS"] = origins
    return data


def _normalize(items: list[str]) -> str:
    """``mlflow.normalizeList``: deduplicated, ``*`` when present, comma-joined."""
    unique = list(dict.fromkeys(items))
    return "*" if "*" in unique else ",".join(unique)


def _quote(value: Any) -> str:
    """Go's ``quote`` of a YAML scalar, as the container then sees it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def template_lines(excerpt: str) -> set[str]:
    """The whitespace-trimmed lines of a template excerpt (for checking ``CITED``)."""
    return {re.sub(r"\s+", " ", line.strip()) for line in excerpt.splitlines()}
