"""The CloudWatch alarms of an endpoint variant, from a preset's ``alarms`` limits.

A light module (presets only): ``slipway.aws.monitoring`` declares these alarms, and
``slipway.testing.moto_stack`` creates the same ones in moto for the deploy tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from slipway.presets import Alarms


@dataclass(frozen=True)
class VariantAlarm:
    key: str
    metric: str
    namespace: str
    threshold: float
    statistic: str | None = None
    extended_statistic: str | None = None


def variant_alarms(limits: Alarms, kind: Literal["realtime", "serverless"]) -> list[VariantAlarm]:
    """ModelLatency p99, 5XX and 4XX errors; CPU and memory utilization on realtime variants."""
    alarms = [
        # ModelLatency is reported in microseconds.
        VariantAlarm(
            "latency-p99",
            "ModelLatency",
            "AWS/SageMaker",
            limits.latency_p99_ms * 1000,
            extended_statistic="p99",
        ),
        VariantAlarm(
            "5xx", "Invocation5XXErrors", "AWS/SageMaker", limits.errors_5xx, statistic="Sum"
        ),
        VariantAlarm(
            "4xx", "Invocation4XXErrors", "AWS/SageMaker", limits.errors_4xx, statistic="Sum"
        ),
    ]
    if kind == "realtime":
        alarms += [
            VariantAlarm(
                "cpu",
                "CPUUtilization",
                "/aws/sagemaker/Endpoints",
                limits.cpu_percent,
                statistic="Average",
            ),
            VariantAlarm(
                "memory",
                "MemoryUtilization",
                "/aws/sagemaker/Endpoints",
                limits.memory_percent,
                statistic="Average",
            ),
        ]
    return alarms
