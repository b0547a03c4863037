"""Observability: kube-prometheus-stack, scraping and alerts for the model server, drift checks.

* kube-prometheus-stack (Prometheus operator, Prometheus, Alertmanager, Grafana,
  kube-state-metrics) through ``helm.v3.Release``; it picks up every ServiceMonitor and
  PrometheusRule of the cluster, retention from the preset, Prometheus' data on an encrypted
  gp3 volume (``eks.prometheus_storage_gb``); no scraping of, and no alerts on, the control
  plane components EKS does not expose (``CONTROL_PLANE``);
* a ServiceMonitor scraping the model server's ``/metrics``;
* a PrometheusRule with the preset's thresholds: server errors per period, p99 latency of
  ``/invocations``, drift (the pushed ``slipway_drift_share`` at or above
  ``alarms.drift_score``) and a stale drift check (no result pushed for
  ``eks.drift_stale_hours``: the job fails, or never ran since the CronJob was created);
* a Prometheus Pushgateway (prometheus-community chart, preset version) with its
  ServiceMonitor (``honorLabels``: the pushed ``job`` and ``model`` labels are kept);
* Alertmanager (in the stack) routing critical and warning alerts to Monitoring's SNS
  topic with its native ``sns_configs``; its service account's IRSA role may only
  ``sns:Publish`` to that topic;
* once the model server has an image, a CronJob (preset schedule) running the project's
  ``monitor`` step (same image) on the requests
  captured under ``s3://<bucket>/data-capture/``, pushing its metrics to the Pushgateway
  and its report to ``monitoring/drift/``, with an IRSA role that reads that prefix and
  writes ``monitoring/`` (the champion's profile comes through MLflow: artifacts are proxied);
  with ``retrain_job``, when it finds drift it starts that training Job (``ModelTraining``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from slipway.aws.context import StackContext
from slipway.aws.policy import bucket_prefix_statements, kms_key_statement
from slipway.eks import pods
from slipway.eks.irsa import ROLE_ANNOTATION, Oidc, service_account_role
from slipway.eks.serving import APP, ModelServing
from slipway.envvars import PUSHGATEWAY_URL_ENV
from slipway.names import DRIFT_METRICS_JOB

NAMESPACE = "monitoring"
CHART_REPO = "https://prometheus-community.github.io/helm-charts"
DRIFT_JOB = "drift-check"
SCRAPE_INTERVAL = "30s"
PUSHGATEWAY = "pushgateway"  # the chart's fullnameOverride: its Service's name
PUSHGATEWAY_URL = f"http://{PUSHGATEWAY}.{NAMESPACE}.svc.cluster.local:9091"
ALERTMANAGER_ACCOUNT = "alertmanager"
DROP_RECEIVER = "null"
# Control-plane components EKS runs out of reach: no metrics endpoint for Prometheus, so the
# chart's Down alerts would fire forever (prometheus-community/helm-charts#4106). Disabling
# them drops their Services, ServiceMonitors and rule groups (the chart's template gates).
CONTROL_PLANE = ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy")
# Alertmanager templates (Go text/template, not Helm: the chart's tplConfig is off).
SNS_SUBJECT = "{{ .Status | toUpper }} {{ .CommonLabels.severity }}: {{ .CommonLabels.alertname }}"
SNS_MESSAGE = (
    "{{ range .Alerts }}{{ .Labels.alertname }} ({{ .Status }}): "
    "{{ .Annotations.summary }}\n{{ end }}"
)


@dataclass(frozen=True)
class ObservabilityArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    provider: k8s.Provider
    """Kubernetes provider of the cluster: ``Cluster.provider``."""
    oidc: Oidc
    """The cluster's OIDC provider for IRSA: ``Cluster.oidc``."""
    serving: ModelServing
    """The ``ModelServing`` whose Service is scraped and alerted on."""
    bucket_arn: pulumi.Input[str]
    """``ArtifactStore.bucket_arn``: the drift check reads captures and MLflow."""
    kms_key_arn: pulumi.Input[str]
    """Project key (decrypts captures, encrypts reports)."""
    alarm_topic_arn: pulumi.Input[str]
    """``Monitoring.topic_arn``: Alertmanager publishes there."""
    capture_uri: pulumi.Input[str]
    """``s3://`` prefix of the captured requests the drift check reads."""
    tracking_uri: pulumi.Input[str]
    """MLflow holding the champion's profile: ``Tracking.tracking_uri``."""
    monitor_command: Sequence[str]
    """The project's CLI, e.g. ``("churn_model", "monitor")``."""
    storage_class: pulumi.Input[str] = pods.STORAGE_CLASS
    """Default ``pods.STORAGE_CLASS`` (its name). StorageClass of Prometheus' volume: pass
    ``Cluster.storage_class``, which also orders the release after the EBS CSI driver."""
    retrain_job: str | None = None
    """Default ``None``. ``<namespace>/<cronjob>`` whose Job the drift check starts when it
    finds drift (``ModelTraining``: its service account may create exactly that Job)."""


