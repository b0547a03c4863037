"""Endpoint: the serving spec the deploy runtime builds the endpoint from, the image
repository, and the refused combinations. No SageMaker resource is declared."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from aws_helpers import stack_context
from slipway.aws import Endpoint, EndpointArgs, EndpointConfigError
from slipway.aws.endpoint import DataQuality
from slipway.deploy.spec import RUNTIME_OWNED, ServingSpec
from slipway.presets import load_preset
from slipway.testing import ProgramRun, run_pulumi

KEY = "arn:aws:kms:us-east-1:123456789012:key/0000-1111"
CAPTURE = "s3://churn-bucket/data-capture/"
ROLE = "arn:aws:iam::123456789012:role/infer"
QUALITY = DataQuality(
    "s3://churn-bucket/monitoring/baseline/",
    "s3://churn-bucket/monitoring/reports",
    "arn:aws:iam::123456789012:role/exec",
)


def _args(preset: str, kind: str, **extra: Any) -> EndpointArgs:
    return EndpointArgs(
        stack_context(preset),
        kind=kind,  # type: ignore[arg-type]
        role_arn=ROLE,
        kms_key_arn=KEY,
        **extra,
    )


def _run(preset: str, kind: str, **extra: Any) -> tuple[ProgramRun, ServingSpec]:
    run = run_pulumi(lambda: Endpoint("churn", _args(preset, kind, **extra)), stack=preset)
    component = run.one("slipway:aws:Endpoint")
    return run, ServingSpec.from_value(component.registered_outputs["spec"])


def test_realtime_spec_follows_the_preset(preset_name: str) -> None:
    sagemaker = load_preset(preset_name).sagemaker
    run, spec = _run(preset_name, "realtime", capture_uri=CAPTURE, data_quality=QUALITY)
    assert set(run.type_counts()).isdisjoint(RUNTIME_OWNED)
    [variant] = spec.variants
    assert variant["InstanceType"] == sagemaker.instance_type
    assert variant["InitialInstanceCount"] == max(
        sagemaker.initial_instance_count, sagemaker.autoscaling.min_capacity
    )
    assert spec.endpoint_name == "churn-" + preset_name + "-endpoint"
    assert (spec.role_arn, spec.kms_key_id) == (ROLE, KEY)
    capture = spec.data_capture or {}
    assert (capture["KmsKeyId"], capture["DestinationS3Uri"]) == (KEY, CAPTURE)
    assert capture["InitialSamplingPercentage"] == sagemaker.data_capture_sampling_percent
    bounds = sagemaker.autoscaling
    assert spec.autoscaling is not None
    assert (spec.autoscaling.min_capacity, spec.autoscaling.max_capacity) == (
        bounds.min_capacity,
        bounds.max_capacity,
    )
    policy = sagemaker.deployment
    assert spec.deployment is not None
    assert spec.deployment.traffic == policy.traffic.upper()
    assert spec.deployment.bake_seconds == policy.bake_seconds
    schedule = spec.monitoring_schedule or {}
    definition = schedule["MonitoringScheduleConfig"]["MonitoringJobDefinition"]
    assert definition["MonitoringInputs"][0]["EndpointInput"]["EndpointName"] == spec.endpoint_name
    assert definition["BaselineConfig"]["StatisticsResource"]["S3Uri"] == (
        "s3://churn-bucket/monitoring/baseline/statistics.json"
    )
    assert schedule["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"] == (
        sagemaker.monitoring_schedule
    )


@pytest.mark.parametrize(("initial", "minimum", "started"), [(1, 3, 3), (4, 2, 4), (2, 2, 2)])
def test_realtime_starts_at_least_the_autoscaling_minimum(
    initial: int, minimum: int, started: int
) -> None:
    """The first fleet is never below the scaling floor (the presets have both equal, so a
    preset alone never shows the clamp): ``max(initial_instance_count, min_capacity)``."""
    preset = load_preset("staging")
    sagemaker = preset.sagemaker
    scaling = sagemaker.autoscaling.model_copy(
        update={"min_capacity": minimum, "max_capacity": max(minimum, initial)}
    )
    changed = sagemaker.model_copy(
        update={"initial_instance_count": initial, "autoscaling": scaling}
    )
    ctx = stack_context("staging")
    ctx = dataclasses.replace(ctx, preset=preset.model_copy(update={"sagemaker": changed}))
    run = run_pulumi(
        lambda: Endpoint(
            "churn", EndpointArgs(ctx, kind="realtime", role_arn=ROLE, kms_key_arn=KEY)
        ),
        stack="staging",
    )
    spec = ServingSpec.from_value(run.one("slipway:aws:Endpoint").registered_outputs["spec"])
    [variant] = spec.variants
    assert variant["InitialInstanceCount"] == started
    assert spec.autoscaling is not None and spec.autoscaling.min_capacity == minimum


def test_the_serving_image_repository_is_the_stacks() -> None:
    run, _ = _run("prod", "realtime")
    repository = run.one("aws:ecr/repository:Repository")
    assert repository.inputs["name"] == "churn-prod-model"
    assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repository.protect  # prod: deletion protection
    lifecycle = json.loads(run.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"])
    assert lifecycle["rules"][1]["selection"]["countNumber"] == (
        load_preset("prod").eks.ecr_keep_images
    )


def test_serverless_sizes_from_the_preset_without_capture_or_scaling(preset_name: str) -> None:
    serverless = load_preset(preset_name).sagemaker.serverless
    _, spec = _run(preset_name, "serverless")
    [variant] = spec.variants
    assert variant["ServerlessConfig"] == {
        "MemorySizeInMB": serverless.memory_size_mb,
        "MaxConcurrency": serverless.max_concurrency,
    }
    assert "InstanceType" not in variant and spec.data_capture is None
    assert spec.autoscaling is None and spec.deployment is None and not spec.kms_key_id


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"capture_uri": CAPTURE}, "capture_uri"),
        ({"capture_uri": None, "data_quality": QUALITY}, "data_quality"),
        ({"vpc_config": {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}}, "vpc_config"),
        ({"variants": ("a", "b")}, "variants"),
    ],
)
def test_serverless_refuses_what_aws_rejects(extra: dict[str, Any], field: str) -> None:
    with pytest.raises(EndpointConfigError, match=f"^{field}: "):
        _run("dev", "serverless", **extra)


def test_refused_combination_registers_nothing() -> None:
    registered: list[str] = []

    def program() -> None:
        try:
            Endpoint("churn", _args("dev", "serverless", data_quality=QUALITY))
        except EndpointConfigError as exc:
            registered.append(str(exc))

    run = run_pulumi(program)
    assert registered and run.resources == ()


def test_realtime_variants_are_each_in_the_spec() -> None:
    _, spec = _run("staging", "realtime", variants=("blue", "green"))
    assert [v["VariantName"] for v in spec.variants] == ["blue", "green"]
