"""Pods the stack declares run locked down and bounded (Deployments, Jobs, CronJobs)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs

from slipway.policies.base import as_list, resource_policy

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"


def pod_spec(type_: str, props: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = props.get("spec") or {}
    if type_ == CRON_JOB:
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}


def _hardened(args: ResourceValidationArgs) -> Iterator[str]:
    pod = pod_spec(args.resource_type, args.props)
    pod_non_root = (pod.get("securityContext") or {}).get("runAsNonRoot") is True
    for container in [*as_list(pod.get("initContainers")), *as_list(pod.get("containers"))]:
        name = container.get("name")
        context = container.get("securityContext") or {}
        if not (pod_non_root or context.get("runAsNonRoot") is True):
            yield f"container {name} may run as root (runAsNonRoot)"
        if context.get("readOnlyRootFilesystem") is not True:
            yield f"container {name} can write its root filesystem (readOnlyRootFilesystem)"
        if context.get("allowPrivilegeEscalation") is not False:
            yield f"container {name} may escalate privileges (allowPrivilegeEscalation)"
        limits = (container.get("resources") or {}).get("limits") or {}
        missing = [r for r in ("cpu", "memory") if not limits.get(r)]
        if missing:
            yield f"container {name} has no {' or '.join(missing)} limit"


POLICIES = [
    resource_policy(
        "pods-locked-down",
        "Pods the stack declares run as non-root, with a read-only root filesystem, no "
        "privilege escalation, and CPU and memory limits.",
        (DEPLOYMENT, JOB, CRON_JOB),
        _hardened,
        remediation="Use slipway.eks.pods helpers, which set the security context and limits.",
    ),
]
