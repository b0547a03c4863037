"""Monitoring: alarms and thresholds, SNS email, dashboard (the data-quality schedule is in
the endpoint's serving spec: tests/aws/test_aws_endpoint.py)."""

from __future__ import annotations

import json

import pytest
from aws_helpers import stack_context
from slipway.aws import MonitoredEndpoint, Monitoring, MonitoringArgs
from slipway.presets import load_preset
from slipway.testing import ProgramRun, run_pulumi

EMAIL = "ml-team@example.com"


def _run(preset: str, kind: str | None) -> ProgramRun:
    endpoint = None if kind is None else MonitoredEndpoint("churn-ep", kind, ("primary",))  # type: ignore[arg-type]
    return run_pulumi(
        lambda: Monitoring(
            "churn",
            MonitoringArgs(
                stack_context(preset),
                alarm_email=EMAIL,
                endpoint=endpoint,
            ),
        )
    )


def _alarms(run: ProgramRun) -> dict[str, dict]:
    return {
        a.inputs["metricName"]: a.inputs
        for a in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }


def test_realtime_alarms_follow_the_preset(preset_name: str) -> None:
    limits = load_preset(preset_name).alarms
    run = _run(preset_name, "realtime")
    alarms = _alarms(run)
    assert set(alarms) == {
        "ModelLatency",
        "Invocation5XXErrors",
        "Invocation4XXErrors",
        "CPUUtilization",
        "MemoryUtilization",
    }
    latency = alarms["ModelLatency"]
    assert (latency["extendedStatistic"], latency["threshold"]) == (
        "p99",
        limits.latency_p99_ms * 1000,
    )
    assert alarms["Invocation5XXErrors"]["threshold"] == limits.errors_5xx
    assert alarms["Invocation4XXErrors"]["threshold"] == limits.errors_4xx
    assert alarms["CPUUtilization"]["threshold"] == limits.cpu_percent
    assert alarms["MemoryUtilization"]["threshold"] == limits.memory_percent
    topic = run.one("aws:sns/topic:Topic").state["arn"]
    for alarm in alarms.values():
        assert alarm["alarmActions"] == [topic]
        assert alarm["dimensions"] == {"EndpointName": "churn-ep", "VariantName": "primary"}
        assert (alarm["period"], alarm["evaluationPeriods"]) == (
            limits.period_seconds,
            limits.evaluation_periods,
        )
    subscription = run.one("aws:sns/topicSubscription:TopicSubscription").inputs
    assert (subscription["protocol"], subscription["endpoint"], subscription["topic"]) == (
        "email",
        EMAIL,
        topic,
    )


def test_serverless_has_no_cpu_or_memory_alarms_nor_monitor() -> None:
    run = _run("dev", "serverless")
    assert set(_alarms(run)) == {"ModelLatency", "Invocation5XXErrors", "Invocation4XXErrors"}
    assert run.of_type("aws:sagemaker/monitoringSchedule:MonitoringSchedule") == []


def test_dashboard_charts_every_alarmed_metric() -> None:
    run = _run("dev", "realtime")
    dashboard = run.one("aws:cloudwatch/dashboard:Dashboard")
    body = json.loads(dashboard.inputs["dashboardBody"])
    assert {w["properties"]["title"] for w in body["widgets"]} == set(_alarms(run))
    url = run.of_type("slipway:aws:Monitoring")[0].registered_outputs["dashboard_url"]
    assert url.endswith("#dashboards:name=" + dashboard.inputs["dashboardName"])


def test_foundation_only_monitoring_is_a_topic() -> None:
    run = _run("dev", None)
    assert sorted(run.type_counts()) == [
        "aws:sns/topic:Topic",
        "aws:sns/topicSubscription:TopicSubscription",
    ]


def test_bad_alarm_email_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^alarm_email: must be an email address"):
        run_pulumi(lambda: Monitoring("m", MonitoringArgs(stack_context(), alarm_email="nobody")))
