"""``slipway:publicApi``: the optional authenticated API in front of the model (docs/public-api.md).

Off by default. ``true`` turns it on with the stack's own Amazon Cognito user pool as the
token issuer (machine-to-machine: client credentials, one scope); a mapping sets an
OIDC issuer of your own and, on EKS, the load balancer's certificate:

.. code-block:: yaml

    slipway:publicApi:
      issuer: https://login.example.com/     # the tokens' ``iss``, exactly
      audiences: [churn-api]                 # ``aud`` (or, without ``aud``, ``client_id``)
      scopes: [churn/invoke]                 # optional: a token must carry one of them
      jwksUri: https://login.example.com/.well-known/jwks.json   # EKS only (ALB needs it)
      certificateArn: arn:aws:acm:...        # EKS only, required: the HTTPS listener
      host: api.example.com                  # EKS only, optional: the Ingress host rule
      waf: true                              # EKS only: an AWS WAF web ACL on the ALB

Each rule is settled by the AWS behaviour it guards (docs/public-api.md cites them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

KEY = "slipway:publicApi"
FIELDS = ("issuer", "audiences", "scopes", "jwksUri", "certificateArn", "host", "waf")
EKS_ONLY = ("jwksUri", "certificateArn", "host", "waf")
CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")
HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# ALB additional-claim values and API Gateway audiences/scopes: at most 256 characters.
VALUE = re.compile(r"^[\x21-\x7e]{1,256}$")
ALB_NAME_LIMIT = 32  # Elastic Load Balancing: a load balancer name has at most 32 characters
LOAD_BALANCER_SUFFIX = "-api"


class PublicApiError(ValueError):
    """``slipway:publicApi`` breaks a rule; the message names the field."""


@dataclass(frozen=True)
class PublicApiOptions:
    """The public API's settings; ``issuer is None``: the stack's Cognito user pool."""

    issuer: str | None = None
    audiences: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    jwks_uri: str | None = None
    certificate_arn: str | None = None
    host: str | None = None
    waf: bool = False

    @property
    def cognito(self) -> bool:
        return self.issuer is None


def parse_public_api(value: object, compute: str, prefix: str) -> PublicApiOptions | None:
    """``value`` as the stack config holds it (``true``/``false`` or a mapping)."""
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, dict):
        raise PublicApiError(f"{KEY}: must be true, false or a mapping of {', '.join(FIELDS)}")
    for field in value:
        if field not in FIELDS:
            raise PublicApiError(f"{KEY}.{field}: unknown field (valid: {', '.join(FIELDS)})")
    if compute != "eks":
        for field in EKS_ONLY:
            if field in value:
                raise PublicApiError(f"{KEY}.{field}: {_SAGEMAKER_REFUSALS[field]}")
    options = PublicApiOptions(
        issuer=_https(value, "issuer"),
        audiences=_strings(value, "audiences"),
        scopes=_strings(value, "scopes"),
        jwks_uri=_https(value, "jwksUri"),
        certificate_arn=_certificate(value),
        host=_host(value),
        waf=_boolean(value, "waf"),
    )
    _check_issuer(options)
    if compute == "eks":
        _check_eks(options, prefix)
    return options


_SAGEMAKER_REFUSALS = {
    "jwksUri": "eks only: API Gateway reads the key set from the issuer's discovery document",
    "certificateArn": "eks only: the HTTP API's default endpoint has its own TLS certificate",
    "host": "eks only: the HTTP API is served on its execute-api host",
    "waf": (
        "eks only: AWS WAF cannot be associated with an API Gateway HTTP API (REST APIs, "
        "ALBs and others only; docs/public-api.md)"
    ),
}


def _check_issuer(options: PublicApiOptions) -> None:
    if options.issuer is None:
        for field, given in (("audiences", options.audiences), ("scopes", options.scopes)):
            if given:
                raise PublicApiError(
                    f"{KEY}.{field}: set only with issuer (the stack's Cognito user pool "
                    "defines its own client and scope)"
                )
        if options.jwks_uri is not None:
            raise PublicApiError(f"{KEY}.jwksUri: set only with issuer")
        return
    if not options.audiences:
        raise PublicApiError(f"{KEY}.audiences: required with issuer (the tokens' aud values)")


def _check_eks(options: PublicApiOptions, prefix: str) -> None:
    if options.certificate_arn is None:
        raise PublicApiError(
            f"{KEY}.certificateArn: required on eks: an ACM certificate ARN for the HTTPS "
            "listener (ALB validates tokens on HTTPS listeners only)"
        )
    if options.issuer is not None and options.jwks_uri is None:
        raise PublicApiError(f"{KEY}.jwksUri: required with issuer on eks (ALB does no discovery)")
    if len(options.audiences) > 1:
        raise PublicApiError(
            f"{KEY}.audiences: one audience on eks (ALB checks it as one additional claim)"
        )
    if len(options.scopes) > 1:
        raise PublicApiError(f"{KEY}.scopes: at most one scope on eks (one additional claim)")
    name = load_balancer_name(prefix)
    if len(name) > ALB_NAME_LIMIT:
        raise PublicApiError(
            f"{KEY}: the load balancer name {name} is longer than {ALB_NAME_LIMIT} characters; "
            "use a shorter project or stack name"
        )


def load_balancer_name(prefix: str) -> str:
    """The ALB's name (the controller's ``load-balancer-name``): the IAM scope of its role."""
    return prefix + LOAD_BALANCER_SUFFIX


def _https(value: dict[str, Any], field: str) -> str | None:
    given = value.get(field)
    if given is None:
        return None
    parts = urlsplit(given) if isinstance(given, str) else None
    if (
        parts is None
        or parts.scheme != "https"
        or not parts.netloc
        or parts.query
        or parts.fragment
    ):
        raise PublicApiError(
            f"{KEY}.{field}: must be an https URL without query or fragment (got {given!r})"
        )
    return str(given)


def _strings(value: dict[str, Any], field: str) -> tuple[str, ...]:
    given = value.get(field, [])
    if not isinstance(given, list) or not all(isinstance(v, str) and VALUE.match(v) for v in given):
        raise PublicApiError(
            f"{KEY}.{field}: must be a list of 1-256 printable characters without spaces"
        )
    if len(set(given)) != len(given):
        raise PublicApiError(f"{KEY}.{field}: values must be unique")
    return tuple(given)


def _certificate(value: dict[str, Any]) -> str | None:
    given = value.get("certificateArn")
    if given is not None and not (isinstance(given, str) and CERTIFICATE_ARN.match(given)):
        raise PublicApiError(
            f"{KEY}.certificateArn: must be arn:aws:acm:<region>:<account>:certificate/<id> "
            f"(got {given!r})"
        )
    return given


def _host(value: dict[str, Any]) -> str | None:
    given = value.get("host")
    if given is not None and not (isinstance(given, str) and HOST.match(given)):
        raise PublicApiError(f"{KEY}.host: must be a lowercase DNS name (got {given!r})")
    return given


def _boolean(value: dict[str, Any], field: str) -> bool:
    given = value.get(field, False)
    if not isinstance(given, bool):
        raise PublicApiError(f"{KEY}.{field}: must be true or false (got {given!r})")
    return given
