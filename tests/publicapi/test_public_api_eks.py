"""EKS flavor: the Ingress's ALB jwt-validation in front of the real model server, configured
from the baked stack's declarations (its own OIDC issuer); the load balancer controller's
chart and least-privilege role; the model server's NetworkPolicy.

Rehearsed: the Ingress rule (path, pathType, host), the jwt-validation action's checks
(joserfc; rules from "Verify JWTs using an Application Load Balancer"), the forward to the
Service's pods. Not rehearsed: the ALB itself (TLS with the ACM certificate, security
groups, health checks, the 401 status, which AWS does not document), the controller
turning the Ingress into listener rules, WAF, NetworkPolicy enforcement (docs/public-api.md)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from program_runs import EKS_PUBLIC_API, PUBLIC_STACK
from public_api_support import (
    SERVER_COMMAND,
    SUBSTITUTED,
    DeclaredPod,
    call,
)
from slipway.eks.lb_controller import CLUSTER_TAG, NAMESPACE, SERVICE_ACCOUNT
from slipway.eks.manifests import manifests, reveal, validate
from slipway.eks.public_ingress import INGRESS_NAME
from slipway.eks.serving_access import CLIENT_LABEL
from slipway.presets import load_preset
from slipway.testing import ProgramRun, RecordedResource, iter_policy_statements
from slipway.testing.bearer import AlbJwtValidation
from slipway.testing.front_doors import AlbFront
from slipway.testing.oidc import LocalIssuer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "eks"))
from chart_keys import chart_defaults, unknown_keys

PRESET = "prod"  # the public stack is prod's config with the public API on
CLUSTER = f"churn-model-{PUBLIC_STACK}"
HOST = {"Host": str(EKS_PUBLIC_API["host"])}
Mint = Callable[[LocalIssuer, AlbJwtValidation], str | None]
AUDIENCE, SCOPE = EKS_PUBLIC_API["audiences"][0], EKS_PUBLIC_API["scopes"][0]  # type: ignore[index]


def _public(subnet: RecordedResource) -> bool:
    """A public subnet: the one the AWS load balancer controller discovers for internet-facing
    load balancers (tag ``kubernetes.io/role/elb``)."""
    return subnet.tags.get("kubernetes.io/role/elb") == "1"


def _claims(**changes: Any) -> dict[str, Any]:
    return {"aud": AUDIENCE, "scope": f"openid {SCOPE}", **changes}


CASES: dict[str, tuple[Mint, int]] = {
    "valid": (lambda i, v: i.token(v.issuer, **_claims()), 200),
    "expired": (lambda i, v: i.token(v.issuer, lifetime=-60, **_claims()), 401),
    "wrong audience": (lambda i, v: i.token(v.issuer, **_claims(aud="another-api")), 401),
    "missing": (lambda i, v: None, 401),
    "without the scope": (lambda i, v: i.token(v.issuer, **_claims(scope="openid")), 401),
    "forged signature": (lambda i, v: i.token(v.issuer, forged=True, **_claims()), 401),
    "another issuer": (lambda i, v: i.token(v.issuer + "/other", **_claims()), 401),
    "RS384 (ALB: RS256 only)": (
        lambda i, v: i.token(v.issuer, algorithm="RS384", **_claims()),
        401,
    ),
}


@pytest.fixture(scope="module")
def alb(
    eks_run: ProgramRun, model_server: int, fetch: Callable[[str], dict[str, Any]]
) -> Iterator[AlbFront]:
    front = AlbFront(eks_run, INGRESS_NAME, fetch, model_server)
    try:
        yield front
    finally:
        front.close()


@pytest.mark.parametrize("case", list(CASES))
def test_each_token_gets_the_albs_answer(
    alb: AlbFront, issuer: LocalIssuer, model_server: int, case: str
) -> None:
    mint, status = CASES[case]
    got, body, _ = call(alb.url + "/invocations", mint(issuer, alb.validation), headers=HOST)
    assert got == status, body
    if status == 200:
        assert body == call(f"http://127.0.0.1:{model_server}/invocations", None)[1]


def test_the_validation_is_the_declared_one(alb: AlbFront) -> None:
    declared = alb.validation
    assert (declared.issuer, declared.jwks_endpoint) == (
        EKS_PUBLIC_API["issuer"],
        EKS_PUBLIC_API["jwksUri"],
    )
    assert [(c.name, c.format, c.values) for c in declared.claims] == [
        ("aud", "single-string", (AUDIENCE,)),
        ("scope", "space-separated-values", (SCOPE,)),
    ]
    assert alb.path == {
        "path": "/invocations",
        "pathType": "Exact",
        "backend": {"service": {"name": "model-server", "port": {"name": "http"}}},
    }


def test_only_the_invocations_path_of_the_declared_host_is_routed(
    alb: AlbFront, issuer: LocalIssuer
) -> None:
    token = issuer.token(alb.validation.issuer, **_claims())
    for path in ("/ping", "/metrics", "/invocations/x"):
        assert call(alb.url + path, token, headers=HOST)[0] == 404
    assert call(alb.url + "/invocations", token, headers={"Host": "other.example.com"})[0] == 404


def test_the_rehearsed_server_is_the_declared_pod(eks_run: ProgramRun, alb: AlbFront) -> None:
    pod = DeclaredPod.from_run(eks_run)
    assert pod.command == SERVER_COMMAND and pod.readiness_path == "/ping"
    assert set(pod.env) - set(SUBSTITUTED) == set(pod.dropped())
    service = next(
        m
        for m in manifests(eks_run)
        if m["kind"] == "Service" and m["metadata"]["name"] == "model-server"
    )
    [port] = service["spec"]["ports"]
    assert port["targetPort"] == alb.target_port == "http"
    assert pod.port == int(pod.env["SLIPWAY_PORT"]) == 8080


def test_new_objects_match_the_kubernetes_schemas(eks_run: ProgramRun) -> None:
    version = load_preset(PRESET).eks.kubernetes_version
    found = [m for m in manifests(eks_run) if m["kind"] in ("Ingress", "NetworkPolicy")]
    assert sorted(m["kind"] for m in found) == ["Ingress", "NetworkPolicy"]
    for manifest in found:
        validate(manifest, version)


def test_the_ingress_is_an_internet_facing_https_alb_with_the_stacks_waf(
    eks_run: ProgramRun,
) -> None:
    ingress = next(m for m in manifests(eks_run) if m["kind"] == "Ingress")
    notes = {
        k.removeprefix("alb.ingress.kubernetes.io/"): v
        for k, v in ingress["metadata"]["annotations"].items()
    }
    public = sorted(s.state["name"] for s in eks_run.of_type("aws:ec2/subnet:Subnet") if _public(s))
    assert notes["scheme"] == "internet-facing" and notes["target-type"] == "ip"
    assert json.loads(notes["listen-ports"]) == [{"HTTPS": 443}]
    assert notes["certificate-arn"] == EKS_PUBLIC_API["certificateArn"]
    assert notes["ssl-policy"].startswith("ELBSecurityPolicy-TLS13")
    assert sorted(notes["subnets"].split(",")) == public
    assert notes["load-balancer-name"] == f"{CLUSTER}-api"
    waf = eks_run.one("aws:wafv2/webAcl:WebAcl")
    assert notes["wafv2-acl-arn"] == waf.state["arn"]
    rate = next(r for r in waf.inputs["rules"] if r["name"] == "rate-per-ip")
    assert (
        rate["statement"]["rateBasedStatement"]["limit"]
        == load_preset(PRESET).public_api.waf_rate_limit
    )
    assert ingress["spec"]["ingressClassName"] == "alb"


def test_the_controller_chart_values_exist_in_the_pinned_chart(eks_run: ProgramRun) -> None:
    release = next(
        r
        for r in eks_run.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "aws-load-balancer-controller"
    )
    values = reveal(release.inputs["values"])
    assert release.inputs["version"] == load_preset(PRESET).eks.lb_controller_chart_version
    assert release.inputs["repositoryOpts"]["repo"] == "https://aws.github.io/eks-charts"
    chart = chart_defaults(f"aws-load-balancer-controller-{release.inputs['version']}.values.yaml")
    assert list(unknown_keys(values, chart)) == []
    assert (values["clusterName"], values["enableShield"], values["enableWaf"]) == (
        CLUSTER,
        False,
        False,
    )
    assert values["enableWafv2"] is True and values["serviceAccount"]["name"] == SERVICE_ACCOUNT
    role = next(
        r
        for r in eks_run.of_type("aws:iam/role:Role")
        if r.state["arn"] == values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    )
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}" in trust.values()


def test_the_controller_role_is_scoped_to_this_stack(eks_run: ProgramRun) -> None:
    [role] = [r for r in eks_run.of_type("aws:iam/role:Role") if r.name.endswith("-lb-controller")]
    [attached] = [
        p
        for p in eks_run.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.state["name"]
    ]
    statements = list(iter_policy_statements(attached.inputs["policy"]))
    for statement in statements:
        if statement["Resource"] == ["*"]:
            assert statement["Sid"] in ("Discover", "LoadBalancingServiceLinkedRole"), statement
            assert statement["Sid"] != "Discover" or all(
                a.split(":")[1].startswith(("Describe", "Get")) for a in statement["Action"]
            )
        for test, pairs in statement.get("Condition", {}).items():
            for key, value in pairs.items():
                if key.endswith(CLUSTER_TAG):
                    assert (test, value) == ("StringEquals", CLUSTER), statement
        arns = [
            r
            for r in statement["Resource"]
            if ":elasticloadbalancing:" in r and "loadbalancer" in r
        ]
        assert all(f"/app/{CLUSTER}-api/" in arn for arn in arns), statement
    tagged = [
        s for s in statements if "Condition" in s and "aws:ResourceTag/" + CLUSTER_TAG in str(s)
    ]
    assert tagged, "writes to load balancers and groups must be conditioned on this cluster's tag"


def test_the_model_server_accepts_only_the_alb_prometheus_and_labelled_clients(
    eks_run: ProgramRun,
) -> None:
    policy = next(m for m in manifests(eks_run) if m["kind"] == "NetworkPolicy")
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress"]
    assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "model-server"}}
    sources = [source for rule in spec["ingress"] for source in rule["from"]]
    public = sorted(
        s.inputs["cidrBlock"] for s in eks_run.of_type("aws:ec2/subnet:Subnet") if _public(s)
    )
    assert sorted(s["ipBlock"]["cidr"] for s in sources if "ipBlock" in s) == public
    selected = [s for s in sources if "ipBlock" not in s]
    assert selected == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
            "podSelector": {
                "matchLabels": {
                    "app.kubernetes.io/name": "prometheus",
                    "app.kubernetes.io/managed-by": "prometheus-operator",
                }
            },
        },
        {"namespaceSelector": {}, "podSelector": {"matchLabels": {CLIENT_LABEL: "true"}}},
    ]
    assert all(rule["ports"] == [{"protocol": "TCP", "port": 8080}] for rule in spec["ingress"])


def test_print_the_rehearsal(
    alb: AlbFront, issuer: LocalIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        "public API rehearsal (offline, 127.0.0.1 only)",
        f"  EKS front door: Ingress {INGRESS_NAME} -> ALB jwt-validation -> model-server pods",
        f"  declared issuer {alb.validation.issuer}, JWKS {alb.validation.jwks_endpoint}",
        f"  declared claims {[(c.name, c.values) for c in alb.validation.claims]}",
        "  substituted: declared https issuer URLs served by a local issuer on 127.0.0.1;",
        *(f"    {name}: {why}" for name, why in SUBSTITUTED.items()),
        "  not rehearsed: the real ALB (TLS with ACM, security groups, health checks, its",
        "    refusal status: AWS documents none, 401 assumed), the controller's translation",
        "    of the Ingress, WAF, NetworkPolicy enforcement; the real API Gateway (throttling,",
        "    access logs, key caching), Lambda's sandbox, SageMaker hosting.",
    ]
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert issuer.fetched, "the declared key set was fetched through the local issuer"
