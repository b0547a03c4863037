"""LoadBalancerController: the AWS Load Balancer Controller (Helm) with a least-privilege IRSA role.

The controller turns the public API's Ingress into an ALB. Its role follows the upstream
policy (kubernetes-sigs/aws-load-balancer-controller ``docs/install/iam_policy.json``,
v3.5.0) narrowed to this stack: every tag condition names this cluster
(``elbv2.k8s.aws/cluster`` = the cluster name) instead of "any cluster"; load balancer,
listener and rule ARNs name the stack's one ALB (``<prefix>-api``); security groups are
created in the stack's VPC only and the only untagged group it may open is the cluster
security group (the pods' ENIs use it: target type ``ip``); certificates and web ACLs are
the configured ones; the Shield and WAF Classic integrations are off (no grants). The chart
comes from aws/eks-charts at the preset's pinned version.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from slipway.aws.context import StackContext
from slipway.aws.policy import Account, stack_account
from slipway.eks.irsa import ROLE_ANNOTATION, Oidc, service_account_role
from slipway.platform.public_api import load_balancer_name

CHART = "aws-load-balancer-controller"
CHART_REPO = "https://aws.github.io/eks-charts"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "aws-load-balancer-controller"
INGRESS_CLASS = "alb"
CLUSTER_TAG = "elbv2.k8s.aws/cluster"
# Read-only calls the controller makes to discover subnets, groups and load balancers
# (upstream iam_policy.json); none has resource-level permissions.
DESCRIBE = [
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeAddresses",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeVpcs",
    "ec2:DescribeVpcPeeringConnections",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeTags",
    "ec2:DescribeRouteTables",
    "ec2:GetSecurityGroupsForVpc",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeListenerCertificates",
    "elasticloadbalancing:DescribeSSLPolicies",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTrustStores",
    "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeCapacityReservation",
]
LOAD_BALANCER_WRITES = [
    "elasticloadbalancing:ModifyLoadBalancerAttributes",
    "elasticloadbalancing:SetIpAddressType",
    "elasticloadbalancing:SetSecurityGroups",
    "elasticloadbalancing:SetSubnets",
    "elasticloadbalancing:SetWebAcl",
    "elasticloadbalancing:DeleteLoadBalancer",
    "elasticloadbalancing:ModifyCapacityReservation",
    "elasticloadbalancing:ModifyIpPools",
]
TARGET_GROUP_WRITES = [
    "elasticloadbalancing:ModifyTargetGroup",
    "elasticloadbalancing:ModifyTargetGroupAttributes",
    "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:DeregisterTargets",
]
# Listener and rule calls, each on the resource type IAM authorizes it on.
LISTENER_WRITES = {
    "ListenersOfOwnLoadBalancer": ["elasticloadbalancing:CreateListener"],
    "OwnListeners": [
        "elasticloadbalancing:DeleteListener",
        "elasticloadbalancing:ModifyListener",
        "elasticloadbalancing:ModifyListenerAttributes",
        "elasticloadbalancing:AddListenerCertificates",
        "elasticloadbalancing:RemoveListenerCertificates",
        "elasticloadbalancing:CreateRule",
        "elasticloadbalancing:AddTags",
        "elasticloadbalancing:RemoveTags",
    ],
    "OwnListenerRules": [
        "elasticloadbalancing:DeleteRule",
        "elasticloadbalancing:ModifyRule",
        "elasticloadbalancing:SetRulePriorities",
        "elasticloadbalancing:AddTags",
        "elasticloadbalancing:RemoveTags",
    ],
}
WAF = [
    "wafv2:GetWebACL",
    "wafv2:GetWebACLForResource",
    "wafv2:AssociateWebACL",
    "wafv2:DisassociateWebACL",
]


@dataclass(frozen=True)
class ControllerScope:
    """What the controller's role may touch: the stack's cluster, VPC, ALB and certificate."""

    cluster_name: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    cluster_security_group_id: pulumi.Input[str]
    load_balancer_name: str
    certificate_arn: str
    web_acl_arn: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class LoadBalancerControllerArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    provider: k8s.Provider
    """Kubernetes provider of the cluster: ``Cluster.provider``."""
    oidc: Oidc
    """The cluster's OIDC provider for IRSA: ``Cluster.oidc``."""
    vpc_id: pulumi.Input[str]
    """``Network.vpc_id``: the controller creates security groups there only."""
    cluster_security_group_id: pulumi.Input[str]
    """``Cluster.security_group_id``: the pods' group, opened to the ALB's group."""
    certificate_arn: str
    """The ACM certificate of the HTTPS listener (``slipway:publicApi.certificateArn``)."""
    web_acl_arn: pulumi.Input[str] | None = None
    """Default ``None``: no WAF grants. The web ACL the controller associates with the ALB."""


