"""What an applier is: create/delete one Pulumi resource type in emulated AWS."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from slipway.sandbox.errors import SandboxError
from slipway.sandbox.server import AwsClients

# AWS spellings that plain camelCase -> PascalCase gets wrong.
SPECIAL_KEYS = {
    "kmsMasterKeyId": "KMSMasterKeyID",
    "sseAlgorithm": "SSEAlgorithm",
    "s3Uri": "S3Uri",
    "s3Output": "S3Output",
    "volumeSizeInGb": "VolumeSizeInGB",
    "memorySizeInMb": "MemorySizeInMB",
}


@dataclass(frozen=True)
class Declared:
    """A resource as the program declared it, with the mock's physical name and ARN."""

    type: str
    name: str
    inputs: dict[str, Any]
    mock_state: dict[str, Any]

    @property
    def physical(self) -> str:
        """Name the resource gets in AWS (Pulumi's autoname, made deterministic)."""
        for key in ("bucket", "modelPackageGroupName", "dashboardName", "name"):
            if isinstance(self.mock_state.get(key), str) and self.mock_state[key]:
                return str(self.mock_state[key])
        return self.name

    @property
    def tags(self) -> dict[str, str]:
        return dict(self.inputs.get("tags") or {})


@dataclass(frozen=True)
class Applied:
    """Id and state keys (arn, ids) emulated AWS gave back."""

    id: str
    state: dict[str, Any]


@dataclass(frozen=True)
class Applier:
    """How one resource type is created and deleted through boto3."""

    create: Callable[[AwsClients, Declared], Applied]
    delete: Callable[[AwsClients, str, dict[str, Any]], None]


def call(declared: Declared, prop: str, method: Callable[..., Any], **kwargs: Any) -> Any:
    """Make one AWS call for ``prop``; a rejection names the resource and the property."""
    try:
        return method(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise SandboxError(
            f"{declared.type} {declared.name}: {prop}: {error.get('Code', 'Error')}: "
            f"{error.get('Message', exc)}"
        ) from exc


def ignore_missing(method: Callable[..., Any], **kwargs: Any) -> None:
    """Delete call that treats 'already gone' as done."""
    try:
        method(**kwargs)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if not re.search(r"NotFound|NoSuch|ResourceNotFound|ValidationException", code):
            raise


def pascal(value: Any) -> Any:
    """Pulumi's camelCase inputs as AWS's PascalCase request shapes; whole floats as ints."""
    if isinstance(value, dict):
        return {
            SPECIAL_KEYS.get(key, key[:1].upper() + key[1:]): pascal(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [pascal(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def tag_list(declared: Declared, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in sorted(declared.tags.items())]
