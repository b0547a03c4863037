"""Nothing reachable from the whole internet: databases, subnets, security groups, the
Kubernetes API."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs

from slipway.policies.base import as_list, resource_policy

RDS = "aws:rds/instance:Instance"
SUBNET = "aws:ec2/subnet:Subnet"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EKS_COMPONENT = "eks:index:Cluster"
EKS_CLUSTER = "aws:eks/cluster:Cluster"


def _world(cidrs: Any) -> list[str]:
    found = []
    for cidr in as_list(cidrs):
        try:
            if ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0:
                found.append(str(cidr))
        except ValueError:
            continue
    return found


def _ingress(rule: Mapping[str, Any]) -> list[str]:
    keys = ("cidrBlocks", "ipv6CidrBlocks", "cidrIpv4", "cidrIpv6")
    return _world([cidr for key in keys for cidr in as_list(rule.get(key))])


def _api(public: Any, cidrs: Any) -> Iterator[str]:
    if public is True and (not as_list(cidrs) or _world(cidrs)):
        yield "the public Kubernetes API endpoint is open to the whole internet"


def _private(args: ResourceValidationArgs) -> Iterator[str]:
    type_, props = args.resource_type, args.props
    if type_ == RDS and props.get("publiclyAccessible") is True:
        yield "the database is publicly accessible"
    elif type_ == SUBNET and props.get("mapPublicIpOnLaunch") is True:
        yield "instances launched here get public IP addresses (map_public_ip_on_launch)"
    elif type_ == SECURITY_GROUP:
        for rule in as_list(props.get("ingress")):
            if _ingress(rule):
                yield f"ingress on port {rule.get('fromPort')} from {', '.join(_ingress(rule))}"
    elif type_ in (SG_RULE, INGRESS_RULE):
        if props.get("type", "ingress") == "ingress" and _ingress(props):
            yield f"ingress on port {props.get('fromPort')} from {', '.join(_ingress(props))}"
    elif type_ == EKS_COMPONENT:
        yield from _api(props.get("endpointPublicAccess"), props.get("publicAccessCidrs"))
    elif type_ == EKS_CLUSTER:
        vpc = props.get("vpcConfig") or {}
        yield from _api(vpc.get("endpointPublicAccess", True), vpc.get("publicAccessCidrs"))


POLICIES = [
    resource_policy(
        "nothing-open-to-the-internet",
        "No database, subnet, security group or Kubernetes API endpoint is reachable from "
        "the whole internet.",
        (RDS, SUBNET, SECURITY_GROUP, SG_RULE, INGRESS_RULE, EKS_COMPONENT, EKS_CLUSTER),
        _private,
        remediation="Keep stores in private subnets, reach them from security groups, and "
        "list your own networks in slipway:apiAccessCidrs.",
    ),
]
