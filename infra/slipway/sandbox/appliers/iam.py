"""IAM role, inline and managed policies, attachments, OIDC provider."""

from __future__ import annotations

from typing import Any

from slipway.sandbox.appliers.base import Applied, Applier, Declared, call, ignore_missing, tag_list
from slipway.sandbox.server import AwsClients


def _create_role(aws: AwsClients, d: Declared) -> Applied:
    role = call(
        d,
        "assumeRolePolicy",
        aws("iam").create_role,
        RoleName=d.physical,
        AssumeRolePolicyDocument=d.inputs["assumeRolePolicy"],
        Description=d.inputs.get("description", ""),
        MaxSessionDuration=int(d.inputs.get("maxSessionDuration", 3600)),
        Tags=tag_list(d),
        **(
            {"PermissionsBoundary": d.inputs["permissionsBoundary"]}
            if d.inputs.get("permissionsBoundary")
            else {}
        ),
    )["Role"]
    return Applied(
        role["RoleName"], {"name": role["RoleName"], "arn": role["Arn"], "uniqueId": role["RoleId"]}
    )


def _delete_role(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    ignore_missing(aws("iam").delete_role, RoleName=id_)


def _create_role_policy(aws: AwsClients, d: Declared) -> Applied:
    role, name = d.inputs["role"], d.physical
    call(
        d,
        "policy",
        aws("iam").put_role_policy,
        RoleName=role,
        PolicyName=name,
        PolicyDocument=d.inputs["policy"],
    )
    return Applied(f"{role}:{name}", {"name": name, "role": role})


def _delete_role_policy(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    role, _, name = id_.partition(":")
    ignore_missing(aws("iam").delete_role_policy, RoleName=role, PolicyName=name)


def _create_policy(aws: AwsClients, d: Declared) -> Applied:
    policy = call(
        d,
        "policy",
        aws("iam").create_policy,
        PolicyName=d.physical,
        PolicyDocument=d.inputs["policy"],
        Tags=tag_list(d),
    )["Policy"]
    return Applied(
        policy["Arn"], {"arn": policy["Arn"], "name": d.physical, "policyId": policy["PolicyId"]}
    )


def _delete_policy(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    ignore_missing(aws("iam").delete_policy, PolicyArn=id_)


def _create_attachment(aws: AwsClients, d: Declared) -> Applied:
    role, arn = d.inputs["role"], d.inputs["policyArn"]
    call(d, "policyArn", aws("iam").attach_role_policy, RoleName=role, PolicyArn=arn)
    return Applied(f"{role}|{arn}", {})


def _delete_attachment(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    role, _, arn = id_.partition("|")
    ignore_missing(aws("iam").detach_role_policy, RoleName=role, PolicyArn=arn)


def _create_oidc(aws: AwsClients, d: Declared) -> Applied:
    arn = call(
        d,
        "url",
        aws("iam").create_open_id_connect_provider,
        Url=d.inputs["url"],
        ClientIDList=list(d.inputs.get("clientIdLists") or []),
        ThumbprintList=list(d.inputs.get("thumbprintLists") or []),
        Tags=tag_list(d),
    )["OpenIDConnectProviderArn"]
    return Applied(arn, {"arn": arn})


def _delete_oidc(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    ignore_missing(aws("iam").delete_open_id_connect_provider, OpenIDConnectProviderArn=id_)


APPLIERS = {
    "aws:iam/role:Role": Applier(_create_role, _delete_role),
    "aws:iam/rolePolicy:RolePolicy": Applier(_create_role_policy, _delete_role_policy),
    "aws:iam/policy:Policy": Applier(_create_policy, _delete_policy),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Applier(
        _create_attachment, _delete_attachment
    ),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": Applier(_create_oidc, _delete_oidc),
}
