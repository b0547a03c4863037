"""Monitoring: alarms and thresholds, SNS email, dashboard, data-quality schedule."""

from __future__ import annotations

import json

import pytest
from aws_helpers import stack_context
from slipway.aws import EndpointConfigError, MonitoredEndpoint, Monitoring, MonitoringArgs
from slipway.aws.monitoring import DataQuality
from slipway.presets import load_preset
from slipway.testing import ProgramRun, run_pulumi

EMAIL = "ml-team@example.com"
DQ = DataQuality(
    baseline_uri="s3://churn-bucket/monitoring/baseline/",
    reports_uri="s3://churn-bucket/monitoring/reports",
    role_arn="arn:aws:iam::123456789012:role/exec",
    kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/0000",
)


def _run(preset: str, kind: str | None, data_quality: DataQuality | None = None) -> ProgramRun:
    endpoint = None if kind is None else MonitoredEndpoint("churn-ep", kind, ("primary",))  # type: ignore[arg-type]
    return run_pulumi(
        lambda: Monitoring(
            "churn",
            MonitoringArgs(
                stack_context(preset),
                alarm_email=EMAIL,
                endpoint=endpoint,
                data_quality=data_quality,
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


def test_data_quality_schedule_uses_the_baseline_and_preset(preset_name: str) -> None:
    sagemaker = load_preset(preset_name).sagemaker
    run = _run(preset_name, "realtime", DQ)
    job = run.one("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs
    baseline = job["dataQualityBaselineConfig"]
    assert baseline["constraintsResource"]["s3Uri"] == (
        "s3://churn-bucket/monitoring/baseline/constraints.json"
    )
    assert baseline["statisticsResource"]["s3Uri"] == (
        "s3://churn-bucket/monitoring/baseline/statistics.json"
    )
    assert job["dataQualityJobInput"]["endpointInput"]["endpointName"] == "churn-ep"
    cluster = job["jobResources"]["clusterConfig"]
    assert (cluster["instanceType"], cluster["volumeKmsKeyId"]) == (
        sagemaker.monitoring_instance_type,
        DQ.kms_key_arn,
    )
    assert "sagemaker-model-monitor-analyzer" in job["dataQualityAppSpecification"]["imageUri"]
    schedule = run.one("aws:sagemaker/monitoringSchedule:MonitoringSchedule").inputs
    config = schedule["monitoringScheduleConfig"]
    assert config["scheduleConfig"]["scheduleExpression"] == sagemaker.monitoring_schedule
    assert (
        config["monitoringJobDefinitionName"]
        == run.one("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").state["name"]
    )


def test_foundation_only_monitoring_is_a_topic() -> None:
    run = _run("dev", None)
    assert sorted(run.type_counts()) == [
        "aws:sns/topic:Topic",
        "aws:sns/topicSubscription:TopicSubscription",
    ]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("serverless", "^data_quality: AWS does not support Model Monitor on serverless"),
        (None, "^data_quality: needs an endpoint"),
    ],
)
def test_data_quality_refused_without_a_realtime_endpoint(kind: str | None, message: str) -> None:
    with pytest.raises(EndpointConfigError, match=message):
        _run("dev", kind, DQ)


def test_bad_alarm_email_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^alarm_email: must be an email address"):
        run_pulumi(lambda: Monitoring("m", MonitoringArgs(stack_context(), alarm_email="nobody")))
