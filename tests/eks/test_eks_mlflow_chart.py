"""The in-cluster MLflow as the chart renders it: the renderer is faithful to the vendored
chart, in-cluster callers pass MLflow's host check, and artifacts are proxied by the server.

``slipway.eks.mlflow_chart`` re-expresses the chart's templates (no helm binary here); these
tests tie it to the pinned chart's own text and values (chart_templates/, chart_values/).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from chart_keys import CHART_VALUES
from slipway.eks import mlflow_chart
from slipway.eks.manifests import reveal
from slipway.presets import load_preset
from slipway.testing import ProgramRun, RecordedResource, iter_policy_statements

EXCERPT = (CHART_VALUES.parent / "chart_templates" / "mlflow-1.11.4.excerpt.tpl").read_text()
CHART_DEFAULTS = yaml.safe_load((CHART_VALUES / "mlflow-1.11.4.values.yaml").read_text())
# Argument lines of the container that the renderer does not produce, and why.
UNCITED_ARGS = {
    "- --backend-store-uri=mysql{{ $dbConnectionDriver }}://$(MYSQL_USERNAME):$(MYSQL_PWD)"
    "@$(MYSQL_HOST):$(MYSQL_TCP_PORT)/$(MYSQL_DATABASE)": "mysql: UNMODELLED",
    "- --backend-store-uri=$(MSSQL_CONNECTION_URL)": "mssql: UNMODELLED",
    "- --backend-store-uri={{ .Values.backendStore.mssql.connectionUrl }}": "mssql",
    "- --backend-store-uri=mssql{{ $dbConnectionDriver }}://$(MSSQL_USERNAME):$(MSSQL_PWD)"
    "@$(MSSQL_HOST):$(MSSQL_TCP_PORT)/$(MSSQL_DATABASE)": "mssql",
    '- "--backend-store-uri=sqlite:///{{ .Values.backendStore.defaultSqlitePath }}"': (
        "render() requires postgres"
    ),
    "- --app-name=oidc-auth": "oidcAuth: UNMODELLED",
    "- --app-name={{ .Values.auth.appName }}": "auth: UNMODELLED",
    "- --app-name=basic-auth": "ldapAuth: UNMODELLED",
    '- {{ printf "--uvicorn-opts=\'%s\'" (regexReplaceAll "--log-level=[^\\\\s]*" $value '
    '(printf "--log-level=%s" $.Values.log.level)) }}': "extraArgs: UNMODELLED",
    "- {{ printf \"--uvicorn-opts='--log-level=%s %s'\" $.Values.log.level $value }}": "extraArgs",
    '- {{ printf "--gunicorn-opts=\'%s\'" (regexReplaceAll "--log-level=[^\\\\s]*" $value '
    '(printf "--log-level=%s" $.Values.log.level)) }}': "extraArgs",
    "- {{ printf \"--gunicorn-opts='--log-level=%s %s'\" $.Values.log.level $value }}": "extraArgs",
    '- {{ printf "--%s=%s" (kebabcase $key) $value }}': "extraArgs",
    "- --{{ kebabcase . }}": "extraFlags: UNMODELLED",
}


def _release(run: ProgramRun) -> RecordedResource:
    return next(
        r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "mlflow"
    )


def _container(run: ProgramRun) -> mlflow_chart.MlflowContainer:
    return mlflow_chart.render(reveal(_release(run).inputs["values"]))


def _lookup(tree: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def _leaves(tree: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            yield from _leaves(value, (*prefix, key))
        else:
            yield (*prefix, key)


def test_every_cited_template_line_is_in_the_pinned_chart() -> None:
    lines = mlflow_chart.template_lines(EXCERPT)
    missing = {k: v for k, v in mlflow_chart.CITED.items() if v not in lines}
    assert missing == {}


def test_every_argument_line_of_the_container_is_rendered_or_refused() -> None:
    block = EXCERPT.split('command: ["mlflow"]', 1)[1].split("ports:", 1)[0]
    arg_lines = {
        re.sub(r"\s+", " ", line.strip())
        for line in block.splitlines()
        if line.strip().startswith("- ")
    }
    cited = set(mlflow_chart.CITED.values())
    assert arg_lines - cited - set(UNCITED_ARGS) == set()
    # and the uncited ones are really in the chart (the table above is not stale)
    assert set(UNCITED_ARGS) <= arg_lines


def test_the_renderer_defaults_are_the_charts_and_match_the_pinned_version() -> None:
    for path in _leaves(mlflow_chart.DEFAULTS):
        assert _lookup(mlflow_chart.DEFAULTS, path) == _lookup(CHART_DEFAULTS, path), path
    for preset in ("dev", "staging", "prod"):
        assert load_preset(preset).eks.mlflow_chart_version == mlflow_chart.CHART_VERSION


def test_values_outside_the_rendered_branches_are_refused() -> None:
    with pytest.raises(mlflow_chart.UnmodelledValue, match=r"^auth\.enabled: set"):
        mlflow_chart.render({"auth": {"enabled": True}, "backendStore": {"postgres": {}}})


def test_in_cluster_callers_pass_mlflows_host_check(
    eks_run: ProgramRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow 3 answers 403 to a Host outside MLFLOW_SERVER_ALLOWED_HOSTS (default: localhost
    and private IPs); the model server and the drift job call the Service's DNS name. Judged
    by MLflow's own middleware functions on the environment the chart renders."""
    from mlflow.server import fastapi_security
    from mlflow.server.security_utils import is_allowed_host_header

    container = _container(eks_run)
    in_cluster = urlparse(eks_run.outputs["trackingUri"]).netloc
    assert in_cluster == "mlflow.mlflow.svc.cluster.local:5000"
    monkeypatch.delenv("MLFLOW_SERVER_ALLOWED_HOSTS", raising=False)
    if "MLFLOW_SERVER_ALLOWED_HOSTS" in container.env:
        monkeypatch.setenv(
            "MLFLOW_SERVER_ALLOWED_HOSTS", container.env["MLFLOW_SERVER_ALLOWED_HOSTS"]
        )
    allowed = fastapi_security.get_allowed_hosts()
    assert is_allowed_host_header(allowed, in_cluster)
    # kubectl port-forward (release.yml, drift.yml): the client talks to 127.0.0.1:<port>
    assert is_allowed_host_header(allowed, "127.0.0.1:5000")
    assert not is_allowed_host_header(allowed, "evil.example.com")
    assert "*" not in allowed


