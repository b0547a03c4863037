"""PublicIngress: the model server behind an internet-facing ALB that validates bearer JWTs.

An Ingress of class ``alb`` (the AWS Load Balancer Controller, installed here as a child
component) with one HTTPS listener (the ACM certificate, TLS 1.3/1.2 policy) and one path,
``/invocations`` (``Exact``): ``/ping`` and ``/metrics`` are not routed (the ALB answers
404). Before routing, the listener rule's ``jwt-validation`` action (controller v2.15+,
annotation ``alb.ingress.kubernetes.io/jwt-validation``) checks the token's RS256 signature
against the issuer's JWKS, ``iss``, ``exp`` (and ``nbf``/``iat`` when present) and the
additional claims: the audience (``aud``, or ``client_id`` for the stack's Cognito pool)
and, when set, the scope. Targets are the pods' IPs; the ALB lives in the public subnets.
With ``waf``, an AWS WAF web ACL (AWS managed common and known-bad-inputs rules, a per-IP
rate limit from the preset) is associated with the ALB. Sources: docs/public-api.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from slipway.aws.context import StackContext
from slipway.eks import pods
from slipway.eks.irsa import Oidc
from slipway.eks.lb_controller import (
    INGRESS_CLASS,
    LoadBalancerController,
    LoadBalancerControllerArgs,
)
from slipway.eks.serving import APP, ModelServing
from slipway.platform.public_api import load_balancer_name

PATH = "/invocations"
INGRESS_NAME = f"{APP}-public"
ANNOTATION = "alb.ingress.kubernetes.io/"
# TLS 1.3 and 1.2 only (ELB user guide, "Security policies for your Application Load Balancer").
SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# Bodies of model requests exceed the common rule set's 8 KB body limit: counted, not blocked.
COUNTED_RULES = ("SizeRestrictions_BODY",)
MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")


@dataclass(frozen=True)
class TokenRules:
    """What the ALB checks besides signature, ``iss`` and ``exp``/``nbf``/``iat``."""

    issuer: pulumi.Input[str]
    jwks_uri: pulumi.Input[str]
    audience_claim: str
    """``aud``, or ``client_id`` (Cognito access tokens carry no ``aud``)."""
    audience: pulumi.Input[str]
    scope: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class PublicIngressArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    provider: k8s.Provider
    """Kubernetes provider of the cluster: ``Cluster.provider``."""
    oidc: Oidc
    """The cluster's OIDC provider for IRSA: ``Cluster.oidc``."""
    serving: ModelServing
    """The ``ModelServing`` whose Service the ALB targets."""
    vpc_id: pulumi.Input[str]
    """``Network.vpc_id``."""
    public_subnet_ids: Sequence[pulumi.Input[str]]
    """``Network.public_subnet_ids``: where the internet-facing ALB lives."""
    cluster_security_group_id: pulumi.Input[str]
    """``Cluster.security_group_id``: the pods' group, opened to the ALB."""
    certificate_arn: str
    """ACM certificate of the HTTPS listener."""
    tokens: TokenRules
    """The issuer, key set and claims every request's token must match."""
    host: str | None = None
    """Default ``None``: any host. The Ingress rule's host (your DNS name for the ALB)."""
    waf: bool = False
    """Default ``False``. An AWS WAF web ACL on the ALB."""


