"""Endpoint: realtime variants, capture and autoscaling; serverless sizing; refused combos."""

from __future__ import annotations

from typing import Any

import pytest
from aws_helpers import stack_context
from slipway.aws import Endpoint, EndpointArgs, EndpointConfigError
from slipway.presets import load_preset
from slipway.testing import ProgramRun, run_pulumi

KEY = "arn:aws:kms:us-east-1:123456789012:key/0000-1111"
CAPTURE = "s3://churn-bucket/data-capture/"


def _args(preset: str, kind: str, **extra: Any) -> EndpointArgs:
    return EndpointArgs(
        stack_context(preset),
        kind=kind,  # type: ignore[arg-type]
        image_uri="1.dkr.ecr.us-east-1.amazonaws.com/img:1",
        model_data_url="s3://churn-bucket/models/model.tar.gz",
        role_arn="arn:aws:iam::123456789012:role/infer",
        kms_key_arn=KEY,
        **extra,
    )


def _run(preset: str, kind: str, **extra: Any) -> ProgramRun:
    return run_pulumi(lambda: Endpoint("churn", _args(preset, kind, **extra)), stack=preset)


def test_realtime_variant_capture_and_autoscaling_follow_the_preset(preset_name: str) -> None:
    sagemaker = load_preset(preset_name).sagemaker
    run = _run(preset_name, "realtime", capture_uri=CAPTURE)
    config = run.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration")
    [variant] = config.inputs["productionVariants"]
    assert variant["instanceType"] == sagemaker.instance_type
    assert variant["initialInstanceCount"] == sagemaker.initial_instance_count
    assert "serverlessConfig" not in variant
    capture = config.inputs["dataCaptureConfig"]
    assert (capture["kmsKeyId"], capture["destinationS3Uri"]) == (KEY, CAPTURE)
    assert capture["initialSamplingPercentage"] == sagemaker.data_capture_sampling_percent
    target = run.one("aws:appautoscaling/target:Target").inputs
    bounds = sagemaker.autoscaling
    assert (target["minCapacity"], target["maxCapacity"]) == (
        bounds.min_capacity,
        bounds.max_capacity,
    )
    endpoint_name = run.one("aws:sagemaker/endpoint:Endpoint").state["name"]
    assert target["resourceId"] == f"endpoint/{endpoint_name}/variant/primary"
    policy = run.one("aws:appautoscaling/policy:Policy").inputs
    tracking = policy["targetTrackingScalingPolicyConfiguration"]
    assert tracking["targetValue"] == bounds.target_invocations_per_instance
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == (
        "SageMakerVariantInvocationsPerInstance"
    )


def test_endpoint_configuration_name_is_not_hard_coded() -> None:
    run = _run("dev", "realtime")
    config = run.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration")
    assert "name" not in config.inputs
    assert config.delete_before_replace is False
    endpoint = run.one("aws:sagemaker/endpoint:Endpoint")
    assert endpoint.inputs["endpointConfigName"] == config.state["name"]


def test_serverless_sizes_from_the_preset_without_capture_or_scaling(preset_name: str) -> None:
    serverless = load_preset(preset_name).sagemaker.serverless
    run = _run(preset_name, "serverless")
    config = run.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs
    [variant] = config["productionVariants"]
    assert variant["serverlessConfig"] == {
        "memorySizeInMb": serverless.memory_size_mb,
        "maxConcurrency": serverless.max_concurrency,
    }
    assert "instanceType" not in variant and "dataCaptureConfig" not in config
    assert run.of_type("aws:appautoscaling/target:Target") == []


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"capture_uri": CAPTURE}, "capture_uri"),
        ({"model_monitor": True}, "model_monitor"),
        ({"vpc_config": {"subnets": ["subnet-1"], "security_group_ids": ["sg-1"]}}, "vpc_config"),
        ({"variants": ("a", "b")}, "variants"),
    ],
)
def test_serverless_refuses_what_aws_rejects(extra: dict[str, Any], field: str) -> None:
    with pytest.raises(EndpointConfigError, match=f"^{field}: AWS does not support it"):
        _run("dev", "serverless", **extra)


def test_refused_combination_registers_nothing() -> None:
    registered: list[str] = []

    def program() -> None:
        try:
            Endpoint("churn", _args("dev", "serverless", model_monitor=True))
        except EndpointConfigError as exc:
            registered.append(str(exc))

    run = run_pulumi(program)
    assert registered and run.resources == ()


def test_realtime_variants_each_scale() -> None:
    run = _run("staging", "realtime", variants=("blue", "green"))
    targets = sorted(
        t.inputs["resourceId"].rsplit("/", 1)[1]
        for t in run.of_type("aws:appautoscaling/target:Target")
    )
    assert targets == ["blue", "green"]
