"""Monitoring: alarms, a dashboard and an SNS topic; data-quality checks on realtime endpoints.

Alarms (thresholds from the preset's ``alarms``): ModelLatency p99, Invocation5XXErrors,
Invocation4XXErrors per variant, plus CPU and memory utilization on realtime variants.
With ``drift_model``, a drift alarm on ``Slipway/Drift`` ``DriftedShare`` of that model
(published by the project's ``monitor --publish cloudwatch``) at or above the preset's
``alarms.drift_score``, and model quality alarms on ``Slipway/ModelQuality`` ``Accuracy``
and ``RocAuc`` below ``alarms.min_accuracy``/``min_roc_auc`` (labelled requests,
``slipway.quality``); their ARNs (``retrain_alarm_arns``) start the training pipeline.
They have no ``EndpointName`` dimension, so a deploy's rollback
(``slipway.deploy.rollout.endpoint_alarms``) never uses them: they are about the inputs
and the labels, not about a new model version. Alarm and OK notifications go to an SNS
topic with an email subscription. The alarms name the endpoint before it exists (the first
release creates it, ``slipway.aws.endpoint``); CloudWatch accepts that. The Model Monitor
schedule belongs to the endpoint's serving spec (``slipway.aws.endpoint.DataQuality``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from slipway.alarms import VariantAlarm, variant_alarms
from slipway.aws.context import StackContext
from slipway.aws.endpoint import EndpointKind
from slipway.names import DRIFT_NAMESPACE, QUALITY_NAMESPACE

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
DRIFT_PERIOD_SECONDS = 3600


@dataclass(frozen=True)
class MonitoredEndpoint:
    name: pulumi.Input[str]
    """Endpoint name: ``Endpoint.endpoint_name``."""
    kind: EndpointKind
    """``realtime`` or ``serverless`` (serverless has no CPU and memory alarms)."""
    variants: tuple[str, ...]
    """Variant names to alarm on: ``Endpoint.variant_names``."""


@dataclass(frozen=True)
class MonitoringArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    alarm_email: str
    """Address subscribed to the alarm topic (the recipient confirms by email)."""
    endpoint: MonitoredEndpoint | None = None
    """Default ``None``: topic only, no endpoint alarms or dashboard."""
    drift_model: str | None = None
    """Default ``None``: no drift alarm. The ``Model`` dimension the drift check publishes
    under (the project's config ``model.name``)."""

    def validate(self) -> None:
        if not EMAIL.match(self.alarm_email):
            raise ValueError(f"alarm_email: must be an email address (got {self.alarm_email!r})")
        if self.drift_model is not None and not self.drift_model.strip():
            raise ValueError("drift_model: must be a model name, not empty")


class Monitoring(pulumi.ComponentResource):
    """Outputs: topic_arn, dashboard_url, alarm_names (the endpoint's), drift_alarm_name,
    retrain_alarm_arns (drift and quality)."""

    topic_arn: pulumi.Output[str]
    dashboard_url: pulumi.Output[str] | None
    drift_alarm_name: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args.validate()
        super().__init__("slipway:aws:Monitoring", name, None, opts)
        ctx = args.context
        child = pulumi.ResourceOptions(parent=self)
        topic = aws.sns.Topic(f"{name}-alarms", tags=ctx.tags, opts=child)
        aws.sns.TopicSubscription(
            f"{name}-alarms-email",
            topic=topic.arn,
            protocol="email",
            endpoint=args.alarm_email,
            opts=child,
        )
        self.topic_arn = topic.arn
        self.dashboard_url = None
        alarm_names: list[pulumi.Output[str]] = []
        if args.endpoint is not None:
            for variant in args.endpoint.variants:
                for alarm in variant_alarms(ctx.preset.alarms, args.endpoint.kind):
                    alarm_names.append(
                        self._alarm(name, ctx, alarm, args.endpoint.name, variant, topic.arn)
                    )
            self.dashboard_url = self._dashboard(name, ctx, args.endpoint)
        self.drift_alarm_name = None
        self.retrain_alarm_arns: list[pulumi.Output[str]] = []
        if args.drift_model is not None:
            drift = self._drift_alarm(name, ctx, args.drift_model, topic.arn)
            quality = self._quality_alarms(name, ctx, args.drift_model, topic.arn)
            self.drift_alarm_name = drift.name
            self.retrain_alarm_arns = [drift.arn, *(a.arn for a in quality)]
        self.register_outputs(
            {
                "topic_arn": self.topic_arn,
                "dashboard_url": self.dashboard_url,
                "alarm_names": alarm_names,
                "drift_alarm_name": self.drift_alarm_name,
                "retrain_alarm_arns": self.retrain_alarm_arns,
            }
        )

    def _drift_alarm(
        self, name: str, ctx: StackContext, model: str, topic_arn: pulumi.Output[str]
    ) -> aws.cloudwatch.MetricAlarm:
        """DriftedShare of ``model`` >= the preset's drift_score. The check runs on a schedule
        (daily by default), so between two runs there is no data: ``ignore`` keeps the last
        verdict (a drifted model stays in ALARM until a check says otherwise) instead of
        flapping to OK or INSUFFICIENT_DATA every hour."""
        return self._notifying_alarm(
            f"{name}-drift",
            ctx,
            topic_arn,
            alarm_description=f"{ctx.prefix}: share of drifted input features of model {model}",
            namespace=DRIFT_NAMESPACE,
            metric_name="DriftedShare",
            dimensions={"Model": model},
            statistic="Maximum",
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=ctx.preset.alarms.drift_score,
            period=DRIFT_PERIOD_SECONDS,
            evaluation_periods=1,
            treat_missing_data="ignore",
        )

    def _quality_alarms(
        self, name: str, ctx: StackContext, model: str, topic_arn: pulumi.Output[str]
    ) -> list[aws.cloudwatch.MetricAlarm]:
        """Accuracy and ROC AUC of ``model`` on labelled requests (``slipway.quality``) below
        the preset's minimums; like drift, a scheduled check: missing data keeps the verdict."""
        limits = ctx.preset.alarms
        return [
            self._notifying_alarm(
                f"{name}-quality-{key}",
                ctx,
                topic_arn,
                alarm_description=f"{ctx.prefix}: {metric} of model {model} on labelled requests",
                namespace=QUALITY_NAMESPACE,
                metric_name=metric,
                dimensions={"Model": model},
                statistic="Minimum",
                comparison_operator="LessThanThreshold",
                threshold=threshold,
                period=DRIFT_PERIOD_SECONDS,
                evaluation_periods=1,
                treat_missing_data="ignore",
            )
            for key, metric, threshold in (
                ("accuracy", "Accuracy", limits.min_accuracy),
                ("roc-auc", "RocAuc", limits.min_roc_auc),
            )
        ]

    def _notifying_alarm(
        self, resource_name: str, ctx: StackContext, topic_arn: pulumi.Output[str], **settings: Any
    ) -> aws.cloudwatch.MetricAlarm:
        """A metric alarm of ``settings`` sending ALARM and OK to the topic."""
        return aws.cloudwatch.MetricAlarm(
            resource_name,
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
            tags=ctx.tags,
            opts=pulumi.ResourceOptions(parent=self),
            **settings,
        )

    def _alarm(
        self,
        name: str,
        ctx: StackContext,
        alarm: VariantAlarm,
        endpoint_name: pulumi.Input[str],
        variant: str,
        topic_arn: pulumi.Output[str],
    ) -> pulumi.Output[str]:
        limits = ctx.preset.alarms
        return self._notifying_alarm(
            f"{name}-{variant}-{alarm.key}",
            ctx,
            topic_arn,
            alarm_description=f"{ctx.prefix}: {alarm.metric} of variant {variant}",
            namespace=alarm.namespace,
            metric_name=alarm.metric,
            dimensions={"EndpointName": endpoint_name, "VariantName": variant},
            statistic=alarm.statistic,
            extended_statistic=alarm.extended_statistic,
            comparison_operator="GreaterThanThreshold",
            threshold=alarm.threshold,
            period=limits.period_seconds,
            evaluation_periods=limits.evaluation_periods,
            treat_missing_data="notBreaching",
        ).name

    def _dashboard(
        self, name: str, ctx: StackContext, endpoint: MonitoredEndpoint
    ) -> pulumi.Output[str]:
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        body = pulumi.Output.all(endpoint.name, region).apply(
            lambda values: json.dumps(_dashboard_body(ctx, endpoint, values[0], values[1]))
        )
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=ctx.prefix,
            dashboard_body=body,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return pulumi.Output.concat(
            "https://",
            region,
            ".console.aws.amazon.com/cloudwatch/home?region=",
            region,
            "#dashboards:name=",
            dashboard.dashboard_name,
        )


def _dashboard_body(
    ctx: StackContext, endpoint: MonitoredEndpoint, endpoint_name: str, region: str
) -> dict[str, Any]:
    widgets = []
    for index, alarm in enumerate(variant_alarms(ctx.preset.alarms, endpoint.kind)):
        metrics = [
            [alarm.namespace, alarm.metric, "EndpointName", endpoint_name, "VariantName", v]
            for v in endpoint.variants
        ]
        widgets.append(
            {
                "type": "metric",
                "x": (index % 2) * 12,
                "y": (index // 2) * 6,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": alarm.metric,
                    "region": region,
                    "metrics": metrics,
                    "stat": alarm.extended_statistic or alarm.statistic,
                    "period": ctx.preset.alarms.period_seconds,
                },
            }
        )
    return {"widgets": widgets}