class PublicIngress(pulumi.ComponentResource):
    """Outputs: url (``https://<host or ALB DNS name>/invocations``), web_acl_arn."""

    url: pulumi.Output[str]

    def __init__(
        self, name: str, args: PublicIngressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:eks:PublicIngress", name, None, opts)
        ctx = args.context
        web_acl = self._web_acl(name, ctx) if args.waf else None
        controller = LoadBalancerController(
            name,
            LoadBalancerControllerArgs(
                ctx,
                provider=args.provider,
                oidc=args.oidc,
                vpc_id=args.vpc_id,
                cluster_security_group_id=args.cluster_security_group_id,
                certificate_arn=args.certificate_arn,
                web_acl_arn=web_acl.arn if web_acl is not None else None,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        rule: dict[str, Any] = {
            "http": {
                "paths": [
                    {
                        "path": PATH,
                        "pathType": "Exact",
                        "backend": {"service": {"name": APP, "port": {"name": "http"}}},
                    }
                ]
            }
        }
        if args.host is not None:
            rule["host"] = args.host
        ingress = k8s.networking.v1.Ingress(
            f"{name}-public-ingress",
            metadata={
                "name": INGRESS_NAME,
                "namespace": args.serving.namespace,
                "labels": pods.labels(ctx, APP),
                "annotations": ingress_annotations(ctx, args, web_acl),
            },
            spec={"ingressClassName": INGRESS_CLASS, "rules": [rule]},
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[controller.release]
            ),
        )
        host = args.host or ingress.status.apply(_load_balancer_host)
        self.url = pulumi.Output.concat("https://", host, PATH)
        self.web_acl_arn = web_acl.arn if web_acl is not None else None
        self.register_outputs({"url": self.url, "web_acl_arn": self.web_acl_arn})

    def _web_acl(self, name: str, ctx: StackContext) -> aws.wafv2.WebAcl:
        def visibility(metric: str) -> dict[str, Any]:
            return {
                "cloudwatch_metrics_enabled": True,
                "metric_name": metric,
                "sampled_requests_enabled": True,
            }

        managed = [
            {
                "name": group,
                "priority": index + 1,
                "override_action": {"none": {}},
                "statement": {
                    "managed_rule_group_statement": {
                        "name": group,
                        "vendor_name": "AWS",
                        "rule_action_overrides": [
                            {"name": counted, "action_to_use": {"count": {}}}
                            for counted in COUNTED_RULES
                        ]
                        if group == MANAGED_RULE_GROUPS[0]
                        else None,
                    }
                },
                "visibility_config": visibility(group),
            }
            for index, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        rate = {
            "name": "rate-per-ip",
            "priority": 0,
            "action": {"block": {}},
            "statement": {
                "rate_based_statement": {
                    "limit": ctx.preset.public_api.waf_rate_limit,
                    "aggregate_key_type": "IP",
                    "evaluation_window_sec": 300,
                }
            },
            "visibility_config": visibility("rate-per-ip"),
        }
        return aws.wafv2.WebAcl(
            f"{name}-api-waf",
            name=f"{ctx.prefix}-api",
            scope="REGIONAL",
            default_action={"allow": {}},
            rules=[rate, *managed],
            visibility_config=visibility(f"{ctx.prefix}-api"),
            tags=ctx.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )


def jwt_validation(tokens: TokenRules) -> pulumi.Output[str]:
    """The ``jwt-validation`` annotation: JWKS, issuer and the additional claims."""
    claims: list[dict[str, Any]] = [
        {"name": tokens.audience_claim, "format": "single-string", "values": [tokens.audience]}
    ]
    if tokens.scope is not None:
        claims.append(
            {"name": "scope", "format": "space-separated-values", "values": [tokens.scope]}
        )
    return pulumi.Output.json_dumps(
        {"jwksEndpoint": tokens.jwks_uri, "issuer": tokens.issuer, "additionalClaims": claims}
    )


def ingress_annotations(
    ctx: StackContext, args: PublicIngressArgs, web_acl: aws.wafv2.WebAcl | None
) -> dict[str, pulumi.Input[str]]:
    """The controller's annotations (kubernetes-sigs/aws-load-balancer-controller
    docs/guide/ingress/annotations.md)."""
    tags = ",".join(f"{k}={v}" for k, v in ctx.tags.items())
    annotations: dict[str, pulumi.Input[str]] = {
        "scheme": "internet-facing",
        "target-type": "ip",
        "load-balancer-name": load_balancer_name(ctx.prefix),
        "subnets": pulumi.Output.all(*args.public_subnet_ids).apply(",".join),
        "listen-ports": json.dumps([{"HTTPS": 443}]),
        "certificate-arn": args.certificate_arn,
        "ssl-policy": SSL_POLICY,
        "backend-protocol": "HTTP",
        "healthcheck-path": "/ping",
        "success-codes": "200",
        "load-balancer-attributes": "routing.http.drop_invalid_header_fields.enabled=true",
        "jwt-validation": jwt_validation(args.tokens),
        "tags": tags,
    }
    if web_acl is not None:
        annotations["wafv2-acl-arn"] = web_acl.arn
    return {ANNOTATION + key: value for key, value in annotations.items()}


def _load_balancer_host(status: Any) -> str:
    """The ALB's DNS name, once the controller has provisioned it (Ingress status)."""

    def field(value: Any, key: str) -> Any:
        return value.get(key) if isinstance(value, dict) else getattr(value, key, None)

    found = field(field(status, "load_balancer"), "ingress") or [None]
    return str(field(found[0], "hostname") or "<the ALB's DNS name, once provisioned>")
