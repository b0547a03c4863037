"""The rules a serving spec keeps, one implementation judged twice.

The SageMaker endpoint, its configuration and Model Monitor schedule are the deploy
runtime's (``RUNTIME_OWNED``), so no Pulumi resource of theirs exists for the policy pack to
judge. The stack declares them as a spec instead, and ``slipway.aws.Endpoint`` registers that
spec as its own inputs (``slipway:aws:Endpoint``): the pack (``slipway.policies``) judges it
there on ``pulumi preview``/``up``, and the runtime judges the spec it reads from the stack
output ``serving`` again before a release builds anything from it
(``slipway.deploy.rollout.plan_rollout``), because the pack runs only when passed to the CLI.

Each rule takes the spec as a mapping (``ServingSpec`` field names, SageMaker API names
inside) and yields one message per problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from slipway.deploy.errors import DeployError

if TYPE_CHECKING:
    from slipway.deploy.spec import ServingSpec

ENDPOINT_COMPONENT = "slipway:aws:Endpoint"
"""The component whose inputs are the serving spec."""


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _variants(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    variants = spec.get("variants")
    return [v for v in variants or [] if isinstance(v, Mapping)]


def _monitoring_job(spec: Mapping[str, Any]) -> Mapping[str, Any] | None:
    job = _get(spec, "monitoring_schedule", "MonitoringScheduleConfig", "MonitoringJobDefinition")
    return job if isinstance(job, Mapping) else None


def unencrypted(spec: Mapping[str, Any]) -> Iterator[str]:
    """Stores of the endpoint without the project's KMS key: instance volumes (serverless
    variants have none), captured requests, monitoring reports and job volumes."""
    if any(v.get("InstanceType") for v in _variants(spec)) and not spec.get("kms_key_id"):
        yield "endpoint instance volumes are not encrypted with a KMS key (kms_key_id)"
    capture = spec.get("data_capture")
    if isinstance(capture, Mapping) and not capture.get("KmsKeyId"):
        yield "captured requests are not encrypted with a KMS key (data_capture.KmsKeyId)"
    job = _monitoring_job(spec)
    if job is not None:
        if not _get(job, "MonitoringOutputConfig", "KmsKeyId"):
            yield (
                "monitoring reports are not encrypted with a KMS key "
                "(monitoring_schedule: MonitoringOutputConfig.KmsKeyId)"
            )
        if not _get(job, "MonitoringResources", "ClusterConfig", "VolumeKmsKeyId"):
            yield (
                "monitoring job volumes are not encrypted with a KMS key "
                "(monitoring_schedule: ClusterConfig.VolumeKmsKeyId)"
            )


def instance_types(spec: Mapping[str, Any]) -> list[str]:
    """Every size the spec runs: instance variants and the monitoring job."""
    sizes = [v.get("InstanceType") for v in _variants(spec)]
    job = _monitoring_job(spec)
    if job is not None:
        sizes.append(_get(job, "MonitoringResources", "ClusterConfig", "InstanceType"))
    return [str(size) for size in sizes if size]


def outside(sizes: Iterable[str | None], allowed: Sequence[str], section: str) -> Iterator[str]:
    """Sizes not in the preset's ``<section>.allowed_instance_types``."""
    for size in sizes:
        if size and size not in allowed:
            yield (
                f"{size} is not in the preset's {section}.allowed_instance_types "
                f"({', '.join(allowed)})"
            )


def serverless_capture(spec: Mapping[str, Any]) -> Iterator[str]:
    serverless = any(v.get("ServerlessConfig") for v in _variants(spec))
    if serverless and isinstance(spec.get("data_capture"), Mapping):
        yield "data capture on a serverless endpoint (AWS does not support it)"


def refuse_broken(spec: ServingSpec) -> None:
    """The runtime's check at release: every rule, sizes against the list the stack
    rendered from its preset (``allowed_instance_types``)."""
    data = asdict(spec)
    problems = [
        *unencrypted(data),
        *outside(instance_types(data), spec.allowed_instance_types, "sagemaker"),
        *serverless_capture(data),
    ]
    if problems:
        raise DeployError("serving", "; ".join(problems))
