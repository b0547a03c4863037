"""CustomResources validated against the vendored CRD schemas (see crd_schemas/README.md).

Strict like ``kubectl apply --validate=strict``: an object schema with ``properties`` and
no ``additionalProperties`` rejects unknown fields (the API server's field validation for
structural schemas) unless it says ``x-kubernetes-preserve-unknown-fields``. The
``x-kubernetes-*`` keys themselves are not JSON Schema and are dropped. ``metadata`` is
``{type: object}`` in every CRD: it is checked against the core ObjectMeta schema by
``slipway.eks.manifests.validate``, which also checks the envelope.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from slipway.eks.manifests import ManifestError, is_custom_resource, validate

__all__ = ["is_custom_resource", "validate_custom_resource"]

SCHEMAS = Path(__file__).parent / "crd_schemas"


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    pattern = out.get("pattern")
    if isinstance(pattern, str) and pattern.startswith("^(?i)"):
        out["pattern"] = "(?i)^" + pattern[5:]  # Go RE2 accepts the flag there, Python does not
    return out


@cache
def crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    group, _, version = api_version.rpartition("/")
    path = SCHEMAS / f"{group}_{version}_{kind.lower()}.json"
    if not path.is_file():
        raise ManifestError(f"{kind}: no CRD schema vendored for {api_version} ({path.name})")
    return dict(_strict(json.loads(path.read_text())))


def validate_custom_resource(manifest: dict[str, Any], kubernetes_version: str) -> None:
    """Raise ManifestError naming the object and the first violation of its CRD schema."""
    schema = crd_schema(str(manifest["apiVersion"]), str(manifest["kind"]))
    validate(manifest, kubernetes_version)  # envelope + ObjectMeta
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft7Validator(schema).iter_errors(manifest)
    )
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "<root>"
        raise ManifestError(
            f"{manifest['kind']} {manifest['metadata'].get('name')}: {where}: {error.message}"
        )
