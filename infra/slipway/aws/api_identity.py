"""ApiIdentity: the stack's own OAuth2 token issuer for the public API (Amazon Cognito).

Used when ``slipway:publicApi`` names no issuer. Machine-to-machine callers get access
tokens with the client credentials grant: a user pool (no self sign-up), a resource server
with one scope (``<prefix>/invoke``), one confidential app client allowed only that grant
and that scope, and the pool's domain serving ``/oauth2/token``. Cognito access tokens carry
no ``aud``; they carry ``client_id``, which both the API Gateway JWT authorizer (it checks
``client_id`` when ``aud`` is absent) and the ALB (an additional ``client_id`` claim) check
against the app client's id. The client secret stays in Cognito: read it with
``aws cognito-idp describe-user-pool-client`` (docs/public-api.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from slipway.aws.context import StackContext

SCOPE = "invoke"
AUDIENCE_CLAIM = "client_id"


@dataclass(frozen=True)
class ApiIdentityArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""


class ApiIdentity(pulumi.ComponentResource):
    """Outputs: issuer, jwks_uri, audience (the app client id), scope, token_url."""

    issuer: pulumi.Output[str]
    jwks_uri: pulumi.Output[str]
    audience: pulumi.Output[str]
    scope: str
    token_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: ApiIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:aws:ApiIdentity", name, None, opts)
        ctx = args.context
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = aws.get_region_output(opts=invoke).region
        account = aws.get_caller_identity_output(opts=invoke).account_id
        pool = aws.cognito.UserPool(
            f"{name}-api-users",
            name=f"{ctx.prefix}-api",
            admin_create_user_config={"allow_admin_create_user_only": True},
            deletion_protection="ACTIVE" if ctx.preset.deletion_protection else "INACTIVE",
            tags=ctx.tags,
            opts=ctx.stateful(self),
        )
        server = aws.cognito.ResourceServer(
            f"{name}-api-resource",
            user_pool_id=pool.id,
            identifier=ctx.prefix,
            name=f"{ctx.prefix} model API",
            scopes=[{"scope_name": SCOPE, "scope_description": "Call the model"}],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.scope = f"{ctx.prefix}/{SCOPE}"
        minutes = ctx.preset.public_api.token_minutes
        client = aws.cognito.UserPoolClient(
            f"{name}-api-client",
            name=f"{ctx.prefix}-api-caller",
            user_pool_id=pool.id,
            generate_secret=True,
            allowed_oauth_flows=["client_credentials"],
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_scopes=[self.scope],
            supported_identity_providers=["COGNITO"],
            access_token_validity=minutes,
            token_validity_units={"access_token": "minutes"},
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[server]),
        )
        # Domain prefixes are unique per region across AWS accounts: the account id makes it so.
        domain = aws.cognito.UserPoolDomain(
            f"{name}-api-domain",
            domain=pulumi.Output.concat(ctx.prefix, "-", account),
            user_pool_id=pool.id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.issuer = pulumi.Output.concat(
            "https://cognito-idp.", region, ".amazonaws.com/", pool.id
        )
        self.jwks_uri = pulumi.Output.concat(self.issuer, "/.well-known/jwks.json")
        self.audience = client.id
        self.token_url = pulumi.Output.concat(
            "https://", domain.domain, ".auth.", region, ".amazoncognito.com/oauth2/token"
        )
        self.register_outputs(
            {
                "issuer": self.issuer,
                "jwks_uri": self.jwks_uri,
                "audience": self.audience,
                "scope": self.scope,
                "token_url": self.token_url,
            }
        )
