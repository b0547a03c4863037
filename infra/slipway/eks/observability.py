"""Observability: kube-prometheus-stack, scraping and alerts for the model server, drift checks.

* kube-prometheus-stack (Prometheus operator, Prometheus, Alertmanager, Grafana,
  kube-state-metrics) through ``helm.v3.Release``; it picks up every ServiceMonitor and
  PrometheusRule of the cluster, retention from the preset;
* a ServiceMonitor scraping the model server's ``/metrics``;
* a PrometheusRule with the preset's thresholds: server errors per period, p99 latency of
  ``/invocations``, and drift (the drift-check job failed: ``monitor`` exits non-zero when
  retraining is due);
* a CronJob (preset schedule) running the project's ``monitor`` step on the requests
  captured under ``s3://<bucket>/data-capture/``, with an IRSA role that reads that
  prefix and writes ``monitoring/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from slipway.aws.roles import bucket_prefix_statements, kms_key_statement
from slipway.aws.tags import Deployment
from slipway.eks import pods
from slipway.eks.irsa import ROLE_ANNOTATION, Oidc, service_account_role
from slipway.eks.serving import APP, ModelServing

NAMESPACE = "monitoring"
CHART_REPO = "https://prometheus-community.github.io/helm-charts"
DRIFT_JOB = "drift-check"
SCRAPE_INTERVAL = "30s"


@dataclass(frozen=True)
class ObservabilityArgs:
    deployment: Deployment
    provider: k8s.Provider
    oidc: Oidc
    serving: ModelServing
    bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    capture_uri: pulumi.Input[str]
    tracking_uri: pulumi.Input[str]
    monitor_command: Sequence[str]  # the project's CLI, e.g. ("churn_model", "monitor")


class Observability(pulumi.ComponentResource):
    """Outputs: grafana_admin_password (secret), alert_names."""

    grafana_admin_password: pulumi.Output[str]

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:eks:Observability", name, None, opts)
        dep = args.deployment
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        # node-exporter needs the host network and PID namespace: a privileged namespace.
        namespace = pods.namespace(f"{name}-namespace", dep, NAMESPACE, "privileged", k8s_opts)
        password = random.RandomPassword(
            f"{name}-grafana-password", length=24, special=False,
            opts=pulumi.ResourceOptions(parent=self))
        self.release = k8s.helm.v3.Release(
            f"{name}-prometheus",
            name="kube-prometheus-stack",
            chart="kube-prometheus-stack",
            version=dep.preset.eks.prometheus_chart_version,
            repository_opts={"repo": CHART_REPO},
            namespace=NAMESPACE,
            values=stack_values(dep, pulumi.Output.secret(password.result)),
            atomic=True,
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[namespace]),
        )
        # ServiceMonitor and PrometheusRule are CRDs the release installs.
        crd_opts = pulumi.ResourceOptions(
            parent=self, provider=args.provider, depends_on=[self.release])
        labels = pods.labels(dep, APP)
        k8s.apiextensions.CustomResource(
            f"{name}-service-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata={"name": APP, "namespace": args.serving.namespace, "labels": labels},
            spec={
                "selector": {"matchLabels": {"app.kubernetes.io/name": APP}},
                "namespaceSelector": {"matchNames": [args.serving.namespace]},
                "endpoints": [{"port": "http", "path": "/metrics",
                               "interval": SCRAPE_INTERVAL}],
            },
            opts=crd_opts,
        )
        rules = alert_rules(dep, args.serving.namespace)
        k8s.apiextensions.CustomResource(
            f"{name}-alerts",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={"name": f"{APP}-alerts", "namespace": args.serving.namespace,
                      "labels": labels},
            spec={"groups": [{"name": dep.prefix, "rules": rules}]},
            opts=crd_opts,
        )
        self._drift_check(name, args)
        self.grafana_admin_password = pulumi.Output.secret(password.result)  # type: ignore[arg-type]
        self.register_outputs({
            "grafana_admin_password": self.grafana_admin_password,
            "alert_names": [rule["alert"] for rule in rules],
        })

    def _drift_check(self, name: str, args: ObservabilityArgs) -> None:
        dep = args.deployment
        namespace = args.serving.namespace
        opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        role = service_account_role(
            f"{name}-drift", dep, args.oidc, namespace, DRIFT_JOB,
            [*bucket_prefix_statements(args.bucket_arn, ("capture", "models"), ("monitoring",)),
             kms_key_statement(args.kms_key_arn)],
            parent=self,
        )
        labels = {**pods.labels(dep, DRIFT_JOB), "app.kubernetes.io/component": "monitoring"}
        meta = {"name": DRIFT_JOB, "namespace": namespace, "labels": labels}
        account = k8s.core.v1.ServiceAccount(
            f"{name}-drift-account",
            metadata={**meta, "annotations": {ROLE_ANNOTATION: role.arn}},
            opts=opts,
        )
        container = {
            "name": DRIFT_JOB,
            "image": args.serving.image,
            "command": [*args.monitor_command, "--input", args.capture_uri],
            "env": [{"name": "MLFLOW_TRACKING_URI", "value": args.tracking_uri},
                    {"name": "TMPDIR", "value": "/tmp"}],
            "workingDir": "/tmp",
            "resources": pods.resources(dep.preset.eks.serving),
            "securityContext": pods.container_security(),
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }
        k8s.batch.v1.CronJob(
            f"{name}-drift-check",
            metadata=meta,
            spec={
                "schedule": dep.preset.eks.monitor_schedule,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {"spec": {
                    "backoffLimit": 0,  # exit 3 means "retraining due": do not retry
                    "ttlSecondsAfterFinished": 86400,
                    "template": {"metadata": {"labels": labels}, "spec": {
                        "serviceAccountName": account.metadata["name"],
                        "restartPolicy": "Never",
                        "securityContext": pods.pod_security(),
                        "containers": [container],
                        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "2Gi"}}],
                    }},
                }},
            },
            opts=opts,
        )


def stack_values(dep: Deployment, grafana_password: pulumi.Input[str]) -> dict[str, Any]:
    """Values of kube-prometheus-stack: select every ServiceMonitor and rule, preset retention."""
    return {
        "prometheus": {"prometheusSpec": {
            "retention": f"{dep.preset.eks.prometheus_retention_days}d",
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
        }},
        "grafana": {"adminPassword": grafana_password},
        "alertmanager": {"enabled": True},
    }


def alert_rules(dep: Deployment, namespace: str) -> list[dict[str, Any]]:
    """Error, latency and drift alerts with the preset's thresholds and periods."""
    alarms = dep.preset.alarms
    window = f"{alarms.period_seconds}s"
    hold = f"{alarms.period_seconds * alarms.evaluation_periods}s"
    selector = f'namespace="{namespace}", endpoint="/invocations"'
    return [
        {
            "alert": "ModelServerErrors",
            "expr": (f'sum(increase(slipway_request_errors_total{{{selector}, kind="server"}}'
                     f"[{window}])) > {alarms.errors_5xx}"),
            "for": hold,
            "labels": {"severity": "critical"},
            "annotations": {"summary": f"{dep.prefix}: more than {alarms.errors_5xx} server "
                                       f"errors per {window}"},
        },
        {
            "alert": "ModelLatencyP99High",
            "expr": ("histogram_quantile(0.99, sum by (le) (rate("
                     f"slipway_request_duration_seconds_bucket{{{selector}}}[{window}]))) > "
                     f"{alarms.latency_p99_ms / 1000}"),
            "for": hold,
            "labels": {"severity": "warning"},
            "annotations": {"summary": f"{dep.prefix}: p99 latency above "
                                       f"{alarms.latency_p99_ms} ms"},
        },
        {
            "alert": "ModelDriftDetected",
            "expr": (f'max(kube_job_status_failed{{namespace="{namespace}", '
                     f'job_name=~"{DRIFT_JOB}-.*"}}) > 0'),
            "labels": {"severity": "warning"},
            "annotations": {"summary": f"{dep.prefix}: the drift check failed; drift score "
                                       "above the project's threshold means retraining"},
        },
    ]
