"""The release's requests: what the deploy runtime makes with the deploy role, and what AWS
then does with the roles the stack's serving spec names.

``pulumi up`` declares none of the endpoint's resources (``slipway.deploy.spec.RUNTIME_OWNED``):
the release (release.yml: push the serving image, ``deploy``) creates and rolls them from the
stack output ``serving``. So the deploy role's must-allow rows for them come from that spec,
call by call as ``slipway.deploy`` makes them (``release_requests``), with the requests AWS
authorizes besides the call itself (passing a role, tags on create, autoscaling's
prerequisites, the endpoint's key), each citing its page. Origins: ``release:slipway.deploy``
for the calls of a first release, ``release:slipway.deploy, later releases`` for those of an
update, a rollback or a rejected rollout, ``release:<page>`` for what AWS authorizes besides.
tests/sandbox/test_first_up.py runs a first release against moto with the recorder on and
checks both ways: it makes no request this table lacks, and makes every first-release call.

``runtime_resources``: the resources the release makes, named as it names them, for the
must-deny rows of the other stacks (``slipway.access.denials``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from slipway.access.request import AccessRequest
from slipway.access.services import image_pull, logs, s3_list, s3_object
from slipway.access.stack import StackAccess, StackResource
from slipway.deploy.model_card import card_name
from slipway.deploy.spec import ServingSpec

ECR_PUSH = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html"
PASS_ROLE = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html#sagemaker-roles-pass-role"
)
TAG_ON_CREATE = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/"
    "security_iam_id-based-policy-examples.html#grant-tagging-permissions"
)
AUTOSCALING = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-prerequisites.html"
)
ENDPOINT_KEY = (
    "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html"
)
DATA_CAPTURE = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture.html"
MODEL_MONITOR = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-quality.html"
SAGEMAKER_ROLES = "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html"
PASSED_TO = {"iam:PassedToService": "sagemaker.amazonaws.com"}
AUTOSCALING_SERVICE = "sagemaker.application-autoscaling.amazonaws.com"
AUTOSCALING_ROLE = (
    "role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)
# What `docker push` asks of ECR (its page above), then the runtime checks the tag is there.
DOCKER_PUSH = (
    "BatchCheckLayerAvailability",
    "InitiateLayerUpload",
    "UploadLayerPart",
    "CompleteLayerUpload",
    "PutImage",
    "BatchGetImage",
)
FIRST = "slipway.deploy"
LATER = "slipway.deploy, later releases"

Row = tuple[str, AccessRequest]  # (role kind, request)


@dataclass(frozen=True)
class Release:
    """The release the rows name: the registered model and its model package version."""

    model: str = "churn"
    version: str = "1"

    def name(self, endpoint: str) -> str:
        """Its model's and endpoint configuration's name (slipway.deploy.rollout.roll_out)."""
        return f"{endpoint[:50]}-v{self.version}"[:63]


def _r(action: str, resource: str, origin: str, **context: Any) -> AccessRequest:
    return AccessRequest("", action, resource, context, f"release:{origin}")


def serving_spec(stack: StackAccess) -> ServingSpec | None:
    """The stack's serving spec (output ``serving``), or None (an EKS stack)."""
    value = stack.outputs.get("serving")
    return ServingSpec.from_value(value) if value else None


