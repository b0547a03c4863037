"""A stack's own Pulumi state in a self-managed S3 backend, and nothing of the other stacks'.

With ``PULUMI_BACKEND_URL=s3://<bucket>`` Pulumi access *is* AWS access: whoever reads a
stack's checkpoint and decrypts its secrets key reads its secrets; whoever writes it changes
what the next `pulumi up` believes exists. So each role gets its own stack's objects only,
where the DIY backend keeps them (pulumi/pulumi ``pkg/backend/diy``: ``store.go``
``projectReferenceStore`` for the checkpoint, history, backups and journal of
``<project>/<stack>``; ``lock.go`` for ``.pulumi/locks/organization/<project>/<stack>``), and
``kms:Decrypt`` only with the stack's own key, ``awskms://alias/<project>-<stack>-pulumi``
(the cloud secrets manager decrypts its data key with KMS once per run; encrypting new
secrets happens locally with that data key).
"""

from __future__ import annotations

from typing import Any

import pulumi

from slipway.aws.context import StackContext
from slipway.aws.policy import Account

META = ".pulumi/meta.yaml"
KEY_ALIAS = "alias/{project}-{stack}-pulumi"


def state_prefixes(project: str, stack: str) -> dict[str, str]:
    """Object-key patterns of one stack's state in the bucket, by what they hold."""
    return {
        "checkpoint": f".pulumi/stacks/{project}/{stack}.json*",
        "history": f".pulumi/history/{project}/{stack}/*",
        "backups": f".pulumi/backups/{project}/{stack}/*",
        "journal": f".pulumi/journal/{project}/{stack}/*",
        "locks": f".pulumi/locks/organization/{project}/{stack}/*",
    }


def key_alias(project: str, stack: str) -> str:
    """The alias of a stack's Pulumi secrets key (``awskms://<alias>``)."""
    return KEY_ALIAS.format(project=project, stack=stack)


def state_statements(
    ctx: StackContext, account: Account, bucket: str, *, write: bool, decrypt: bool
) -> list[dict[str, Any]]:
    """Read (and ``write``) the stack's state objects; ``decrypt`` with its secrets key."""
    bucket_arn = pulumi.Output.concat("arn:", account.partition, ":s3:::", bucket)
    keys = list(state_prefixes(ctx.project, ctx.environment).values())
    objects = [pulumi.Output.concat(bucket_arn, "/", key) for key in keys]
    # listing: the project's stack names, and this stack's own directories
    directories = [f".pulumi/stacks/{ctx.project}/*", *(k for k in keys if k.endswith("/*"))]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ListStackState",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": directories}},
        },
        {
            "Sid": "ReadStackState",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [*objects, pulumi.Output.concat(bucket_arn, "/", META)],
        },
    ]
    if write:
        statements.append(
            {
                "Sid": "WriteStackState",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": objects,
            }
        )
    if decrypt:
        statements.append(
            {
                "Sid": "DecryptStackSecrets",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": account.arn("kms", "key/*"),
                "Condition": {
                    "ForAnyValue:StringEquals": {
                        "kms:ResourceAliases": key_alias(ctx.project, ctx.environment)
                    }
                },
            }
        )
    return statements
