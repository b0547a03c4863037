"""Without a public API, the model server still accepts only Prometheus and labelled in-cluster
clients (its NetworkPolicy), and the VPC CNI enforces it (its network policy agent is on)."""

from __future__ import annotations

from slipway.eks.manifests import manifests
from slipway.testing import ProgramRun


def test_the_model_server_policy_holds_without_a_public_api(eks_run: ProgramRun) -> None:
    [policy] = [m for m in manifests(eks_run) if m["kind"] == "NetworkPolicy"]
    sources = [source for rule in policy["spec"]["ingress"] for source in rule["from"]]
    assert not any("ipBlock" in source for source in sources)  # no load balancer subnets
    assert len(sources) == 2 and not [m for m in manifests(eks_run) if m["kind"] == "Ingress"]


def test_the_vpc_cni_enforces_network_policies(eks_run: ProgramRun) -> None:
    cluster = eks_run.one("eks:index:Cluster")
    assert cluster.inputs["vpcCniOptions"]["enableNetworkPolicy"] is True
