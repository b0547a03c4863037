"""KMS key and alias. moto, like AWS, only schedules key deletion (PendingDeletion)."""

from __future__ import annotations

from typing import Any

from slipway.sandbox.appliers.base import Applied, Applier, Declared, call, ignore_missing, tag_list
from slipway.sandbox.server import AwsClients


def _create_key(aws: AwsClients, d: Declared) -> Applied:
    kms = aws("kms")
    meta = call(
        d,
        "description",
        kms.create_key,
        Description=d.inputs.get("description", ""),
        Tags=tag_list(d, "TagKey", "TagValue"),
    )["KeyMetadata"]
    if d.inputs.get("enableKeyRotation"):
        call(d, "enableKeyRotation", kms.enable_key_rotation, KeyId=meta["KeyId"])
    return Applied(meta["KeyId"], {"keyId": meta["KeyId"], "arn": meta["Arn"]})


def _delete_key(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    ignore_missing(aws("kms").schedule_key_deletion, KeyId=id_, PendingWindowInDays=7)


def _create_alias(aws: AwsClients, d: Declared) -> Applied:
    name = d.inputs["name"]
    call(
        d,
        "targetKeyId",
        aws("kms").create_alias,
        AliasName=name,
        TargetKeyId=d.inputs["targetKeyId"],
    )
    arn = f"arn:aws:kms:{aws.region}:{d.mock_state['arn'].split(':')[4]}:{name}"
    return Applied(name, {"arn": arn, "name": name})


def _delete_alias(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    ignore_missing(aws("kms").delete_alias, AliasName=id_)


APPLIERS = {
    "aws:kms/key:Key": Applier(_create_key, _delete_key),
    "aws:kms/alias:Alias": Applier(_create_alias, _delete_alias),
}
