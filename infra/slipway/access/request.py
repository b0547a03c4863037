"""One AWS request as IAM authorizes it, and JSON-lines files of them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ContextValue = str | tuple[str, ...]


@dataclass(frozen=True)
class AccessRequest:
    """``principal`` (a role ARN) asks for ``action`` on ``resource`` with ``context``.

    ``context`` holds the request's condition keys (``aws:ResourceTag/environment``,
    ``iam:PassedToService``, ``kms:ViaService`` ...), multi-valued keys as tuples.
    ``origin`` says where the request comes from (``recorded:<workload>``,
    ``service:<table>``, ``deploy:<resource type>``, ``deny:<rule>``). ``creates``: the
    request creates its resource, which so has no tags yet (``aws:ResourceTag`` absent).
    """

    principal: str
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    origin: str = ""
    creates: bool = False

    def __post_init__(self) -> None:
        if ":" not in self.action:
            raise ValueError(f"action: must be <service>:<Action>, got {self.action!r}")
        if self.resource != "*" and not self.resource.startswith("arn:"):
            raise ValueError(f"resource: must be an ARN or *, got {self.resource!r}")
        frozen = {k: tuple(v) if isinstance(v, list) else v for k, v in self.context.items()}
        object.__setattr__(self, "context", frozen)

    @property
    def account(self) -> str:
        """The account the request is made in (the principal's)."""
        parts = self.principal.split(":")
        return parts[4] if len(parts) > 4 else ""

    def to_dict(self) -> dict[str, Any]:
        context = {k: list(v) if isinstance(v, tuple) else v for k, v in self.context.items()}
        found = {
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "context": context,
            "origin": self.origin,
        }
        return {**found, "creates": True} if self.creates else found

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccessRequest:
        return cls(
            principal=str(data.get("principal") or ""),
            action=str(data["action"]),
            resource=str(data["resource"]),
            context=dict(data.get("context") or {}),
            origin=str(data.get("origin") or ""),
            creates=bool(data.get("creates")),
        )

    def key(self) -> tuple[str, str, str, str]:
        """Identity of the request for de-duplication (origin left out)."""
        context = json.dumps(self.to_dict()["context"]) + ("+creates" if self.creates else "")
        return (self.principal, self.action, self.resource, context)


def write_jsonl(path: Path, requests: Iterable[AccessRequest], *, append: bool = False) -> None:
    with Path(path).open("a" if append else "w") as out:
        for request in requests:
            out.write(json.dumps(request.to_dict(), sort_keys=True) + "\n")


def read_jsonl(path: Path) -> Iterator[AccessRequest]:
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield AccessRequest.from_dict(json.loads(line))
        except (ValueError, KeyError) as error:
            raise ValueError(f"{path}:{number}: {error}") from error
