"""What `pulumi up` of a stack with ``slipway:publicApi`` adds to the deploy role's contract.

``RESOURCE_ACTIONS``: the public API's resource types and the IAM actions the provider calls
for each (merged into ``slipway.aws.deploy_permissions.RESOURCE_ACTIONS``);
``deploy_statements``: the grants, scoped to the stack where the service allows it:

* API Gateway: HTTP API ids are random and API Gateway's v2 child resources (routes,
  authorizers, integrations, stages) carry no tags of their own, so the grant covers the
  region's HTTP APIs (``/apis``, ``/apis/*``); creating one is limited to the stack's name
  (``apigateway:Request/ApiName``), and a request that sets a route's authorization type to
  anything but JWT is denied (``apigateway:Request/RouteAuthorizationType``);
* access logging of an HTTP API: CloudWatch Logs' log-delivery actions, which have no
  resource type (API Gateway developer guide, "Configure logging for HTTP APIs");
* the stack's Lambda proxy (``<prefix>-invoke``), passing the stack's roles to Lambda;
* the stack's log groups (``/slipway/<prefix>/*``);
* Cognito user pools tagged with the stack's project and environment (creation requires the
  tags), and their clients, resource servers and domains (authorized on the pool);
* EKS: the stack's WAF web ACL (``<prefix>-api``).
"""

from __future__ import annotations

from typing import Any

import pulumi

from slipway.aws.context import StackContext
from slipway.aws.policy import Account

