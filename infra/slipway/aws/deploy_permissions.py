"""What `pulumi up` of a stack calls in AWS, per resource type: the deploy role's contract.

``RESOURCE_ACTIONS``: Pulumi AWS resource type -> the IAM actions the provider needs to
create, update, read and delete one. ``REMOTE_CHILDREN``: the AWS resources pulumi-eks's
components create inside its own provider (invisible under mocks; from pulumi-eks 4.x
``cluster.ts``/``nodegroup.ts`` with slipway's options: no default node group, no
default security groups, authentication mode API, an OIDC provider; the managed node
group gets no custom launch template since slipway sets no user data, AMI or IMDS option).
The tests run the generated programs under mocks and fail when a declared type is missing
here or when the deploy role's policy does not allow a listed action.
"""

from __future__ import annotations

from slipway.aws import public_api_permissions

_ROLE = (
    "iam:CreateRole",
    "iam:GetRole",
    "iam:DeleteRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
)
_BUCKET = ("s3:GetBucketTagging", "s3:ListBucket")

RESOURCE_ACTIONS: dict[str, tuple[str, ...]] = {
    # storage and key (every flavor)
    "aws:kms/key:Key": (
        "kms:CreateKey",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:PutKeyPolicy",
        "kms:EnableKeyRotation",
        "kms:GetKeyRotationStatus",
        "kms:TagResource",
        "kms:ListResourceTags",
        "kms:ScheduleKeyDeletion",
    ),
    "aws:kms/alias:Alias": (
        "kms:CreateAlias",
        "kms:DeleteAlias",
        "kms:UpdateAlias",
        "kms:ListAliases",
    ),
    "aws:s3/bucket:Bucket": ("s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging", *_BUCKET),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "s3:PutLifecycleConfiguration",
        "s3:GetLifecycleConfiguration",
    ),
    "aws:s3/bucketLogging:BucketLogging": ("s3:PutBucketLogging", "s3:GetBucketLogging"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": (
        "s3:PutBucketOwnershipControls",
        "s3:GetBucketOwnershipControls",
    ),
    "aws:s3/bucketPolicy:BucketPolicy": (
        "s3:PutBucketPolicy",
        "s3:GetBucketPolicy",
        "s3:DeleteBucketPolicy",
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        "s3:PutBucketPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:PutEncryptionConfiguration",
        "s3:GetEncryptionConfiguration",
    ),
    "aws:s3/bucketVersioning:BucketVersioning": (
        "s3:PutBucketVersioning",
        "s3:GetBucketVersioning",
    ),
    # identities
    "aws:iam/role:Role": _ROLE,
    "aws:iam/rolePolicy:RolePolicy": (
        "iam:PutRolePolicy",
        "iam:GetRolePolicy",
        "iam:DeleteRolePolicy",
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:ListAttachedRolePolicies",
    ),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (
        "iam:CreateOpenIDConnectProvider",
        "iam:GetOpenIDConnectProvider",
        "iam:DeleteOpenIDConnectProvider",
        "iam:UpdateOpenIDConnectProviderThumbprint",
        "iam:TagOpenIDConnectProvider",
    ),
    "aws:iam/policy:Policy": (
        "iam:CreatePolicy",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:ListPolicyVersions",
        "iam:CreatePolicyVersion",
        "iam:DeletePolicyVersion",
        "iam:DeletePolicy",
        "iam:TagPolicy",
    ),
    # SageMaker flavor
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": (
        "sagemaker:CreateModelPackageGroup",
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:DeleteModelPackageGroup",
        "sagemaker:AddTags",
    ),
    "aws:sagemaker/model:Model": (
        "sagemaker:CreateModel",
        "sagemaker:DescribeModel",
        "sagemaker:DeleteModel",
        "iam:PassRole",
    ),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": (
        "sagemaker:CreateEndpointConfig",
        "sagemaker:DescribeEndpointConfig",
        "sagemaker:DeleteEndpointConfig",
    ),
    "aws:sagemaker/endpoint:Endpoint": (
        "sagemaker:CreateEndpoint",
        "sagemaker:UpdateEndpoint",
        "sagemaker:DescribeEndpoint",
        "sagemaker:DeleteEndpoint",
    ),
    "aws:sagemaker/mlflowApp:MlflowApp": (
        "sagemaker:CreateMlflowApp",
        "sagemaker:DescribeMlflowApp",
        "sagemaker:DeleteMlflowApp",
        "iam:PassRole",
    ),
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": (
        "sagemaker:CreateMlflowTrackingServer",
        "sagemaker:UpdateMlflowTrackingServer",
        "sagemaker:DescribeMlflowTrackingServer",
        "sagemaker:DeleteMlflowTrackingServer",
        "iam:PassRole",
    ),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": (
        "sagemaker:CreateDataQualityJobDefinition",
        "sagemaker:DescribeDataQualityJobDefinition",
        "sagemaker:DeleteDataQualityJobDefinition",
        "iam:PassRole",
    ),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": (
        "sagemaker:CreateMonitoringSchedule",
        "sagemaker:UpdateMonitoringSchedule",
        "sagemaker:DescribeMonitoringSchedule",
        "sagemaker:DeleteMonitoringSchedule",
    ),
    # the engine's pipelines (slipway.aws.training): each passes the training role to
    # SageMaker Pipelines; the schedule and retrain rules pass their trigger role to EventBridge
    "aws:sagemaker/pipeline:Pipeline": (
        "sagemaker:CreatePipeline",
        "sagemaker:DescribePipeline",
        "sagemaker:UpdatePipeline",
        "sagemaker:DeletePipeline",
        "sagemaker:AddTags",
        "sagemaker:ListTags",
        "iam:PassRole",
    ),
    "aws:cloudwatch/eventRule:EventRule": (
        "events:PutRule",
        "events:DescribeRule",
        "events:DeleteRule",
        "events:TagResource",
        "events:ListTagsForResource",
    ),
    "aws:cloudwatch/eventTarget:EventTarget": (
        "events:PutTargets",
        "events:ListTargetsByRule",
        "events:RemoveTargets",
        "iam:PassRole",
    ),
    "aws:appautoscaling/target:Target": (
        "application-autoscaling:RegisterScalableTarget",
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:DeregisterScalableTarget",
        "iam:CreateServiceLinkedRole",
    ),
    "aws:appautoscaling/policy:Policy": (
        "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:DescribeScalingPolicies",
        "application-autoscaling:DeleteScalingPolicy",
    ),
    # alarms and notifications
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:DeleteAlarms",
        "cloudwatch:TagResource",
    ),
    "aws:cloudwatch/dashboard:Dashboard": (
        "cloudwatch:PutDashboard",
        "cloudwatch:GetDashboard",
        "cloudwatch:DeleteDashboards",
    ),
    "aws:sns/topic:Topic": (
        "sns:CreateTopic",
        "sns:GetTopicAttributes",
        "sns:SetTopicAttributes",
        "sns:DeleteTopic",
        "sns:TagResource",
    ),
    "aws:sns/topicSubscription:TopicSubscription": (
        "sns:Subscribe",
        "sns:Unsubscribe",
        "sns:GetSubscriptionAttributes",
    ),
    # EKS flavor: network
    "aws:ec2/vpc:Vpc": (
        "ec2:CreateVpc",
        "ec2:DescribeVpcs",
        "ec2:DescribeVpcAttribute",
        "ec2:ModifyVpcAttribute",
        "ec2:DeleteVpc",
        "ec2:CreateTags",
    ),
    "aws:ec2/subnet:Subnet": (
        "ec2:CreateSubnet",
        "ec2:DescribeSubnets",
        "ec2:ModifySubnetAttribute",
        "ec2:DeleteSubnet",
        "ec2:CreateTags",
        "ec2:DeleteTags",
    ),
    "aws:ec2/internetGateway:InternetGateway": (
        "ec2:CreateInternetGateway",
        "ec2:AttachInternetGateway",
        "ec2:DescribeInternetGateways",
        "ec2:DetachInternetGateway",
        "ec2:DeleteInternetGateway",
    ),
    "aws:ec2/routeTable:RouteTable": (
        "ec2:CreateRouteTable",
        "ec2:DescribeRouteTables",
        "ec2:CreateRoute",
        "ec2:ReplaceRoute",
        "ec2:DeleteRoute",
        "ec2:DeleteRouteTable",
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (
        "ec2:AssociateRouteTable",
        "ec2:DisassociateRouteTable",
        "ec2:ReplaceRouteTableAssociation",
    ),
    "aws:ec2/eip:Eip": (
        "ec2:AllocateAddress",
        "ec2:DescribeAddresses",
        "ec2:DescribeAddressesAttribute",
        "ec2:ReleaseAddress",
    ),
    "aws:ec2/natGateway:NatGateway": (
        "ec2:CreateNatGateway",
        "ec2:DescribeNatGateways",
        "ec2:DeleteNatGateway",
    ),
    "aws:ec2/securityGroup:SecurityGroup": (
        "ec2:CreateSecurityGroup",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:DeleteSecurityGroup",
    ),
    # EKS flavor: database, image repository, cluster
    "aws:rds/subnetGroup:SubnetGroup": (
        "rds:CreateDBSubnetGroup",
        "rds:DescribeDBSubnetGroups",
        "rds:ModifyDBSubnetGroup",
        "rds:DeleteDBSubnetGroup",
        "rds:AddTagsToResource",
        "rds:ListTagsForResource",
    ),
    "aws:rds/instance:Instance": (
        "rds:CreateDBInstance",
        "rds:DescribeDBInstances",
        "rds:ModifyDBInstance",
        "rds:DeleteDBInstance",
        "rds:AddTagsToResource",
        "rds:ListTagsForResource",
        "iam:CreateServiceLinkedRole",
    ),
    "aws:ecr/repository:Repository": (
        "ecr:CreateRepository",
        "ecr:DescribeRepositories",
        "ecr:PutImageScanningConfiguration",
        "ecr:PutImageTagMutability",
        "ecr:TagResource",
        "ecr:ListTagsForResource",
        "ecr:DeleteRepository",
    ),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": (
        "ecr:PutLifecyclePolicy",
        "ecr:GetLifecyclePolicy",
        "ecr:DeleteLifecyclePolicy",
    ),
    "aws:eks/cluster:Cluster": (
        "eks:CreateCluster",
        "eks:DescribeCluster",
        "eks:UpdateClusterConfig",
        "eks:UpdateClusterVersion",
        "eks:DeleteCluster",
        "eks:TagResource",
        "iam:PassRole",
        "iam:CreateServiceLinkedRole",
    ),
    "aws:eks/addon:Addon": (
        "iam:PassRole",  # serviceAccountRoleArn (the add-on's IRSA role)
        "eks:CreateAddon",
        "eks:DescribeAddon",
        "eks:UpdateAddon",
        "eks:DeleteAddon",
        "eks:DescribeAddonVersions",
    ),
    "aws:eks/accessEntry:AccessEntry": (
        "eks:CreateAccessEntry",
        "eks:DescribeAccessEntry",
        "eks:UpdateAccessEntry",
        "eks:DeleteAccessEntry",
    ),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": (
        "eks:AssociateAccessPolicy",
        "eks:ListAssociatedAccessPolicies",
        "eks:DisassociateAccessPolicy",
    ),
    "aws:eks/nodeGroup:NodeGroup": (
        "eks:CreateNodegroup",
        "eks:DescribeNodegroup",
        "eks:UpdateNodegroupConfig",
        "eks:UpdateNodegroupVersion",
        "eks:DeleteNodegroup",
        "iam:PassRole",
        "iam:CreateServiceLinkedRole",
    ),
    # the public API (slipway:publicApi)
    **public_api_permissions.RESOURCE_ACTIONS,
}
# Actions without a resource type (IAM authorizes them on "*").
NO_RESOURCE = public_api_permissions.NO_RESOURCE

