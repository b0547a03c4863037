"""The generated infra program, baked per option set, yields the expected resources per preset."""

from __future__ import annotations

import pytest
from program_runs import StackRun, structural_run
from slipway.presets import load_preset

BASE = {
    "aws:kms/key:Key": 1,
    "aws:kms/alias:Alias": 1,
    "aws:s3/bucket:Bucket": 1,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1,
    "aws:s3/bucketVersioning:BucketVersioning": 1,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
    "aws:s3/bucketPolicy:BucketPolicy": 1,
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": 1,
    "aws:iam/role:Role": 3,
    "aws:iam/rolePolicy:RolePolicy": 3,
}
ACCESS_LOGS = {  # staging and prod: a second (logs) bucket and its settings
    "aws:s3/bucket:Bucket": 1,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
    "aws:s3/bucketPolicy:BucketPolicy": 1,
    "aws:s3/bucketLogging:BucketLogging": 1,
}
# the boundary; deploy, candidate and monitor roles (inline), preview role (ViewOnlyAccess)
GITHUB = {
    "aws:iam/policy:Policy": 1,
    "aws:iam/role:Role": 4,
    "aws:iam/rolePolicy:RolePolicy": 3,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 1,
}
TOPIC = {"aws:sns/topic:Topic": 1, "aws:sns/topicSubscription:TopicSubscription": 1}
# The endpoint, its model, config, autoscaling and monitoring schedule are the deploy
# runtime's (docs/decisions.md): the program declares only the serving image repository.
SERVING = {"aws:ecr/repository:Repository": 1, "aws:ecr/lifecyclePolicy:LifecyclePolicy": 1}
EKS = {  # issue 5: network (2 AZs, one NAT in dev/staging), cluster, MLflow, serving
    "aws:ec2/vpc:Vpc": 1,
    "aws:ec2/internetGateway:InternetGateway": 1,
    "aws:ec2/subnet:Subnet": 4,
    "aws:ec2/routeTable:RouteTable": 3,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": 4,
    "aws:ec2/eip:Eip": 1,
    "aws:ec2/natGateway:NatGateway": 1,
    "aws:ec2/securityGroup:SecurityGroup": 1,
    # node role, MLflow's, the model server's and the EBS CSI driver's IRSA roles
    "aws:iam/role:Role": 4,
    "aws:iam/rolePolicy:RolePolicy": 3,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 4,
    # cluster add-ons (metrics-server, aws-ebs-csi-driver) and the encrypted gp3 class
    "aws:eks/addon:Addon": 2,
    "kubernetes:storage.k8s.io/v1:StorageClass": 1,
    "aws:rds/subnetGroup:SubnetGroup": 1,
    "aws:rds/instance:Instance": 1,
    "random:index/randomPassword:RandomPassword": 1,
    "aws:ecr/repository:Repository": 1,
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": 1,
    "kubernetes:core/v1:Namespace": 2,
    "kubernetes:core/v1:Secret": 1,
    "kubernetes:helm.sh/v3:Release": 1,
    "kubernetes:core/v1:ServiceAccount": 1,
    "kubernetes:apps/v1:Deployment": 1,
    "kubernetes:core/v1:Service": 1,
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 1,
    "kubernetes:policy/v1:PodDisruptionBudget": 1,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": 1,  # who may reach the model server
    # MLflow port-forward Role + RoleBinding (the drift check's Kubernetes group)
    "kubernetes:rbac.authorization.k8s.io/v1:Role": 1,
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": 1,
}
EKS_OBSERVABILITY = {
    "kubernetes:core/v1:Namespace": 1,
    "random:index/randomPassword:RandomPassword": 1,
    "kubernetes:helm.sh/v3:Release": 2,  # kube-prometheus-stack, prometheus-pushgateway
    "kubernetes:monitoring.coreos.com/v1:ServiceMonitor": 1,
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule": 1,
    # IRSA roles: the drift CronJob and Alertmanager (sns:Publish)
    "aws:iam/role:Role": 2,
    "aws:iam/rolePolicy:RolePolicy": 2,
    "kubernetes:core/v1:ServiceAccount": 1,
    "kubernetes:batch/v1:CronJob": 1,
}
EKS_PROD = {  # prod: 3 AZs, a NAT gateway in each
    "aws:ec2/subnet:Subnet": 2,
    "aws:ec2/routeTable:RouteTable": 1,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": 2,
    "aws:ec2/eip:Eip": 2,
    "aws:ec2/natGateway:NatGateway": 2,
}
COMBOS = {
    "sagemaker-realtime-yes-github": [
        SERVING,
        GITHUB,
        TOPIC,
        # 5 endpoint alarms, the drift alarm, the model-quality alarms (Accuracy, RocAuc)
        {"aws:cloudwatch/metricAlarm:MetricAlarm": 8, "aws:cloudwatch/dashboard:Dashboard": 1},
        {
            "aws:iam/rolePolicy:RolePolicy": 3
        },  # the deploy, candidate and monitor roles' MLflow grants
    ],
    "sagemaker-serverless-no-none": [SERVING],
    "eks-realtime-yes-github": [
        GITHUB,
        TOPIC,
        EKS,
        EKS_OBSERVABILITY,
        # the deploy role's EKS policy (managed: an inline one would outgrow the IAM quota)
        {"aws:iam/policy:Policy": 1, "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 1},
    ],
}


def _engines(combo: str, stack: str) -> dict[str, int]:
    """Issue 14's resources, as the stack declares them once ``slipway:modelImageTag`` is set
    (the shared runs set it): the preset's schedule and the monitoring's retrain alarms each
    make an EventBridge rule and target (through one trigger role) on SageMaker, where GitHub
    CI's candidate role gets its start-and-follow grant; on EKS the starters' RBAC and
    admission policy exist with monitoring (the drift check) or GitHub CI (the candidate)."""
    training = load_preset(stack).training
    monitoring = "-yes-" in combo
    github = combo.endswith("-github")  # release.yml's candidate role starts the training run
    if combo.startswith("sagemaker"):
        rules = bool(training.sagemaker.schedule) + monitoring
        return {
            "aws:sagemaker/pipeline:Pipeline": 2,  # training, batch
            # steps; trigger role's; the candidate role's start-and-follow grant
            "aws:iam/rolePolicy:RolePolicy": 1 + bool(rules) + github,
            "aws:iam/role:Role": bool(rules),  # the trigger role
            "aws:cloudwatch/eventRule:EventRule": rules,
            "aws:cloudwatch/eventTarget:EventTarget": rules,
        }
    starters = monitoring or github  # the drift check and CI may start the training Job
    return {
        "kubernetes:core/v1:Namespace": 1,
        "aws:iam/role:Role": 1,  # the training service account's IRSA role
        "aws:iam/rolePolicy:RolePolicy": 1,
        "kubernetes:core/v1:ServiceAccount": 1,
        "kubernetes:batch/v1:CronJob": 2,  # training, batch
        # ... exactly the training CronJob's Job (RBAC + admission policy)
        "kubernetes:rbac.authorization.k8s.io/v1:Role": starters,
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": starters,
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy": starters,
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding": starters,
    }


def _expected(combo: str, stack: str) -> dict[str, int]:
    parts = [BASE, *COMBOS[combo], _engines(combo, stack)]
    if stack != "dev":
        parts.append(ACCESS_LOGS)
    if combo.startswith("eks") and stack == "prod":
        parts.append(EKS_PROD)
    if combo.startswith("sagemaker"):
        tracking = (
            "mlflowApp:MlflowApp"
            if stack == "dev"
            else ("mlflowTrackingServer:MlflowTrackingServer")
        )
        parts.append({f"aws:sagemaker/{tracking}": 1})
    total: dict[str, int] = {}
    for part in parts:
        for key, count in part.items():
            total[key] = total.get(key, 0) + int(count)
    return {key: count for key, count in total.items() if count}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
@pytest.mark.parametrize("combo", list(COMBOS))
def test_program_yields_the_expected_resources(
    structural_runs: dict[tuple[str, str], StackRun], combo: str, stack: str
) -> None:
    """The session's shared runs (tests/program_runs.py) of these structural combinations."""
    options = dict(zip(("compute", "endpoint", "monitoring", "ci"), combo.split("-"), strict=True))
    run = structural_run(structural_runs, stack, **options).run
    assert run.type_counts() == _expected(combo, stack)
    assert run.outputs["preset"] == stack