class Observability(pulumi.ComponentResource):
    """Outputs: grafana_admin_password (secret), alert_names."""

    grafana_admin_password: pulumi.Output[str]

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:eks:Observability", name, None, opts)
        ctx = args.context
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        # node-exporter needs the host network and PID namespace: a privileged namespace.
        namespace = pods.namespace(name, ctx, NAMESPACE, "privileged", k8s_opts)
        password = random.RandomPassword(
            f"{name}-grafana-password",
            length=24,
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-prometheus",
            name="kube-prometheus-stack",
            chart="kube-prometheus-stack",
            version=ctx.preset.eks.prometheus_chart_version,
            repository_opts={"repo": CHART_REPO},
            namespace=NAMESPACE,
            values=stack_values(
                ctx,
                pulumi.Output.secret(password.result),
                self._alertmanager_role(name, args).arn,
                args.alarm_topic_arn,
                args.storage_class,
            ),
            atomic=True,
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[namespace]
            ),
        )
        # ServiceMonitor and PrometheusRule are CRDs the release installs.
        crd_opts = pulumi.ResourceOptions(
            parent=self, provider=args.provider, depends_on=[self.release]
        )
        labels = pods.labels(ctx, APP)
        k8s.apiextensions.CustomResource(
            f"{name}-service-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata={"name": APP, "namespace": args.serving.namespace, "labels": labels},
            spec={
                "selector": {"matchLabels": {"app.kubernetes.io/name": APP}},
                "namespaceSelector": {"matchNames": [args.serving.namespace]},
                "endpoints": [{"port": "http", "path": "/metrics", "interval": SCRAPE_INTERVAL}],
            },
            opts=crd_opts,
        )
        rules = alert_rules(ctx, args.serving.namespace)
        k8s.apiextensions.CustomResource(
            f"{name}-alerts",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={
                "name": f"{APP}-alerts",
                "namespace": args.serving.namespace,
                "labels": labels,
            },
            spec={"groups": [{"name": ctx.prefix, "rules": rules}]},
            opts=crd_opts,
        )
        self._pushgateway(name, args)
        self._drift_check(name, args)
        self.grafana_admin_password = pulumi.Output.secret(password.result)  # type: ignore[arg-type]
        self.register_outputs(
            {
                "grafana_admin_password": self.grafana_admin_password,
                "alert_names": [rule["alert"] for rule in rules],
            }
        )

    def _alertmanager_role(self, name: str, args: ObservabilityArgs) -> aws.iam.Role:
        """IRSA role of Alertmanager's service account: publish to the alarm topic, nothing else."""
        return service_account_role(
            f"{name}-alertmanager",
            args.context,
            args.oidc,
            NAMESPACE,
            ALERTMANAGER_ACCOUNT,
            [
                {
                    "Sid": "PublishAlerts",
                    "Effect": "Allow",
                    "Action": ["sns:Publish"],
                    "Resource": [args.alarm_topic_arn],
                }
            ],
            parent=self,
        )

    def _pushgateway(self, name: str, args: ObservabilityArgs) -> None:
        """The Pushgateway the drift CronJob pushes to; after the stack (its ServiceMonitor
        CRD)."""
        k8s.helm.v3.Release(
            f"{name}-pushgateway",
            name=PUSHGATEWAY,
            chart="prometheus-pushgateway",
            version=args.context.preset.eks.pushgateway_chart_version,
            repository_opts={"repo": CHART_REPO},
            namespace=NAMESPACE,
            values=pushgateway_values(),
            atomic=True,
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[self.release]
            ),
        )

    def _drift_check(self, name: str, args: ObservabilityArgs) -> None:
        ctx = args.context
        namespace = args.serving.namespace
        opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        role = service_account_role(
            f"{name}-drift",
            ctx,
            args.oidc,
            namespace,
            DRIFT_JOB,
            # Reads captures; writes its reports under monitoring/. The champion and its
            # reference profile come through MLflow's HTTP API (artifacts are proxied).
            [
                *bucket_prefix_statements(args.bucket_arn, ("capture",), ("monitoring",)),
                kms_key_statement(args.kms_key_arn),
            ],
            parent=self,
        )
        labels = {**pods.labels(ctx, DRIFT_JOB), "app.kubernetes.io/component": "monitoring"}
        meta = {"name": DRIFT_JOB, "namespace": namespace, "labels": labels}
        account = k8s.core.v1.ServiceAccount(
            f"{name}-drift-account",
            metadata={**meta, "annotations": {ROLE_ANNOTATION: role.arn}},
            opts=opts,
        )
        if args.serving.image is None:
            return  # no image pushed yet: the CronJob comes with the model server's image
        container = {
            "name": DRIFT_JOB,
            "image": args.serving.image,
            "command": [
                *args.monitor_command,
                "--input",
                args.capture_uri,
                "--publish",
                "prometheus",
                "--upload-report",
                *(["--retrain-job", args.retrain_job] if args.retrain_job else []),
            ],
            "env": [
                {"name": "MLFLOW_TRACKING_URI", "value": args.tracking_uri},
                {"name": PUSHGATEWAY_URL_ENV, "value": PUSHGATEWAY_URL},
                {"name": "TMPDIR", "value": "/tmp"},
            ],
            "workingDir": "/tmp",
            "resources": pods.resources(ctx.preset.eks.serving),
            "securityContext": pods.container_security(),
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }
        k8s.batch.v1.CronJob(
            f"{name}-drift-check",
            metadata=meta,
            spec={
                "schedule": ctx.preset.eks.monitor_schedule,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "spec": {
                        "backoffLimit": 0,  # exit 3 means "retraining due": do not retry
                        "ttlSecondsAfterFinished": 86400,
                        "template": {
                            "metadata": {"labels": labels},
                            "spec": {
                                "serviceAccountName": account.metadata["name"],
                                "restartPolicy": "Never",
                                "securityContext": pods.pod_security(),
                                "containers": [container],
                                "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "2Gi"}}],
                            },
                        },
                    }
                },
            },
            opts=opts,
        )


