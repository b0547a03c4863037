"""Deletion protection where the stack preset asks for it (prod)."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs

from slipway.policies.base import resource_policy, stack_preset

BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
RDS = "aws:rds/instance:Instance"
ECR = "aws:ecr/repository:Repository"
PACKAGE_GROUP = "aws:sagemaker/modelPackageGroup:ModelPackageGroup"
EKS = ("eks:index:Cluster", "aws:eks/cluster:Cluster")
# Stores Pulumi itself must refuse to delete (`protect`), and the flag of each that lets
# AWS or the provider delete their content anyway.
PROTECTED = (BUCKET, KEY, RDS, ECR, PACKAGE_GROUP)
EMPTIED_ON_DELETE = {BUCKET: "forceDestroy", ECR: "forceDelete"}
AWS_PROTECTION = {
    RDS: "deletionProtection",
    EKS[0]: "deletionProtection",
    EKS[1]: "deletionProtection",
}


def _protected(args: ResourceValidationArgs) -> Iterator[str]:
    if not stack_preset(args).deletion_protection:
        return
    type_, props = args.resource_type, args.props
    if type_ in PROTECTED and not args.opts.protect:
        yield "not protected from deletion (resource option protect)"
    flag = EMPTIED_ON_DELETE.get(type_)
    if flag and props.get(flag) is True:
        yield f"{flag} deletes the content with the resource"
    flag = AWS_PROTECTION.get(type_)
    if flag and props.get(flag) is not True:
        yield f"AWS deletion protection is off ({flag})"


POLICIES = [
    resource_policy(
        "deletion-protection",
        "Where the stack preset sets deletion_protection, stores are protected: Pulumi "
        "refuses to delete them and AWS deletion protection is on.",
        (*PROTECTED, *EKS),
        _protected,
        remediation="Create the store with StackContext.stateful(...) options.",
    ),
]