ADMINISTRATOR_ONLY: dict[str, tuple[str, ...]] = {
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (
        "iam:CreateOpenIDConnectProvider",
        "iam:DeleteOpenIDConnectProvider",
        "iam:UpdateOpenIDConnectProviderThumbprint",
        "iam:TagOpenIDConnectProvider",
    ),
    "aws:iam/policy:Policy": (
        "iam:CreatePolicy",
        "iam:CreatePolicyVersion",
        "iam:DeletePolicyVersion",
        "iam:DeletePolicy",
        "iam:TagPolicy",
    ),
}
REMOTE_CHILDREN: dict[str, tuple[str, ...]] = {
    "eks:index:Cluster": (
        "aws:iam/role:Role",  # the EKS service role (ServiceRole `<name>-eksRole`)
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",  # its AmazonEKSClusterPolicy
        "aws:eks/cluster:Cluster",
        "aws:eks/addon:Addon",  # kube-proxy, vpc-cni
        "aws:eks/accessEntry:AccessEntry",
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    ),
    "eks:index:ManagedNodeGroup": ("aws:eks/nodeGroup:NodeGroup",),
}


def aws_types(declared: set[str]) -> set[str]:
    """The AWS resource types behind ``declared`` types, remote components expanded."""
    found = {t for t in declared if t.startswith("aws:")}
    for component, children in REMOTE_CHILDREN.items():
        if component in declared:
            found.update(children)
    return found