class LoadBalancerController(pulumi.ComponentResource):
    """Outputs: role_arn; ``release`` (Ingresses of class ``alb`` depend on it)."""

    def __init__(
        self,
        name: str,
        args: LoadBalancerControllerArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("slipway:eks:LoadBalancerController", name, None, opts)
        ctx = args.context
        account = stack_account(self)
        scope = ControllerScope(
            cluster_name=ctx.prefix,
            vpc_id=args.vpc_id,
            cluster_security_group_id=args.cluster_security_group_id,
            load_balancer_name=load_balancer_name(ctx.prefix),
            certificate_arn=args.certificate_arn,
            web_acl_arn=args.web_acl_arn,
        )
        # No stack boundary: the controller's grants (AWS's iam_policy.json shape: ELB, EC2
        # security groups, ACM, WAF by the cluster's tag) do not fit the boundary's 6,144
        # characters; like the node and cluster roles, an administrator's `pulumi up`
        # creates and changes it, and the boundary stops every stack role from doing so.
        role = service_account_role(
            f"{name}-lb-controller",
            replace(ctx, permissions_boundary=None),
            args.oidc,
            NAMESPACE,
            SERVICE_ACCOUNT,
            controller_statements(account, scope),
            parent=self,
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-lb-controller",
            name=CHART,
            chart=CHART,
            version=ctx.preset.eks.lb_controller_chart_version,
            repository_opts={"repo": CHART_REPO},
            namespace=NAMESPACE,
            values=controller_values(
                ctx.prefix, account.region, args.vpc_id, role.arn, waf=args.web_acl_arn is not None
            ),
            atomic=True,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})


def controller_values(
    cluster_name: str,
    region: pulumi.Input[str],
    vpc_id: pulumi.Input[str],
    role_arn: pulumi.Input[str],
    *,
    waf: bool,
) -> dict[str, Any]:
    """Chart values: IRSA service account, explicit region and VPC (no IMDS lookups), two
    replicas with a disruption budget, Shield and WAF Classic off, WAFv2 only with a web ACL."""
    return {
        "clusterName": cluster_name,
        "region": region,
        "vpcId": vpc_id,
        "replicaCount": 2,
        "podDisruptionBudget": {"maxUnavailable": 1},
        "serviceAccount": {
            "create": True,
            "name": SERVICE_ACCOUNT,
            "annotations": {ROLE_ANNOTATION: role_arn},
        },
        "ingressClass": INGRESS_CLASS,
        "createIngressClassResource": True,
        "enableShield": False,
        "enableWaf": False,
        "enableWafv2": waf,
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "512Mi"},
        },
    }


