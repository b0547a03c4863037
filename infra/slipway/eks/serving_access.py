"""ServingAccess: who may open a connection to the model server (a NetworkPolicy).

Ingress to the model server's pods on its port is allowed only from:

* Prometheus (kube-prometheus-stack's operator-managed pods in the monitoring namespace),
  for ``/metrics``;
* pods of any namespace labelled ``slipway/model-client: "true"``: the in-cluster callers;
* with the public API, the ALB: its target type is ``ip``, so requests come from the load
  balancer's addresses in the public subnets (their CIDRs);
* the node itself (kubelet probes): the VPC CNI's network policy agent always allows the
  node's IP (aws/aws-network-policy-agent pull request 65).

NetworkPolicies are enforced only by the VPC CNI's network policy agent, which is off by
default: ``slipway.eks.cluster`` turns it on (``enableNetworkPolicy`` of the vpc-cni add-on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from slipway.aws.context import StackContext
from slipway.eks import pods
from slipway.eks.observability import NAMESPACE as MONITORING
from slipway.eks.serving import APP, PORT, ModelServing

CLIENT_LABEL = "slipway/model-client"
# Pod labels the Prometheus operator gives every Prometheus server pod it runs
# (prometheus-operator pkg/prometheus/server/statefulset.go, pod selector labels).
PROMETHEUS_POD = {
    "app.kubernetes.io/name": "prometheus",
    "app.kubernetes.io/managed-by": "prometheus-operator",
}


@dataclass(frozen=True)
class ServingAccessArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    provider: k8s.Provider
    """Kubernetes provider of the cluster: ``Cluster.provider``."""
    serving: ModelServing
    """The ``ModelServing`` whose pods the policy selects."""
    load_balancer_cidrs: Sequence[str] = ()
    """Default ``()``: no public API. The public subnets' CIDRs (the ALB's addresses)."""


class ServingAccess(pulumi.ComponentResource):
    """Outputs: policy_name."""

    def __init__(
        self, name: str, args: ServingAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:eks:ServingAccess", name, None, opts)
        ctx = args.context
        policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-serving-access",
            metadata={
                "name": f"{APP}-access",
                "namespace": args.serving.namespace,
                "labels": pods.labels(ctx, APP),
            },
            spec=policy_spec(args.load_balancer_cidrs),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        self.policy_name = policy.metadata["name"]
        self.register_outputs({"policy_name": self.policy_name})


def policy_spec(load_balancer_cidrs: Sequence[str]) -> dict[str, Any]:
    """Ingress rules of the model server's pods (egress is not restricted)."""
    port = [{"protocol": "TCP", "port": PORT}]
    sources: list[dict[str, Any]] = [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING}},
            "podSelector": {"matchLabels": PROMETHEUS_POD},
        },
        {"namespaceSelector": {}, "podSelector": {"matchLabels": {CLIENT_LABEL: "true"}}},
    ]
    rules = [{"from": [source], "ports": port} for source in sources]
    if load_balancer_cidrs:
        rules.append(
            {"from": [{"ipBlock": {"cidr": cidr}} for cidr in load_balancer_cidrs], "ports": port}
        )
    return {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": APP}},
        "policyTypes": ["Ingress"],
        "ingress": rules,
    }