def stack_values(
    ctx: StackContext,
    grafana_password: pulumi.Input[str],
    alertmanager_role_arn: pulumi.Input[str],
    alarm_topic_arn: pulumi.Input[str],
    storage_class: pulumi.Input[str] = pods.STORAGE_CLASS,
) -> dict[str, Any]:
    """Values of kube-prometheus-stack: select every ServiceMonitor and rule, preset retention
    on a persistent volume, no control-plane scraping, Alertmanager routing to the alarm topic
    under its own IRSA service account."""
    eks = ctx.preset.eks
    return {
        "prometheus": {
            "prometheusSpec": {
                "retention": f"{eks.prometheus_retention_days}d",
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": storage_class,
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {
                                "requests": {"storage": f"{eks.prometheus_storage_gb}Gi"}
                            },
                        }
                    }
                },
            }
        },
        **{component: {"enabled": False} for component in CONTROL_PLANE},
        "grafana": {"adminPassword": grafana_password},
        "alertmanager": {
            "enabled": True,
            "serviceAccount": {
                "create": True,
                "name": ALERTMANAGER_ACCOUNT,
                "annotations": {ROLE_ANNOTATION: alertmanager_role_arn},
            },
            "config": pulumi.Output.from_input(alarm_topic_arn).apply(
                lambda arn: alertmanager_config(ctx.prefix, arn)
            ),
        },
    }


