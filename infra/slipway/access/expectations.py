"""The expectations of one stack: what each role must be allowed, what it must be denied.

Must allow:
* ``deploy``: ``pulumi up`` of every declared resource (the actions of
  ``slipway.aws.deploy_permissions.RESOURCE_ACTIONS`` on that resource, with its tags);
* every workload's recorded requests (``recorded``: JSON lines of ``slipway.access.recorder``,
  with the stack's names in place of the rehearsal's);
* what each role's job needs from MLflow and what AWS services do with the roles
  (``slipway.access.services``, cited);
* the public API's proxy and load balancer controller (``slipway.access.public_api``).

Must deny (generated): any request on another stack's or another project's resources, a
role changing its own policies or trust, creating a role without the permissions boundary,
reading secrets, changing the account's GitHub OIDC provider; on EKS, MLflow's artifacts
read from S3 by any workload but the MLflow server (artifacts are proxied).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace

from slipway.access.matrix import Expectation
from slipway.access.public_api import foreign_public_api, public_api_requests
from slipway.access.request import AccessRequest
from slipway.access.services import s3_object, service_requests
from slipway.access.stack import StackAccess, StackResource
from slipway.aws.deploy_permissions import NO_RESOURCE, RESOURCE_ACTIONS
from slipway.testing import ProgramRun, RecordedResource

GITHUB_OIDC = "token.actions.githubusercontent.com"
# Which role runs each recorded workload (the GitHub environment or service account).
WORKLOAD_ROLES = {
    "deploy-flow": ("deploy",),  # release.yml: `deploy` (slipway.deploy)
    "drift-monitor": ("monitor", "drift"),  # drift.yml and the EKS drift CronJob
    "capture-writer": ("serving",),  # the EKS model server's request capture
}
# Which MLflow calls each role's job makes (MLflow client API -> the REST call IAM names).
MLFLOW_CALLS = {
    # release.yml `pipeline run`: train, track, gate, register, alias the champion
    "deploy": (
        "GetExperimentByName",
        "CreateExperiment",
        "CreateRun",
        "LogBatch",
        "UpdateRun",
        "CreateRegisteredModel",
        "CreateModelVersion",
        "SetRegisteredModelAlias",
        "GetModelVersionByAlias",
    ),
    # drift.yml `monitor`: the champion's reference profile
    "monitor": ("GetModelVersionByAlias", "GetRun", "ListArtifacts"),
}
SERVICE_LINKED = {
    "aws:appautoscaling/target:Target": "sagemaker.application-autoscaling.amazonaws.com",
    "aws:eks/cluster:Cluster": "eks.amazonaws.com",
    "aws:eks/nodeGroup:NodeGroup": "eks-nodegroup.amazonaws.com",
}
PASSED_TO = {
    "sagemaker": "sagemaker.amazonaws.com",
    "eks": "eks.amazonaws.com",
    "lambda": "lambda.amazonaws.com",
}
ROLE_ARN_INPUTS = ("executionRoleArn", "roleArn", "nodeRoleArn", "serviceAccountRoleArn", "role")
# EC2 resource types whose ARN name differs from the Pulumi type (service authorization
# reference, "Resource types defined by Amazon EC2").
EC2_TYPES = {"ec2/eip": "elastic-ip", "ec2/natGateway": "natgateway"}
# What no role may do to another stack's resource, by resource type.
FOREIGN_ACTIONS: dict[str, tuple[str, ...]] = {
    "aws:kms/key:Key": ("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:Decrypt"),
    "aws:s3/bucket:Bucket": ("s3:PutBucketPolicy", "s3:DeleteBucket"),
    "aws:sagemaker/endpoint:Endpoint": (
        "sagemaker:UpdateEndpoint",
        "sagemaker:DeleteEndpoint",
        "sagemaker:InvokeEndpoint",
    ),
    "aws:sagemaker/mlflowApp:MlflowApp": (
        "sagemaker:DeleteMlflowApp",
        "sagemaker:CallMlflowAppApi",
    ),
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": (
        "sagemaker:DeleteMlflowTrackingServer",
        "sagemaker-mlflow:CreateRegisteredModel",
        "sagemaker-mlflow:GetModelVersionByAlias",
    ),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": ("sagemaker:DeleteModelPackageGroup",),
    "aws:iam/role:Role": (
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:DeleteRole",
        "iam:PassRole",
    ),
    "aws:ecr/repository:Repository": ("ecr:PutImage", "ecr:DeleteRepository"),
    "aws:sns/topic:Topic": ("sns:Publish", "sns:DeleteTopic"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch:DeleteAlarms",),
    "aws:lambda/function:Function": ("lambda:UpdateFunctionCode", "lambda:InvokeFunction"),
    "aws:cognito/userPool:UserPool": ("cognito-idp:DeleteUserPool",),
    "aws:cloudwatch/logGroup:LogGroup": ("logs:DeleteLogGroup",),
    "aws:wafv2/webAcl:WebAcl": ("wafv2:DeleteWebACL", "wafv2:AssociateWebACL"),
}
FOREIGN_OBJECTS = ("data/x.csv", "models/x/model.tar.gz")
OWN_ROLE_ACTIONS = (
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
)
ADMINISTRATOR = "arn:aws:iam::aws:policy/AdministratorAccess"
# Services the engine cannot evaluate: API Gateway V2 (HTTP APIs) shares the ``apigateway``
# prefix with REST APIs, and the engine's data (iam-data 0.21.202609261) gives its actions
# only REST API resource types ("no.resource.types" on /apis/...). Their grants are checked
# by pattern instead (tests/publicapi/test_public_api_sagemaker.py, docs/security.md).
UNEVALUATED_SERVICES = ("apigateway",)


def _req(action: str, resource: str, origin: str, **context: object) -> AccessRequest:
    return AccessRequest("", action, resource, dict(context), origin)  # type: ignore[arg-type]


def expectations(
    stack: StackAccess,
    run: ProgramRun,
    others: Iterable[StackAccess] = (),
    recorded: Mapping[str, list[AccessRequest]] | None = None,
) -> list[Expectation]:
    """Every must-allow and must-deny expectation of ``stack`` (``others``: the other stacks
    whose resources its roles must not touch)."""
    found: list[Expectation] = []
    seen: set[tuple[str, tuple[str, str, str, str], bool]] = set()

    def add(role: str, request: AccessRequest, allow: bool, why: str) -> None:
        if role not in stack.roles or request.action.split(":")[0] in UNEVALUATED_SERVICES:
            return
        key = (role, request.key(), allow)
        if key not in seen:
            seen.add(key)
            found.append(Expectation(role, request, allow, why))

    for request in deploy_requests(stack, run):
        add("deploy", request, True, request.origin)
    for role, request in service_requests(stack, run):
        add(role, request, True, request.origin)
    for role, request in workload_requests(stack):
        add(role, request, True, request.origin)
    for role, request in public_api_requests(stack, run):
        add(role, request, True, request.origin)
    for workload, requests in (recorded or {}).items():
        for role in WORKLOAD_ROLES.get(workload, ()):
            for request in retarget(requests, stack):
                add(role, request, True, f"recorded:{workload}")
    for role, request in proxied_artifacts(stack):
        add(role, request, False, request.origin)
    for role in sorted(stack.roles):
        for other in others:
            for request in foreign_requests(other):
                add(role, request, False, f"deny:{other.prefix}")
        for request in self_requests(stack, role):
            add(role, request, False, request.origin)
    return found


def deploy_requests(stack: StackAccess, run: ProgramRun) -> Iterator[AccessRequest]:
    """`pulumi up` of each declared AWS resource: create, read, update, delete it."""
    buckets = {b.state["bucket"]: b.state["arn"] for b in run.of_type("aws:s3/bucket:Bucket")}
    for resource in run.cloud_resources:
        for action in RESOURCE_ACTIONS.get(resource.type, ()):
            built = _deploy_request(stack, resource, action, buckets)
            if built is not None:
                yield built


def _deploy_request(
    stack: StackAccess, resource: RecordedResource, action: str, buckets: Mapping[str, str]
) -> AccessRequest | None:
    origin = f"deploy:{resource.type.split(':')[1]}"
    service = action.split(":")[0]
    account = stack.account
    if action == "iam:PassRole":
        role = next((resource.inputs[k] for k in ROLE_ARN_INPUTS if resource.inputs.get(k)), None)
        target = PASSED_TO.get(resource.type.split(":")[1].split("/")[0])
        if role is None or target is None:
            return None
        return _req(action, role, origin, **{"iam:PassedToService": target})
    if action == "iam:CreateServiceLinkedRole":
        name = SERVICE_LINKED.get(resource.type)
        if name is None:
            return None
        arn = f"arn:aws:iam::{account}:role/aws-service-role/{name}/x"
        return _req(action, arn, origin, **{"iam:AWSServiceName": name})
    target = "*" if action in NO_RESOURCE else _deploy_arn(stack, resource, buckets, action)
    if action == "eks:CreateAddon":  # authorized on the cluster (service authorization ref.)
        target = f"arn:aws:eks:{stack.region}:{account}:cluster/{resource.inputs['clusterName']}"
    if target is None or (target != "*" and target.split(":")[2] != service):
        return None
    context: dict[str, object] = {}
    if resource.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
        context["iam:PolicyARN"] = resource.inputs["policyArn"]
    verb = action.split(":")[1]
    tags = resource.tags
    if tags and (verb.startswith(("Create", "Allocate")) or verb in ("TagResource", "AddTags")):
        context.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
        context["aws:TagKeys"] = tuple(tags)
        if service == "ec2" and verb == "CreateTags":
            context["ec2:CreateAction"] = _ec2_create(resource.type)
    if not verb.startswith(("Create", "Allocate")):
        context.update({f"aws:ResourceTag/{k}": v for k, v in tags.items()})
    return _req(action, target, origin, **context)


def _ec2_create(type_: str) -> str:
    kind = type_.split(":")[2]
    return {"Eip": "AllocateAddress"}.get(kind, f"Create{kind}")


def _deploy_arn(
    stack: StackAccess, resource: RecordedResource, buckets: Mapping[str, str], action: str
) -> str | None:
    """The ARN IAM authorizes a provider call about ``resource`` on."""
    account, region = stack.account, stack.region
    module = resource.type.split(":")[1]
    if module.startswith("apigatewayv2/") and action == "apigateway:POST":
        return str(resource.state["arn"]).rsplit("/", 1)[0]  # created in its collection
    if module == "lambda/permission":
        return f"arn:aws:lambda:{region}:{account}:function:{resource.inputs['function']}"
    if module.startswith("cognito/") and module != "cognito/userPool":
        return f"arn:aws:cognito-idp:{region}:{account}:userpool/{resource.inputs['userPoolId']}"
    if module.startswith("s3/") and resource.type != "aws:s3/bucket:Bucket":
        return buckets.get(resource.inputs.get("bucket", ""))
    if module == "iam/rolePolicy" or module == "iam/rolePolicyAttachment":
        return f"arn:aws:iam::{account}:role/{resource.inputs['role']}"
    if module == "kms/alias":
        return f"arn:aws:kms:{region}:{account}:{resource.inputs['name']}"
    if module == "sns/topicSubscription":
        return str(resource.inputs.get("topic"))
    if module == "ecr/lifecyclePolicy":
        return f"arn:aws:ecr:{region}:{account}:repository/{resource.inputs['repository']}"
    if module.startswith("appautoscaling/"):
        return f"arn:aws:application-autoscaling:{region}:{account}:scalable-target/x"
    if module in EC2_TYPES:
        return f"arn:aws:ec2:{region}:{account}:{EC2_TYPES[module]}/{resource.state['name']}"
    if module == "ec2/routeTableAssociation":
        return f"arn:aws:ec2:{region}:{account}:route-table/{resource.inputs['routeTableId']}"
    if module == "eks/addon":  # addon/<cluster>/<add-on name>/<uuid>
        cluster, addon = resource.inputs["clusterName"], resource.inputs["addonName"]
        return f"arn:aws:eks:{region}:{account}:addon/{cluster}/{addon}/{_uuid_like(addon)}"
    if module == "rds/instance":
        return f"arn:aws:rds:{region}:{account}:db:{resource.state['name']}"
    if module == "rds/subnetGroup":
        return f"arn:aws:rds:{region}:{account}:subgrp:{resource.state['name']}"
    arn = resource.state.get("arn")
    return str(arn) if isinstance(arn, str) else None


def workload_requests(stack: StackAccess) -> Iterator[tuple[str, AccessRequest]]:
    """What the roles' jobs need besides their recorded AWS calls: MLflow on the stack's
    tracking server or app (SigV4 REST calls, not botocore), the EKS release's image push and
    kubeconfig, the preview's availability-zone lookup."""
    region, account = stack.region, stack.account
    tracking = str(stack.outputs.get("trackingUri", ""))
    for role, calls in MLFLOW_CALLS.items():
        origin = "workload:mlflow (docs/security.md)"
        if ":mlflow-app/" in tracking:
            yield role, _req("sagemaker:CallMlflowAppApi", tracking, origin)
        elif ":mlflow-tracking-server/" in tracking:
            for call in calls:
                yield role, _req(f"sagemaker-mlflow:{call}", tracking, origin)
    cluster = stack.outputs.get("clusterName")
    if cluster:
        arn = f"arn:aws:eks:{region}:{account}:cluster/{cluster}"
        yield "deploy", _req("eks:DescribeCluster", arn, "workload:release.yml kubeconfig")
        yield "monitor", _req("eks:DescribeCluster", arn, "workload:drift.yml kubeconfig")
        repository = str(stack.outputs.get("modelRepositoryUrl", "")).split("/", 1)[-1]
        repo = f"arn:aws:ecr:{region}:{account}:repository/{repository}"
        for action in ("ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:CompleteLayerUpload"):
            yield "deploy", _req(action, repo, "workload:stack-up.yml image push")
        yield "deploy", _req("ecr:GetAuthorizationToken", "*", "workload:stack-up.yml image push")
        yield (
            "preview",
            _req("ec2:DescribeAvailabilityZones", "*", "workload:pulumi preview invoke"),
        )
        yield from ebs_csi_requests(stack)
    bucket = stack.outputs.get("bucketName")
    if cluster and bucket:
        artifact = f"s3://{bucket}/mlflow/1/run/artifacts/model/MLmodel"
        capture = f"s3://{bucket}/data-capture/model-server/2026/01/01/00/x.jsonl"
        # MLflow proxies artifacts (eks/tracking.py): the model server and the drift job get
        # models and profiles over HTTP, so only the MLflow server reads or writes mlflow/.
        in_cluster = (
            ("mlflow", artifact, True, "workload:MLflow server artifact store (eks/tracking.py)"),
            ("mlflow", artifact, False, "workload:MLflow server artifact store (eks/tracking.py)"),
            ("serving", capture, True, "workload:model server request capture (SSE-KMS header)"),
            ("drift", capture, False, "workload:drift CronJob reads the capture"),
        )
        for role, uri, write, origin in in_cluster:
            for request in s3_object(stack, uri, write, origin, sse_header="SSE-KMS" in origin):
                yield role, request
    topic = stack.outputs.get("alarmTopicArn")
    if topic:
        yield "alertmanager", _req("sns:Publish", str(topic), "workload:Alertmanager SNS receiver")


