"""The expectations of one stack: what each role must be allowed, what it must be denied.

Must allow:
* ``deploy``: ``pulumi up`` of every declared resource (the actions of
  ``slipway.aws.deploy_permissions.RESOURCE_ACTIONS`` on that resource, with its tags),
  but what only an administrator's `pulumi up` may do (``administrator_only``: must deny);
  the release (``slipway.access.release``: the image push, and on SageMaker the deploy
  runtime's calls on what ``pulumi up`` leaves to it, read from the ``serving`` spec);
* every workload's recorded requests (``recorded``: JSON lines of ``slipway.access.recorder``,
  with the stack's names in place of the rehearsal's);
* what each role's job needs (``slipway.access.workloads``), what AWS services do with the
  roles (``slipway.access.services``, cited), who may assume the GitHub roles
  (``slipway.access.trust``);
* the public API's proxy and load balancer controller (``slipway.access.public_api``);
* the engines' roles: the pipelines' steps, their trigger, the EKS training Jobs
  (``slipway.access.engines``, with its must-deny rows).

Must deny (generated, ``slipway.access.denials``): any request on another stack's or another
project's resources, a role changing its own policies or trust, creating a role without the
permissions boundary, reading secrets, changing the account's GitHub OIDC provider; the
workloads' and the trusts' own must-deny rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from fnmatch import fnmatchcase

from slipway.access.denials import foreign_requests, self_requests
from slipway.access.engines import engine_requests
from slipway.access.matrix import Expectation
from slipway.access.public_api import public_api_requests
from slipway.access.release import release_requests
from slipway.access.request import AccessRequest
from slipway.access.services import service_requests
from slipway.access.stack import Role, StackAccess, StackResource, uuid_like
from slipway.access.trust import trust_requests
from slipway.access.workloads import MLFLOW_CALLS, workload_requests
from slipway.aws.boundary import BOUNDED_CHANGES
from slipway.aws.deploy_permissions import (
    ADMINISTRATOR_ONLY,
    NO_RESOURCE,
    REMOTE_CHILDREN,
    RESOURCE_ACTIONS,
)
from slipway.aws.deploy_policy import EC2_TAGGED_CREATES, ROLE_CHANGES
from slipway.presets import load_preset
from slipway.testing import ProgramRun, RecordedResource

__all__ = ["MLFLOW_CALLS", "expectations", "other_project", "record_placeholders", "retarget"]

# Which role runs each recorded workload (the GitHub environment or service account).
WORKLOAD_ROLES = {
    "deploy-flow": ("deploy",),  # release.yml: `deploy` (slipway.deploy)
    "drift-monitor": ("monitor", "drift"),  # drift.yml and the EKS drift CronJob
    "capture-writer": ("serving",),  # the EKS model server's request capture
}
SERVICE_LINKED = {
    "aws:appautoscaling/target:Target": "sagemaker.application-autoscaling.amazonaws.com",
    "aws:eks/cluster:Cluster": "eks.amazonaws.com",
    "aws:eks/nodeGroup:NodeGroup": "eks-nodegroup.amazonaws.com",
    "aws:rds/instance:Instance": "rds.amazonaws.com",
}
PASSED_TO = {
    "sagemaker": "sagemaker.amazonaws.com",
    "eks": "eks.amazonaws.com",
    "lambda": "lambda.amazonaws.com",
    "cloudwatch": "events.amazonaws.com",  # an EventBridge target's role (cloudwatch/eventTarget)
}
# The action that creates a resource of a type, where it is not Create<Kind>.
CREATES = {
    "aws:ec2/eip:Eip": "AllocateAddress",
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": "CreateEndpointConfig",
    "aws:rds/instance:Instance": "CreateDBInstance",
    "aws:rds/subnetGroup:SubnetGroup": "CreateDBSubnetGroup",
    "aws:eks/nodeGroup:NodeGroup": "CreateNodegroup",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "CreateOpenIDConnectProvider",
    "aws:cloudwatch/eventRule:EventRule": "PutRule",
    "aws:cloudwatch/eventTarget:EventTarget": "PutTargets",
}
# Actions authorized on a second resource besides the declared one: the new security group
# rule, the engine's default parameter and option groups of a database.
RULE = "arn:aws:ec2:{region}:{account}:security-group-rule/sgr-1"
SECOND_RESOURCES = {
    "ec2:AuthorizeSecurityGroupIngress": RULE,
    "ec2:AuthorizeSecurityGroupEgress": RULE,
    "rds:CreateDBInstance": "arn:aws:rds:{region}:{account}:pg:default.postgres16",
    "rds:ModifyDBInstance": "arn:aws:rds:{region}:{account}:og:default:postgres-16",
}
CREATED_IN_CLUSTER = {"eks:CreateAddon", "eks:CreateAccessEntry", "eks:CreateNodegroup"}
ROLE_ARN_INPUTS = ("executionRoleArn", "roleArn", "nodeRoleArn", "serviceAccountRoleArn", "role")
# EC2 resource types whose ARN name differs from the Pulumi type (service authorization
# reference, "Resource types defined by Amazon EC2").
EC2_TYPES = {"ec2/eip": "elastic-ip", "ec2/natGateway": "natgateway"}
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
    reviewed = load_preset(str(run.outputs.get("preset", stack.environment))).reviewed_releases

    def add(role: str, request: AccessRequest, allow: bool, why: str) -> None:
        if role not in stack.roles or request.action.split(":")[0] in UNEVALUATED_SERVICES:
            return
        key = (role, request.key(), allow)
        if key not in seen:
            seen.add(key)
            found.append(Expectation(role, request, allow, why))

    for request, allow in deploy_requests(stack, run):
        add("deploy", request, allow, request.origin)
    for role, request in service_requests(stack, run):
        add(role, request, True, request.origin)
    for role, request in release_requests(stack):
        add(role, request, True, request.origin)
    for role, request, allow in workload_requests(stack, reviewed):
        add(role, request, allow, request.origin)
    for role, request, allow in engine_requests(stack):
        add(role, request, allow, request.origin)
    for role, request, allow in trust_requests(stack, reviewed):
        add(role, request, allow, request.origin)
    for role, request in public_api_requests(stack, run):
        add(role, request, True, request.origin)
    for workload, requests in (recorded or {}).items():
        for role in WORKLOAD_ROLES.get(workload, ()):
            for request in retarget(requests, stack):
                add(role, request, True, f"recorded:{workload}")
    for role in sorted(stack.roles):
        for other in others:
            for request in foreign_requests(other, stack):
                add(role, request, False, request.origin)
        for request in self_requests(stack, role):
            add(role, request, False, request.origin)
    return found


def deploy_requests(stack: StackAccess, run: ProgramRun) -> Iterator[tuple[AccessRequest, bool]]:
    """`pulumi up` of each declared AWS resource (and of the ones pulumi-eks creates inside
    its components, ``remote_resources``): create, read, update, delete it; whether the
    deploy role may (``administrator_only``)."""
    buckets = {b.state["bucket"]: b.state["arn"] for b in run.of_type("aws:s3/bucket:Bucket")}
    by_name = {role.name: role for role in stack.roles.values()}
    resources = [*run.cloud_resources, *remote_resources(stack, run)]
    for role in remote_roles(stack, run):
        by_name[role.name] = role
    for resource in resources:
        for action in RESOURCE_ACTIONS.get(resource.type, ()):
            for built in _deploy_request(stack, resource, action, buckets, by_name):
                yield built, not administrator_only(resource, action, by_name)


def administrator_only(resource: RecordedResource, action: str, roles: Mapping[str, Role]) -> bool:
    """An administrator's `pulumi up` only: the boundary and cluster OIDC provider changes, and
    changes to the deploy role and to roles without the boundary (slipway.aws.boundary)."""
    if action in ADMINISTRATOR_ONLY.get(resource.type, ()):
        return True
    role = roles.get(_role_name(resource) or "")
    if role is None:
        return False
    if role.kind == "deploy" and any(fnmatchcase(action, p) for p in ROLE_CHANGES):
        return True
    return role.boundary is None and any(fnmatchcase(action, p) for p in BOUNDED_CHANGES)


def _role_name(resource: RecordedResource) -> str | None:
    if resource.type == "aws:iam/role:Role":
        return str(resource.state.get("name"))
    if resource.type in (
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    ):
        return str(resource.inputs.get("role"))
    return None


def _deploy_request(
    stack: StackAccess,
    resource: RecordedResource,
    action: str,
    buckets: Mapping[str, str],
    roles: Mapping[str, Role],
) -> Iterator[AccessRequest]:
    origin = f"deploy:{resource.type.split(':')[1]}"
    service = action.split(":")[0]
    account = stack.account
    if action == "iam:PassRole":
        role = next((resource.inputs[k] for k in ROLE_ARN_INPUTS if resource.inputs.get(k)), None)
        target = PASSED_TO.get(resource.type.split(":")[1].split("/")[0])
        if role is not None and target is not None:
            yield _req(action, role, origin, **{"iam:PassedToService": target})
        return
    if action == "iam:CreateServiceLinkedRole":
        name = SERVICE_LINKED.get(resource.type)
        if name is not None:
            arn = f"arn:aws:iam::{account}:role/aws-service-role/{name}/x"
            yield _req(action, arn, origin, **{"iam:AWSServiceName": name})
        return
    target = "*" if action in NO_RESOURCE else _deploy_arn(stack, resource, buckets, action)
    if action in CREATED_IN_CLUSTER:  # authorized on the cluster they are created in
        target = _remote_arn(stack, "aws:eks/cluster:Cluster")
    if target is None or (target != "*" and target.split(":")[2] != service):
        return
    context: dict[str, object] = {}
    if resource.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
        context["iam:PolicyARN"] = resource.inputs["policyArn"]
    role = roles.get(_role_name(resource) or "")
    if role is not None and role.boundary:
        context["iam:PermissionsBoundary"] = role.boundary
    verb = action.split(":")[1]
    tags = resource.tags
    creates = verb == CREATES.get(resource.type, f"Create{resource.type.split(':')[2]}")
    if target.startswith("arn:aws:cognito-idp:") and ":userpool/" in target:
        # a pool's client, domain or resource server is created in the pool, which exists
        # (and carries the stack's tags): authorized on the pool (_deploy_arn)
        creates = creates and resource.type == "aws:cognito/userPool:UserPool"
    request_tags = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if tags and (creates or verb in ("TagResource", "AddTags", "CreateTags")):
        context.update(request_tags)
        context["aws:TagKeys"] = tuple(tags)
    if not creates:
        context.update({f"aws:ResourceTag/{k}": v for k, v in tags.items()})
    yield replace(_req(action, target, origin, **context), creates=creates)
    if action in SECOND_RESOURCES:
        second = SECOND_RESOURCES[action].format(region=stack.region, account=account)
        yield replace(_req(action, second, origin), creates=True)
    if creates and tags and action in EC2_TAGGED_CREATES:
        # tag-on-create: EC2 authorizes the tags of the create as ec2:CreateTags
        on_create = {**request_tags, "aws:TagKeys": tuple(tags), "ec2:CreateAction": verb}
        yield replace(_req("ec2:CreateTags", target, origin, **on_create), creates=True)


def remote_resources(stack: StackAccess, run: ProgramRun) -> list[RecordedResource]:
    """The AWS resources pulumi-eks creates inside its components (``REMOTE_CHILDREN``), as
    the mocks cannot show them: their ARNs follow AWS's formats with ids standing for the
    real ones; their tags are the component's."""
    found = []
    for component in run.resources:
        for type_ in REMOTE_CHILDREN.get(component.type, ()):
            arn = _remote_arn(stack, type_)
            inputs: dict[str, object] = {"tags": component.inputs.get("tags") or {}}
            if type_ == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
                inputs["policyArn"] = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
                inputs["role"] = arn.rsplit("/", 1)[-1]
            if type_ == "aws:eks/cluster:Cluster":
                inputs["roleArn"] = _remote_arn(stack, "aws:iam/role:Role")
            if type_ == "aws:eks/nodeGroup:NodeGroup" and "node" in stack.roles:
                inputs["nodeRoleArn"] = stack.roles["node"].arn
            state = {"arn": arn, "name": arn.rsplit("/", 1)[-1]}
            found.append(
                RecordedResource(
                    type_,
                    f"{component.name}-{type_}",
                    "",
                    component.urn,
                    True,
                    inputs,
                    state,
                    False,
                    False,
                    False,
                )
            )
    return found


