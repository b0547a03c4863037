"""Tracking: the MLflow tracking server on the cluster, backed by RDS PostgreSQL and S3.

* the community chart (community-charts/mlflow) through ``helm.v3.Release``: its values
  are Pulumi inputs, so tests read exactly what Helm will render;
* PostgreSQL on RDS: encrypted with the project key, private subnets only, reachable from
  the cluster's security group only, TLS forced by the engine default (``rds.force_ssl``
  is on from PostgreSQL 15); the password comes from ``pulumi_random`` (a Pulumi secret)
  and reaches the pod through a Kubernetes Secret, never through the chart values;
* artifacts under ``s3://<bucket>/mlflow/`` (SSE-KMS), proxied by the server
  (``--serve-artifacts``): clients read and write them through MLflow's HTTP API, so only
  the server's IRSA role touches that prefix (and nothing else);
* MLflow's host check (``MLFLOW_SERVER_ALLOWED_HOSTS``) admits the in-cluster Service name
  the model server and the drift job call, and loopback (``kubectl port-forward``);
* a Role allowing exactly ``kubectl port-forward service/mlflow`` (no Secrets, no writes),
  bound to the Kubernetes group ``PORT_FORWARD_GROUP``: the drift check's monitor role is
  mapped to it by its EKS access entry (cluster.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from slipway.aws.context import StackContext
from slipway.aws.policy import bucket_prefix_statements, kms_key_statement
from slipway.eks import pods
from slipway.eks.irsa import ROLE_ANNOTATION, Oidc, service_account_role
from slipway.names import BUCKET_PREFIXES

NAMESPACE = "mlflow"
RELEASE = "mlflow"  # the chart names its Service after the release
PORT = 5000
# The Host header of in-cluster callers (the Service's DNS name and port).
IN_CLUSTER_HOST = f"{RELEASE}.{NAMESPACE}.svc.cluster.local:{PORT}"
# MLflow 3 refuses other Host headers with 403 (DNS-rebinding guard); the chart sets the list
# only from ingress hosts or `serverAllowedHosts` (community-charts/helm-charts#285), and a set
# list replaces MLflow's default (localhost, private IPs): keep loopback for port-forwards.
ALLOWED_HOSTS = [IN_CLUSTER_HOST, "localhost:*", "127.0.0.1:*"]
CHART_REPO = "https://community-charts.github.io/helm-charts"
DATABASE, DB_USER, DB_PORT = "mlflow", "mlflow", 5432
POSTGRES_VERSION = "16"
# RDS master passwords: printable ASCII except / @ " and space.
PASSWORD_SPECIALS = "!#$%&*()-_=+[]{}<>:?"
PORT_FORWARD_GROUP = "slipway:mlflow-port-forward"
# What `kubectl port-forward service/mlflow` calls: get the Service, list the pods of its
# selector (watch while none exists), get the chosen pod, then open pods/portforward: a
# WebSocket GET from kubectl 1.31 on (`get`; Kubernetes 1.35 also checks `create`), or an
# SPDY POST (`create`).
PORT_FORWARD_RULES = [
    {"apiGroups": [""], "resources": ["services"], "resourceNames": [RELEASE], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get", "create"]},
]


@dataclass(frozen=True)
class TrackingArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    provider: k8s.Provider
    """Kubernetes provider of the cluster: ``Cluster.provider``."""
    oidc: Oidc
    """The cluster's OIDC provider for IRSA: ``Cluster.oidc``."""
    vpc_id: pulumi.Input[str]
    """VPC of the database's security group: ``Network.vpc_id``."""
    private_subnet_ids: list[pulumi.Output[str]]
    """Subnets of the database: ``Network.private_subnet_ids``."""
    cluster_security_group_id: pulumi.Input[str]
    """The only source the database accepts: ``Cluster.security_group_id``."""
    bucket_name: pulumi.Input[str]
    """Artifact bucket: ``ArtifactStore.bucket_name`` (artifacts under ``mlflow/``)."""
    bucket_arn: pulumi.Input[str]
    """``ArtifactStore.bucket_arn``: the server's role may use ``mlflow/`` only."""
    kms_key_arn: pulumi.Input[str]
    """Project key: encrypts the database and the artifacts."""