def ebs_csi_requests(stack: StackAccess) -> Iterator[tuple[str, AccessRequest]]:
    """The EBS CSI controller provisioning Prometheus' encrypted volume (aws-ebs-csi-driver:
    volumes tagged ``ebs.csi.aws.com/cluster=true``; the project key through EC2 grants)."""
    region, account = stack.region, stack.account
    origin = "workload:EBS CSI controller (eks/cluster.py)"
    volume = f"arn:aws:ec2:{region}:{account}:volume/vol-0123456789abcdef0"
    tag = "ebs.csi.aws.com/cluster"
    yield "ebs-csi", _req("ec2:CreateVolume", volume, origin, **{f"aws:RequestTag/{tag}": "true"})
    instance = f"arn:aws:ec2:{region}:{account}:instance/i-0123456789abcdef0"
    for target in (volume, instance):
        yield "ebs-csi", _req("ec2:AttachVolume", target, origin)
    yield "ebs-csi", _req("ec2:DeleteVolume", volume, origin, **{f"ec2:ResourceTag/{tag}": "true"})
    key = str(stack.outputs.get("kmsKeyArn", ""))
    if key:
        grant = {"kms:GrantIsForAWSResource": "true"}
        yield "ebs-csi", _req("kms:CreateGrant", key, origin, **grant)
        yield "ebs-csi", _req("kms:DescribeKey", key, origin)


