"""Kubernetes manifests of a mocked Pulumi run, validated offline.

Core kinds are checked with kubernetes-validate (the upstream OpenAPI schemas, strict:
unknown fields fail) for the preset's Kubernetes version. Custom resources (ServiceMonitor,
PrometheusRule, ...) are outside those schemas: only their envelope (apiVersion, kind,
metadata, spec) and metadata (the core ObjectMeta schema) are checked here; the root
tests (tests/eks) check their specs against the vendored CRD schemas (docs/eks.md).
"""

from __future__ import annotations

import json
from typing import Any

import kubernetes_validate
from pulumi.runtime import rpc

from slipway.testing.programs import ProgramRun

# Inputs of a kubernetes:* resource that are Pulumi options, not manifest fields.
NOT_MANIFEST = {"__inputs"}


class ManifestError(ValueError):
    """A declared Kubernetes object does not match its schema."""


def manifests(run: ProgramRun) -> list[dict[str, Any]]:
    """Every Kubernetes object the run declared (Helm releases are not objects)."""
    found = []
    for resource in run.resources:
        if not resource.type.startswith("kubernetes:") or resource.type.startswith(
            "kubernetes:helm.sh/"
        ):
            continue
        found.append({k: reveal(v) for k, v in resource.inputs.items() if k not in NOT_MANIFEST})
    return found


def reveal(value: Any) -> Any:
    """The value with Pulumi's secret wrappers removed (the manifest holds the plain text)."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return reveal(value["value"])
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item) for item in value]
    return value


def is_custom_resource(manifest: dict[str, Any]) -> bool:
    """True for kinds of API groups outside Kubernetes itself (``*.k8s.io`` and ungrouped)."""
    group = str(manifest.get("apiVersion", "")).rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


def _label(manifest: dict[str, Any]) -> str:
    return f"{manifest.get('kind')} {manifest.get('metadata', {}).get('name')}"


def validate(manifest: dict[str, Any], kubernetes_version: str) -> None:
    """Raise ManifestError naming the object and the first schema violation."""
    if is_custom_resource(manifest):
        _validate_custom_resource(manifest, kubernetes_version)
        return
    try:
        kubernetes_validate.validate(manifest, f"{kubernetes_version}.0", strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path) or "<root>"
        raise ManifestError(f"{_label(manifest)}: {path}: {exc.message}") from None


def _validate_custom_resource(manifest: dict[str, Any], kubernetes_version: str) -> None:
    """Envelope and metadata (core ObjectMeta schema); the spec is the tests' business."""
    from importlib.resources import files

    import jsonschema

    extra = set(manifest) - {"apiVersion", "kind", "metadata", "spec"}
    if extra or "spec" not in manifest:
        raise ManifestError(
            f"{_label(manifest)}: top-level fields must be apiVersion, kind, "
            f"metadata and spec (got {sorted(manifest)})"
        )
    schema_dir = files("kubernetes_validate") / "kubernetes-json-schema"
    path = schema_dir / f"v{kubernetes_version}.0-local-strict" / "objectmeta-meta-v1.json"
    schema = json.loads(path.read_text())
    try:
        jsonschema.validate(manifest["metadata"], schema)
    except jsonschema.ValidationError as exc:
        where = ".".join(str(p) for p in exc.path)
        raise ManifestError(f"{_label(manifest)}: metadata.{where}: {exc.message}") from None
