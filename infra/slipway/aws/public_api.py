"""PublicApi: an API Gateway HTTP API with a JWT authorizer in front of the SageMaker endpoint.

``POST /invocations`` is the only route; its JWT authorizer validates the caller's bearer
token (issuer, audience or ``client_id``, expiry, signature from the issuer's JWKS; with
``scopes``, one of them) before anything runs, then a Lambda proxy calls
``InvokeEndpoint`` on the endpoint NAMED ``endpoint_name`` (HTTP APIs have no SageMaker
Runtime integration; ``slipway/aws/functions/invoke_endpoint.py``). The function's role may
invoke that endpoint and write its own log group, nothing else. The ``$default`` stage
throttles (rate and burst from the preset) and writes JSON access logs; both log groups are
encrypted with a key of their own whose policy lets CloudWatch Logs use it for these log
groups only. Internal callers keep calling the endpoint with IAM-signed InvokeEndpoint.
Design, sources and limits: docs/public-api.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import pulumi
import pulumi_aws as aws

from slipway.aws import policy
from slipway.aws.context import StackContext
from slipway.aws.service_role import service_role

ROUTE = "POST /invocations"
IDENTITY_SOURCE = "$request.header.Authorization"
HANDLER_FILE = "invoke_endpoint.py"
HANDLER = "invoke_endpoint.handler"
RUNTIME = "python3.13"
# API Gateway waits at most 30 s for an HTTP API integration (quota, not adjustable).
INTEGRATION_TIMEOUT_MS = 29_000
FUNCTION_TIMEOUT_S = 29
LAMBDA = "lambda.amazonaws.com"
# $context variables of HTTP API access logs (API Gateway developer guide, "Customizing
# HTTP API access logs").
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "authorizerError": "$context.authorizer.error",
    "clientId": "$context.authorizer.claims.client_id",
    "subject": "$context.authorizer.claims.sub",
}


@dataclass(frozen=True)
class PublicApiArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    endpoint_name: pulumi.Input[str]
    """The SageMaker endpoint's NAME (whoever creates it: Pulumi or the deploy runtime)."""
    issuer: pulumi.Input[str]
    """The tokens' ``iss``, exactly (API Gateway reads its OIDC discovery document)."""
    audiences: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Accepted ``aud`` values (``client_id`` when a token has no ``aud``)."""
    scopes: Sequence[pulumi.Input[str]] = ()
    """Default ``()``: any valid token. Otherwise a token must carry one of them."""


def handler_path() -> str:
    """The Lambda proxy's source file, shipped in the package."""
    return str(files("slipway.aws") / "functions" / HANDLER_FILE)