def proxied_artifacts(stack: StackAccess) -> Iterator[tuple[str, AccessRequest]]:
    """EKS: MLflow's artifacts are the MLflow server's alone (proxied); the model server and
    the drift job must not read them from S3."""
    bucket = stack.outputs.get("bucketName")
    if not (stack.outputs.get("clusterName") and bucket):
        return
    artifact = f"arn:aws:s3:::{bucket}/mlflow/1/run/artifacts/model/MLmodel"
    for role in ("serving", "drift"):
        yield role, _req("s3:GetObject", artifact, "deny:mlflow artifacts (proxied by MLflow)")


def retarget(requests: Iterable[AccessRequest], stack: StackAccess) -> Iterator[AccessRequest]:
    """Recorded requests with ``{output}`` placeholders (``record_placeholders``) filled from
    the stack's outputs; requests naming an output the stack lacks are dropped."""
    values = {k: str(v) for k, v in stack.outputs.items() if isinstance(v, str)}
    values.update(account=stack.account, region=stack.region)
    for request in requests:
        text = json.dumps(request.to_dict())
        try:
            filled = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], text)
        except KeyError:
            continue
        yield AccessRequest.from_dict(json.loads(filled))


def record_placeholders(
    requests: Iterable[AccessRequest], names: Mapping[str, str]
) -> list[AccessRequest]:
    """Replace a rehearsal's names (``names``: output -> value, e.g. bucketName) with
    ``{output}`` placeholders, longest value first, and drop the principal."""
    ordered = sorted(names.items(), key=lambda item: -len(item[1]))
    result = []
    for request in requests:
        text = json.dumps({**request.to_dict(), "principal": ""})
        for output, value in ordered:
            text = text.replace(value, "{" + output + "}")
        result.append(AccessRequest.from_dict(json.loads(text)))
    return result


