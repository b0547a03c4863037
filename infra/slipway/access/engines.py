"""The engines' roles (issue 14): what the lifecycle steps on SageMaker Pipelines or
Kubernetes Jobs, and what starts them, must do and must never do.

SageMaker (a stack with ``trainingPipelineName``, slipway.aws.training):

* ``train``: SageMaker Pipelines runs the pipelines as this role (``RoleArn``): it creates
  each step's training or processing job, named ``pipelines-<execution>-<step>-<suffix>``,
  and passes the role to it; in the jobs the steps read the data (object versions) and
  ``batch/input/``, write ``pipelines/`` and ``batch/predictions/``, register a model
  package awaiting approval and call the stack's MLflow; SageMaker pulls the image and
  writes the jobs' logs with it. Never: a job named otherwise, passing another role,
  rewriting the training data, starting a pipeline;
* ``trigger``: EventBridge's role for the schedule and retrain rules: only
  ``sagemaker:StartPipelineExecution`` on the training pipeline (not the batch pipeline,
  not a job, not passing a role).

EKS (a stack with the ``training`` IRSA role, slipway.eks.training): the Jobs' steps read
the data and ``batch/input/``, write ``pipelines/`` and ``batch/predictions/``; MLflow
keeps its own artifacts (the in-cluster server proxies them), so never ``mlflow/``, and
never rewrite the training data. Which service account may start the training Job is
Kubernetes RBAC and admission, not IAM (tests/eks).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from slipway.access.request import AccessRequest
from slipway.access.services import image_pull, logs, s3_object
from slipway.access.stack import StackAccess
from slipway.access.workloads import MLFLOW_CALLS

Row = tuple[str, AccessRequest, bool]  # (role kind, request, allowed?)
PIPELINE = "aws:sagemaker/pipeline:Pipeline"
PASSED_TO_SAGEMAKER = {"iam:PassedToService": "sagemaker.amazonaws.com"}
# What every step of either engine reads and writes (slipway.aws.policy.step_bucket_statements).
STEP_READS = ("data/train/part-0.csv", "batch/input/x.csv", "pipelines/datasets/0a1b/train.csv")
STEP_WRITES = ("pipelines/evaluations/run/report.json", "batch/predictions/run/predictions.csv")
STEP_LISTS = ("data/train/", "batch/input/", "pipelines/datasets/")


def _req(action: str, resource: str, origin: str, **context: object) -> AccessRequest:
    return AccessRequest("", action, resource, dict(context), origin)  # type: ignore[arg-type]


def engine_requests(stack: StackAccess) -> Iterator[Row]:
    """Every engine row of ``stack``."""
    if "trainingPipelineName" in stack.outputs and "train" in stack.roles:
        yield from pipeline_step_requests(stack)
        yield from trigger_requests(stack)
    if "training" in stack.roles:
        yield from step_data_requests(stack, "training", "workload:training Job steps")
        bucket = stack.outputs["bucketName"]
        artifact = f"s3://{bucket}/mlflow/1/run/artifacts/model/MLmodel"
        for request in s3_object(stack, artifact, False, "deny:mlflow artifacts (proxied)"):
            if request.action == "s3:GetObject":
                yield "training", request, False


def step_data_requests(stack: StackAccess, role: str, origin: str) -> Iterator[Row]:
    """The steps' objects (data read by version), listings, and never the data rewritten."""
    bucket = stack.outputs["bucketName"]
    for key in STEP_READS:
        for request in s3_object(stack, f"s3://{bucket}/{key}", False, origin):
            yield role, request, True
    version = _req("s3:GetObjectVersion", f"arn:aws:s3:::{bucket}/{STEP_READS[0]}", origin)
    yield role, version, True
    for key in STEP_WRITES:
        for request in s3_object(stack, f"s3://{bucket}/{key}", True, origin):
            yield role, request, True
    for prefix in STEP_LISTS:
        listing = _req("s3:ListBucket", f"arn:aws:s3:::{bucket}", origin, **{"s3:prefix": prefix})
        yield role, listing, True
    data = f"arn:aws:s3:::{bucket}/{STEP_READS[0]}"
    yield role, _req("s3:PutObject", data, "deny:steps rewrite the training data"), False


