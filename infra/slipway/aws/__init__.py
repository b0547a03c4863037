"""Pulumi components of the SageMaker flavor and the AWS foundation every flavor shares."""

from slipway.aws.artifact_store import ArtifactStore, ArtifactStoreArgs
from slipway.aws.context import StackContext
from slipway.aws.endpoint import Endpoint, EndpointArgs, EndpointConfigError
from slipway.aws.monitoring import MonitoredEndpoint, Monitoring, MonitoringArgs
from slipway.aws.registry import Registry, RegistryArgs
from slipway.aws.roles import GithubDeployment, Roles, RolesArgs
from slipway.aws.tracking import Tracking, TrackingArgs, TrackingClient

__all__ = [
    "ArtifactStore",
    "ArtifactStoreArgs",
    "Endpoint",
    "EndpointArgs",
    "EndpointConfigError",
    "GithubDeployment",
    "MonitoredEndpoint",
    "Monitoring",
    "MonitoringArgs",
    "Registry",
    "RegistryArgs",
    "Roles",
    "RolesArgs",
    "StackContext",
    "Tracking",
    "TrackingArgs",
    "TrackingClient",
]
