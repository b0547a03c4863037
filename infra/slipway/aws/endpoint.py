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

from slipway.aws.tags import Deployment

EndpointKind = Literal["realtime", "serverless"]
INVOCATIONS_METRIC = "SageMakerVariantInvocationsPerInstance"


class EndpointConfigError(ValueError):
    """A combination of endpoint settings AWS would reject."""


@dataclass(frozen=True)
class EndpointArgs:
    deployment: Deployment
    kind: EndpointKind
    image_uri: pulumi.Input[str]
    model_data_url: pulumi.Input[str]
    role_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    capture_uri: pulumi.Input[str] | None = None
    model_monitor: bool = False
    vpc_config: dict[str, Any] | None = None
    variants: tuple[str, ...] = ("primary",)

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
        dep = args.deployment
        child = pulumi.ResourceOptions(parent=self)
        model = aws.sagemaker.Model(
            f"{name}-model",
            execution_role_arn=args.role_arn,
            primary_container={"image": args.image_uri, "model_data_url": args.model_data_url},
            vpc_config=args.vpc_config,
            tags=dep.tags,
            opts=child,
        )
        realtime = args.kind == "realtime"
        config = aws.sagemaker.EndpointConfiguration(
            f"{name}-config",
            production_variants=[_variant(dep, v, model.name, realtime) for v in args.variants],
            kms_key_arn=args.kms_key_arn if realtime else None,
            data_capture_config=_capture(dep, args) if args.capture_uri is not None else None,
            tags=dep.tags,
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False),
        )
        endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            endpoint_config_name=config.name,
            tags=dep.tags,
            opts=child,
        )
        if realtime:
            for variant in args.variants:
                self._autoscaling(name, dep, endpoint.name, variant)
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
        self, name: str, dep: Deployment, endpoint_name: pulumi.Output[str], variant: str
    ) -> None:
        bounds = dep.preset.sagemaker.autoscaling
        target = aws.appautoscaling.Target(
            f"{name}-{variant}-scaling-target",
            service_namespace="sagemaker",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            resource_id=pulumi.Output.concat("endpoint/", endpoint_name, "/variant/", variant),
            min_capacity=bounds.min_capacity,
            max_capacity=bounds.max_capacity,
            tags=dep.tags,
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
    dep: Deployment, variant: str, model_name: pulumi.Output[str], realtime: bool
) -> dict[str, Any]:
    sagemaker = dep.preset.sagemaker
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


def _capture(dep: Deployment, args: EndpointArgs) -> dict[str, Any]:
    return {
        "enable_capture": True,
        "initial_sampling_percentage": dep.preset.sagemaker.data_capture_sampling_percent,
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