def pipeline_step_requests(stack: StackAccess) -> Iterator[Row]:
    region, account = stack.region, stack.account
    origin = "workload:SageMaker Pipelines steps"
    own = stack.roles["train"]
    jobs = f"arn:aws:sagemaker:{region}:{account}"
    for kind, step in (("training-job", "train"), ("processing-job", "validate")):
        job = f"{jobs}:{kind}/pipelines-0a1b2c3d4e5f-{step}-AbCdEf1234"
        verb = "Training" if kind == "training-job" else "Processing"
        yield "train", _req(f"sagemaker:Create{verb}Job", job, origin), True
        yield "train", _req(f"sagemaker:Describe{verb}Job", job, origin), True
        other = f"{jobs}:{kind}/{stack.prefix}-escalate"
        yield "train", _req(f"sagemaker:Create{verb}Job", other, "deny:job not a step's"), False
    yield "train", _req("iam:PassRole", own.arn, origin, **PASSED_TO_SAGEMAKER), True
    for kind, role in stack.roles.items():
        if kind != "train":
            deny = _req("iam:PassRole", role.arn, "deny:steps pass another role")
            yield "train", deny, False
    yield from step_data_requests(stack, "train", origin)
    group = next(
        (r.arn for r in stack.resources if r.type.endswith("modelPackageGroup:ModelPackageGroup")),
        None,
    )
    if group is not None:
        package = group.replace(":model-package-group/", ":model-package/") + "/1"
        pending = {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
        register = _req("sagemaker:CreateModelPackage", package, origin, **pending)
        yield "train", register, True
    tracking = str(stack.outputs.get("trackingUri", ""))
    if ":mlflow-app/" in tracking:
        yield "train", _req("sagemaker:CallMlflowAppApi", tracking, origin), True
    elif ":mlflow-tracking-server/" in tracking:
        for call in MLFLOW_CALLS["candidate"]:  # what a training job calls
            yield "train", _req(f"sagemaker-mlflow:{call}", tracking, origin), True
    service = "service:SageMaker runs the steps' jobs as the pipeline role"
    repository = str(stack.outputs.get("modelRepositoryUrl", ""))
    for request in image_pull(f"{repository}:0.1.0", service):
        yield "train", request, True
    for group_name in ("/aws/sagemaker/TrainingJobs", "/aws/sagemaker/ProcessingJobs"):
        for request in logs(stack, group_name, service):
            yield "train", request, True
    for pipeline in stack.of_type(PIPELINE):
        start = _req("sagemaker:StartPipelineExecution", pipeline.arn, "deny:steps start runs")
        yield "train", start, False


def trigger_requests(stack: StackAccess) -> Iterator[Row]:
    if "trigger" not in stack.roles:
        return
    training = str(stack.outputs["trainingPipelineName"])
    for pipeline in stack.of_type(PIPELINE):
        start = _req("sagemaker:StartPipelineExecution", pipeline.arn, "workload:EventBridge rule")
        if pipeline.arn.endswith(f":pipeline/{training}"):
            yield "trigger", start, True
            change = _req("sagemaker:UpdatePipeline", pipeline.arn, "deny:trigger changes it")
            yield "trigger", change, False
        else:
            yield "trigger", replace(start, origin="deny:trigger starts another pipeline"), False
    job = f"arn:aws:sagemaker:{stack.region}:{stack.account}:training-job/pipelines-x-train-y"
    yield "trigger", _req("sagemaker:CreateTrainingJob", job, "deny:trigger runs a job"), False
    train = stack.roles["train"].arn
    passing = _req("iam:PassRole", train, "deny:trigger passes a role", **PASSED_TO_SAGEMAKER)
    yield "trigger", passing, False
