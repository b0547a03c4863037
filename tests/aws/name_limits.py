"""AWS limits on the physical names a stack creates (issue 12, item 13; docs/components.md).

Each AWS type a program declares with a name: the input that carries the physical name
(Pulumi autonames it when absent: the logical name, ``-`` and 7 random characters) and
the longest name AWS accepts. Limits come from AWS's API models as botocore ships them
(a member's ``max``, or the constraint its API reference text states); the two the
models leave out cite the AWS guide that states them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import botocore.session

AUTONAME_SUFFIX = len("-") + 7  # pulumi/pulumi sdk/go/common/resource NewUniqueName, randlen 7


@dataclass(frozen=True)
class NameLimit:
    prop: str  # the resource input that holds the physical name
    api: str  # "<service> <Operation>.<Member>" in botocore's model, or a guide
    documented: int | None = None  # the limit, for names the API model does not bound

    @property
    def limit(self) -> int:
        return self.documented if self.documented is not None else model_limit(self.api)


@cache
def botocore_session() -> botocore.session.Session:
    """One session: its loader parses each service's model file once."""
    return botocore.session.get_session()


@cache
def model_limit(api: str) -> int:
    """The member's ``max`` in AWS's API model (of an operation's input, or of a shape),
    else the "1 to N" / "no more than N" /
    "up to N" / "maximum length is N" its API reference text states."""
    service, call = api.split(" ")
    name, member = call.split(".")
    model = botocore_session().get_service_model(service)
    if name in model.operation_names:
        shape = model.operation_model(name).input_shape.members[member]
    else:  # a structure within a request (e.g. a list's items)
        shape = model.shape_for(name).members[member]
    if "max" in shape.metadata:
        return int(shape.metadata["max"])
    text = re.sub(r"<[^>]+>", " ", shape.documentation)
    found = re.search(
        r"(?:from 1 to|no more than|[Uu]p to|maximum length is|between 1 and) (\d+)", text
    )
    if not found:
        raise LookupError(f"{api}: the API model states no length limit")
    return int(found.group(1))


LIMITS: dict[str, NameLimit] = {
    "aws:iam/role:Role": NameLimit("name", "iam CreateRole.RoleName"),
    "aws:iam/rolePolicy:RolePolicy": NameLimit("name", "iam PutRolePolicy.PolicyName"),
    "aws:iam/policy:Policy": NameLimit("name", "iam CreatePolicy.PolicyName"),
    "aws:s3/bucket:Bucket": NameLimit(
        "bucket", "Amazon S3 User Guide, 'General purpose bucket naming rules'", 63
    ),
    "aws:kms/alias:Alias": NameLimit("name", "kms CreateAlias.AliasName"),
    "aws:sns/topic:Topic": NameLimit("name", "sns CreateTopic.Name"),
    "aws:cloudwatch/eventRule:EventRule": NameLimit("name", "events PutRule.Name"),
    # a target's id (Pulumi autonames it from the logical name): a member of the Target shape
    "aws:cloudwatch/eventTarget:EventTarget": NameLimit("targetId", "events Target.Id"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": NameLimit(
        "name", "cloudwatch PutMetricAlarm.AlarmName"
    ),
    "aws:cloudwatch/dashboard:Dashboard": NameLimit(
        "dashboardName", "cloudwatch PutDashboard.DashboardName"
    ),
    "aws:appautoscaling/policy:Policy": NameLimit(
        "name", "application-autoscaling PutScalingPolicy.PolicyName"
    ),
    "aws:sagemaker/model:Model": NameLimit("name", "sagemaker CreateModel.ModelName"),
    "aws:sagemaker/endpoint:Endpoint": NameLimit("name", "sagemaker CreateEndpoint.EndpointName"),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": NameLimit(
        "name", "sagemaker CreateEndpointConfig.EndpointConfigName"
    ),
    "aws:sagemaker/pipeline:Pipeline": NameLimit(
        "pipelineName", "sagemaker CreatePipeline.PipelineName"
    ),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": NameLimit(
        "modelPackageGroupName", "sagemaker CreateModelPackageGroup.ModelPackageGroupName"
    ),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": NameLimit(
        "name", "sagemaker CreateDataQualityJobDefinition.JobDefinitionName"
    ),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": NameLimit(
        "name", "sagemaker CreateMonitoringSchedule.MonitoringScheduleName"
    ),
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": NameLimit(
        "trackingServerName", "sagemaker CreateMlflowTrackingServer.TrackingServerName"
    ),
    "aws:sagemaker/mlflowApp:MlflowApp": NameLimit("name", "sagemaker CreateMlflowApp.Name"),
    "aws:ecr/repository:Repository": NameLimit("name", "ecr CreateRepository.repositoryName"),
    "aws:rds/instance:Instance": NameLimit(
        "identifier", "rds CreateDBInstance.DBInstanceIdentifier"
    ),
    "aws:rds/subnetGroup:SubnetGroup": NameLimit(
        "name", "rds CreateDBSubnetGroup.DBSubnetGroupName"
    ),
    "aws:ec2/securityGroup:SecurityGroup": NameLimit("name", "ec2 CreateSecurityGroup.GroupName"),
    "aws:eks/cluster:Cluster": NameLimit("name", "eks CreateCluster.name"),
    "aws:eks/nodeGroup:NodeGroup": NameLimit(
        "nodeGroupName", "Amazon EKS User Guide, 'Create a managed node group': up to 63", 63
    ),
}

# Children the pulumi-eks components create (remote components: the mocks record only the
# component). pulumi-eks v4.1.0 nodejs/eks/cluster/cluster.ts: ServiceRole(`${name}-eksRole`)
# whose role is `${name}-role` (servicerole.ts), and aws.eks.Cluster with our explicit name;
# nodes/nodegroup.ts: aws.eks.NodeGroup(name) with its node group name autonamed.
EKS_CHILDREN: dict[str, list[tuple[str, str, str | None]]] = {
    # component type: (suffix of the child's logical name, child type, input naming it)
    "eks:index:Cluster": [
        ("-eksRole-role", "aws:iam/role:Role", None),
        ("-eksCluster", "aws:eks/cluster:Cluster", "name"),
    ],
    "eks:index:ManagedNodeGroup": [("", "aws:eks/nodeGroup:NodeGroup", None)],
}

# Declared types that carry no name AWS limits (ids are AWS-assigned, or the name is fixed).
UNNAMED = {
    "aws:kms/key:Key",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:sns/topicSubscription:TopicSubscription",
    "aws:appautoscaling/target:Target",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:eks/accessEntry:AccessEntry",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    "aws:eks/addon:Addon",  # named by AWS (addonName: metrics-server, aws-ebs-csi-driver)
}