def _sagemaker(stack: StackAccess, kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{stack.region}:{stack.account}:{kind}/{name.lower()}"


def runtime_resources(stack: StackAccess, release: Release = Release()) -> list[StackResource]:
    """The endpoint, its configuration and model, the Model Monitor schedule, as the
    release creates them (typed as the RUNTIME_OWNED types they stand for)."""
    spec = serving_spec(stack)
    if spec is None:
        return []
    name = release.name(spec.endpoint_name)
    found = [
        ("aws:sagemaker/endpoint:Endpoint", "endpoint", spec.endpoint_name),
        ("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "endpoint-config", name),
        ("aws:sagemaker/model:Model", "model", name),
    ]
    if spec.monitoring_schedule:
        schedule = spec.monitoring_schedule["MonitoringScheduleName"]
        found.append(
            ("aws:sagemaker/monitoringSchedule:MonitoringSchedule", "monitoring-schedule", schedule)
        )
    return [
        StackResource(type_, f"release-{kind}", value, _sagemaker(stack, kind, value), spec.tags)
        for type_, kind, value in found
    ]


def release_requests(stack: StackAccess, release: Release = Release()) -> Iterator[Row]:
    """Every request of a release of ``stack``: the image push (both flavors), then on
    SageMaker the deploy runtime's calls and what SageMaker does with the spec's roles."""
    yield from image_push(stack)
    spec = serving_spec(stack)
    if spec is None:
        return
    yield from (("deploy", request) for request in deploy_calls(stack, spec, release))
    yield from served(stack, spec, release)


def image_push(stack: StackAccess) -> Iterator[Row]:
    """``docker push`` of the serving image to the stack's repository (release.yml,
    stack-up.yml), then the runtime's check that the tag is there."""
    url = str(stack.outputs.get("modelRepositoryUrl", ""))
    if not url:
        return
    repo = f"arn:aws:ecr:{stack.region}:{stack.account}:repository/{url.split('/', 1)[-1]}"
    yield "deploy", _r("ecr:GetAuthorizationToken", "*", ECR_PUSH)
    for call in DOCKER_PUSH:
        yield "deploy", _r(f"ecr:{call}", repo, ECR_PUSH)
    yield "deploy", _r("ecr:DescribeImages", repo, FIRST)  # slipway.deploy.image


def deploy_calls(
    stack: StackAccess, spec: ServingSpec, release: Release
) -> Iterator[AccessRequest]:
    """slipway.deploy.flow.deploy_champion (and rollout.rollback), in their order."""
    endpoint = _sagemaker(stack, "endpoint", spec.endpoint_name)
    model = _sagemaker(stack, "model", release.name(spec.endpoint_name))
    config = _sagemaker(stack, "endpoint-config", release.name(spec.endpoint_name))
    group_name = str(stack.outputs.get("modelPackageGroupName", ""))
    package = _sagemaker(stack, "model-package", f"{group_name}/{release.version}")
    created: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in spec.tags.items()}
    created["aws:TagKeys"] = tuple(spec.tags)
    # plan: the endpoint now, its alarms
    yield _r("sagemaker:DescribeEndpoint", endpoint, FIRST)
    yield _r("cloudwatch:DescribeAlarms", "*", FIRST)
    # export the champion, encrypted with the stack's key (S3 asks KMS on the caller's behalf)
    bucket = stack.outputs.get("bucketName", "")
    archive = f"s3://{bucket}/models/{release.model}/v{release.version}/model.tar.gz"
    put, *encrypt = s3_object(stack, archive, True, FIRST, sse_header=True)
    yield replace(put, origin=f"release:{FIRST}")
    yield from encrypt
    # register
    pending = {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
    yield _r("sagemaker:CreateModelPackage", package, FIRST, **pending)
    yield _r("sagemaker:DescribeModelPackage", package, FIRST)
    # the deployed package's model card (a redeploy of the version adds a card version)
    card = _sagemaker(stack, "model-card", card_name(group_name, release.version))
    yield _r("sagemaker:CreateModelCard", card, FIRST)
    yield _r("sagemaker:UpdateModelCard", card, LATER)
    # roll out: the model (passing the inference role), its configuration, the endpoint
    for action, arn in (
        ("sagemaker:CreateModel", model),
        ("sagemaker:CreateEndpointConfig", config),
        ("sagemaker:CreateEndpoint", endpoint),
    ):
        yield _r(action, arn, FIRST, **created)
        yield _r("sagemaker:AddTags", arn, TAG_ON_CREATE, **created)
    yield _r("iam:PassRole", spec.role_arn, PASS_ROLE, **PASSED_TO)
    if spec.kms_key_id:  # the key of the endpoint's volumes
        for action in ("kms:DescribeKey", "kms:CreateGrant"):
            yield _r(action, spec.kms_key_id, ENDPOINT_KEY)
    # later releases: the current configuration, a blue/green update; a rollback reads the
    # previous configuration's tag; settle rejects a package SageMaker rolled back
    yield _r("sagemaker:DescribeEndpointConfig", config, LATER)
    yield _r("sagemaker:UpdateEndpoint", endpoint, LATER)
    yield _r("sagemaker:ListTags", config, LATER)
    rejected = {"sagemaker:ModelApprovalStatus": "Rejected"}
    yield _r("sagemaker:UpdateModelPackage", package, LATER, **rejected)
    if spec.autoscaling is not None and not spec.serverless:
        yield from _autoscaling(stack, endpoint, config)
    schedule = spec.monitoring_schedule
    if schedule:
        name = _sagemaker(stack, "monitoring-schedule", schedule["MonitoringScheduleName"])
        yield _r("sagemaker:DescribeMonitoringSchedule", name, FIRST)
        yield _r("sagemaker:CreateMonitoringSchedule", name, FIRST, **created)
        yield _r("sagemaker:AddTags", name, TAG_ON_CREATE, **created)
        role = schedule["MonitoringScheduleConfig"]["MonitoringJobDefinition"]["RoleArn"]
        yield _r("iam:PassRole", role, PASS_ROLE, **PASSED_TO)


def _autoscaling(stack: StackAccess, endpoint: str, config: str) -> Iterator[AccessRequest]:
    """Target tracking per variant (slipway.deploy.settle.attach), and what SageMaker's
    autoscaling prerequisites page asks of the caller besides."""
    yield _r("application-autoscaling:RegisterScalableTarget", "*", FIRST)
    yield _r("application-autoscaling:PutScalingPolicy", "*", FIRST)
    for action, arn in (
        ("sagemaker:DescribeEndpoint", endpoint),
        ("sagemaker:DescribeEndpointConfig", config),
        ("sagemaker:UpdateEndpointWeightsAndCapacities", endpoint),
    ):
        yield _r(action, arn, AUTOSCALING)
    yield _r(
        "iam:CreateServiceLinkedRole",
        f"arn:aws:iam::{stack.account}:{AUTOSCALING_ROLE}",
        AUTOSCALING,
        **{"iam:AWSServiceName": AUTOSCALING_SERVICE},
    )


def served(stack: StackAccess, spec: ServingSpec, release: Release) -> Iterator[Row]:
    """What SageMaker does with the spec's roles: the endpoint's model role pulls the
    serving image, reads the model data, writes logs and the data capture; the Model
    Monitor schedule's role runs the analyzer on the capture."""
    roles = {role.arn: kind for kind, role in stack.roles.items()}
    kind = roles.get(spec.role_arn, "infer")
    endpoint = spec.endpoint_name
    bucket = stack.outputs.get("bucketName", "")
    repository = stack.outputs.get("modelRepositoryUrl", "")
    archive = f"s3://{bucket}/models/{release.model}/v{release.version}/model.tar.gz"
    for request in (
        *image_pull(f"{repository}:release", SAGEMAKER_ROLES),
        *s3_object(stack, archive, False, SAGEMAKER_ROLES),
        *logs(stack, f"/aws/sagemaker/Endpoints/{endpoint}", SAGEMAKER_ROLES),
    ):
        yield kind, request
    if spec.data_capture:
        uri = spec.data_capture["DestinationS3Uri"].rstrip("/") + f"/{endpoint}/primary/2026/"
        for request in s3_object(stack, uri, True, DATA_CAPTURE):
            yield kind, request
    if not spec.monitoring_schedule:
        return
    job = spec.monitoring_schedule["MonitoringScheduleConfig"]["MonitoringJobDefinition"]
    kind = roles.get(job["RoleArn"], "exec")
    reports = job["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["S3Uri"]
    captured = f"s3://{bucket}/data-capture/{endpoint}/primary/2026/01/01/00/x.jsonl"
    for request in (
        *image_pull(job["MonitoringAppSpecification"]["ImageUri"], MODEL_MONITOR),
        *s3_object(stack, captured, False, MODEL_MONITOR),
        *s3_object(
            stack, job["BaselineConfig"]["StatisticsResource"]["S3Uri"], False, MODEL_MONITOR
        ),
        *s3_object(stack, f"{reports.rstrip('/')}/{endpoint}/x/report.json", True, MODEL_MONITOR),
        *logs(stack, "/aws/sagemaker/ProcessingJobs", MODEL_MONITOR),
        *s3_list(stack, f"data-capture/{endpoint}/", MODEL_MONITOR),
    ):
        yield kind, request
