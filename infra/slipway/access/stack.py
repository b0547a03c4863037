"""The access-relevant part of a stack, read from a mocked program run.

Every role (its trust, inline and attached policies, permissions boundary, tags), every
resource with an ARN and its tags (the declared ones, then those the release creates from
the ``serving`` spec: ``slipway.access.release.runtime_resources``), and the resource
policies IAM evaluates with them: the bucket policies and the KMS key policies. A key
declared without ``policy`` gets AWS's default key policy, which lets the account's IAM
policies decide ("Default key policy", AWS KMS Developer Guide: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
AWS managed policies come from ``managed_policy`` (default: moto's snapshot of them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from typing import Any

from slipway.testing import ProgramRun, RecordedResource

Document = dict[str, Any]
ROLE = "aws:iam/role:Role"
INLINE = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
MANAGED = "aws:iam/policy:Policy"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
KEY = "aws:kms/key:Key"
AWS_MANAGED_PREFIX = ":iam::aws:policy/"


def default_key_policy(account: str, partition: str = "aws") -> Document:
    """The key policy KMS gives a key created without one: the account's IAM policies decide."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


@cache
def _moto_managed() -> dict[str, Document]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data = json.loads(aws_managed_policies_data)
    return {name: entry["Document"] for name, entry in data.items()}


def aws_managed_policy(arn: str) -> Document:
    """An AWS managed policy's document from moto's snapshot of them (moto/iam/
    aws_managed_policies.py, generated from the AWS accounts' policy list)."""
    name = arn.rsplit("/", 1)[-1]
    try:
        return _moto_managed()[name]
    except KeyError:
        raise KeyError(f"{arn}: not in moto's snapshot of AWS managed policies") from None


@dataclass(frozen=True)
class Role:
    """One IAM role of the stack; ``kind`` is its logical name after the stack prefix."""

    kind: str
    name: str
    arn: str
    trust: Document
    tags: dict[str, str]
    inline: tuple[tuple[str, Document], ...] = ()
    managed: tuple[str, ...] = ()
    boundary: str | None = None

    @property
    def principal_context(self) -> dict[str, str]:
        """Condition keys IAM supplies about the role itself (its tags)."""
        return {f"aws:PrincipalTag/{k}": v for k, v in self.tags.items()}


@dataclass(frozen=True)
class StackResource:
    type: str
    logical: str
    name: str
    arn: str
    tags: dict[str, str]


@dataclass(frozen=True)
class StackAccess:
    """Roles, resources and resource policies of one stack of one project."""

    project: str
    environment: str
    account: str
    region: str
    roles: dict[str, Role]
    resources: tuple[StackResource, ...]
    resource_policies: dict[str, Document]
    outputs: dict[str, Any] = field(default_factory=dict)
    policies: dict[str, Document] = field(default_factory=dict)
    state_bucket: str | None = None
    """The bucket of the stack's self-managed Pulumi backend (``slipway:pulumiStateBucket``)."""

    @property
    def prefix(self) -> str:
        return f"{self.project}-{self.environment}"

    @property
    def account_key_arn(self) -> str:
        """A KMS key of the account no stack made (no tags, the default key policy)."""
        return f"arn:aws:kms:{self.region}:{self.account}:key/{uuid_like(self.account)}"

    @property
    def state_key_arn(self) -> str:
        """The stack's Pulumi secrets key (made once by an administrator, alias
        ``<project>-<stack>-pulumi``); its id here stands for the real one."""
        return f"arn:aws:kms:{self.region}:{self.account}:key/{uuid_like(self.prefix + '-pulumi')}"

    @cached_property
    def tags_by_arn(self) -> dict[str, dict[str, str]]:
        """Each declared resource's tags by ARN (the first declaration of an ARN counts)."""
        found: dict[str, dict[str, str]] = {}
        for declared in self.resources:
            found.setdefault(declared.arn, declared.tags)
        return found

    def identity_policies(self, role: Role) -> list[tuple[str, Document]]:
        """(name, document) of every policy attached to ``role``: inline, then managed."""
        return [*role.inline, *((arn, self.policies[arn]) for arn in role.managed)]

    def resource_policy(self, resource: str) -> tuple[str, Document] | None:
        """The resource policy IAM evaluates for ``resource`` (bucket and objects, key)."""
        if resource.startswith("arn:aws:s3:::"):
            bucket = resource.split(":::", 1)[1].split("/", 1)[0]
            arn = f"arn:aws:s3:::{bucket}"
        else:
            arn = resource
        found = self.resource_policies.get(arn)
        return (arn, found) if found is not None else None

    def of_type(self, type_: str) -> list[StackResource]:
        return [r for r in self.resources if r.type == type_]

    def role(self, kind: str) -> Role:
        return self.roles[kind]