def alertmanager_config(prefix: str, topic_arn: str) -> dict[str, Any]:
    """Alertmanager routing: critical and warning alerts to the SNS topic, the rest dropped.

    Helm merges this over the chart's default ``alertmanager.config`` (its inhibit rules and
    template path stay). Credentials: none in the config -- Alertmanager's SNS notifier falls
    back to the AWS default chain, i.e. the IRSA web identity of its service account.
    """
    region = topic_arn.split(":")[3]

    sns = {
        "topic_arn": topic_arn,
        "sigv4": {"region": region},
        "send_resolved": True,
        "subject": f"[{prefix}] " + SNS_SUBJECT,
        "message": SNS_MESSAGE,
    }
    receivers = {"critical": "sns-critical", "warning": "sns-warning"}
    return {
        "route": {
            "receiver": DROP_RECEIVER,  # info/none severities and anything unlabelled
            "group_by": ["alertname", "namespace"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "12h",
            "routes": [
                {"receiver": DROP_RECEIVER, "matchers": ['alertname =~ "Watchdog|InfoInhibitor"']},
                {
                    "receiver": receivers["critical"],
                    "matchers": ['severity = "critical"'],
                    "repeat_interval": "1h",
                },
                {"receiver": receivers["warning"], "matchers": ['severity = "warning"']},
            ],
        },
        "receivers": [
            {"name": DROP_RECEIVER},
            *({"name": receiver, "sns_configs": [sns]} for receiver in receivers.values()),
        ],
    }


def pushgateway_values() -> dict[str, Any]:
    """Values of prometheus-pushgateway: a fixed Service name, scraped by the stack's
    Prometheus with the pushed labels kept, locked-down container, small fixed resources."""
    return {
        "fullnameOverride": PUSHGATEWAY,
        "serviceMonitor": {
            "enabled": True,
            "namespace": NAMESPACE,
            "honorLabels": True,
            "interval": SCRAPE_INTERVAL,
        },
        "containerSecurityContext": pods.container_security(),
        "resources": {
            "requests": {"cpu": "10m", "memory": "32Mi"},
            "limits": {"cpu": "200m", "memory": "64Mi"},
        },
    }


def alert_rules(ctx: StackContext, namespace: str) -> list[dict[str, Any]]:
    """Error, latency and drift alerts with the preset's thresholds and periods."""
    alarms = ctx.preset.alarms
    window = f"{alarms.period_seconds}s"
    hold = f"{alarms.period_seconds * alarms.evaluation_periods}s"
    selector = f'namespace="{namespace}", endpoint="/invocations"'
    return [
        {
            "alert": "ModelServerErrors",
            "expr": (
                f'sum(increase(slipway_request_errors_total{{{selector}, kind="server"}}'
                f"[{window}])) > {alarms.errors_5xx}"
            ),
            "for": hold,
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": f"{ctx.prefix}: more than {alarms.errors_5xx} server errors per {window}"
            },
        },
        {
            "alert": "ModelLatencyP99High",
            "expr": (
                "histogram_quantile(0.99, sum by (le) (rate("
                f"slipway_request_duration_seconds_bucket{{{selector}}}[{window}]))) > "
                f"{alarms.latency_p99_ms / 1000}"
            ),
            "for": hold,
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": f"{ctx.prefix}: p99 latency above {alarms.latency_p99_ms} ms"
            },
        },
        *drift_rules(ctx, namespace),
    ]


def drift_rules(ctx: StackContext, namespace: str) -> list[dict[str, Any]]:
    """Drift share at or above the preset's ``drift_score`` (the last pushed result holds
    until the next run), and no result for ``drift_stale_hours``: the last push time, or
    the CronJob's creation time while nothing was ever pushed."""
    pushed = f'job="{DRIFT_METRICS_JOB}"'
    stale = ctx.preset.eks.drift_stale_hours * 3600
    created = f'kube_cronjob_created{{namespace="{namespace}", cronjob="{DRIFT_JOB}"}}'
    return [
        {
            "alert": "ModelDriftDetected",
            "expr": (
                f"max by (model) (slipway_drift_share{{{pushed}}}) >= "
                f"{ctx.preset.alarms.drift_score}"
            ),
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": (
                    f"{ctx.prefix}: {{{{ $value | humanizePercentage }}}} of the input features "
                    f"of model {{{{ $labels.model }}}} drifted (limit "
                    f"{ctx.preset.alarms.drift_score:.0%})"
                )
            },
        },
        {
            "alert": "ModelDriftCheckStale",
            "expr": (
                f"time() - max(slipway_drift_last_run_timestamp_seconds{{{pushed}}} "
                f"or on() {created}) > {stale}"
            ),
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": (
                    f"{ctx.prefix}: no drift result for {ctx.preset.eks.drift_stale_hours} h; "
                    f"see the {DRIFT_JOB} jobs in namespace {namespace}"
                )
            },
        },
    ]
