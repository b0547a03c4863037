"""Bearer-token checks of the public API's two front doors, as AWS documents them.

Both are configured from what the stack declares (``from_run``: the recorded Pulumi
inputs) and verify signatures and registered claims with joserfc; the claim rules and the
answers follow the AWS documentation (docs/public-api.md cites each):

* ``HttpApiAuthorizer``: an API Gateway HTTP API JWT authorizer ("Control access to HTTP
  APIs with JWT authorizers"): token from the identity source, ``Bearer`` prefix optional;
  RSA signature with a ``kid`` of the issuer's JWKS (from its discovery document); ``iss``
  exact; ``aud``, or ``client_id`` when there is no ``aud``, one of the audiences; ``exp``,
  ``nbf``, ``iat``; with route scopes, ``scope``/``scp`` holding one of them. Refusals: 401
  ``{"message":"Unauthorized"}`` with ``www-authenticate: Bearer ... error="invalid_token"``
  (the audience case's description is AWS's; the others are ours), 403 ``Forbidden`` with
  ``insufficient_scope`` for scopes.
* ``AlbJwtValidation``: an ALB listener rule's ``jwt-validation`` action ("Verify JWTs using
  an Application Load Balancer"): RS256 only, keys from the configured JWKS endpoint,
  ``iss`` and ``exp`` required, ``nbf``/``iat`` when present, each additional claim in its
  format. AWS says the load balancer "rejects the request" without naming the status; 401
  is assumed here (what ALB's authenticate actions answer on Deny).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import errors, jwt
from joserfc.jwk import KeySet

from slipway.testing.oidc import DISCOVERY
from slipway.testing.programs import ProgramRun

Fetch = Callable[[str], dict[str, Any]]
"""GET a declared URL and parse its JSON (the rehearsal serves them from loopback)."""
RSA_ALGORITHMS = ["RS256", "RS384", "RS512"]  # HTTP API JWT authorizers: RSA-based only
ALB_ALGORITHMS = ["RS256"]  # ALB: "Only the RS256 algorithm is supported"
JWT_ANNOTATION = "alb.ingress.kubernetes.io/jwt-validation"
ROUTE = "aws:apigatewayv2/route:Route"
AUTHORIZER = "aws:apigatewayv2/authorizer:Authorizer"


@dataclass(frozen=True)
class Refusal:
    """What the front door answers instead of forwarding."""

    status: int
    body: bytes
    headers: dict[str, str]
    reason: str


def _key_set(document: dict[str, Any]) -> KeySet:
    return KeySet.import_key_set(document)  # type: ignore[arg-type]


def _bearer(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    value = value.strip()
    return value[7:].strip() if value[:7].lower() == "bearer " else value


def _registered(claims: Mapping[str, Any], issuer: str, *, now: float | None) -> str | None:
    """``iss`` exact, ``exp`` required, ``nbf``/``iat`` when present; the failure, or None."""
    registry = jwt.JWTClaimsRegistry(
        now=int(now) if now is not None else None,
        iss={"essential": True, "value": issuer},
        exp={"essential": True},
    )
    try:
        registry.validate(dict(claims))
    except errors.ExpiredTokenError:
        return "the token has expired"
    except errors.InvalidTokenError:
        return "the token is not valid yet"
    except (errors.MissingClaimError, errors.InvalidClaimError) as exc:
        return f"the token's {exc.claim} claim is missing or invalid"
    return None


@dataclass(frozen=True)
class HttpApiAuthorizer:
    """An API Gateway HTTP API route's JWT authorizer, as declared."""

    issuer: str
    audiences: tuple[str, ...]
    scopes: tuple[str, ...]
    header: str
    """The identity source's header, lowercase (``$request.header.Authorization``)."""

    @classmethod
    def from_run(cls, run: ProgramRun, route_key: str) -> HttpApiAuthorizer:
        route = next(r for r in run.of_type(ROUTE) if r.inputs["routeKey"] == route_key)
        if route.inputs.get("authorizationType") != "JWT":
            raise AssertionError(f"route {route_key} is not authorized by a JWT authorizer")
        authorizer = next(
            a for a in run.of_type(AUTHORIZER) if a.id == route.inputs["authorizerId"]
        )
        [source] = authorizer.inputs["identitySources"]
        config = authorizer.inputs["jwtConfiguration"]
        return cls(
            issuer=config["issuer"],
            audiences=tuple(config["audiences"]),
            scopes=tuple(route.inputs.get("authorizationScopes") or ()),
            header=source.removeprefix("$request.header.").lower(),
        )

    def check(
        self, headers: Mapping[str, str], fetch: Fetch, now: float | None = None
    ) -> Refusal | dict[str, Any]:
        """The token's claims when the request may pass; else API Gateway's refusal."""
        token = _bearer(headers.get(self.header))
        if token is None:
            return _unauthorized("", "the request carries no token")
        keys = _key_set(fetch(fetch(self.issuer + DISCOVERY)["jwks_uri"]))
        try:
            claims = dict(jwt.decode(token, keys, algorithms=RSA_ALGORITHMS).claims)
        except errors.JoseError as exc:
            return _unauthorized("invalid_token", f"the token is not valid ({exc.error})")
        problem = _registered(claims, self.issuer, now=now)
        if problem is not None:
            return _unauthorized("invalid_token", problem)
        audience = claims["aud"] if "aud" in claims else claims.get("client_id")
        given = audience if isinstance(audience, list) else [audience]
        if not set(given) & set(self.audiences):
            return _unauthorized("invalid_token", "the token does not have a valid audience")
        if self.scopes and not set(_scopes(claims)) & set(self.scopes):
            return Refusal(
                403,
                b'{"message":"Forbidden"}',
                {
                    "content-type": "application/json",
                    "www-authenticate": f'Bearer scope="{" ".join(self.scopes)}" '
                    'error="insufficient_scope" error_description="the token lacks the scopes"',
                },
                "the token lacks the route's scopes",
            )
        return claims