def test_the_server_proxies_artifacts_to_the_mlflow_prefix(eks_run: ProgramRun) -> None:
    """Clients get ``mlflow-artifacts:/`` locations and only the MLflow server touches
    ``s3://<bucket>/mlflow/`` (chart: proxiedArtifactStorage -> --artifacts-destination and
    --serve-artifacts; MLflow: --serve-artifacts without --default-artifact-root defaults the
    artifact root to mlflow-artifacts:/)."""
    container = _container(eks_run)
    bucket = eks_run.named(f"churn-{eks_run.outputs['preset']}-bucket").state["bucket"]
    assert f"--artifacts-destination=s3://{bucket}/mlflow" in container.args
    assert "--serve-artifacts" in container.args
    assert not any(a.startswith("--default-artifact-root") for a in container.args)
    key = eks_run.one("aws:kms/key:Key").state["arn"]
    assert f'"SSEKMSKeyId": "{key}"' in container.env["MLFLOW_S3_UPLOAD_EXTRA_ARGS"]


@pytest.mark.parametrize("account", ["model-server", "drift-check"])
def test_no_workload_but_mlflow_reads_the_mlflow_prefix(eks_run: ProgramRun, account: str) -> None:
    """With artifacts proxied, the model server and the drift job load models and profiles
    through MLflow's HTTP API: their roles grant nothing under ``mlflow/``."""
    bucket = eks_run.named(f"churn-{eks_run.outputs['preset']}-bucket").state["bucket"]
    roles = [
        r
        for r in eks_run.of_type("aws:iam/role:Role")
        if f"system:serviceaccount:serving:{account}" in r.inputs["assumeRolePolicy"]
    ]
    [role] = roles
    policies = [
        p
        for p in eks_run.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.state["name"]
    ]
    statements = [s for p in policies for s in iter_policy_statements(p.inputs["policy"])]
    resources = [r for s in statements for r in s["Resource"]]
    prefixes = [
        p
        for s in statements
        for p in s.get("Condition", {}).get("StringLike", {}).get("s3:prefix", [])
    ]
    assert f"arn:aws:s3:::{bucket}/mlflow/*" not in resources
    assert "mlflow/*" not in prefixes
