"""ModelServing: the model server on the cluster and the ECR repository of its image.

Deployment of ``python -m slipway.serving`` (``/ping``, ``/invocations``, ``/metrics`` on
port 8080) with readiness and liveness probes on ``/ping``, requests and limits from the
preset, the "restricted" security profile and a read-only root filesystem (``/tmp`` is an
``emptyDir``); with ``capture_uri`` the server writes the preset's share of requests there
(``SLIPWAY_CAPTURE_*``, SSE-KMS with the project key; see slipway.serving.capture); a
ClusterIP Service, a HorizontalPodAutoscaler (CPU, bounds from the preset; no ``replicas`` on
the Deployment), a PodDisruptionBudget and a service account whose IRSA role may only put
KMS-encrypted objects under ``data-capture/`` (the model comes from MLflow, which proxies
artifacts). Until an image tag is set (the first ``up``) only the repository, namespace,
role, service account and Service exist; until a champion exists the server starts anyway
(``SLIPWAY_ALLOW_NO_MODEL``). The image repository scans on push, has immutable tags, is
encrypted with the project key and keeps the preset's number of images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from slipway.aws.context import StackContext
from slipway.aws.images import image_repository
from slipway.aws.policy import kms_key_statement
from slipway.eks import pods
from slipway.eks.irsa import ROLE_ANNOTATION, Oidc, service_account_role
from slipway.envvars import (
    ALLOW_NO_MODEL_ENV,
    CAPTURE_KMS_KEY_ENV,
    CAPTURE_SAMPLING_ENV,
    CAPTURE_SERVICE_ENV,
    CAPTURE_URI_ENV,
    HOST_ENV,
    MODEL_URI_ENV,
    PORT_ENV,
)
from slipway.names import BUCKET_PREFIXES

NAMESPACE = "serving"
APP = "model-server"
PORT = 8080
SELECTOR = {"app.kubernetes.io/name": APP}
# Start and answer /ping while models:/... has no registered version yet (slipway.serving.
# pending): the first `up` happens before any champion exists (docs/eks.md#bootstrap).
ALLOW_NO_MODEL = {"name": ALLOW_NO_MODEL_ENV, "value": "true"}


@dataclass(frozen=True)
class ModelServingArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    provider: k8s.Provider
    """Kubernetes provider of the cluster: ``Cluster.provider``."""
    oidc: Oidc
    """The cluster's OIDC provider for IRSA: ``Cluster.oidc``."""
    bucket_arn: pulumi.Input[str]
    """``ArtifactStore.bucket_arn``: the server writes captures under ``data-capture/``."""
    kms_key_arn: pulumi.Input[str]
    """Project key (SSE-KMS captures)."""
    image_tag: str | None
    """Model server image tag in the stack's ECR repository (tags are immutable). ``None``
    before the first image is pushed: the repository, namespace, role and Service exist,
    the Deployment, its autoscaler and disruption budget do not (docs/eks.md#bootstrap)."""
    model_uri: str
    """Registered model the server loads, e.g. ``models:/churn@champion``."""
    tracking_uri: pulumi.Input[str]
    """MLflow the server loads the model from: ``Tracking.tracking_uri``."""
    capture_uri: pulumi.Input[str] | None = None
    """Default ``None``: no request capture. ``s3://<bucket>/data-capture/``
    (``ArtifactStore.uri("capture")``).
    """