def uuid_like(seed: str) -> str:
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def stack_access(
    run: ProgramRun,
    project: str,
    environment: str,
    *,
    managed_policy: Callable[[str], Document] = aws_managed_policy,
    state_bucket: str | None = None,
) -> StackAccess:
    """Read ``run`` (``slipway.testing.run_program`` of the stack's program);
    ``state_bucket``: the program's ``slipway:pulumiStateBucket``, if set."""
    prefix = f"{project}-{environment}"
    account, region = _account_region(run)
    inline: dict[str, list[tuple[str, Document]]] = {}
    for attached in run.of_type(INLINE):
        inline.setdefault(attached.inputs["role"], []).append(
            (attached.name, json.loads(attached.inputs["policy"]))
        )
    managed: dict[str, list[str]] = {}
    for attachment in run.of_type(ATTACHMENT):
        managed.setdefault(attachment.inputs["role"], []).append(attachment.inputs["policyArn"])
    policies = {p.state["arn"]: json.loads(p.inputs["policy"]) for p in run.of_type(MANAGED)}
    roles = {}
    for role in run.of_type(ROLE):
        name = role.state["name"]
        kind = role.name.removeprefix(f"{prefix}-")
        arns = tuple(managed.get(name, ()))
        for arn in arns:
            if arn not in policies:
                policies[arn] = (
                    managed_policy(arn) if AWS_MANAGED_PREFIX in arn else _missing(arn, role)
                )
        roles[kind] = Role(
            kind=kind,
            name=name,
            arn=role.state["arn"],
            trust=json.loads(role.inputs["assumeRolePolicy"]),
            tags=dict(role.inputs.get("tags") or {}),
            inline=tuple(inline.get(name, ())),
            managed=arns,
            boundary=role.inputs.get("permissionsBoundary"),
        )
    for role_value in roles.values():
        if role_value.boundary and role_value.boundary not in policies:
            policies[role_value.boundary] = managed_policy(role_value.boundary)
    resource_policies = _resource_policies(run, account)
    stack = StackAccess(
        project, environment, account, region, {}, (), {}, state_bucket=state_bucket
    )
    resource_policies[stack.account_key_arn] = default_key_policy(account)
    if state_bucket is not None:
        resource_policies[stack.state_key_arn] = default_key_policy(account)
    declared = StackAccess(
        project=project,
        environment=environment,
        account=account,
        region=region,
        roles=roles,
        resources=tuple(_resources(run)),
        resource_policies=resource_policies,
        outputs=dict(run.outputs),
        policies=policies,
        state_bucket=state_bucket,
    )
    from slipway.access.release import runtime_resources  # imports this module

    return replace(declared, resources=(*declared.resources, *runtime_resources(declared)))


def _missing(arn: str, role: RecordedResource) -> Document:
    raise KeyError(f"{role.name}: attached policy {arn} is neither declared nor AWS managed")


def _account_region(run: ProgramRun) -> tuple[str, str]:
    for resource in run.cloud_resources:
        arn = str(resource.state.get("arn") or "")
        parts = arn.split(":")
        if len(parts) > 5 and parts[3] and parts[4]:
            return parts[4], parts[3]
    raise ValueError("program run: no regional resource ARN to read the account and region from")


def _resources(run: ProgramRun) -> Iterator[StackResource]:
    for resource in run.cloud_resources:
        arn = resource.state.get("arn")
        if not isinstance(arn, str) or not arn.startswith("arn:"):
            continue
        name = str(resource.state.get("name") or resource.state.get("bucket") or resource.name)
        yield StackResource(resource.type, resource.name, name, arn, resource.tags)


def _resource_policies(run: ProgramRun, account: str) -> dict[str, Document]:
    """Bucket ARN -> bucket policy, key ARN -> key policy (the default one when unset)."""
    buckets = {b.state["bucket"]: b.state["arn"] for b in run.of_type("aws:s3/bucket:Bucket")}
    found: dict[str, Document] = {}
    for policy in run.of_type(BUCKET_POLICY):
        bucket = buckets.get(policy.inputs["bucket"], f"arn:aws:s3:::{policy.inputs['bucket']}")
        found[bucket] = json.loads(policy.inputs["policy"])
    for key in run.of_type(KEY):
        declared = key.inputs.get("policy")
        found[key.state["arn"]] = json.loads(declared) if declared else default_key_policy(account)
    return found