class Tracking(pulumi.ComponentResource):
    """Outputs: tracking_uri (in-cluster), database_address, role_arn."""

    tracking_uri: pulumi.Output[str]

    def __init__(
        self, name: str, args: TrackingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Type slipway:eks:MlflowServer up to 0.1.0: the alias keeps existing stacks' resources
        # (children inherit it), so the rename replaces nothing.
        renamed = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="slipway:eks:MlflowServer")])
        super().__init__(
            "slipway:eks:Tracking", name, None, pulumi.ResourceOptions.merge(opts, renamed)
        )
        ctx = args.context
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        database, password = self._database(name, args)
        namespace = pods.namespace(name, ctx, NAMESPACE, "baseline", k8s_opts)
        in_namespace = pulumi.ResourceOptions(
            parent=self, provider=args.provider, depends_on=[namespace]
        )
        secret = k8s.core.v1.Secret(
            f"{name}-database",
            metadata={
                "name": "mlflow-database",
                "namespace": NAMESPACE,
                "labels": pods.labels(ctx, "mlflow"),
            },
            string_data={"username": DB_USER, "password": password},
            opts=in_namespace,
        )
        self._port_forward_access(name, ctx, in_namespace)
        role = service_account_role(
            f"{name}-mlflow",
            ctx,
            args.oidc,
            NAMESPACE,
            RELEASE,
            [
                *bucket_prefix_statements(args.bucket_arn, (), ("mlflow",)),
                kms_key_statement(args.kms_key_arn),
            ],
            parent=self,
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name=RELEASE,
            chart="mlflow",
            version=ctx.preset.eks.mlflow_chart_version,
            repository_opts={"repo": CHART_REPO},
            namespace=NAMESPACE,
            values=chart_values(
                ctx,
                database.address,
                secret.metadata["name"],
                args.bucket_name,
                role.arn,
                args.kms_key_arn,
            ),
            atomic=True,
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[namespace, secret, database]
            ),
        )
        # Depends on the release (atomic: MLflow is up), so workloads calling it start after.
        self.tracking_uri = self.release.id.apply(lambda _: f"http://{IN_CLUSTER_HOST}")
        self.database_address = database.address
        self.role_arn = role.arn
        self.register_outputs(
            {
                "tracking_uri": self.tracking_uri,
                "database_address": self.database_address,
                "role_arn": self.role_arn,
            }
        )

    def _port_forward_access(
        self, name: str, ctx: StackContext, opts: pulumi.ResourceOptions
    ) -> None:
        """Role ``PORT_FORWARD_RULES`` in the namespace, bound to ``PORT_FORWARD_GROUP``."""
        metadata = {
            "name": "mlflow-port-forward",
            "namespace": NAMESPACE,
            "labels": pods.labels(ctx, "mlflow"),
        }
        role = k8s.rbac.v1.Role(
            f"{name}-port-forward", metadata=metadata, rules=PORT_FORWARD_RULES, opts=opts
        )
        k8s.rbac.v1.RoleBinding(
            f"{name}-port-forward-binding",
            metadata=metadata,
            role_ref={
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": role.metadata["name"],
            },
            subjects=[
                {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Group",
                    "name": PORT_FORWARD_GROUP,
                }
            ],
            opts=opts,
        )

    def _database(
        self, name: str, args: TrackingArgs
    ) -> tuple[aws.rds.Instance, pulumi.Output[str]]:
        ctx = args.context
        eks = ctx.preset.eks
        child = pulumi.ResourceOptions(parent=self)
        keep = ctx.preset.deletion_protection
        subnets = aws.rds.SubnetGroup(
            f"{name}-db-subnets", subnet_ids=args.private_subnet_ids, tags=ctx.tags, opts=child
        )
        group = aws.ec2.SecurityGroup(
            f"{name}-db",
            description=f"PostgreSQL of {ctx.prefix} MLflow: from the cluster only",
            vpc_id=args.vpc_id,
            ingress=[
                {
                    "protocol": "tcp",
                    "from_port": DB_PORT,
                    "to_port": DB_PORT,
                    "security_groups": [args.cluster_security_group_id],
                    "description": "EKS cluster (control plane and managed nodes)",
                }
            ],
            tags=ctx.tags,
            opts=child,
        )
        password = random.RandomPassword(
            f"{name}-db-password",
            length=32,
            special=True,
            override_special=PASSWORD_SPECIALS,
            opts=child,
        )
        database = aws.rds.Instance(
            f"{name}-db",
            identifier=f"{ctx.prefix}-mlflow",
            engine="postgres",
            engine_version=POSTGRES_VERSION,
            instance_class=eks.database_instance_class,
            allocated_storage=eks.database_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=args.kms_key_arn,
            db_name=DATABASE,
            username=DB_USER,
            password=password.result,
            port=DB_PORT,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[group.id],
            publicly_accessible=False,
            multi_az=eks.database_multi_az,
            backup_retention_period=eks.database_backup_days,
            deletion_protection=keep,
            skip_final_snapshot=not keep,
            final_snapshot_identifier=f"{ctx.prefix}-mlflow-final" if keep else None,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            tags=ctx.tags,
            opts=ctx.stateful(self),
        )
        return database, pulumi.Output.secret(password.result)


def chart_values(
    ctx: StackContext,
    database_host: pulumi.Input[str],
    secret_name: pulumi.Input[str],
    bucket_name: pulumi.Input[str],
    role_arn: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
) -> dict[str, object]:
    """Values of the community MLflow chart (keys as in its values.yaml)."""
    upload_args = pulumi.Output.from_input(kms_key_arn).apply(
        lambda key: json.dumps({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key})
    )
    return {
        "replicaCount": 1,
        "serviceAccount": {
            "create": True,
            "name": RELEASE,
            "annotations": {ROLE_ANNOTATION: role_arn},
        },
        "service": {"type": "ClusterIP", "port": PORT},
        "backendStore": {
            "databaseMigration": True,
            "postgres": {
                "enabled": True,
                "host": database_host,
                "port": DB_PORT,
                "database": DATABASE,
            },
            "existingDatabaseSecret": {
                "name": secret_name,
                "usernameKey": "username",
                "passwordKey": "password",
            },
        },
        "serverAllowedHosts": ALLOWED_HOSTS,
        "artifactRoot": {
            # --artifacts-destination + --serve-artifacts: clients get mlflow-artifacts:/ URIs.
            "proxiedArtifactStorage": True,
            "s3": {
                "enabled": True,
                "bucket": bucket_name,
                "path": BUCKET_PREFIXES["mlflow"].rstrip("/"),
            },
        },
        "extraEnvVars": {"MLFLOW_S3_UPLOAD_EXTRA_ARGS": upload_args},
        "resources": pods.resources(ctx.preset.eks.mlflow_resources),
        "podSecurityContext": pods.pod_security(),
        # The MLflow image writes to its working directory: the root filesystem stays writable.
        "securityContext": pods.container_security(read_only_root=False),
    }