def foreign_requests(other: StackAccess) -> Iterator[AccessRequest]:
    """What no role of another stack may do to ``other``'s resources."""
    for resource in other.resources:
        for action in FOREIGN_ACTIONS.get(resource.type, ()):
            context = (
                {"iam:PassedToService": PASSED_TO["sagemaker"]} if action == "iam:PassRole" else {}
            )
            yield _req(action, resource.arn, f"deny:{other.prefix}", **context)
        if resource.type == "aws:sagemaker/modelPackageGroup:ModelPackageGroup":
            package = resource.arn.replace(":model-package-group/", ":model-package/") + "/1"
            for action in ("sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"):
                yield _req(action, package, f"deny:{other.prefix}")
        if resource.type == "aws:s3/bucket:Bucket":
            for key in FOREIGN_OBJECTS:
                for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
                    yield _req(action, f"{resource.arn}/{key}", f"deny:{other.prefix}")
    cluster = other.outputs.get("clusterName")
    if cluster:
        arn = f"arn:aws:eks:{other.region}:{other.account}:cluster/{cluster}"
        for action in ("eks:DeleteCluster", "eks:CreateAccessEntry"):
            yield _req(action, arn, f"deny:{other.prefix}")
    yield from foreign_public_api(other)


def self_requests(stack: StackAccess, role: str) -> Iterator[AccessRequest]:
    """A role changing its own policies or trust, a role without the boundary, secrets, the
    account's GitHub OIDC provider."""
    own = stack.roles[role].arn
    for action in OWN_ROLE_ACTIONS:
        context = {"iam:PolicyARN": ADMINISTRATOR} if action == "iam:AttachRolePolicy" else {}
        yield _req(action, own, "deny:own role", **context)
    new_role = f"arn:aws:iam::{stack.account}:role/{stack.prefix}-escalate"
    yield _req("iam:CreateRole", new_role, "deny:role without boundary")
    yield _req(
        "secretsmanager:GetSecretValue",
        f"arn:aws:secretsmanager:{stack.region}:{stack.account}:secret:{stack.prefix}-db-AbCdEf",
        "deny:secrets",
    )
    yield _req(
        "ssm:GetParameter",
        f"arn:aws:ssm:{stack.region}:{stack.account}:parameter/{stack.prefix}/secret",
        "deny:secrets",
    )
    provider = f"arn:aws:iam::{stack.account}:oidc-provider/{GITHUB_OIDC}"
    for action in ("iam:DeleteOpenIDConnectProvider", "iam:AddClientIDToOpenIDConnectProvider"):
        yield _req(action, provider, "deny:shared GitHub OIDC provider")