def remote_roles(stack: StackAccess, run: ProgramRun) -> list[Role]:
    """pulumi-eks's cluster service role: AWS managed policies only, no boundary."""
    if not run.of_type("eks:index:Cluster"):
        return []
    arn = _remote_arn(stack, "aws:iam/role:Role")
    return [Role("eks-service", arn.rsplit("/", 1)[-1], arn, {}, {})]


def _remote_arn(stack: StackAccess, type_: str) -> str:
    region, account, prefix = stack.region, stack.account, stack.prefix
    cluster = str(stack.outputs.get("clusterName") or prefix)
    return {
        "aws:eks/cluster:Cluster": f"arn:aws:eks:{region}:{account}:cluster/{cluster}",
        "aws:eks/addon:Addon": f"arn:aws:eks:{region}:{account}:addon/{cluster}/vpc-cni/1",
        "aws:eks/accessEntry:AccessEntry": (
            f"arn:aws:eks:{region}:{account}:access-entry/{cluster}/role/{account}/deploy/1"
        ),
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": (
            f"arn:aws:eks:{region}:{account}:access-entry/{cluster}/role/{account}/deploy/1"
        ),
        "aws:eks/nodeGroup:NodeGroup": (
            f"arn:aws:eks:{region}:{account}:nodegroup/{cluster}/{cluster}-nodes/1"
        ),
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (
            f"arn:aws:iam::{account}:oidc-provider/oidc.eks.{region}.amazonaws.com/id/"
            + uuid_like(prefix).replace("-", "")[:32].upper()
        ),
        "aws:iam/role:Role": f"arn:aws:iam::{account}:role/{prefix}-eks-eksRole-0000000",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (
            f"arn:aws:iam::{account}:role/{prefix}-eks-eksRole-0000000"
        ),
    }[type_]


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
    if module == "cloudwatch/eventTarget":  # authorized on its rule
        return f"arn:aws:events:{region}:{account}:rule/{resource.inputs['rule']}"
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
    if module == "eks/addon" and "clusterName" in resource.inputs:  # the stack's add-ons:
        # addon/<cluster>/<add-on name>/<uuid> (pulumi-eks's own are REMOTE_CHILDREN)
        cluster, addon = resource.inputs["clusterName"], resource.inputs["addonName"]
        return f"arn:aws:eks:{region}:{account}:addon/{cluster}/{addon}/{uuid_like(addon)}"
    if module == "rds/instance":
        return f"arn:aws:rds:{region}:{account}:db:{resource.state['name']}"
    if module == "rds/subnetGroup":
        return f"arn:aws:rds:{region}:{account}:subgrp:{resource.state['name']}"
    arn = resource.state.get("arn")
    return str(arn) if isinstance(arn, str) else None


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


def other_project(stack: StackAccess, project: str = "other-model") -> StackAccess:
    """``stack`` as another project in the same account would declare it (names, tags,
    ARNs renamed; key and user pool ids changed)."""

    def rename(value: str) -> str:
        value = value.replace(stack.project, project)
        # ids AWS makes up (keys, MLflow apps) differ between projects too
        value = re.sub(
            r"key/([0-9a-f-]{36})", lambda m: "key/" + uuid_like(m.group(1) + project), value
        )
        value = re.sub(
            r"userpool/([a-z0-9-]+)_(\w+)",
            lambda m: f"userpool/{m.group(1)}_{uuid_like(m.group(2) + project)[:9]}",
            value,
        )
        return re.sub(
            r"mlflow-app/app-(\w+)",
            lambda m: "mlflow-app/app-" + uuid_like(m.group(1) + project)[:7],
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
