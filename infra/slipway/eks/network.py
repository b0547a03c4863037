"""Network: a VPC with public and private subnets across the preset's availability zones.

Public subnets hold the NAT gateways and internet-facing load balancers; nodes, the
database and internal load balancers live in the private subnets. The preset decides
between one NAT gateway (dev, staging: cheaper, one AZ failure cuts egress) and one per
AZ (prod). The subnets carry the ``kubernetes.io/role/*elb`` tags the AWS load balancer
controller looks for.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from slipway.aws.context import StackContext

VPC_CIDR = "10.0.0.0/16"
SUBNET_PREFIX = 20  # 4,091 usable addresses per subnet: room for pod IPs (VPC CNI)
PUBLIC_OFFSET = 8  # public subnets start at the 9th /20, private ones at the first


@dataclass(frozen=True)
class NetworkArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    cidr: str = VPC_CIDR
    """Default ``10.0.0.0/16``. VPC block; /20 subnets are carved from it."""


def subnet_cidrs(cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """(private, public) CIDRs, one of each per zone, carved from ``cidr``."""
    blocks = [str(b) for b in ipaddress.ip_network(cidr).subnets(new_prefix=SUBNET_PREFIX)]
    if len(blocks) < PUBLIC_OFFSET + zones:
        raise ValueError(f"cidr: {cidr} is too small for {zones} zones of /{SUBNET_PREFIX}")
    return blocks[:zones], blocks[PUBLIC_OFFSET : PUBLIC_OFFSET + zones]


class Network(pulumi.ComponentResource):
    """Outputs: vpc_id, public_subnet_ids, private_subnet_ids, cidr; public_cidrs (plain)."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:eks:Network", name, None, opts)
        ctx = args.context
        eks = ctx.preset.eks
        child = pulumi.ResourceOptions(parent=self)
        zones = aws.get_availability_zones_output(
            state="available",
            # Regular AZs only: an account opted in to a Local or Wavelength Zone group lists
            # those zones too, and sorted by name ("us-east-1-bos-1a" < "us-east-1a") one
            # would come first. They lack services and instance types EKS, RDS and NAT need.
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=pulumi.InvokeOutputOptions(parent=self),
        ).names
        private_cidrs, public_cidrs = subnet_cidrs(args.cidr, eks.availability_zones)

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**ctx.tags, "Name": ctx.prefix},
            opts=child,
        )
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=ctx.tags, opts=child)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
            tags=ctx.tags,
            opts=child,
        )
        self.public_subnet_ids, self.private_subnet_ids = [], []
        nats: list[aws.ec2.NatGateway] = []
        for index in range(eks.availability_zones):
            zone = zones.apply(lambda names, i=index: names[i])
            public = self._subnet(name, ctx, vpc, zone, public_cidrs[index], "public", index)
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{index}",
                subnet_id=public.id,
                route_table_id=public_routes.id,
                opts=child,
            )
            if index == 0 or eks.nat_gateways == "per_az":
                eip = aws.ec2.Eip(f"{name}-nat-{index}", domain="vpc", tags=ctx.tags, opts=child)
                nats.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{index}",
                        allocation_id=eip.id,
                        subnet_id=public.id,
                        tags=ctx.tags,
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
                    )
                )
            private = self._subnet(name, ctx, vpc, zone, private_cidrs[index], "private", index)
            routes = aws.ec2.RouteTable(
                f"{name}-private-{index}",
                vpc_id=vpc.id,
                routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nats[-1].id}],
                tags=ctx.tags,
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{index}",
                subnet_id=private.id,
                route_table_id=routes.id,
                opts=child,
            )
            self.public_subnet_ids.append(public.id)
            self.private_subnet_ids.append(private.id)
        self.vpc_id = vpc.id
        self.cidr = vpc.cidr_block
        self.public_cidrs = tuple(public_cidrs)
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
            }
        )

    def _subnet(
        self,
        name: str,
        ctx: StackContext,
        vpc: aws.ec2.Vpc,
        zone: pulumi.Input[str],
        cidr: str,
        tier: str,
        index: int,
    ) -> aws.ec2.Subnet:
        role = "kubernetes.io/role/elb" if tier == "public" else "kubernetes.io/role/internal-elb"
        return aws.ec2.Subnet(
            f"{name}-{tier}-{index}",
            vpc_id=vpc.id,
            cidr_block=cidr,
            availability_zone=zone,
            map_public_ip_on_launch=False,
            tags={**ctx.tags, "Name": f"{ctx.prefix}-{tier}-{index}", role: "1"},
            opts=pulumi.ResourceOptions(parent=self),
        )