def other_project(stack: StackAccess, project: str = "other-model") -> StackAccess:
    """``stack`` as another project in the same account would declare it (names, tags,
    ARNs renamed; key and user pool ids changed)."""

    def rename(value: str) -> str:
        value = value.replace(stack.project, project)
        value = re.sub(
            r"userpool/([a-z0-9-]+)_(\w+)",
            lambda m: f"userpool/{m.group(1)}_{_uuid_like(m.group(2) + project)[:9]}",
            value,
        )
        return re.sub(
            r"key/([0-9a-f-]{36})",
            lambda m: "key/" + _uuid_like(m.group(1) + project),
            value,
        )

    resources = tuple(
        StackResource(
            r.type,
            rename(r.logical),
            rename(r.name),
            rename(r.arn),
            {k: rename(v) for k, v in r.tags.items()},
        )
        for r in stack.resources
    )
    policies = {
        rename(k): json.loads(rename(json.dumps(v))) for k, v in stack.resource_policies.items()
    }
    outputs = {k: rename(v) if isinstance(v, str) else v for k, v in stack.outputs.items()}
    return replace(
        stack,
        project=project,
        roles={},
        resources=resources,
        resource_policies=policies,
        outputs=outputs,
    )


def _uuid_like(seed: str) -> str:
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
