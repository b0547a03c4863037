"""Pulumi components of the EKS flavor; the AWS foundation comes from ``slipway.aws``."""

from slipway.eks.cluster import Cluster, ClusterArgs
from slipway.eks.network import Network, NetworkArgs
from slipway.eks.observability import Observability, ObservabilityArgs
from slipway.eks.serving import ModelServing, ModelServingArgs
from slipway.eks.tracking import Tracking, TrackingArgs
from slipway.eks.training import ModelTraining, ModelTrainingArgs, RetrainFrom

__all__ = [
    "Cluster",
    "ClusterArgs",
    "ModelServing",
    "ModelServingArgs",
    "ModelTraining",
    "ModelTrainingArgs",
    "Network",
    "NetworkArgs",
    "Observability",
    "ObservabilityArgs",
    "RetrainFrom",
    "Tracking",
    "TrackingArgs",
]
