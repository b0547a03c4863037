"""IAM policy documents built from statements whose values may be Outputs."""

from __future__ import annotations

from typing import Any

import pulumi


def document(*statements: dict[str, Any]) -> pulumi.Output[str]:
    """JSON policy document; nested Outputs are resolved."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def deny_insecure_transport(bucket_arn: pulumi.Input[str]) -> dict[str, Any]:
    """Refuse every request to the bucket and its objects that is not over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def service_trust(service: str, account_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """Trust policy letting one AWS service assume a role on behalf of this account only."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    )


def github_oidc_trust(
    provider_arn: pulumi.Input[str], issuer_host: str, subject: str
) -> pulumi.Output[str]:
    """Trust policy for GitHub Actions tokens of exactly one ``sub`` (no wildcard), audience STS."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{issuer_host}:aud": "sts.amazonaws.com",
                    f"{issuer_host}:sub": subject,
                }
            },
        }
    )
