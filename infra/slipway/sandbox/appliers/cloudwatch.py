"""CloudWatch metric alarm and dashboard."""

from __future__ import annotations

from typing import Any

from slipway.sandbox.appliers.base import (
    Applied,
    Applier,
    Declared,
    call,
    ignore_missing,
    pascal,
    tag_list,
)
from slipway.sandbox.server import AwsClients

ALARM_KEYS = (
    "alarmDescription",
    "alarmActions",
    "okActions",
    "insufficientDataActions",
    "metricName",
    "namespace",
    "statistic",
    "extendedStatistic",
    "period",
    "evaluationPeriods",
    "datapointsToAlarm",
    "threshold",
    "comparisonOperator",
    "treatMissingData",
    "unit",
)


def _create_alarm(aws: AwsClients, d: Declared) -> Applied:
    request = {
        key[:1].upper() + key[1:]: pascal(d.inputs[key]) for key in ALARM_KEYS if key in d.inputs
    }
    if "OkActions" in request:
        request["OKActions"] = request.pop("OkActions")
    dimensions = d.inputs.get("dimensions") or {}
    request["Dimensions"] = [{"Name": k, "Value": v} for k, v in sorted(dimensions.items())]
    call(
        d,
        "metricName",
        aws("cloudwatch").put_metric_alarm,
        AlarmName=d.physical,
        Tags=tag_list(d),
        **request,
    )
    alarm = aws("cloudwatch").describe_alarms(AlarmNames=[d.physical])["MetricAlarms"][0]
    return Applied(d.physical, {"name": d.physical, "arn": alarm["AlarmArn"]})


def _delete_alarm(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    ignore_missing(aws("cloudwatch").delete_alarms, AlarmNames=[id_])


def _create_dashboard(aws: AwsClients, d: Declared) -> Applied:
    call(
        d,
        "dashboardBody",
        aws("cloudwatch").put_dashboard,
        DashboardName=d.physical,
        DashboardBody=d.inputs["dashboardBody"],
    )
    arn = aws("cloudwatch").get_dashboard(DashboardName=d.physical)["DashboardArn"]
    return Applied(d.physical, {"dashboardName": d.physical, "dashboardArn": arn, "arn": arn})


def _delete_dashboard(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    ignore_missing(aws("cloudwatch").delete_dashboards, DashboardNames=[id_])


APPLIERS = {
    "aws:cloudwatch/metricAlarm:MetricAlarm": Applier(_create_alarm, _delete_alarm),
    "aws:cloudwatch/dashboard:Dashboard": Applier(_create_dashboard, _delete_dashboard),
}
