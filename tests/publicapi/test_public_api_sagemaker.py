"""SageMaker flavor: the HTTP API's JWT authorizer and Lambda proxy in front of the real
model server, configured from the baked stack's declarations; valid, expired,
wrong-audience, missing, unscoped and forged tokens each get API Gateway's documented answer.

Rehearsed: the authorizer's checks (joserfc; rules from "Control access to HTTP APIs with
JWT authorizers"), the route, the declared Lambda code, handler and environment with a
payload 2.0 event, its boto3 InvokeEndpoint call (botocore's real serialization and error
parsing) against a SageMaker Runtime stand-in. Not rehearsed: API Gateway itself (its
TLS endpoint, throttling, access logs, key caching, limits), Lambda's sandbox, SageMaker
hosting (docs/public-api.md)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from public_api_support import call, invocation
from slipway.aws.public_api import ROUTE
from slipway.testing import ProgramRun, iter_policy_statements
from slipway.testing.bearer import HttpApiAuthorizer
from slipway.testing.front_doors import HttpApiFront, SageMakerRuntime
from slipway.testing.mocks import ACCOUNT_ID, DEFAULT_REGION
from slipway.testing.oidc import LocalIssuer

Mint = Callable[[LocalIssuer, HttpApiAuthorizer], str | None]
UNAUTHORIZED = b'{"message":"Unauthorized"}'


def _claims(a: HttpApiAuthorizer, **changes: Any) -> dict[str, Any]:
    """A Cognito client-credentials access token's claims for the declared client and scope."""
    scope = " ".join(a.scopes)
    return {"client_id": a.audiences[0], "scope": scope, "token_use": "access", **changes}


# case -> (token, status, www-authenticate error)
CASES: dict[str, tuple[Mint, int, str]] = {
    "valid": (lambda i, a: i.token(a.issuer, **_claims(a)), 200, ""),
    "expired": (lambda i, a: i.token(a.issuer, lifetime=-60, **_claims(a)), 401, "invalid_token"),
    "wrong audience": (
        lambda i, a: i.token(a.issuer, **_claims(a, client_id="another-app-client")),
        401,
        "invalid_token",
    ),
    "missing": (lambda i, a: None, 401, ""),
    "without the route's scope": (
        lambda i, a: i.token(a.issuer, **_claims(a, scope="openid")),
        403,
        "insufficient_scope",
    ),
    "forged signature": (
        lambda i, a: i.token(a.issuer, forged=True, **_claims(a)),
        401,
        "invalid_token",
    ),
    "another issuer": (
        lambda i, a: i.token(a.issuer + "-other", **_claims(a)),
        401,
        "invalid_token",
    ),
}


@pytest.fixture(scope="module")
def front(
    sagemaker_run: ProgramRun,
    model_server: int,
    fetch: Callable[[str], dict[str, Any]],
) -> Iterator[HttpApiFront]:
    runtime = SageMakerRuntime(sagemaker_run.outputs["endpointName"], model_server, ACCOUNT_ID)
    api = HttpApiFront(sagemaker_run, ROUTE, fetch, runtime, DEFAULT_REGION)
    try:
        yield api
    finally:
        api.close()
        runtime.close()


@pytest.mark.parametrize("case", list(CASES))
def test_each_token_gets_api_gateways_answer(
    front: HttpApiFront, issuer: LocalIssuer, model_server: int, case: str
) -> None:
    mint, status, error = CASES[case]
    got, body, headers = call(front.url + "/invocations", mint(issuer, front.authorizer))
    assert got == status, body
    if status == 200:
        direct = call(f"http://127.0.0.1:{model_server}/invocations", None)
        assert body == direct[1] and json.loads(body) == {"predictions": [0]}
    elif status == 401:
        assert body == UNAUTHORIZED
        assert headers["www-authenticate"].startswith("Bearer")
        assert not error or f'error="{error}"' in headers["www-authenticate"]
    else:
        assert body == b'{"message":"Forbidden"}'
        assert f'error="{error}"' in headers["www-authenticate"]


def test_the_authorizer_is_the_declared_one(front: HttpApiFront, sagemaker_run: ProgramRun) -> None:
    declared = front.authorizer
    outputs = sagemaker_run.outputs
    assert declared.issuer.startswith("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_")
    assert declared.audiences == (outputs["publicApiClientId"],)
    assert declared.scopes == (outputs["publicApiScope"],) == ("churn-model-public/invoke",)
    assert declared.header == "authorization"
    assert outputs["publicApiUrl"].endswith(".amazonaws.com/invocations")
    assert outputs["publicApiTokenUrl"].endswith(".amazoncognito.com/oauth2/token")


def test_the_proxy_calls_the_declared_endpoint_and_passes_model_errors_through(
    front: HttpApiFront, issuer: LocalIssuer, sagemaker_run: ProgramRun
) -> None:
    token = issuer.token(front.authorizer.issuer, **_claims(front.authorizer))
    status, body, _ = call(front.url + "/invocations", token, body=b'{"inputs": [[1, 2]]}')
    assert status == 400  # the model server's own answer, through ModelError
    assert json.loads(body)["error_code"] == "BAD_REQUEST"
    assert front.function.environment == {"ENDPOINT_NAME": sagemaker_run.outputs["endpointName"]}


