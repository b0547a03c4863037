"""Cluster: an EKS cluster (pulumi-eks) with managed nodes, IRSA and a Kubernetes provider.

* access: authentication mode ``API`` (access entries, no aws-auth ConfigMap); the private
  endpoint is always on, the public one only for the CIDRs the stack config lists (the
  machines that run ``pulumi up`` must reach one of them: docs/eks.md#api-access);
* control-plane logging of every log type; Kubernetes secrets encrypted with the project key;
* the VPC CNI's network policy agent on (``enableNetworkPolicy``), without which
  NetworkPolicies are accepted but not enforced (EKS user guide, "Restrict Pod network
  traffic with Kubernetes network policies"); serving_access.py's policy depends on it;
* one managed node group in the private subnets, sized by the preset;
* an IAM OIDC provider, so service accounts get their own IAM roles (see irsa.py);
* EKS add-ons: ``metrics-server`` (the HPA's resource metrics; EKS installs none) and
  ``aws-ebs-csi-driver`` under its own IRSA role, with the StorageClass ``pods.STORAGE_CLASS``
  (encrypted gp3 with the project key) that Prometheus' volume claims;
* with ``ci_access``: access entries of the GitHub roles (deploy: cluster admin, since
  ``pulumi up`` installs CRDs and ClusterRoles; preview: View in the flavor's namespaces;
  monitor: only the Kubernetes group of tracking.py's port-forward Role);
* ``provider``: a Kubernetes provider built from ``kubeconfig_json`` (pulumi-eks has no
  usable provider output in Python).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from slipway.aws import policy
from slipway.aws.context import StackContext
from slipway.eks import observability, pods, serving, tracking
from slipway.eks.irsa import Oidc, service_account_role
from slipway.eks.network import Network
from slipway.names import TRAINING_STARTER_GROUP

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
)
ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"  # Kubernetes `cluster-admin`
VIEW_POLICY = "AmazonEKSViewPolicy"  # Kubernetes `view`: reads, no Secrets, no port-forward
FLAVOR_NAMESPACES = (serving.NAMESPACE, tracking.NAMESPACE, observability.NAMESPACE)
EBS_CSI_ACCOUNT = ("kube-system", "ebs-csi-controller-sa")  # the add-on's controller
EBS_CSI_POLICY = "service-role/AmazonEBSCSIDriverPolicy"


def api_access_cidrs(cidrs: Sequence[str]) -> list[str]:
    """Validated CIDRs allowed to reach the public API endpoint (empty: private only)."""
    checked = []
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr)
        except ValueError:
            raise ValueError(f"apiAccessCidrs: {cidr!r} is not a CIDR block") from None
        if network.prefixlen == 0:
            raise ValueError(
                f"apiAccessCidrs: {cidr} opens the Kubernetes API to the whole internet; "
                "list the networks pulumi and kubectl run from instead, e.g. "
                '"$(curl -fsS https://checkip.amazonaws.com)/32" (docs/eks.md#api-access)'
            )
        checked.append(str(network))
    return checked


@dataclass(frozen=True)
class Grant:
    """One access entry: an AWS access policy (namespaces; empty = cluster scope) and/or
    Kubernetes groups, whose rights come from RBAC bindings in the cluster."""

    principal: pulumi.Input[str]
    policy: str | None = None
    namespaces: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class CiAccess:
    """The GitHub roles of ``slipway.aws.Roles`` that talk to the Kubernetes API.

    * deploy: cluster admin, cluster-wide: ``pulumi up`` (stack-up.yml) creates Namespaces
      and the Helm charts' CRDs, ClusterRoles and webhooks, which no namespaced policy
      allows; release.yml's rollout and port-forward are within it;
    * monitor (drift check) and candidate (release.yml's job `candidate`): no access policy,
      only the group of the Role that ``kubectl port-forward service/mlflow`` needs
      (tracking.py): no Secrets, no writes; the candidate also the group that may start and
      follow the training Job (``TRAINING_STARTER_GROUP``, slipway.eks.training);
    * preview: View in the flavor's namespaces (``pulumi preview`` reads the objects).
    """

    deploy_role_arn: pulumi.Input[str]
    """``Roles.deploy_role_arn``: cluster admin."""
    preview_role_arn: pulumi.Input[str]
    """``Roles.preview_role_arn``: View in the flavor's namespaces."""
    monitor_role_arn: pulumi.Input[str] | None = None
    """Default ``None``: no monitor entry. ``Roles.monitor_role_arn``: port-forward
    to MLflow only.
    """
    candidate_role_arn: pulumi.Input[str] | None = None
    """Default ``None``: no candidate entry. ``Roles.candidate_role_arn`` (release.yml's
    job `candidate`): port-forward to MLflow, start and follow the training Job."""

    def grants(self) -> dict[str, Grant]:
        """Entry name -> what the role may do."""
        grants = {
            "deploy": Grant(self.deploy_role_arn, ADMIN_POLICY),
            "preview": Grant(self.preview_role_arn, VIEW_POLICY, FLAVOR_NAMESPACES),
        }
        if self.monitor_role_arn is not None:
            grants["monitor"] = Grant(self.monitor_role_arn, groups=(tracking.PORT_FORWARD_GROUP,))
        if self.candidate_role_arn is not None:
            grants["candidate"] = Grant(
                self.candidate_role_arn,
                groups=(tracking.PORT_FORWARD_GROUP, TRAINING_STARTER_GROUP),
            )
        return grants


def _scope(namespaces: tuple[str, ...]) -> aws.eks.AccessPolicyAssociationAccessScopeArgs:
    if namespaces:
        return aws.eks.AccessPolicyAssociationAccessScopeArgs(
            type="namespace", namespaces=list(namespaces)
        )
    return aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster")


def access_entries(
    access: CiAccess | None, partition: pulumi.Input[str]
) -> dict[str, eks.AccessEntryArgs] | None:
    """pulumi-eks access entries (type STANDARD): access policy and/or Kubernetes groups."""
    if access is None:
        return None
    return {
        entry: eks.AccessEntryArgs(
            principal_arn=grant.principal,
            access_policies={
                grant.policy: eks.AccessPolicyAssociationArgs(
                    policy_arn=pulumi.Output.concat(
                        "arn:", partition, ":eks::aws:cluster-access-policy/", grant.policy
                    ),
                    access_scope=_scope(grant.namespaces),
                )
            }
            if grant.policy
            else None,
            kubernetes_groups=list(grant.groups) or None,
        )
        for entry, grant in access.grants().items()
    }


@dataclass(frozen=True)
class ClusterArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    network: Network
    """The ``Network`` whose private subnets hold the nodes."""
    kms_key_arn: pulumi.Input[str]
    """Project key: encrypts Kubernetes Secrets."""
    api_access_cidrs: Sequence[str] = ()
    """Default ``()``: private API endpoint only. CIDRs that may reach the
    public endpoint (``0.0.0.0/0`` is refused).
    """
    ci_access: CiAccess | None = None
    """Default ``None``: no access entries for GitHub roles (``ci=none``)."""


class Cluster(pulumi.ComponentResource):
    """Outputs: cluster_name, kubeconfig (secret), oidc, security_group_id, storage_class;
    ``provider``."""

    provider: k8s.Provider
    oidc: Oidc
    security_group_id: pulumi.Output[str]
    storage_class: pulumi.Output[str]

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        public_cidrs = api_access_cidrs(args.api_access_cidrs)
        super().__init__("slipway:eks:Cluster", name, None, opts)
        ctx = args.context
        preset = ctx.preset.eks
        child = pulumi.ResourceOptions(parent=self)
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        node_role = self._node_role(name, ctx, partition)
        cluster = eks.Cluster(
            f"{name}-eks",
            name=ctx.prefix,
            version=preset.kubernetes_version,
            authentication_mode=eks.AuthenticationMode.API,
            access_entries=access_entries(args.ci_access, partition),
            vpc_id=args.network.vpc_id,
            public_subnet_ids=args.network.public_subnet_ids,
            private_subnet_ids=args.network.private_subnet_ids,
            node_associate_public_ip_address=False,
            endpoint_private_access=True,
            endpoint_public_access=bool(public_cidrs),
            public_access_cidrs=public_cidrs or None,
            enabled_cluster_log_types=LOG_TYPES,
            encryption_config_key_arn=args.kms_key_arn,
            create_oidc_provider=True,
            vpc_cni_options=eks.VpcCniOptionsArgs(enable_network_policy=True),
            skip_default_node_group=True,
            skip_default_security_groups=True,
            deletion_protection=ctx.preset.deletion_protection,
            tags=ctx.tags,
            opts=child,
        )
        group = preset.node_group
        nodes = eks.ManagedNodeGroup(
            f"{name}-nodes",
            cluster=cluster,
            node_role=node_role,
            subnet_ids=args.network.private_subnet_ids,
            instance_types=list(group.instance_types),
            scaling_config={
                "min_size": group.min_size,
                "desired_size": group.desired_size,
                "max_size": group.max_size,
            },
            tags=ctx.tags,
            opts=child,
        )
        self.cluster_name = pulumi.Output.from_input(ctx.prefix)
        self.kubeconfig = pulumi.Output.secret(cluster.kubeconfig_json)
        self.oidc = Oidc(provider_arn=cluster.oidc_provider_arn, issuer=cluster.oidc_issuer)
        # The EKS-created security group: control plane and managed nodes share it.
        self.security_group_id = cluster.cluster_security_group_id
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            opts=child,
        )
        # Add-ons run on the nodes: created once the node group exists.
        after_nodes = pulumi.ResourceOptions(parent=self, depends_on=[nodes])
        aws.eks.Addon(
            f"{name}-metrics-server",
            cluster_name=self.cluster_name,
            addon_name="metrics-server",
            tags=ctx.tags,
            opts=after_nodes,
        )
        ebs_csi = aws.eks.Addon(
            f"{name}-ebs-csi",
            cluster_name=self.cluster_name,
            addon_name="aws-ebs-csi-driver",
            service_account_role_arn=self._ebs_csi_role(name, ctx, args, partition).arn,
            tags=ctx.tags,
            opts=after_nodes,
        )
        storage_class = k8s.storage.v1.StorageClass(
            f"{name}-storage-class",
            metadata={"name": pods.STORAGE_CLASS, "labels": pods.labels(ctx, "storage")},
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "kmsKeyId": args.kms_key_arn},
            volume_binding_mode="WaitForFirstConsumer",  # in the zone of the pod's node
            allow_volume_expansion=True,
            reclaim_policy="Delete",
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[ebs_csi]),
        )
        self.storage_class = storage_class.metadata["name"]
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "kubeconfig": self.kubeconfig,
                "oidc_provider_arn": self.oidc.provider_arn,
                "security_group_id": self.security_group_id,
                "storage_class": self.storage_class,
            }
        )

    def _ebs_csi_role(
        self, name: str, ctx: StackContext, args: ClusterArgs, partition: pulumi.Output[str]
    ) -> aws.iam.Role:
        """IRSA role of the EBS CSI controller: the AWS-managed driver policy, and the project
        key for encrypted volumes (EKS User Guide, "Store Kubernetes volumes with Amazon EBS",
        step 1: the statements for a customer managed key)."""
        role = service_account_role(
            f"{name}-ebs-csi",
            ctx,
            self.oidc,
            *EBS_CSI_ACCOUNT,
            [
                {
                    "Sid": "VolumeGrants",
                    "Effect": "Allow",
                    "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                    "Resource": [args.kms_key_arn],
                    "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
                },
                {
                    "Sid": "VolumeKey",
                    "Effect": "Allow",
                    "Action": [
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:DescribeKey",
                    ],
                    "Resource": [args.kms_key_arn],
                },
            ],
            parent=self,
            # The driver's AWS managed policy creates, attaches and deletes EBS volumes, which
            # the stack's boundary does not allow; like the node role, this role carries no
            # boundary, so only an administrator's `pulumi up` creates or changes it.
            bounded=False,
        )
        self._attach(f"{name}-ebs-csi-driver", role, partition, EBS_CSI_POLICY)
        return role

    def _node_role(
        self, name: str, ctx: StackContext, partition: pulumi.Output[str]
    ) -> aws.iam.Role:
        """Role of the worker nodes: the three AWS-managed node policies and nothing else."""
        role = aws.iam.Role(
            f"{name}-node",
            assume_role_policy=policy.document(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ),
            tags=ctx.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        for managed in NODE_POLICIES:
            self._attach(f"{name}-node-{managed}", role, partition, managed)
        return role

    def _attach(
        self, name: str, role: aws.iam.Role, partition: pulumi.Output[str], managed: str
    ) -> None:
        """Attach the AWS managed policy ``managed`` (its path under ``policy/``)."""
        aws.iam.RolePolicyAttachment(
            name,
            role=role.name,
            policy_arn=pulumi.Output.concat("arn:", partition, ":iam::aws:policy/", managed),
            opts=pulumi.ResourceOptions(parent=self),
        )
