"""What every Slipway workload on the cluster shares: namespaces, security contexts, resources."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from slipway.aws.context import StackContext
from slipway.presets import Resources

RUN_AS = 10001  # an unprivileged uid/gid that maps to no user of the image
# Encrypted gp3 EBS volumes with the project key (Cluster creates it with the EBS CSI add-on).
STORAGE_CLASS = "gp3-encrypted"


def labels(ctx: StackContext, component: str) -> dict[str, str]:
    """Recommended Kubernetes labels plus the stack's project and environment."""
    return {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/part-of": ctx.project,
        "app.kubernetes.io/managed-by": "slipway",
        "slipway/environment": ctx.environment,
    }


def namespace(
    prefix: str, ctx: StackContext, namespace_name: str, enforce: str, opts: pulumi.ResourceOptions
) -> k8s.core.v1.Namespace:
    """A namespace whose Pod Security admission level is ``enforce`` (restricted, baseline).

    Its resource name ``<prefix>-<namespace>-namespace`` is unique in the stack; up to 0.1.0
    every component named its namespace ``<prefix>-namespace`` (unique only by parent in the
    URN, which the sandbox's state could not tell apart): the alias keeps existing stacks'
    namespaces, and everything in them, in place."""
    return k8s.core.v1.Namespace(
        f"{prefix}-{namespace_name}-namespace",
        metadata={
            "name": namespace_name,
            "labels": {
                **labels(ctx, namespace_name),
                "pod-security.kubernetes.io/enforce": enforce,
            },
        },
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(name=f"{prefix}-namespace")])
        ),
    )


def pod_security() -> dict[str, Any]:
    """Pod-level securityContext: non-root uid/gid, default seccomp profile."""
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "fsGroup": RUN_AS,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security(read_only_root: bool = True) -> dict[str, Any]:
    """Container securityContext of the Kubernetes "restricted" profile."""
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": read_only_root,
        "capabilities": {"drop": ["ALL"]},
    }


def resources(sizes: Resources) -> dict[str, dict[str, str]]:
    return {
        "requests": {"cpu": sizes.cpu_request, "memory": sizes.memory_request},
        "limits": {"cpu": sizes.cpu_limit, "memory": sizes.memory_limit},
    }
