"""What the public API's roles must do (``slipway:publicApi``), and what no role may do to
another stack's public API.

* ``api-invoke`` (the SageMaker flavor's Lambda proxy): ``InvokeEndpoint`` on the stack's
  endpoint, by its name (``endpointName``), and its own log streams
  (slipway/aws/functions/invoke_endpoint.py);
* ``lb-controller`` (the EKS flavor's AWS Load Balancer Controller): the calls the controller
  makes for the stack's one Ingress, with the tags it puts on what it creates
  (``elbv2.k8s.aws/cluster``: the cluster name) and the resources it names: the ALB
  ``<prefix>-api``, its listener and rule, a target group, its security groups, the pods'
  cluster security group, the configured certificate and web ACL
  (kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json, v3.5.0).

Must deny, for every role of a stack: invoking another stack's endpoint, and changing
another cluster's load balancer, target groups or security groups (tagged for that
cluster).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from slipway.access.request import AccessRequest
from slipway.access.stack import StackAccess
from slipway.eks.lb_controller import CLUSTER_TAG
from slipway.platform.public_api import load_balancer_name
from slipway.testing import ProgramRun

CONTROLLER = "workload:AWS Load Balancer Controller (iam_policy.json v3.5.0)"
PROXY = "workload:public API proxy (aws/functions/invoke_endpoint.py)"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
ANNOTATION = "alb.ingress.kubernetes.io/"


def _req(action: str, resource: str, origin: str, **context: object) -> AccessRequest:
    return AccessRequest("", action, resource, dict(context), origin)  # type: ignore[arg-type]


def endpoint_arn(stack: StackAccess, name: str) -> str:
    return f"arn:aws:sagemaker:{stack.region}:{stack.account}:endpoint/{name.lower()}"


def public_api_requests(stack: StackAccess, run: ProgramRun) -> Iterator[tuple[str, AccessRequest]]:
    """(role, request) every public API role of ``stack`` must be allowed."""
    endpoint = stack.outputs.get("endpointName")
    if "api-invoke" in stack.roles and endpoint:
        yield "api-invoke", _req("sagemaker:InvokeEndpoint", endpoint_arn(stack, endpoint), PROXY)
        stream = (
            f"arn:aws:logs:{stack.region}:{stack.account}:log-group:/slipway/"
            f"{stack.prefix}/invoke:log-stream:2026/01/01/[$LATEST]x"
        )
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            yield "api-invoke", _req(action, stream, PROXY)
    if "lb-controller" in stack.roles:
        yield from (("lb-controller", r) for r in _controller_requests(stack, run))


def _controller_requests(stack: StackAccess, run: ProgramRun) -> Iterator[AccessRequest]:
    region, account = stack.region, stack.account
    cluster = str(stack.outputs["clusterName"])
    tag = {f"aws:RequestTag/{CLUSTER_TAG}": cluster, "aws:TagKeys": (CLUSTER_TAG,)}
    owned = {f"aws:ResourceTag/{CLUSTER_TAG}": cluster}
    elb = f"arn:aws:elasticloadbalancing:{region}:{account}"
    balancer = f"{elb}:loadbalancer/app/{load_balancer_name(stack.prefix)}/50dc6c495c0c9188"
    listener = balancer.replace(":loadbalancer/", ":listener/") + "/f2f7dc8efc522ab2"
    rule = listener.replace(":listener/", ":listener-rule/") + "/9683b2d02a6cabee"
    group = f"{elb}:targetgroup/k8s-serving-modelser-1a2b3c4d5e/73e2d6bc24d8a067"
    ec2 = f"arn:aws:ec2:{region}:{account}"
    own_group = f"{ec2}:security-group/sg-0a1b2c3d4e5f60718"
    [vpc] = [r for r in stack.resources if r.type == "aws:ec2/vpc:Vpc"]
    pods_group = run.one("eks:index:Cluster").state["clusterSecurityGroupId"]
    notes = run.one(INGRESS).inputs["metadata"]["annotations"]
    yield _req(
        "iam:CreateServiceLinkedRole",
        f"arn:aws:iam::{account}:role/aws-service-role/elasticloadbalancing.amazonaws.com/x",
        CONTROLLER,
        **{"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"},
    )
    for action in ("ec2:DescribeSubnets", "elasticloadbalancing:DescribeLoadBalancers"):
        yield _req(action, "*", CONTROLLER)
    yield _req("acm:DescribeCertificate", notes[ANNOTATION + "certificate-arn"], CONTROLLER)
    for resource in (own_group, vpc.arn):
        yield _req("ec2:CreateSecurityGroup", resource, CONTROLLER, **tag)
    yield _req(
        "ec2:CreateTags",
        own_group,
        CONTROLLER,
        **tag,
        **{"ec2:CreateAction": "CreateSecurityGroup"},
    )
    for action in ("ec2:AuthorizeSecurityGroupIngress", "ec2:DeleteSecurityGroup"):
        yield _req(action, own_group, CONTROLLER, **owned)
    yield _req(
        "ec2:AuthorizeSecurityGroupIngress", f"{ec2}:security-group/{pods_group}", CONTROLLER
    )
    for action in ("CreateLoadBalancer", "AddTags"):
        yield _req(f"elasticloadbalancing:{action}", balancer, CONTROLLER, **tag)
    yield _req("elasticloadbalancing:CreateTargetGroup", group, CONTROLLER, **tag)
    for action in ("ModifyLoadBalancerAttributes", "SetSecurityGroups", "DeleteLoadBalancer"):
        yield _req(f"elasticloadbalancing:{action}", balancer, CONTROLLER, **owned)
    for action in ("RegisterTargets", "ModifyTargetGroupAttributes", "DeleteTargetGroup"):
        yield _req(f"elasticloadbalancing:{action}", group, CONTROLLER, **owned)
    yield _req("elasticloadbalancing:CreateListener", balancer, CONTROLLER)
    for action in ("ModifyListener", "CreateRule"):
        yield _req(f"elasticloadbalancing:{action}", listener, CONTROLLER)
    yield _req("elasticloadbalancing:ModifyRule", rule, CONTROLLER)
    web_acl = notes.get(ANNOTATION + "wafv2-acl-arn")
    if web_acl:
        for resource in (web_acl, balancer):
            yield _req("wafv2:AssociateWebACL", resource, CONTROLLER)


def foreign_public_api(other: StackAccess) -> Iterator[AccessRequest]:
    """What no role of another stack may do to ``other``'s endpoint and load balancer."""
    origin = f"deny:{other.prefix}"
    endpoint = other.outputs.get("endpointName")
    if endpoint:
        yield _req("sagemaker:InvokeEndpoint", endpoint_arn(other, str(endpoint)), origin)
    cluster = other.outputs.get("clusterName")
    if not cluster:
        return
    elb = f"arn:aws:elasticloadbalancing:{other.region}:{other.account}"
    tags: dict[str, Any] = {f"aws:ResourceTag/{CLUSTER_TAG}": cluster}
    balancer = f"{elb}:loadbalancer/app/{load_balancer_name(other.prefix)}/0a1b2c3d4e5f6071"
    yield _req("elasticloadbalancing:DeleteLoadBalancer", balancer, origin, **tags)
    yield _req(
        "elasticloadbalancing:DeleteListener",
        balancer.replace(":loadbalancer/", ":listener/") + "/0a1b2c3d4e5f6071",
        origin,
    )
    group = f"{elb}:targetgroup/k8s-other-1a2b3c4d5e/0a1b2c3d4e5f6071"
    yield _req("elasticloadbalancing:RegisterTargets", group, origin, **tags)
    security = f"arn:aws:ec2:{other.region}:{other.account}:security-group/sg-0f0e0d0c0b0a09080"
    yield _req("ec2:AuthorizeSecurityGroupIngress", security, origin, **tags)