def controller_statements(account: Account, scope: ControllerScope) -> list[dict[str, Any]]:
    """The controller's policy: upstream's statements, each narrowed to this stack."""
    cluster = {CLUSTER_TAG: scope.cluster_name}

    def tagged(key: str) -> dict[str, Any]:
        return {"StringEquals": {f"{key}/{k}": v for k, v in cluster.items()}}

    elb = "elasticloadbalancing"
    lb = scope.load_balancer_name
    load_balancer = account.arn(elb, f"loadbalancer/app/{lb}/*")
    listener_parts = {
        "ListenersOfOwnLoadBalancer": load_balancer,
        "OwnListeners": account.arn(elb, f"listener/app/{lb}/*/*"),
        "OwnListenerRules": account.arn(elb, f"listener-rule/app/{lb}/*/*/*"),
    }
    target_groups = account.arn(elb, "targetgroup/*/*")
    groups = account.arn("ec2", "security-group/*")
    statements: list[dict[str, Any]] = [
        {
            "Sid": "LoadBalancingServiceLinkedRole",
            "Effect": "Allow",
            "Action": ["iam:CreateServiceLinkedRole"],
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": f"{elb}.amazonaws.com"}},
        },
        {"Sid": "Discover", "Effect": "Allow", "Action": DESCRIBE, "Resource": "*"},
        {
            "Sid": "ListenerCertificate",
            "Effect": "Allow",
            "Action": ["acm:DescribeCertificate"],
            "Resource": scope.certificate_arn,
        },
        {
            "Sid": "CreateGroupsInStackVpc",
            "Effect": "Allow",
            "Action": ["ec2:CreateSecurityGroup"],
            "Resource": [groups, pulumi.Output.concat(account.arn("ec2", "vpc/"), scope.vpc_id)],
            "Condition": tagged("aws:RequestTag"),
        },
        {
            "Sid": "TagGroupsOnCreate",
            "Effect": "Allow",
            "Action": ["ec2:CreateTags"],
            "Resource": groups,
            "Condition": {
                "StringEquals": {
                    "ec2:CreateAction": "CreateSecurityGroup",
                    f"aws:RequestTag/{CLUSTER_TAG}": scope.cluster_name,
                }
            },
        },
        {
            "Sid": "ChangeOwnGroups",
            "Effect": "Allow",
            "Action": [
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:DeleteSecurityGroup",
                "ec2:CreateTags",
                "ec2:DeleteTags",
            ],
            "Resource": groups,
            "Condition": tagged("aws:ResourceTag"),
        },
        {
            "Sid": "OpenPodGroupToLoadBalancer",
            "Effect": "Allow",
            "Action": ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
            "Resource": [
                pulumi.Output.concat(
                    account.arn("ec2", "security-group/"), scope.cluster_security_group_id
                ),
                account.arn("ec2", "security-group-rule/*"),
            ],
        },
        {
            "Sid": "CreateTaggedLoadBalancer",
            "Effect": "Allow",
            "Action": [f"{elb}:CreateLoadBalancer", f"{elb}:CreateTargetGroup", f"{elb}:AddTags"],
            "Resource": [load_balancer, target_groups],
            "Condition": tagged("aws:RequestTag"),
        },
        {
            "Sid": "ChangeOwnLoadBalancer",
            "Effect": "Allow",
            "Action": [*LOAD_BALANCER_WRITES, f"{elb}:AddTags", f"{elb}:RemoveTags"],
            "Resource": load_balancer,
            "Condition": tagged("aws:ResourceTag"),
        },
        {
            "Sid": "ChangeOwnTargetGroups",
            "Effect": "Allow",
            "Action": [*TARGET_GROUP_WRITES, f"{elb}:AddTags", f"{elb}:RemoveTags"],
            "Resource": target_groups,
            "Condition": tagged("aws:ResourceTag"),
        },
        *(
            {"Sid": sid, "Effect": "Allow", "Action": LISTENER_WRITES[sid], "Resource": resource}
            for sid, resource in listener_parts.items()
        ),
    ]
    if scope.web_acl_arn is not None:
        statements.append(
            {
                "Sid": "AssociateStackWebAcl",
                "Effect": "Allow",
                "Action": WAF,
                "Resource": [scope.web_acl_arn, load_balancer],
            }
        )
    return statements
