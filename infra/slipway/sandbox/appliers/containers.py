"""ECR repository and lifecycle policy, EKS cluster and node group."""

from __future__ import annotations

from typing import Any

from slipway.sandbox.appliers.base import (
    Applied,
    Applier,
    Declared,
    call,
    ignore_missing,
    pascal,
    tag_list,
)
from slipway.sandbox.server import AwsClients


def _create_repository(aws: AwsClients, d: Declared) -> Applied:
    request: dict[str, Any] = {"repositoryName": d.physical, "tags": tag_list(d)}
    if d.inputs.get("imageTagMutability"):
        request["imageTagMutability"] = d.inputs["imageTagMutability"]
    for key in ("imageScanningConfiguration", "encryptionConfigurations"):
        value = d.inputs.get(key)
        if value:
            shape = pascal(value[0] if isinstance(value, list) else value)
            out_key = "encryptionConfiguration" if key == "encryptionConfigurations" else key
            request[out_key] = {k[:1].lower() + k[1:]: v for k, v in shape.items()}
    repo = call(d, "name", aws("ecr").create_repository, **request)["repository"]
    return Applied(
        d.physical,
        {
            "name": d.physical,
            "arn": repo["repositoryArn"],
            "repositoryUrl": repo["repositoryUri"],
            "registryId": repo["registryId"],
        },
    )


def _delete_repository(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    ignore_missing(aws("ecr").delete_repository, repositoryName=id_, force=True)


def _create_lifecycle(aws: AwsClients, d: Declared) -> Applied:
    repository = d.inputs["repository"]
    call(
        d,
        "policy",
        aws("ecr").put_lifecycle_policy,
        repositoryName=repository,
        lifecyclePolicyText=d.inputs["policy"],
    )
    return Applied(repository, {"repository": repository})


def _delete_lifecycle(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    ignore_missing(aws("ecr").delete_lifecycle_policy, repositoryName=id_)


def _create_cluster(aws: AwsClients, d: Declared) -> Applied:
    vpc = d.inputs.get("vpcConfig") or {}
    request: dict[str, Any] = {
        "name": d.physical,
        "roleArn": d.inputs["roleArn"],
        "resourcesVpcConfig": {
            "subnetIds": list(vpc.get("subnetIds") or []),
            "securityGroupIds": list(vpc.get("securityGroupIds") or []),
            "endpointPublicAccess": bool(vpc.get("endpointPublicAccess", True)),
            "endpointPrivateAccess": bool(vpc.get("endpointPrivateAccess", False)),
        },
        "tags": d.tags,
    }
    if d.inputs.get("version"):
        request["version"] = d.inputs["version"]
    cluster = call(d, "vpcConfig", aws("eks").create_cluster, **request)["cluster"]
    return Applied(
        d.physical,
        {"name": d.physical, "arn": cluster["arn"], "endpoint": cluster.get("endpoint", "")},
    )


def _delete_cluster(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    ignore_missing(aws("eks").delete_cluster, name=id_)


def _create_node_group(aws: AwsClients, d: Declared) -> Applied:
    scaling = d.inputs.get("scalingConfig") or {}
    request: dict[str, Any] = {
        "clusterName": d.inputs["clusterName"],
        "nodegroupName": d.inputs.get("nodeGroupName") or d.physical,
        "nodeRole": d.inputs["nodeRoleArn"],
        "subnets": list(d.inputs.get("subnetIds") or []),
        "scalingConfig": {k: int(v) for k, v in scaling.items()},
        "tags": d.tags,
    }
    if d.inputs.get("instanceTypes"):
        request["instanceTypes"] = list(d.inputs["instanceTypes"])
    group = call(d, "scalingConfig", aws("eks").create_nodegroup, **request)["nodegroup"]
    id_ = f"{request['clusterName']}:{request['nodegroupName']}"
    return Applied(id_, {"nodeGroupName": request["nodegroupName"], "arn": group["nodegroupArn"]})


def _delete_node_group(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    cluster, _, name = id_.partition(":")
    ignore_missing(aws("eks").delete_nodegroup, clusterName=cluster, nodegroupName=name)


APPLIERS = {
    "aws:ecr/repository:Repository": Applier(_create_repository, _delete_repository),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": Applier(_create_lifecycle, _delete_lifecycle),
    "aws:eks/cluster:Cluster": Applier(_create_cluster, _delete_cluster),
    "aws:eks/nodeGroup:NodeGroup": Applier(_create_node_group, _delete_node_group),
}
