"""Endpoint: the serving spec of the stack's SageMaker endpoint and its image repository.

Pulumi declares no SageMaker model, endpoint configuration or endpoint: the deploy
runtime (``slipway.deploy``) owns them and what exists only with them (autoscaling, the
Model Monitor schedule), so a later ``pulumi up`` or ``up --refresh`` never rolls a
release back, and the first ``pulumi up`` on an empty account needs no model and no image
(docs/decisions.md). This component decides how they look, from the preset, and exports
it as ``spec`` (``slipway.deploy.spec.ServingSpec``; the stack output ``serving``). The
spec is also the component's registered inputs, where the policy pack judges it
(``slipway.deploy.rules``, the rules the runtime checks again at release):

``realtime``: instance variants, data capture to S3 under the project's KMS key,
Application Auto Scaling on invocations per instance (bounds from the preset), blue/green
traffic shifting from the preset. ``serverless``: memory and max concurrency from the
preset. AWS rejects data capture, Model Monitor, VPC config and several variants on
serverless endpoints, so such a combination raises EndpointConfigError before anything is
registered. The serving image is the project's own (``slipway.aws.images``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from slipway.aws.context import StackContext
from slipway.aws.images import image_repository
from slipway.deploy.rules import ENDPOINT_COMPONENT
from slipway.deploy.spec import Autoscaling, Deployment, ServingSpec

EndpointKind = Literal["realtime", "serverless"]
MONITOR_IMAGE = "sagemaker-model-monitor-analyzer"
PROCESSING = "/opt/ml/processing"
MONITOR_VOLUME_GB = 20


class EndpointConfigError(ValueError):
    """A combination of endpoint settings AWS would reject."""


@dataclass(frozen=True)
class DataQuality:
    """Model Monitor data-quality checks of captured traffic against a baseline."""

    baseline_uri: pulumi.Input[str]
    """``s3://`` prefix holding ``statistics.json`` and ``constraints.json``."""
    reports_uri: pulumi.Input[str]
    """``s3://`` prefix the monitoring job writes its reports to."""
    role_arn: pulumi.Input[str]
    """Role the monitoring job runs as: ``Roles.execution_role_arn``."""


@dataclass(frozen=True)
class EndpointArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    kind: EndpointKind
    """``realtime`` (instances, autoscaling) or ``serverless`` (memory, concurrency)."""
    role_arn: pulumi.Input[str]
    """The model's execution role: ``Roles.inference_role_arn``."""
    kms_key_arn: pulumi.Input[str]
    """Project key: encrypts the images, the instances' storage (realtime) and captures."""
    capture_uri: pulumi.Input[str] | None = None
    """Default ``None``: no data capture. ``s3://`` prefix for captured requests
    (realtime only).
    """
    data_quality: DataQuality | None = None
    """Default ``None``. A Model Monitor schedule watches the endpoint (needs capture;
    refused on serverless)."""
    vpc_config: dict[str, Any] | None = None
    """Default ``None``: no VPC. The model's ``VpcConfig`` (API shape; realtime only)."""
    variants: tuple[str, ...] = ("primary",)
    """Default ``("primary",)``. Production variant names; serverless takes exactly one."""

    def validate(self) -> None:
        if not self.variants:
            raise EndpointConfigError("variants: at least one variant is required")
        if len(set(self.variants)) != len(self.variants):
            raise EndpointConfigError("variants: names must be unique")
        if self.data_quality is not None and self.capture_uri is None:
            raise EndpointConfigError(
                "data_quality: Model Monitor reads captured data: set capture_uri"
            )
        if self.kind != "serverless":
            return
        refused = {
            "capture_uri": self.capture_uri is not None,
            "data_quality": self.data_quality is not None,
            "vpc_config": self.vpc_config is not None,
            "variants": len(self.variants) > 1,
        }
        for field, present in refused.items():
            if present:
                raise EndpointConfigError(
                    f"{field}: AWS does not support it on serverless endpoints "
                    "(data capture, Model Monitor, VPC config and multiple variants need "
                    "endpoint=realtime)"
                )


def endpoint_name(ctx: StackContext) -> str:
    """The endpoint's name (fixed: the runtime creates it, the alarms watch it)."""
    return f"{ctx.prefix}-endpoint"