class ModelServing(pulumi.ComponentResource):
    """Outputs: repository_url, image, service_name, namespace, role_arn, selector."""

    repository_url: pulumi.Output[str]
    image: pulumi.Output[str] | None
    """``None`` until an image tag is set (no Deployment yet)."""

    def __init__(
        self, name: str, args: ModelServingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:eks:ModelServing", name, None, opts)
        ctx = args.context
        self.labels = {**pods.labels(ctx, APP), "app.kubernetes.io/component": "serving"}
        repository = image_repository(name, ctx, args.kms_key_arn, self)
        self.repository_url = repository.repository_url
        self.image = (
            None
            if args.image_tag is None
            else pulumi.Output.concat(repository.repository_url, ":", args.image_tag)
        )
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        namespace = pods.namespace(name, ctx, NAMESPACE, "restricted", k8s_opts)
        opts = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[namespace])
        # The model comes from MLflow over HTTP (artifacts are proxied): no S3 read at all.
        statements = [capture_write_statement(args.bucket_arn)] if args.capture_uri else []
        role = service_account_role(
            f"{name}-serving",
            ctx,
            args.oidc,
            NAMESPACE,
            APP,
            [*statements, kms_key_statement(args.kms_key_arn)],
            parent=self,
        )
        account = k8s.core.v1.ServiceAccount(
            f"{name}-account",
            metadata=self._meta(APP, {ROLE_ANNOTATION: role.arn}),
            automount_service_account_token=True,
            opts=opts,
        )
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=self._meta(APP),
            spec={
                "type": "ClusterIP",
                "selector": SELECTOR,
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
            opts=opts,
        )
        if self.image is not None:
            self._workload(name, args, self.image, account.metadata["name"], opts)
        self.namespace = NAMESPACE
        self.service_name = service.metadata["name"]
        self.role_arn = role.arn
        self.register_outputs(
            {
                "repository_url": self.repository_url,
                "image": self.image,
                "service_name": self.service_name,
                "role_arn": self.role_arn,
            }
        )

    def _workload(
        self,
        name: str,
        args: ModelServingArgs,
        image: pulumi.Output[str],
        account: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> None:
        """The Deployment, its autoscaler and disruption budget (only once an image exists)."""
        sizes = args.context.preset.eks.serving
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=self._meta(APP),
            # No `replicas`: the HorizontalPodAutoscaler owns it. A declared value conflicts
            # with the HPA's scale subresource under server-side apply (pulumi-kubernetes#2491);
            # a new Deployment starts with 1 and the HPA raises it to min_replicas.
            spec={
                "selector": {"matchLabels": SELECTOR},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
                },
                "template": {
                    "metadata": {"labels": self.labels},
                    "spec": self._pod(args, image, account),
                },
            },
            opts=opts,
        )
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-autoscaler",
            metadata=self._meta(APP),
            spec={
                "scaleTargetRef": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": deployment.metadata["name"],
                },
                "minReplicas": sizes.min_replicas,
                "maxReplicas": sizes.max_replicas,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {
                                "type": "Utilization",
                                "averageUtilization": sizes.target_cpu_percent,
                            },
                        },
                    }
                ],
            },
            opts=opts,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-disruption-budget",
            metadata=self._meta(APP),
            spec={"maxUnavailable": 1, "selector": {"matchLabels": SELECTOR}},
            opts=opts,
        )

    def _meta(self, name: str, annotations: dict[str, Any] | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name, "namespace": NAMESPACE, "labels": self.labels}
        if annotations:
            meta["annotations"] = annotations
        return meta

    def _pod(
        self, args: ModelServingArgs, image: pulumi.Output[str], account: pulumi.Input[str]
    ) -> dict[str, Any]:
        probe = {
            "httpGet": {"path": "/ping", "port": "http"},
            "periodSeconds": 10,
            "timeoutSeconds": 2,
        }
        return {
            "serviceAccountName": account,
            "securityContext": pods.pod_security(),
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": SELECTOR},
                }
            ],
            "containers": [
                {
                    "name": APP,
                    "image": image,
                    "command": ["python", "-m", "slipway.serving", "serve"],
                    "env": [
                        {"name": HOST_ENV, "value": "0.0.0.0"},
                        {"name": PORT_ENV, "value": str(PORT)},
                        {"name": MODEL_URI_ENV, "value": args.model_uri},
                        {"name": "MLFLOW_TRACKING_URI", "value": args.tracking_uri},
                        {"name": "TMPDIR", "value": "/tmp"},
                        ALLOW_NO_MODEL,
                        *capture_env(args),
                    ],
                    "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
                    "readinessProbe": {**probe, "initialDelaySeconds": 5, "failureThreshold": 3},
                    "livenessProbe": {**probe, "initialDelaySeconds": 30, "failureThreshold": 5},
                    "resources": pods.resources(args.context.preset.eks.serving),
                    "securityContext": pods.container_security(),
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                }
            ],
            "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
        }


def capture_env(args: ModelServingArgs) -> list[dict[str, Any]]:
    """The model server's request-capture settings (slipway.serving.capture); none when off."""
    if args.capture_uri is None:
        return []
    percent = args.context.preset.eks.capture_sampling_percent
    return [
        {"name": CAPTURE_URI_ENV, "value": args.capture_uri},
        {"name": CAPTURE_SAMPLING_ENV, "value": str(percent)},
        {"name": CAPTURE_KMS_KEY_ENV, "value": args.kms_key_arn},
        {"name": CAPTURE_SERVICE_ENV, "value": APP},
    ]


def capture_write_statement(bucket_arn: pulumi.Input[str]) -> dict[str, Any]:
    """What the capture writer does: put SSE-KMS objects under ``data-capture/`` (no read,
    list or delete)."""
    return {
        "Sid": "WriteCapture",
        "Effect": "Allow",
        "Action": ["s3:PutObject"],
        "Resource": [pulumi.Output.concat(bucket_arn, "/", BUCKET_PREFIXES["capture"], "*")],
        "Condition": {"StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
    }
