"""Network and Cluster: AZ layout, NAT gateways from the preset, cluster access and logging."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from eks_support import ROOT, with_config
from slipway.eks.cluster import LOG_TYPES, api_access_cidrs
from slipway.eks.manifests import reveal
from slipway.eks.network import subnet_cidrs
from slipway.platform import ConfigError
from slipway.presets import load_preset
from slipway.testing import ProgramRun, run_program
from stack_config import API_ACCESS


def test_subnets_span_the_preset_zones_and_nat_gateways_follow_the_preset(
    eks_run: ProgramRun, preset_name: str
) -> None:
    preset = load_preset(preset_name).eks
    subnets = eks_run.of_type("aws:ec2/subnet:Subnet")
    public = [s for s in subnets if s.tags.get("kubernetes.io/role/elb") == "1"]
    private = [s for s in subnets if s.tags.get("kubernetes.io/role/internal-elb") == "1"]
    assert len(public) == len(private) == preset.availability_zones >= 2
    assert len({s.inputs["availabilityZone"] for s in private}) == preset.availability_zones
    assert not any(s.inputs.get("mapPublicIpOnLaunch") for s in subnets)
    nats = eks_run.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == (1 if preset.nat_gateways == "one" else preset.availability_zones)
    # every private route table sends egress through a NAT gateway
    private_routes = [
        r for r in eks_run.of_type("aws:ec2/routeTable:RouteTable") if "private" in r.name
    ]
    assert len(private_routes) == preset.availability_zones
    assert all(r.inputs["routes"][0].get("natGatewayId") for r in private_routes)


def test_subnets_stay_in_regular_availability_zones(eks_run: ProgramRun) -> None:
    """The mocks answer getAvailabilityZones as EC2 does for an account opted in to a Local
    Zone group (that zone sorts first by name); only zones with opt-in-status
    opt-in-not-required may hold the cluster's subnets (issue 12, item 14)."""
    zones = {s.inputs["availabilityZone"] for s in eks_run.of_type("aws:ec2/subnet:Subnet")}
    assert zones and all(re.fullmatch(r"[a-z]+-[a-z]+-\d[a-z]", zone) for zone in zones), zones


def test_subnet_cidrs_do_not_overlap() -> None:
    private, public = subnet_cidrs("10.0.0.0/16", 3)
    assert len(set(private + public)) == 6
    with pytest.raises(ValueError, match=r"cidr: 10\.0\.0\.0/18 is too small"):
        subnet_cidrs("10.0.0.0/18", 2)


def test_cluster_uses_api_auth_oidc_logging_and_the_configured_endpoints(
    eks_run: ProgramRun, preset_name: str
) -> None:
    preset = load_preset(preset_name)
    cluster = eks_run.one("eks:index:Cluster").inputs
    assert cluster["authenticationMode"] == "API"
    assert cluster["createOidcProvider"] is True
    assert cluster["enabledClusterLogTypes"] == LOG_TYPES
    assert cluster["version"] == preset.eks.kubernetes_version
    assert cluster["endpointPrivateAccess"] is True  # nodes reach the API inside the VPC
    assert cluster["endpointPublicAccess"] is True  # pulumi up reaches it from API_ACCESS only
    assert cluster["publicAccessCidrs"] == API_ACCESS
    assert cluster["encryptionConfigKeyArn"] == eks_run.one("aws:kms/key:Key").state["arn"]
    assert cluster["skipDefaultNodeGroup"] is True
    assert cluster["deletionProtection"] is preset.deletion_protection
    group = eks_run.one("eks:index:ManagedNodeGroup").inputs
    sizes = preset.eks.node_group
    assert group["scalingConfig"] == {
        "minSize": sizes.min_size,
        "desiredSize": sizes.desired_size,
        "maxSize": sizes.max_size,
    }
    assert group["instanceTypes"] == list(sizes.instance_types)
    private = [
        s.state["name"] for s in eks_run.of_type("aws:ec2/subnet:Subnet") if "private" in s.name
    ]
    assert sorted(group["subnetIds"]) == sorted(private)


def test_the_kubernetes_provider_is_built_from_the_cluster_kubeconfig(
    eks_run: ProgramRun,
) -> None:
    provider = eks_run.one("pulumi:providers:kubernetes")
    assert eks_run.outputs["kubeconfig"] == reveal(provider.inputs["kubeconfig"])
    kubeconfig = json.loads(eks_run.outputs["kubeconfig"])
    assert kubeconfig["kind"] == "Config" and kubeconfig["clusters"]


def test_the_api_networks_must_be_set_and_the_error_says_how(
    eks_infra: Path, tmp_path: Path
) -> None:
    """A private-only endpoint by default left `pulumi up` (laptop or GitHub-hosted runner)
    unable to apply the Kubernetes and Helm resources once the cluster existed."""
    infra = with_config(eks_infra, tmp_path / "infra", "dev", apiAccessCidrs=None)
    with pytest.raises(ConfigError) as refused:
        run_program(infra, "dev")
    message = str(refused.value)
    assert message.startswith("slipway:apiAccessCidrs: required with compute eks: ")
    assert "pulumi config set --path 'slipway:apiAccessCidrs[0]'" in message
    assert "https://checkip.amazonaws.com" in message and "private" in message
    assert "\n" not in message
    for generated in (ROOT / "template" / "infra").glob("Pulumi.*.yaml"):  # unset there
        assert not re.search(r"^\s*slipway:apiAccessCidrs:", generated.read_text(), re.M)


@pytest.mark.parametrize(
    ("value", "public", "cidrs"),
    [(["198.51.100.0/24"], True, ["198.51.100.0/24"]), ("private", False, None)],
)
def test_public_endpoint_only_for_configured_cidrs(
    eks_infra: Path, tmp_path: Path, value: object, public: bool, cidrs: list[str] | None
) -> None:
    infra = with_config(eks_infra, tmp_path / "infra", "dev", apiAccessCidrs=value)
    cluster = run_program(infra, "dev").one("eks:index:Cluster").inputs
    assert cluster["endpointPublicAccess"] is public
    assert cluster.get("publicAccessCidrs") == cidrs


@pytest.mark.parametrize(
    ("cidr", "rule"),
    [
        ("0.0.0.0/0", "opens the Kubernetes API to the whole internet; list the networks "),
        ("10.0.0.1/8", "is not a CIDR block"),
        ("office", "is not a CIDR block"),
    ],
)
def test_bad_api_cidrs_are_refused_with_the_field_name(cidr: str, rule: str) -> None:
    with pytest.raises(ValueError, match=f"^apiAccessCidrs: .*{rule}"):
        api_access_cidrs([cidr])