class Endpoint(pulumi.ComponentResource):
    """Outputs: endpoint_name, repository_url, variant_names, spec (the serving spec)."""

    endpoint_name: pulumi.Output[str]
    repository_url: pulumi.Output[str]
    spec: pulumi.Output[str]
    variant_names: tuple[str, ...]

    def __init__(
        self, name: str, args: EndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args.validate()
        ctx = args.context
        # Before the component registers: its inputs are the spec, which names this image.
        # The invoke only needs a provider, inherited from the component's parent.
        monitor_image = (
            None
            if args.data_quality is None
            else aws.sagemaker.get_prebuilt_ecr_image_output(
                repository_name=MONITOR_IMAGE,
                image_tag="latest",
                opts=pulumi.InvokeOutputOptions(parent=opts.parent if opts else None),
            ).registry_path
        )
        dq = args.data_quality
        inputs = pulumi.Output.all(
            role=args.role_arn,
            key=args.kms_key_arn,
            capture=args.capture_uri,
            image=monitor_image,
            baseline=dq.baseline_uri if dq else None,
            reports=dq.reports_uri if dq else None,
            monitor_role=dq.role_arn if dq else None,
        )
        spec = inputs.apply(lambda values: serving_spec(ctx, args, values).to_json())
        # The spec (as the stack output carries it) is the component's inputs, so the policy
        # pack judges it like any resource's (slipway.deploy.rules): nothing else declares
        # the endpoint.
        as_props = spec.apply(json.loads)
        props = {key.name: as_props[key.name] for key in fields(ServingSpec)}
        super().__init__(ENDPOINT_COMPONENT, name, props, opts)
        repository = image_repository(name, ctx, args.kms_key_arn, self)
        self.endpoint_name = pulumi.Output.from_input(endpoint_name(ctx))
        self.repository_url = repository.repository_url
        self.spec = spec
        self.variant_names = args.variants
        self.register_outputs(
            {
                "endpoint_name": self.endpoint_name,
                "repository_url": self.repository_url,
                "spec": self.spec,
                "variant_names": list(self.variant_names),
            }
        )


def serving_spec(ctx: StackContext, args: EndpointArgs, values: dict[str, Any]) -> ServingSpec:
    """The endpoint as the preset and the stack's resources define it."""
    sagemaker = ctx.preset.sagemaker
    realtime = args.kind == "realtime"
    name = endpoint_name(ctx)
    bounds = sagemaker.autoscaling
    policy = sagemaker.deployment
    return ServingSpec(
        endpoint_name=name,
        role_arn=values["role"],
        variants=[_variant(ctx, v, realtime) for v in args.variants],
        kms_key_id=values["key"] if realtime else "",
        data_capture=_capture(ctx, values["capture"], values["key"]) if values["capture"] else None,
        vpc_config=args.vpc_config,
        autoscaling=Autoscaling(
            bounds.min_capacity,
            bounds.max_capacity,
            bounds.target_invocations_per_instance,
            bounds.scale_in_cooldown_seconds,
            bounds.scale_out_cooldown_seconds,
        )
        if realtime
        else None,
        deployment=Deployment(
            "CANARY" if policy.traffic == "canary" else "ALL_AT_ONCE",
            policy.bake_seconds,
            policy.canary_percent,
        )
        if realtime
        else None,
        monitoring_schedule=_schedule(ctx, name, values) if args.data_quality else None,
        tags=ctx.tags,
        allowed_instance_types=sagemaker.allowed_instance_types,
    )


def _variant(ctx: StackContext, variant: str, realtime: bool) -> dict[str, Any]:
    sagemaker = ctx.preset.sagemaker
    spec: dict[str, Any] = {"VariantName": variant}
    if realtime:
        spec |= {
            "InstanceType": sagemaker.instance_type,
            "InitialInstanceCount": max(
                sagemaker.initial_instance_count, sagemaker.autoscaling.min_capacity
            ),
            "InitialVariantWeight": 1,
        }
    else:
        spec["ServerlessConfig"] = {
            "MemorySizeInMB": sagemaker.serverless.memory_size_mb,
            "MaxConcurrency": sagemaker.serverless.max_concurrency,
        }
    return spec


def _capture(ctx: StackContext, uri: str, key: str) -> dict[str, Any]:
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": ctx.preset.sagemaker.data_capture_sampling_percent,
        "DestinationS3Uri": uri,
        "KmsKeyId": key,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {
            "JsonContentTypes": ["application/json"],
            "CsvContentTypes": ["text/csv"],
        },
    }


def _schedule(ctx: StackContext, endpoint: str, values: dict[str, Any]) -> dict[str, Any]:
    """CreateMonitoringSchedule with an inline data-quality job definition."""
    sagemaker = ctx.preset.sagemaker
    baseline = str(values["baseline"]).rstrip("/")
    return {
        "MonitoringScheduleName": f"{endpoint}-dq",
        "MonitoringScheduleConfig": {
            "ScheduleConfig": {"ScheduleExpression": sagemaker.monitoring_schedule},
            "MonitoringType": "DataQuality",
            "MonitoringJobDefinition": {
                "BaselineConfig": {
                    "ConstraintsResource": {"S3Uri": f"{baseline}/constraints.json"},
                    "StatisticsResource": {"S3Uri": f"{baseline}/statistics.json"},
                },
                "MonitoringInputs": [
                    {
                        "EndpointInput": {
                            "EndpointName": endpoint,
                            "LocalPath": f"{PROCESSING}/input",
                        }
                    }
                ],
                "MonitoringOutputConfig": {
                    "MonitoringOutputs": [
                        {
                            "S3Output": {
                                "S3Uri": values["reports"],
                                "LocalPath": f"{PROCESSING}/output",
                            }
                        }
                    ],
                    "KmsKeyId": values["key"],
                },
                "MonitoringResources": {
                    "ClusterConfig": {
                        "InstanceCount": 1,
                        "InstanceType": sagemaker.monitoring_instance_type,
                        "VolumeSizeInGB": MONITOR_VOLUME_GB,
                        "VolumeKmsKeyId": values["key"],
                    }
                },
                "MonitoringAppSpecification": {"ImageUri": values["image"]},
                "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
                "RoleArn": values["monitor_role"],
            },
        },
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(ctx.tags.items())],
    }