def test_only_the_invocations_route_is_public(front: HttpApiFront, issuer: LocalIssuer) -> None:
    token = issuer.token(front.authorizer.issuer, **_claims(front.authorizer))
    for path in ("/ping", "/metrics", "/invocations/x"):
        assert call(front.url + path, token)[0] == 404


def test_the_proxy_role_may_invoke_only_the_stack_endpoint(sagemaker_run: ProgramRun) -> None:
    [role] = [
        r for r in sagemaker_run.of_type("aws:iam/role:Role") if r.name.endswith("-api-invoke")
    ]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "lambda.amazonaws.com"}]
    [attached] = [
        p
        for p in sagemaker_run.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.state["name"]
    ]
    grants = {
        action: resources
        for s in iter_policy_statements(attached.inputs["policy"])
        for action in s["Action"]
        for resources in [s["Resource"]]
    }
    endpoint = sagemaker_run.outputs["endpointName"]
    assert grants == {
        "sagemaker:InvokeEndpoint": [
            f"arn:aws:sagemaker:{DEFAULT_REGION}:{ACCOUNT_ID}:endpoint/{endpoint}"
        ],
        "logs:CreateLogStream": [
            f"arn:aws:logs:{DEFAULT_REGION}:{ACCOUNT_ID}:log-group:/slipway/churn-model-public/invoke:*"
        ],
        "logs:PutLogEvents": [
            f"arn:aws:logs:{DEFAULT_REGION}:{ACCOUNT_ID}:log-group:/slipway/churn-model-public/invoke:*"
        ],
    }


def test_the_stage_throttles_and_logs_to_kms_encrypted_groups(sagemaker_run: ProgramRun) -> None:
    from slipway.presets import load_preset

    preset = load_preset("prod")  # the public stack is prod's config with the public API on
    stage = sagemaker_run.one("aws:apigatewayv2/stage:Stage").inputs
    settings = stage["defaultRouteSettings"]
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (
        preset.public_api.throttle_rate,
        preset.public_api.throttle_burst,
    )
    groups = {
        g.inputs["name"]: g for g in sagemaker_run.of_type("aws:cloudwatch/logGroup:LogGroup")
    }
    access = next(
        g for g in groups.values() if g.state["arn"] == stage["accessLogSettings"]["destinationArn"]
    )
    assert "$context.authorizer.error" in stage["accessLogSettings"]["format"]
    key = next(
        k
        for k in sagemaker_run.of_type("aws:kms/key:Key")
        if k.state["arn"] == access.inputs["kmsKeyId"]
    )
    assert key.inputs["enableKeyRotation"] is True
    [logs] = [
        s for s in json.loads(key.inputs["policy"])["Statement"] if "Service" in s["Principal"]
    ]
    assert logs["Principal"] == {"Service": f"logs.{DEFAULT_REGION}.amazonaws.com"}
    allowed = logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert sorted(allowed) == sorted(g.state["arn"] for g in groups.values())
    assert all(g.inputs["kmsKeyId"] == key.state["arn"] for g in groups.values())
    assert all(g.inputs["retentionInDays"] == preset.retention.log_days for g in groups.values())


def test_the_default_issuer_is_a_client_credentials_only_cognito_pool(
    sagemaker_run: ProgramRun,
) -> None:
    client = sagemaker_run.one("aws:cognito/userPoolClient:UserPoolClient").inputs
    assert client["allowedOauthFlows"] == ["client_credentials"]
    assert client["generateSecret"] is True
    assert client["allowedOauthScopes"] == [sagemaker_run.outputs["publicApiScope"]]
    pool = sagemaker_run.one("aws:cognito/userPool:UserPool").inputs
    assert pool["adminCreateUserConfig"] == {"allowAdminCreateUserOnly": True}


def test_an_invocation_body_is_what_the_model_answers_directly(model_server: int) -> None:
    status, body, _ = call(f"http://127.0.0.1:{model_server}/invocations", None, invocation())
    assert (status, json.loads(body)) == (200, {"predictions": [0]})


def test_before_the_first_release_the_api_answers_503(
    sagemaker_run: ProgramRun,
    model_server: int,
    fetch: Callable[[str], dict[str, Any]],
    issuer: LocalIssuer,
) -> None:
    """The endpoint does not exist yet (the deploy runtime creates it): SageMaker says
    ValidationError "not found", the proxy answers 503 without SageMaker's message."""
    runtime = SageMakerRuntime("no-such-endpoint", model_server, ACCOUNT_ID)
    api = HttpApiFront(sagemaker_run, ROUTE, fetch, runtime, DEFAULT_REGION)
    try:
        token = issuer.token(api.authorizer.issuer, **_claims(api.authorizer))
        status, body, _ = call(api.url + "/invocations", token)
    finally:
        api.close()
        runtime.close()
    assert (status, json.loads(body)["error_code"]) == (503, "ValidationError")
    assert ACCOUNT_ID not in body.decode() and runtime.calls == [
        api.function.environment["ENDPOINT_NAME"]
    ]