def _scopes(claims: Mapping[str, Any]) -> list[str]:
    value = claims.get("scope", claims.get("scp", ""))
    return value.split() if isinstance(value, str) else list(value)


def _unauthorized(error: str, description: str) -> Refusal:
    challenge = (
        "Bearer"
        if not error
        else (f'Bearer scope="" error="{error}" error_description="{description}"')
    )
    return Refusal(
        401,
        b'{"message":"Unauthorized"}',
        {"content-type": "application/json", "www-authenticate": challenge},
        description,
    )


@dataclass(frozen=True)
class AdditionalClaim:
    name: str
    format: str
    values: tuple[str, ...]

    def holds(self, claims: Mapping[str, Any]) -> bool:
        """The claim is present, in its format, and carries the configured value(s)."""
        value = claims.get(self.name)
        if self.format == "single-string":
            return isinstance(value, str) and value in self.values
        if self.format == "space-separated-values":
            return isinstance(value, str) and set(self.values) <= set(value.split())
        if self.format == "string-array":
            return isinstance(value, list) and set(self.values) <= set(value)
        raise ValueError(f"{self.name}: unknown claim format {self.format!r}")


@dataclass(frozen=True)
class AlbJwtValidation:
    """An ALB listener rule's ``jwt-validation`` action, as the Ingress declares it."""

    issuer: str
    jwks_endpoint: str
    claims: tuple[AdditionalClaim, ...]

    @classmethod
    def from_annotation(cls, value: str) -> AlbJwtValidation:
        config = json.loads(value)
        return cls(
            issuer=config["issuer"],
            jwks_endpoint=config["jwksEndpoint"],
            claims=tuple(
                AdditionalClaim(c["name"], c["format"], tuple(c["values"]))
                for c in config.get("additionalClaims") or ()
            ),
        )

    def check(
        self, headers: Mapping[str, str], fetch: Fetch, now: float | None = None
    ) -> Refusal | dict[str, Any]:
        token = _bearer(headers.get("authorization"))
        if token is None:
            return _alb_refusal("no token")
        keys = _key_set(fetch(self.jwks_endpoint))
        try:
            claims = dict(jwt.decode(token, keys, algorithms=ALB_ALGORITHMS).claims)
        except errors.JoseError as exc:
            return _alb_refusal(f"signature or format ({exc.error})")
        problem = _registered(claims, self.issuer, now=now)
        if problem is not None:
            return _alb_refusal(problem)
        for claim in self.claims:
            if not claim.holds(claims):
                return _alb_refusal(f"claim {claim.name} does not hold {list(claim.values)}")
        return claims


def _alb_refusal(reason: str) -> Refusal:
    return Refusal(401, b"401 Unauthorized", {"content-type": "text/html"}, reason)
