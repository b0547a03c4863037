"""Drift on EKS: the Pushgateway, the CronJob pushing to it and the rules on what it pushes."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from slipway.drift import build_profile, detect_drift, drift_registry
from slipway.eks.irsa import ROLE_ANNOTATION
from slipway.eks.manifests import manifests, reveal
from slipway.names import DRIFT_METRICS_JOB
from slipway.presets import load_preset
from slipway.testing import ProgramRun, RecordedResource, iter_policy_statements

METRIC = re.compile(r"\b(slipway_drift_\w+)\{job=\"([^\"]+)\"\}")


def _release(run: ProgramRun, chart: str) -> RecordedResource:
    return next(
        r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == chart
    )


def _manifest(run: ProgramRun, kind: str, name: str | None = None) -> dict[str, Any]:
    """The first manifest of ``kind`` (named ``name``: a run declares several CronJobs)."""
    return next(
        m for m in manifests(run) if m["kind"] == kind and name in (None, m["metadata"]["name"])
    )


def test_pushgateway_is_pinned_scraped_with_its_labels_and_locked_down(
    eks_run: ProgramRun, preset_name: str
) -> None:
    gateway = _release(eks_run, "prometheus-pushgateway")
    stack = _release(eks_run, "kube-prometheus-stack")
    assert gateway.inputs["version"] == load_preset(preset_name).eks.pushgateway_chart_version
    assert gateway.inputs["repositoryOpts"] == stack.inputs["repositoryOpts"]
    assert gateway.inputs["namespace"] == stack.inputs["namespace"]
    values = reveal(gateway.inputs["values"])
    monitor = values["serviceMonitor"]
    assert (monitor["enabled"], monitor["honorLabels"]) == (True, True)
    # kube-prometheus-stack's Prometheus selects every ServiceMonitor (no label selector).
    assert (
        reveal(stack.inputs["values"])["prometheus"]["prometheusSpec"][
            "serviceMonitorSelectorNilUsesHelmValues"
        ]
        is False
    )
    security = values["containerSecurityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}


def test_the_cronjob_pushes_to_the_gateways_service_and_uploads_its_report(
    eks_run: ProgramRun,
) -> None:
    gateway = _release(eks_run, "prometheus-pushgateway")
    service = reveal(gateway.inputs["values"])["fullnameOverride"]
    container = _manifest(eks_run, "CronJob", "drift-check")["spec"]["jobTemplate"]["spec"][
        "template"
    ]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["SLIPWAY_PUSHGATEWAY_URL"] == (
        f"http://{service}.{gateway.inputs['namespace']}.svc.cluster.local:9091"
    )
    command = container["command"]
    assert command[command.index("--publish") + 1] == "prometheus"
    assert "--upload-report" in command


def test_the_drift_job_reads_captures_and_writes_only_reports(
    eks_run: ProgramRun,
) -> None:
    account = next(
        m
        for m in manifests(eks_run)
        if m["kind"] == "ServiceAccount" and m["metadata"]["name"] == "drift-check"
    )
    arn = account["metadata"]["annotations"][ROLE_ANNOTATION]
    role = next(r for r in eks_run.of_type("aws:iam/role:Role") if r.state["arn"] == arn)
    policy = next(
        p
        for p in eks_run.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.state["name"]
    )
    statements = {s["Sid"]: s for s in iter_policy_statements(policy.inputs["policy"])}
    reads = {r.split("/", 1)[1] for r in statements["ReadObjects"]["Resource"]}
    # the profile is an MLflow artifact, served by MLflow (proxied artifacts): no mlflow/ read
    assert reads == {"data-capture/*", "monitoring/*"}
    writes = {r.split("/", 1)[1] for r in statements["WriteObjects"]["Resource"]}
    assert writes == {"monitoring/*"}


def _rules(run: ProgramRun) -> dict[str, dict[str, Any]]:
    rule = _manifest(run, "PrometheusRule")
    return {r["alert"]: r for r in rule["spec"]["groups"][0]["rules"]}


def test_drift_rules_use_the_pushed_share_and_timestamp_with_preset_limits(
    eks_run: ProgramRun, preset_name: str
) -> None:
    preset = load_preset(preset_name)
    rules = _rules(eks_run)
    drift, stale = rules["ModelDriftDetected"], rules["ModelDriftCheckStale"]
    assert drift["expr"].endswith(f">= {preset.alarms.drift_score}")
    assert "slipway_drift_share" in drift["expr"]
    assert stale["expr"].endswith(f"> {preset.eks.drift_stale_hours * 3600}")
    assert "slipway_drift_last_run_timestamp_seconds" in stale["expr"]
    # Before the first push the CronJob's age counts, so "never ran" also goes stale.
    cron = _manifest(eks_run, "CronJob", "drift-check")["metadata"]
    assert (
        f'kube_cronjob_created{{namespace="{cron["namespace"]}", cronjob="{cron["name"]}"}}'
    ) in stale["expr"]
    assert "kube_job_status_failed" not in drift["expr"]


def test_rules_name_metrics_the_monitor_step_actually_pushes(eks_run: ProgramRun) -> None:
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0] * 50})
    pushed = {
        family.name
        for family in drift_registry(detect_drift(build_profile(frame), frame)).collect()
    }
    named = [m for rule in _rules(eks_run).values() for m in METRIC.findall(rule["expr"])]
    assert {name for name, _ in named} == {
        "slipway_drift_share",
        "slipway_drift_last_run_timestamp_seconds",
    }
    for name, job in named:
        assert name in pushed and job == DRIFT_METRICS_JOB
