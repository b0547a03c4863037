"""Endpoint: SageMaker model, endpoint configuration and endpoint.

``realtime``: instance variants, data capture to S3 under the project's KMS key,
Application Auto Scaling on invocations per instance (bounds from the preset).
``serverless``: memory and max concurrency from the preset. AWS rejects data capture,
Model Monitor, VPC config and several variants on serverless endpoints, so such a
combination raises EndpointConfigError before anything is registered.
The endpoint configuration is autonamed, so a replacement is created before the old one
is deleted and the endpoint switches over in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from slipway.aws.context import StackContext

EndpointKind = Literal["realtime", "serverless"]
INVOCATIONS_METRIC = "SageMakerVariantInvocationsPerInstance"


class EndpointConfigError(ValueError):
    """A combination of endpoint settings AWS would reject."""


@dataclass(frozen=True)
class EndpointArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    kind: EndpointKind
    """``realtime`` (instances, autoscaling) or ``serverless`` (memory, concurrency)."""
    image_uri: pulumi.Input[str]
    """Serving container image (e.g. ``prebuilt_image(repository, tag)``)."""
    model_data_url: pulumi.Input[str]
    """``s3://`` URL of the ``model.tar.gz`` the container loads."""
    role_arn: pulumi.Input[str]
    """The model's execution role: ``Roles.inference_role_arn``."""
    kms_key_arn: pulumi.Input[str]
    """Project key: encrypts the instances' storage (realtime) and data capture."""
    capture_uri: pulumi.Input[str] | None = None
    """Default ``None``: no data capture. ``s3://`` prefix for captured requests
    (realtime only).
    """
    model_monitor: bool = False
    """Default ``False``. A Model Monitor schedule watches the endpoint (refused on serverless)."""
    vpc_config: dict[str, Any] | None = None
    """Default ``None``: no VPC. The model's ``vpc_config`` (realtime only)."""
    variants: tuple[str, ...] = ("primary",)
    """Default ``("primary",)``. Production variant names; serverless takes exactly one."""

    def validate(self) -> None:
        if not self.variants:
            raise EndpointConfigError("variants: at least one variant is required")
        if len(set(self.variants)) != len(self.variants):
            raise EndpointConfigError("variants: names must be unique")
        if self.kind != "serverless":
            return
        refused = {
            "capture_uri": self.capture_uri is not None,
            "model_monitor": self.model_monitor,
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


class Endpoint(pulumi.ComponentResource):
    """Outputs: endpoint_name, endpoint_arn, variant_names."""

    endpoint_name: pulumi.Output[str]
    endpoint_arn: pulumi.Output[str]
    variant_names: tuple[str, ...]

    def __init__(
        self, name: str, args: EndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args.validate()
        super().__init__("slipway:aws:Endpoint", name, None, opts)
        ctx = args.context
        child = pulumi.ResourceOptions(parent=self)
        model = aws.sagemaker.Model(
            f"{name}-model",
            execution_role_arn=args.role_arn,
            primary_container={"image": args.image_uri, "model_data_url": args.model_data_url},
            vpc_config=args.vpc_config,
            tags=ctx.tags,
            opts=child,
        )
        realtime = args.kind == "realtime"
        config = aws.sagemaker.EndpointConfiguration(
            f"{name}-config",
            production_variants=[_variant(ctx, v, model.name, realtime) for v in args.variants],
            kms_key_arn=args.kms_key_arn if realtime else None,
            data_capture_config=_capture(ctx, args) if args.capture_uri is not None else None,
            tags=ctx.tags,
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False),
        )
        endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            endpoint_config_name=config.name,
            tags=ctx.tags,
            opts=child,
        )
        if realtime:
            for variant in args.variants:
                self._autoscaling(name, ctx, endpoint.name, variant)
        self.endpoint_name = endpoint.name
        self.endpoint_arn = endpoint.arn
        self.variant_names = args.variants
        self.register_outputs(
            {
                "endpoint_name": self.endpoint_name,
                "endpoint_arn": self.endpoint_arn,
                "variant_names": list(self.variant_names),
            }
        )

    def _autoscaling(
        self, name: str, ctx: StackContext, endpoint_name: pulumi.Output[str], variant: str
    ) -> None:
        bounds = ctx.preset.sagemaker.autoscaling
        target = aws.appautoscaling.Target(
            f"{name}-{variant}-scaling-target",
            service_namespace="sagemaker",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            resource_id=pulumi.Output.concat("endpoint/", endpoint_name, "/variant/", variant),
            min_capacity=bounds.min_capacity,
            max_capacity=bounds.max_capacity,
            tags=ctx.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.appautoscaling.Policy(
            f"{name}-{variant}-invocations-per-instance",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration={
                "predefined_metric_specification": {"predefined_metric_type": INVOCATIONS_METRIC},
                "target_value": bounds.target_invocations_per_instance,
                "scale_in_cooldown": bounds.scale_in_cooldown_seconds,
                "scale_out_cooldown": bounds.scale_out_cooldown_seconds,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )


def _variant(
    ctx: StackContext, variant: str, model_name: pulumi.Output[str], realtime: bool
) -> dict[str, Any]:
    sagemaker = ctx.preset.sagemaker
    spec: dict[str, Any] = {"variant_name": variant, "model_name": model_name}
    if realtime:
        spec |= {
            "instance_type": sagemaker.instance_type,
            "initial_instance_count": max(
                sagemaker.initial_instance_count, sagemaker.autoscaling.min_capacity
            ),
            "initial_variant_weight": 1,
        }
    else:
        spec["serverless_config"] = {
            "memory_size_in_mb": sagemaker.serverless.memory_size_mb,
            "max_concurrency": sagemaker.serverless.max_concurrency,
        }
    return spec


def _capture(ctx: StackContext, args: EndpointArgs) -> dict[str, Any]:
    return {
        "enable_capture": True,
        "initial_sampling_percentage": ctx.preset.sagemaker.data_capture_sampling_percent,
        "destination_s3_uri": args.capture_uri,
        "kms_key_id": args.kms_key_arn,
        "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
        "capture_content_type_header": {
            "json_content_types": ["application/json"],
            "csv_content_types": ["text/csv"],
        },
    }


def prebuilt_image(
    repository: str, tag: str, opts: pulumi.InvokeOutputOptions | None = None
) -> pulumi.Output[str]:
    """URI of an AWS prebuilt SageMaker image in the stack's region."""
    image = aws.sagemaker.get_prebuilt_ecr_image_output(
        repository_name=repository, image_tag=tag, opts=opts
    )
    return image.registry_path
