"""Pulumi components of the EKS flavor; the AWS foundation comes from ``slipway.aws``."""

from slipway.eks.cluster import Cluster, ClusterArgs
from slipway.eks.network import Network, NetworkArgs
from slipway.eks.observability import Observability, ObservabilityArgs
from slipway.eks.public_ingress import PublicIngress, PublicIngressArgs, TokenRules
from slipway.eks.serving import ModelServing, ModelServingArgs
from slipway.eks.serving_access import ServingAccess, ServingAccessArgs
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
    "PublicIngress",
    "PublicIngressArgs",
    "RetrainFrom",
    "ServingAccess",
    "ServingAccessArgs",
    "TokenRules",
    "Tracking",
    "TrackingArgs",
]
