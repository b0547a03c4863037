"""The whole EKS flavor composed under mocks, shared by the tests of this folder."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
from slipway.aws import ArtifactStore, ArtifactStoreArgs, Deployment
from slipway.eks import (
    Cluster,
    ClusterArgs,
    MlflowServer,
    MlflowServerArgs,
    ModelServing,
    ModelServingArgs,
    Network,
    NetworkArgs,
    Observability,
    ObservabilityArgs,
)
from slipway.presets import load_preset

MODEL_URI = "models:/churn@champion"


def deployment(preset: str) -> Deployment:
    return Deployment(
        project="churn", environment=preset, owner="ML Team", preset=load_preset(preset)
    )


def eks_program(preset: str, api_access_cidrs: tuple[str, ...] = ()) -> Callable[[], None]:
    def program() -> None:
        dep = deployment(preset)
        name = dep.prefix
        store = ArtifactStore(name, ArtifactStoreArgs(dep))
        network = Network(name, NetworkArgs(dep))
        cluster = Cluster(
            name,
            ClusterArgs(
                dep,
                network=network,
                kms_key_arn=store.kms_key_arn,
                api_access_cidrs=api_access_cidrs,
            ),
        )
        tracking = MlflowServer(
            name,
            MlflowServerArgs(
                dep,
                provider=cluster.provider,
                oidc=cluster.oidc,
                vpc_id=network.vpc_id,
                private_subnet_ids=network.private_subnet_ids,
                cluster_security_group_id=cluster.security_group_id,
                bucket_name=store.bucket_name,
                bucket_arn=store.bucket_arn,
                kms_key_arn=store.kms_key_arn,
            ),
        )
        serving = ModelServing(
            name,
            ModelServingArgs(
                dep,
                provider=cluster.provider,
                oidc=cluster.oidc,
                bucket_arn=store.bucket_arn,
                kms_key_arn=store.kms_key_arn,
                image_tag="1.0.0",
                model_uri=MODEL_URI,
                tracking_uri=tracking.tracking_uri,
            ),
        )
        Observability(
            name,
            ObservabilityArgs(
                dep,
                provider=cluster.provider,
                oidc=cluster.oidc,
                serving=serving,
                bucket_arn=store.bucket_arn,
                kms_key_arn=store.kms_key_arn,
                capture_uri=store.uri("capture"),
                tracking_uri=tracking.tracking_uri,
                monitor_command=["churn", "monitor"],
            ),
        )
        pulumi.export("preset", preset)
        pulumi.export("trackingUri", tracking.tracking_uri)
        pulumi.export("image", serving.image)
        pulumi.export("kubeconfig", cluster.kubeconfig)

    return program