_API = ("apigateway:POST", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE")
LOG_DELIVERY = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
# Actions that have no resource type: IAM authorizes them on "*".
NO_RESOURCE = {
    *LOG_DELIVERY,
    "cognito-idp:CreateUserPool",
    "cognito-idp:DescribeUserPoolDomain",
}

RESOURCE_ACTIONS: dict[str, tuple[str, ...]] = {
    "aws:apigatewayv2/api:Api": _API,
    "aws:apigatewayv2/authorizer:Authorizer": _API,
    "aws:apigatewayv2/integration:Integration": _API,
    "aws:apigatewayv2/route:Route": _API,
    "aws:apigatewayv2/stage:Stage": (*_API, *LOG_DELIVERY),
    "aws:lambda/function:Function": (
        "lambda:CreateFunction",
        "lambda:GetFunction",
        "lambda:GetFunctionCodeSigningConfig",
        "lambda:ListVersionsByFunction",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "lambda:DeleteFunction",
        "lambda:TagResource",
        "iam:PassRole",
    ),
    "aws:lambda/permission:Permission": (
        "lambda:AddPermission",
        "lambda:GetPolicy",
        "lambda:RemovePermission",
    ),
    "aws:cloudwatch/logGroup:LogGroup": (
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "logs:AssociateKmsKey",
        "logs:TagResource",
        "logs:ListTagsForResource",
        "logs:DeleteLogGroup",
    ),
    "aws:cognito/userPool:UserPool": (
        "cognito-idp:CreateUserPool",
        "cognito-idp:DescribeUserPool",
        "cognito-idp:GetUserPoolMfaConfig",
        "cognito-idp:UpdateUserPool",
        "cognito-idp:TagResource",
        "cognito-idp:DeleteUserPool",
    ),
    "aws:cognito/userPoolClient:UserPoolClient": (
        "cognito-idp:CreateUserPoolClient",
        "cognito-idp:DescribeUserPoolClient",
        "cognito-idp:UpdateUserPoolClient",
        "cognito-idp:DeleteUserPoolClient",
    ),
    "aws:cognito/resourceServer:ResourceServer": (
        "cognito-idp:CreateResourceServer",
        "cognito-idp:DescribeResourceServer",
        "cognito-idp:UpdateResourceServer",
        "cognito-idp:DeleteResourceServer",
    ),
    "aws:cognito/userPoolDomain:UserPoolDomain": (
        "cognito-idp:CreateUserPoolDomain",
        "cognito-idp:DescribeUserPoolDomain",
        "cognito-idp:DeleteUserPoolDomain",
    ),
    "aws:wafv2/webAcl:WebAcl": (
        "wafv2:CreateWebACL",
        "wafv2:GetWebACL",
        "wafv2:UpdateWebACL",
        "wafv2:DeleteWebACL",
        "wafv2:TagResource",
        "wafv2:ListTagsForResource",
    ),
}


def deploy_statements(ctx: StackContext, account: Account, *, eks: bool) -> list[dict[str, Any]]:
    """The deploy role's grants for the stack's public API (``eks``: the ALB flavor)."""
    prefix = ctx.prefix
    pool_tags = {
        "aws:ResourceTag/project": ctx.project,
        "aws:ResourceTag/environment": ctx.environment,
    }
    statements: list[dict[str, Any]] = [
        {
            "Sid": "PublicApiUserPool",
            "Effect": "Allow",
            "Action": ["cognito-idp:*"],
            "Resource": account.arn("cognito-idp", "userpool/*"),
            "Condition": {"StringEquals": pool_tags},
        },
        {
            "Sid": "CreatePublicApiUserPool",
            "Effect": "Allow",
            "Action": ["cognito-idp:CreateUserPool", "cognito-idp:TagResource"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "aws:RequestTag/project": ctx.project,
                    "aws:RequestTag/environment": ctx.environment,
                }
            },
        },
        {
            "Sid": "PublicApiDomainLookup",
            "Effect": "Allow",
            "Action": ["cognito-idp:DescribeUserPoolDomain"],
            "Resource": "*",
        },
    ]
    if eks:
        return [
            *statements,
            {
                "Sid": "PublicApiWebAcl",
                "Effect": "Allow",
                "Action": ["wafv2:*WebACL", "wafv2:TagResource", "wafv2:ListTagsForResource"],
                "Resource": account.arn("wafv2", f"regional/webacl/{prefix}-api/*"),
            },
        ]
    apis = pulumi.Output.concat(
        "arn:", account.partition, ":apigateway:", account.region, "::/apis"
    )
    return [
        *statements,
        {
            "Sid": "CreatePublicHttpApi",
            "Effect": "Allow",
            "Action": ["apigateway:POST"],
            "Resource": apis,
            "Condition": {"StringEquals": {"apigateway:Request/ApiName": f"{prefix}-api"}},
        },
        {
            "Sid": "PublicHttpApiParts",
            "Effect": "Allow",
            "Action": [
                "apigateway:GET",
                "apigateway:DELETE",
                "apigateway:PATCH",
                "apigateway:POST",
            ],
            "Resource": pulumi.Output.concat(apis, "/*"),
        },
        {
            "Sid": "NoUnauthenticatedRoute",
            "Effect": "Deny",
            "Action": ["apigateway:POST", "apigateway:PATCH"],
            "Resource": pulumi.Output.concat(apis, "/*/routes*"),
            "Condition": {
                "StringNotEqualsIfExists": {"apigateway:Request/RouteAuthorizationType": "JWT"}
            },
        },
        {
            "Sid": "PublicApiAccessLogDelivery",
            "Effect": "Allow",
            "Action": list(LOG_DELIVERY),
            "Resource": "*",
        },
        {
            "Sid": "PublicApiProxy",
            "Effect": "Allow",
            "Action": [
                "lambda:*Function*",
                "lambda:*Permission",
                "lambda:GetPolicy",
                "lambda:TagResource",
                "lambda:ListVersionsByFunction",
            ],
            "Resource": account.arn("lambda", f"function:{prefix}-*"),
        },
        {
            "Sid": "PublicApiLogGroups",
            "Effect": "Allow",
            "Action": ["logs:*"],
            "Resource": [
                account.arn("logs", f"log-group:/slipway/{prefix}/*"),
            ],
        },
    ]
