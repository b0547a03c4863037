"""``slipway:publicApi``: off by default, every bad value stopped with one line naming the
field and its rule, and turning it on later only adds resources."""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pytest
from slipway.platform import ConfigError, StackConfig, compose, load_config
from slipway.testing import ProgramRun, run_pulumi
from test_platform_config import EKS, PROJECT, SAGEMAKER

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0d4f5c1e-aaaa"
ISSUER = {"issuer": "https://login.example.com/", "audiences": ["churn-api"]}


def _parse(base: dict[str, str], public_api: Any, project: str = PROJECT) -> StackConfig:
    value = public_api if isinstance(public_api, str) else json.dumps(public_api)
    return StackConfig.parse({**base, "publicApi": value}, project, "dev")


@pytest.mark.parametrize(
    ("base", "value", "message"),
    [
        (SAGEMAKER, "yes", "slipway:publicApi: must be a YAML/JSON value"),
        (SAGEMAKER, [1], "slipway:publicApi: must be true, false or a mapping of issuer"),
        (SAGEMAKER, {"isuer": "https://x"}, "slipway:publicApi.isuer: unknown field (valid: "),
        (
            SAGEMAKER,
            {"issuer": "http://login.example.com"},
            "slipway:publicApi.issuer: must be an https URL",
        ),
        (
            SAGEMAKER,
            {"issuer": "https://x/?a=1", "audiences": ["a"]},
            "slipway:publicApi.issuer: must be an https URL without query",
        ),
        (
            SAGEMAKER,
            {"issuer": "https://login.example.com"},
            "slipway:publicApi.audiences: required with issuer",
        ),
        (SAGEMAKER, {"audiences": ["a"]}, "slipway:publicApi.audiences: set only with issuer"),
        (
            SAGEMAKER,
            {**ISSUER, "audiences": "churn-api"},
            "slipway:publicApi.audiences: must be a list",
        ),
        (
            SAGEMAKER,
            {**ISSUER, "scopes": ["a b"]},
            "slipway:publicApi.scopes: must be a list of 1-256 printable",
        ),
        (
            SAGEMAKER,
            {**ISSUER, "scopes": ["a", "a"]},
            "slipway:publicApi.scopes: values must be unique",
        ),
        (
            SAGEMAKER,
            {"waf": True},
            "slipway:publicApi.waf: eks only: AWS WAF cannot be associated with an API Gateway",
        ),
        (SAGEMAKER, {"certificateArn": CERT}, "slipway:publicApi.certificateArn: eks only"),
        (EKS, True, "slipway:publicApi.certificateArn: required on eks"),
        (
            EKS,
            {"certificateArn": "arn:aws:iam::1:x"},
            "slipway:publicApi.certificateArn: must be arn:aws:acm:",
        ),
        (
            EKS,
            {**ISSUER, "certificateArn": CERT},
            "slipway:publicApi.jwksUri: required with issuer on eks",
        ),
        (
            EKS,
            {**ISSUER, "audiences": ["a", "b"], "certificateArn": CERT, "jwksUri": "https://x/k"},
            "slipway:publicApi.audiences: one audience on eks",
        ),
        (
            EKS,
            {"certificateArn": CERT, "host": "API.example.com"},
            "slipway:publicApi.host: must be a lowercase DNS name",
        ),
        (
            EKS,
            {"certificateArn": CERT, "waf": "yes"},
            "slipway:publicApi.waf: must be true or false",
        ),
    ],
)
def test_a_bad_value_stops_with_one_line_naming_the_field(
    base: dict[str, str], value: Any, message: str
) -> None:
    with pytest.raises(ConfigError, match="^" + re.escape(message)) as raised:
        _parse(base, value)
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, pulumi.RunError)


def test_a_load_balancer_name_longer_than_elb_allows_is_refused() -> None:
    long_project = "a-churn-prediction-models"  # a-churn-prediction-models-dev-api: 33
    with pytest.raises(ConfigError, match=r"^slipway:publicApi: the load balancer name .* 32"):
        _parse(EKS, {"certificateArn": CERT}, project=long_project)


def test_off_by_default_and_cognito_when_true() -> None:
    assert StackConfig.parse(SAGEMAKER, PROJECT, "dev").public_api is None
    assert _parse(SAGEMAKER, False).public_api is None
    options = _parse(SAGEMAKER, True).public_api
    assert options is not None and options.cognito and options.audiences == ()


def _run(values: dict[str, str]) -> ProgramRun:
    config = {"aws:region": "us-east-1", **{f"slipway:{k}": v for k, v in values.items()}}
    return run_pulumi(
        lambda: compose(load_config(), cli="churn_model").export(),
        project=PROJECT,
        stack="dev",
        config=config,
    )


def test_turning_it_on_later_only_adds_resources() -> None:
    """Only additions: every resource already there keeps its inputs and every output its
    value, so internal callers keep the same endpoint (``serving``, ``endpointName``) and the
    same roles' IAM-signed access."""
    off, on = _run(SAGEMAKER), _run({**SAGEMAKER, "publicApi": "true"})
    before = {r.urn for r in off.resources}
    assert before <= {r.urn for r in on.resources}
    now = {r.urn: r.inputs for r in on.resources}
    assert [r.name for r in off.resources if now[r.urn] != r.inputs] == []
    assert {k: on.outputs[k] for k in off.outputs} == off.outputs
    assert not any(r.type.startswith(("aws:apigatewayv2", "aws:cognito")) for r in off.resources)
    added = {r.type for r in on.resources if r.urn not in before}
    assert {
        "aws:apigatewayv2/api:Api",
        "aws:apigatewayv2/authorizer:Authorizer",
        "aws:lambda/function:Function",
        "aws:cognito/userPool:UserPool",
    } <= added
    assert set(on.outputs) - set(off.outputs) == {
        "publicApiUrl",
        "publicApiTokenUrl",
        "publicApiClientId",
        "publicApiScope",
    }