class PublicApi(pulumi.ComponentResource):
    """Outputs: url (``.../invocations``), api_id, function_name, log_group_name."""

    url: pulumi.Output[str]

    def __init__(
        self, name: str, args: PublicApiArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:aws:PublicApi", name, None, opts)
        ctx = args.context
        child = pulumi.ResourceOptions(parent=self)
        account = policy.stack_account(self)
        function_name = f"{ctx.prefix}-invoke"
        # the function logs to the stack's group, not Lambda's default /aws/lambda/<name>
        # (LoggingConfig.LogGroup, AWS Lambda API reference): one /slipway/<prefix>/ family
        log_names = (f"/slipway/{ctx.prefix}/invoke", f"/slipway/{ctx.prefix}/public-api")
        key = aws.kms.Key(
            f"{name}-api-logs-key",
            description=f"CloudWatch Logs of the public API of {ctx.prefix}",
            enable_key_rotation=True,
            policy=policy.document(*log_key_statements(account, log_names)),
            tags=ctx.tags,
            opts=ctx.stateful(self),
        )
        function_logs, access_logs = (
            aws.cloudwatch.LogGroup(
                f"{name}-{kind}-logs",
                name=log_name,
                retention_in_days=ctx.preset.retention.log_days,
                kms_key_id=key.arn,
                tags=ctx.tags,
                opts=child,
            )
            for kind, log_name in zip(("invoke", "api-access"), log_names, strict=True)
        )
        role = service_role(
            f"{name}-api-invoke",
            ctx,
            LAMBDA,
            account.id,
            invoke_statements(account, args.endpoint_name, log_names[0]),
            parent=self,
        )
        function = aws.lambda_.Function(
            f"{name}-invoke",
            name=function_name,
            description=f"Public API of {ctx.prefix}: InvokeEndpoint on the stack's endpoint",
            runtime=RUNTIME,
            handler=HANDLER,
            code=pulumi.AssetArchive({HANDLER_FILE: pulumi.FileAsset(handler_path())}),
            role=role.arn,
            timeout=FUNCTION_TIMEOUT_S,
            memory_size=256,
            architectures=["arm64"],
            environment={"variables": {"ENDPOINT_NAME": args.endpoint_name}},
            logging_config={"log_format": "JSON", "log_group": function_logs.name},
            tags=ctx.tags,
            opts=child,
        )
        api = aws.apigatewayv2.Api(
            f"{name}-api",
            name=f"{ctx.prefix}-api",
            protocol_type="HTTP",
            description=f"Authenticated model API of {ctx.prefix}",
            tags=ctx.tags,
            opts=child,
        )
        authorizer = aws.apigatewayv2.Authorizer(
            f"{name}-api-authorizer",
            api_id=api.id,
            name="oidc",
            authorizer_type="JWT",
            identity_sources=[IDENTITY_SOURCE],
            jwt_configuration={"issuer": args.issuer, "audiences": args.audiences},
            opts=child,
        )
        integration = aws.apigatewayv2.Integration(
            f"{name}-api-integration",
            api_id=api.id,
            integration_type="AWS_PROXY",
            integration_uri=function.arn,
            payload_format_version="2.0",
            timeout_milliseconds=INTEGRATION_TIMEOUT_MS,
            opts=child,
        )
        aws.apigatewayv2.Route(
            f"{name}-api-route",
            api_id=api.id,
            route_key=ROUTE,
            authorization_type="JWT",
            authorizer_id=authorizer.id,
            authorization_scopes=list(args.scopes) or None,
            target=pulumi.Output.concat("integrations/", integration.id),
            opts=child,
        )
        throttle = ctx.preset.public_api
        aws.apigatewayv2.Stage(
            f"{name}-api-stage",
            api_id=api.id,
            name="$default",
            auto_deploy=True,
            default_route_settings={
                "throttling_rate_limit": throttle.throttle_rate,
                "throttling_burst_limit": throttle.throttle_burst,
                "detailed_metrics_enabled": True,
            },
            access_log_settings={
                "destination_arn": access_logs.arn,
                "format": json.dumps(ACCESS_LOG_FORMAT),
            },
            tags=ctx.tags,
            opts=child,
        )
        aws.lambda_.Permission(
            f"{name}-api-invoke-permission",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(api.execution_arn, "/*/POST/invocations"),
            opts=child,
        )
        self.url = pulumi.Output.concat(api.api_endpoint, "/invocations")
        self.api_id = api.id
        self.function_name = function.name
        self.log_group_name = access_logs.name
        self.register_outputs({"url": self.url, "api_id": self.api_id})


def endpoint_arn(account: policy.Account, endpoint_name: pulumi.Input[str]) -> pulumi.Output[str]:
    """SageMaker writes endpoint names in lowercase in ARNs."""
    lowered = pulumi.Output.from_input(endpoint_name).apply(str.lower)
    return pulumi.Output.concat(account.arn("sagemaker", "endpoint/"), lowered)


def invoke_statements(
    account: policy.Account, endpoint_name: pulumi.Input[str], log_group: str
) -> list[dict[str, Any]]:
    """The proxy's role: invoke the one endpoint, write its own log group."""
    return [
        {
            "Sid": "InvokeStackEndpoint",
            "Effect": "Allow",
            "Action": ["sagemaker:InvokeEndpoint"],
            "Resource": endpoint_arn(account, endpoint_name),
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": account.arn("logs", f"log-group:{log_group}:*"),
        },
    ]


def log_key_statements(account: policy.Account, log_groups: Sequence[str]) -> list[dict[str, Any]]:
    """Key policy: the account's IAM policies decide (the KMS default), and CloudWatch Logs
    of this region may use the key for these log groups only (CloudWatch Logs user guide,
    "Encrypt log data in CloudWatch Logs using AWS KMS")."""
    return [
        {
            "Sid": "EnableIamPolicies",
            "Effect": "Allow",
            "Principal": {
                "AWS": pulumi.Output.concat(
                    "arn:", account.partition, ":iam::", account.id, ":root"
                )
            },
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "CloudWatchLogsOfTheseGroups",
            "Effect": "Allow",
            "Principal": {
                "Service": pulumi.Output.concat("logs.", account.region, ".amazonaws.com")
            },
            "Action": [
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            "Resource": "*",
            "Condition": {
                "ArnEquals": {
                    "kms:EncryptionContext:aws:logs:arn": [
                        account.arn("logs", f"log-group:{group}") for group in log_groups
                    ]
                }
            },
        },
    ]
