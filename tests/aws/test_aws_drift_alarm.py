"""The drift alarm of Monitoring: the published drift share against the preset, and never
part of a deploy's rollback alarms."""

from __future__ import annotations

from typing import Any

import pytest
from aws_helpers import stack_context
from moto import mock_aws
from slipway.aws import MonitoredEndpoint, Monitoring, MonitoringArgs
from slipway.deploy.rollout import endpoint_alarms
from slipway.names import QUALITY_NAMESPACE
from slipway.presets import load_preset
from slipway.testing import ProgramRun, RecordedResource, run_pulumi

ENDPOINT = "churn-ep"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def _run(preset: str = "dev", drift_model: str | None = "churn") -> ProgramRun:
    return run_pulumi(
        lambda: Monitoring(
            "churn",
            MonitoringArgs(
                stack_context(preset),
                alarm_email="ml@example.com",
                endpoint=MonitoredEndpoint(ENDPOINT, "realtime", ("primary",)),
                drift_model=drift_model,
            ),
        )
    )


def _drift_alarms(run: ProgramRun) -> list[RecordedResource]:
    return [a for a in run.of_type(ALARM) if a.inputs["namespace"] == "Slipway/Drift"]


def test_drift_alarm_watches_the_models_drifted_share_at_the_preset_threshold(
    preset_name: str,
) -> None:
    run = _run(preset_name)
    [alarm] = _drift_alarms(run)
    inputs = alarm.inputs
    assert (inputs["metricName"], inputs["dimensions"]) == ("DriftedShare", {"Model": "churn"})
    assert inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert inputs["threshold"] == load_preset(preset_name).alarms.drift_score
    assert inputs["treatMissingData"] == "ignore"
    topic = run.one("aws:sns/topic:Topic").state["arn"]
    assert inputs["alarmActions"] == inputs["okActions"] == [topic]
    outputs = run.one("slipway:aws:Monitoring").registered_outputs
    assert outputs["drift_alarm_name"] == alarm.state["name"]
    assert alarm.state["name"] not in outputs["alarm_names"]


def test_no_model_no_drift_alarm() -> None:
    run = _run(drift_model=None)
    assert _drift_alarms(run) == []
    assert run.one("slipway:aws:Monitoring").registered_outputs.get("drift_alarm_name") is None
    with pytest.raises(ValueError, match=r"^drift_model: must be a model name"):
        MonitoringArgs(stack_context(), alarm_email="ml@example.com", drift_model=" ").validate()


def _put_alarm(cloudwatch: Any, alarm: RecordedResource) -> None:
    """Create in moto the alarm the program declared, as `pulumi up` would."""
    inputs = alarm.inputs
    statistic = (
        {"ExtendedStatistic": inputs["extendedStatistic"]}
        if inputs.get("extendedStatistic")
        else {"Statistic": inputs["statistic"]}
    )
    cloudwatch.put_metric_alarm(
        AlarmName=alarm.state["name"],
        Namespace=inputs["namespace"],
        MetricName=inputs["metricName"],
        ComparisonOperator=inputs["comparisonOperator"],
        Dimensions=[{"Name": k, "Value": v} for k, v in inputs["dimensions"].items()],
        Threshold=inputs["threshold"],
        Period=int(inputs["period"]),
        EvaluationPeriods=int(inputs["evaluationPeriods"]),
        **statistic,
    )


def test_a_deploy_rolls_back_on_the_endpoint_alarms_but_never_on_drift() -> None:
    """Nor on model quality: like drift, the quality alarms (labelled requests) are about the
    data, not the new version, and start a retrain instead (issue 14)."""
    run = _run("prod")
    declared = run.of_type(ALARM)
    [drift] = _drift_alarms(run)
    quality = [a for a in declared if a.inputs["namespace"] == QUALITY_NAMESPACE]
    assert len(quality) == 2  # accuracy, ROC AUC
    with mock_aws():
        import boto3

        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        for alarm in declared:
            _put_alarm(cloudwatch, alarm)
        rollback = endpoint_alarms(cloudwatch, ENDPOINT)
    retrain = [drift, *quality]
    assert not {a.state["name"] for a in retrain} & set(rollback)
    assert sorted(rollback) == sorted(a.state["name"] for a in declared if a not in retrain)
    assert len(rollback) == 5
